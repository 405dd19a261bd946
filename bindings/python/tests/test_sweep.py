"""`rwcnn sweep GRID.json`: --count, --list (against itertools.product), one
run per --index with its metrics checked against numpy on the same crops,
and clear errors."""

import itertools
import json
import os
import subprocess

import numpy as np
import pytest

import rwcnn
from conftest import REPO, small_photo



def _cli():
    from rwcnn.study import cli_path
    try:
        return cli_path()
    except rwcnn.Error:
        return None


# The sanitizer builds (scripts/test --sanitize) make the library alone.
pytestmark = [pytest.mark.usefixtures("lib"), pytest.mark.skipif(_cli() is None, reason="rwcnn-cli not built")]

GRID = {"cut": ["pool1", "pool2"], "width": [0.125, 0.25], "distribution": ["normal", "uniform"], "seed": [0, 3]}


def sweep(*args, cwd=None):
    from rwcnn.study import cli_path
    return subprocess.run([cli_path(), "sweep"] + list(args), capture_output=True, text=True, cwd=cwd,
                          timeout=1200)


@pytest.fixture(scope="module")
def grid_file(tmp_path_factory, photos):
    d = tmp_path_factory.mktemp("sweep")
    train, held = d / "train", d / "held"
    train.mkdir()
    held.mkdir()
    for i, path in enumerate(photos[:6]):
        rwcnn.save_image(str((train if i < 4 else held) / ("%d.png" % i)), small_photo(path, 32))
    grid = {"data": str(train), "eval_data": str(held),
            "base": {"steps": 3, "batch": 2, "crop": 32, "decoder": "random"}, "grid": GRID}
    path = d / "grid.json"
    path.write_text(json.dumps(grid))
    return str(path), str(held)


def test_count_list_and_order(grid_file):
    path, _ = grid_file
    r = sweep(path, "--count")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "16"
    r = sweep(path, "--list")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(l) for l in r.stdout.splitlines()]
    expected = list(itertools.product(*GRID.values()))   # the last key varies fastest
    assert [l["index"] for l in lines] == list(range(16))
    for line, combo in zip(lines, expected):
        assert tuple(line["settings"][k] for k in GRID) == combo
        assert line["settings"]["steps"] == 3


def test_one_run_per_index_scores_the_held_out_crops(grid_file, tmp_path):
    path, held = grid_file
    r = sweep(path, "--index", "13", "--threads", "1", "--out", str(tmp_path / "decoders"))
    assert r.returncode == 0, r.stderr
    (line,) = [json.loads(l) for l in r.stdout.splitlines()]
    s = line["settings"]
    assert line["index"] == 13 and (s["cut"], s["width"], s["distribution"], s["seed"]) == ("pool2", 0.25, "normal", 3)
    # The random decoder's scores, recomputed with numpy-side metrics on the same 32x32 crops.
    images = np.stack([rwcnn.load_image(os.path.join(held, n)) for n in sorted(os.listdir(held))])
    with rwcnn.Model(cut="pool2", width=0.25, distribution="normal", seed=3, decoder="random") as m:
        out = rwcnn.display_normalize(m.reconstruct(images))
    mse = np.mean((out.astype(np.float64) - images) ** 2, axis=(1, 2, 3))
    assert line["metrics"]["images"] == 2
    assert line["metrics"]["mse"] == pytest.approx(float(mse.mean()), rel=1e-5)
    assert line["metrics"]["psnr"] == pytest.approx(float(np.mean(10 * np.log10(1 / mse))), rel=1e-5)
    assert os.path.isfile(line["decoder_file"])


def test_a_trained_run_and_errors(grid_file, tmp_path):
    path, _ = grid_file
    grid = json.load(open(path))
    grid["base"]["decoder"] = "trained"
    grid["grid"] = {"cut": ["pool1"]}
    p = tmp_path / "trained.json"
    p.write_text(json.dumps(grid))
    r = sweep(str(p), "--threads", "1")
    assert r.returncode == 0, r.stderr
    (line,) = [json.loads(l) for l in r.stdout.splitlines()]
    assert line["final_loss"] > 0 and 0 < line["metrics"]["psnr"] < 60
    r = sweep(path, "--index", "16")
    assert r.returncode != 0 and "outside 0...15" in r.stderr
    grid["grid"] = {"colour": ["red"]}
    p.write_text(json.dumps(grid))
    r = sweep(str(p), "--count")
    assert r.returncode != 0 and "unknown setting" in r.stderr


def test_old_setting_names_are_read_as_the_new(grid_file, tmp_path):
    path, _ = grid_file
    grid = json.load(open(path))
    grid["grid"] = {"init": ["uniform"], "lr": [0.002]}
    p = tmp_path / "old.json"
    p.write_text(json.dumps(grid))
    (line,) = rwcnn.sweep(str(p), list_only=True)
    assert line["settings"]["distribution"] == "uniform" and line["settings"]["learning_rate"] == 0.002
    assert "init" not in line["settings"] and "lr" not in line["settings"]


def test_resume_skips_finished_runs_and_continues_interrupted_ones(grid_file, tmp_path):
    """--out keeps each run's line and checkpoint; --resume prints a finished
    run's line again without running it, and continues an interrupted run
    (Ctrl-C: its checkpoint is written) to the uninterrupted run's result
    (one thread: bit for bit)."""
    import signal
    import time
    from rwcnn.study import cli_path
    path, _ = grid_file
    grid = json.load(open(path))
    grid["base"].update(decoder="trained", steps=400, checkpoint_every=2, width=0.125)
    grid["grid"] = {"cut": ["pool1"], "seed": [0, 1]}
    whole = rwcnn.sweep(grid, out=str(tmp_path / "whole"), threads=1)
    assert [l["index"] for l in whole] == [0, 1] and all(l["resumed_from"] is None for l in whole)
    assert sorted(os.listdir(tmp_path / "whole")) == ["run-0.json", "run-0.safetensors", "run-1.json",
                                                      "run-1.safetensors"]   # checkpoints go when done
    # Run 1 interrupted by Ctrl-C once its first checkpoint is there.
    out = tmp_path / "runs"
    grid_path = tmp_path / "g.json"
    grid_path.write_text(json.dumps(grid))
    proc = subprocess.Popen([cli_path(), "sweep", str(grid_path), "--index", "1", "--out", str(out),
                             "--threads", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    checkpoint = out / "run-1.checkpoint.safetensors"
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    if proc.returncode == 0:
        pytest.skip("the run finished before Ctrl-C reached it")
    assert "cancel" in err.lower() and checkpoint.exists() and not (out / "run-1.json").exists()
    lines = rwcnn.sweep(grid, out=str(out), resume=True, threads=1)
    assert [l["index"] for l in lines] == [0, 1]
    assert lines[0]["resumed_from"] is None and lines[1]["resumed_from"] == str(checkpoint)
    for got, want in zip(lines, whole):
        assert got["metrics"] == want["metrics"] and got["final_loss"] == want["final_loss"]
    assert not checkpoint.exists()
    # Both finished: a second resume runs nothing and prints the same lines (seconds included).
    assert rwcnn.sweep(grid, out=str(out), resume=True, threads=1) == lines
    with pytest.raises(rwcnn.ArgumentError, match="needs out"):
        rwcnn.sweep(grid, resume=True)
    assert rwcnn.sweep_count(grid) == 2
