"""`rwcnn invert | texture | style`: --help, a PNG (and snapshots every N
steps) read back with Pillow, and bad options failing with a clear message."""

import os
import subprocess

import numpy as np
import pytest

from conftest import IMAGES, REPO

CLI = os.environ.get("RWCNN_CLI", os.path.join(REPO, ".build", "release", "rwcnn-cli"))
pytestmark = pytest.mark.skipif(not os.access(CLI, os.X_OK), reason="rwcnn-cli not built")
PHOTO = os.path.join(IMAGES, "astronaut.png")
BRICK = os.path.join(IMAGES, "brick.png")
SMALL = ["--arch", "8,A,8,M,8", "--threads", "2"]


def run(*args):
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("task", ["invert", "texture", "style"])
def test_help(task):
    p = run(task, "--help")
    assert p.returncode == 0 and "Example:" in p.stdout and "--steps" in p.stdout


def test_style_help_shows_the_library_defaults():
    """The style layers, content weight and archs `rwcnn style --help`
    shows are the library's (rwcnn_synthesis_task_defaults)."""
    from rwcnn import synthesis
    d = synthesis._task_inputs("style")
    text = " ".join(run("style", "--help").stdout.split())
    layers = ",".join(d.style_layers[i].decode() for i in range(d.style_layer_count))
    assert "--content-layer <content-layer> Content layer. (default: %s)" % d.content_layer.decode() in text
    assert "(default: %s)" % layers in text and "--content-weight <content-weight> Content weight. (default: %s)" % (
        repr(d.content_weight)) in text
    assert "default %s for invert, %s for texture and style" % (
        synthesis._arch("invert", None), synthesis._arch("texture", None)) in text


def test_invert_writes_png_and_snapshots(tmp_path):
    from PIL import Image
    out = tmp_path / "inv.png"
    p = run("invert", PHOTO, "--layer", "conv2_1", "--size", "24", "--steps", "4", "--every", "2",
            "-o", str(out), *SMALL)
    assert p.returncode == 0, p.stderr
    assert "invert: 4 steps" in p.stdout
    for f in (out, tmp_path / "inv-step2.png", tmp_path / "inv-step4.png"):
        assert np.asarray(Image.open(f)).shape == (24, 24, 3)


def test_texture_and_style(tmp_path):
    from PIL import Image
    t = tmp_path / "tex.png"
    p = run("texture", BRICK, "--layers", "conv1_1,pool1,conv2_1", "--weights", "1,1,2", "--size", "20",
            "--out-size", "28", "--steps", "3", "--optimizer", "lbfgs", "-o", str(t), *SMALL)
    assert p.returncode == 0, p.stderr
    assert np.asarray(Image.open(t)).shape == (28, 28, 3)
    s = tmp_path / "sty.png"
    p = run("style", PHOTO, BRICK, "--content-layer", "conv2_1", "--style-layers", "conv1_1,pool1",
            "--size", "16", "--steps", "2", "--from-content", "-o", str(s), *SMALL)
    assert p.returncode == 0, p.stderr
    assert np.asarray(Image.open(s)).shape == (16, 16, 3)


@pytest.mark.parametrize("args, message", [
    (["texture", BRICK, "--layers", "", "--size", "16"], "no layers given"),
    (["invert", PHOTO, "--layer", "conv9_9"], "unknown layer"),
    (["texture", BRICK, "--layers", "conv1_1", "--weights=-1", "--size", "16"], "at least 0"),
    (["invert", PHOTO, "--layer", "conv1_1", "--steps", "0"], "steps must be"),
    (["invert", PHOTO, "--layer", "conv2_1", "--size", "1"], "too small"),
    (["invert", PHOTO, "--layer", "conv1_1", "--optimizer", "sgd"], "lbfgs"),
])
def test_bad_options(tmp_path, args, message):
    p = run(*args, "-o", str(tmp_path / "x.png"), *SMALL)
    assert p.returncode != 0
    assert message in p.stderr, p.stderr
    assert not (tmp_path / "x.png").exists()
