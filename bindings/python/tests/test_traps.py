"""Small traps a new user falls into, each refused with a message that says
what to do (Python inputs, and the CLI's --decoder and features -o)."""

import os
import subprocess

import numpy as np
import pytest

import rwcnn

from conftest import IMAGES

pytestmark = pytest.mark.usefixtures("lib")
CLI = os.path.join(os.path.dirname(rwcnn.library_path()), "rwcnn-cli")
SMALL = dict(arch="8,M,16", cut="pool1", seed=4, decoder="tied")


def test_float_hwc_is_refused_naming_the_layout_rule():
    hwc = np.random.default_rng(0).random((40, 50, 3), dtype=np.float32)
    with rwcnn.Model(**SMALL) as m:
        with pytest.raises(rwcnn.ArgumentError, match="channels-first.*transpose"):
            m.encode(hwc)
        assert m.encode(hwc.transpose(2, 0, 1)).shape == (8, 20, 25)


@pytest.mark.parametrize("bad,match", [(np.nan, "NaN"), (np.inf, "infinite"), (200.0, "0..255")])
def test_non_finite_and_0_255_floats_are_refused(bad, match):
    x = np.random.default_rng(1).random((3, 16, 16)).astype(np.float32)
    x[1, 2, 3] = bad
    with rwcnn.Model(**SMALL) as m:
        with pytest.raises(rwcnn.ArgumentError, match=match):
            m.reconstruct(x)
        with pytest.raises(rwcnn.ArgumentError, match=match):
            m.encode(x[None])
    u8 = (np.random.default_rng(2).random((16, 16, 3)) * 255).astype(np.uint8)
    with rwcnn.Model(**SMALL) as m:  # uint8 0..255 is the normal way to pass photos
        assert m.encode(u8).shape == (8, 8, 8)


def test_training_error_carries_the_skipped_reasons(tmp_path):
    for name in ("a.png", "b.jpg"):
        (tmp_path / name).write_bytes(b"definitely not an image")
    with rwcnn.Model(arch="8,M,16", cut="pool1", decoder="trained") as m:
        with pytest.raises(rwcnn.ArgumentError) as e:
            m.train(tmp_path, eval_data=IMAGES, steps=1, progress=False)
    text = str(e.value)
    assert "2 skipped" in text and "a.png" in text and "neither a PNG nor a JPEG" in text


@pytest.mark.skipif(not os.path.exists(CLI), reason="rwcnn-cli is not built next to the library")
def test_cli_decoder_typo_is_not_taken_as_a_path(tmp_path):
    done = subprocess.run([CLI, "reconstruct", os.path.join(IMAGES, "coins.png"), "--cut", "pool1",
                           "--decoder", "tide", "-o", str(tmp_path / "x.png")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "not one of random, tied and no such model file" in done.stderr, done.stderr


@pytest.mark.skipif(not os.path.exists(CLI), reason="rwcnn-cli is not built next to the library")
def test_cli_features_npy_is_real_npy(tmp_path):
    photo = os.path.join(IMAGES, "coins.png")
    out = tmp_path / "f.npy"
    done = subprocess.run([CLI, "features", photo, "--arch", "8,M,16", "--cut", "relu2_1", "--seed", "3",
                           "--size", "32", "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    got = np.load(out)
    assert got.dtype == np.float32 and got.shape == (1, 16, 16, 16)
    # The same features as the safetensors output of the same command.
    from safetensors.numpy import load_file
    done = subprocess.run([CLI, "features", photo, "--arch", "8,M,16", "--cut", "conv2_1", "--seed", "3",
                           "--size", "32", "-o", str(tmp_path / "f.safetensors")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    np.testing.assert_array_equal(got, load_file(str(tmp_path / "f.safetensors"))["features"])
    done = subprocess.run([CLI, "features", photo, "--arch", "8,M,16", "--cut", "pool1",
                           "-o", str(tmp_path / "f.txt")], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and ".safetensors or .npy" in done.stderr
    assert not (tmp_path / "f.txt").exists()
