"""JPEG through load_image: pixels against Pillow for files Pillow makes here
(baseline, progressive, gray; odd sizes), format detection by content, and
the statuses of truncated, corrupt and huge-header files."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import rwcnn

from conftest import IMAGES

pytestmark = pytest.mark.usefixtures("lib")

# libjpeg-turbo in librwcnn and the one inside Pillow use the same accurate
# integer IDCT and smooth chroma upsampling: the samples agree exactly, so
# the float images agree to the last bit (both are sample / 255).
CASES = {
    "baseline 4:2:0": ("RGB", dict(quality=85, subsampling=2)),
    "baseline 4:4:4": ("RGB", dict(quality=95, subsampling=0)),
    "baseline 4:2:2": ("RGB", dict(quality=70, subsampling=1)),
    "progressive": ("RGB", dict(quality=80, progressive=True)),
    "gray": ("L", dict(quality=90)),
    "gray progressive": ("L", dict(quality=60, progressive=True)),
}


def photo(mode, w=61, h=43):
    img = Image.open(os.path.join(IMAGES, "chelsea.png")).convert(mode)
    return img.crop((100, 80, 100 + w, 80 + h))


def jpeg_bytes(mode, **options):
    buf = io.BytesIO()
    photo(mode).save(buf, "JPEG", **options)
    return buf.getvalue()


def pillow_pixels(data):
    return np.asarray(Image.open(io.BytesIO(data)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_decodes_as_pillow_does(tmp_path, name):
    mode, options = CASES[name]
    data = jpeg_bytes(mode, **options)
    want = pillow_pixels(data)
    path = tmp_path / "image.jpg"
    path.write_bytes(data)
    got = rwcnn.load_image(path, channels=0)
    hwc = want[..., None] if want.ndim == 2 else want
    assert got.shape == (hwc.shape[2], hwc.shape[0], hwc.shape[1])
    np.testing.assert_array_equal(got, hwc.transpose(2, 0, 1).astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(rwcnn.load_image_bytes(data, channels=0), got)
    assert rwcnn.image_size(path) == (hwc.shape[1], hwc.shape[0], hwc.shape[2])
    rgb = rwcnn.load_image(path)  # gray replicated
    assert rgb.shape[0] == 3 and np.array_equal(rgb[0], got[0])


def test_format_comes_from_the_bytes(tmp_path):
    data = jpeg_bytes("RGB", quality=90)
    (tmp_path / "misnamed.png").write_bytes(data)
    np.testing.assert_array_equal(rwcnn.load_image(tmp_path / "misnamed.png"),
                                  rwcnn.load_image_bytes(data))
    with pytest.raises(rwcnn.FormatError, match="neither a PNG nor a JPEG"):
        rwcnn.load_image_bytes(b"GIF89a" + bytes(40))


def sof_offset(data):
    at = 2
    while at + 4 < len(data):
        marker, length = data[at + 1], data[at + 2] << 8 | data[at + 3]
        if marker in (0xC0, 0xC1, 0xC2):
            return at + 5
        at += 2 + length
    raise AssertionError("no frame header")


def bad_files():
    data = jpeg_bytes("RGB", quality=85)
    prog = jpeg_bytes("RGB", quality=85, progressive=True)
    sof = sof_offset(data)
    huge = bytearray(data)
    huge[sof:sof + 4] = b"\xff\xdc\xff\xdc"
    zero = bytearray(data)
    zero[sof + 2:sof + 4] = b"\0\0"
    return {
        "truncated": (data[:len(data) // 2], rwcnn.FormatError),
        "truncated progressive": (prog[:len(prog) * 2 // 3], rwcnn.FormatError),
        "header only": (data[:sof + 20], rwcnn.FormatError),
        "zero width": (bytes(zero), rwcnn.FormatError),
        "SOI only": (b"\xff\xd8\xff", rwcnn.FormatError),
        "65500 x 65500": (bytes(huge), rwcnn.OutOfMemoryError),
    }


@pytest.mark.parametrize("name", sorted(bad_files()))
def test_bad_files_get_their_error(tmp_path, name):
    data, error = bad_files()[name]
    with pytest.raises(error):
        rwcnn.load_image_bytes(data)
    (tmp_path / "bad.jpg").write_bytes(data)
    with pytest.raises(error):
        rwcnn.load_image(tmp_path / "bad.jpg")


def test_bad_jpegs_print_nothing(tmp_path):
    """libjpeg prints warnings to stderr by default; through rwcnn they are
    errors with a message, and nothing is printed."""
    for i, (data, _) in enumerate(bad_files().values()):
        (tmp_path / ("%d.jpg" % i)).write_bytes(data)
    code = ("import glob, sys, rwcnn\n"
            "for p in sorted(glob.glob(sys.argv[1] + '/*.jpg')):\n"
            "    try: rwcnn.load_image(p)\n"
            "    except rwcnn.Error: pass\n"
            "    else: sys.exit('no error for ' + p)\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(rwcnn.__file__)),
               RWCNN_LIBRARY=rwcnn.library_path())
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"" and done.stderr == b""


def test_training_folder_takes_jpegs(tmp_path):
    """*.png, *.jpg, *.jpeg in any case are listed; the rest are not."""
    for i, name in enumerate(["a.jpg", "b.JPEG", "c.Jpg", "d.png"]):
        (tmp_path / name).write_bytes(jpeg_bytes("RGB", quality=80 + i))
    (tmp_path / "notes.txt").write_text("not an image")
    model = rwcnn.Model(arch="8,M,16", cut="pool1", decoder="trained", seed=1)
    result = model.train(tmp_path, steps=2, batch=2, crop=32, eval_every=0, checkpoint_every=0)
    assert result.train_images + result.eval_images == 4
    assert result.skipped_files == 0
