"""PNG round trips, the array layout rules, display normalisation, metrics."""

import os

import numpy as np
import pytest

import rwcnn
from rwcnn._arrays import as_images

pytestmark = pytest.mark.usefixtures("lib")
RNG = np.random.default_rng(1234)


def test_float_chw_round_trip_8bit(tmp_path):
    img = (RNG.integers(0, 256, size=(3, 17, 23)) / 255.0).astype(np.float32)
    path = tmp_path / "float.png"
    rwcnn.save_image(path, img)
    back = rwcnn.load_image(path)
    assert back.dtype == np.float32 and back.shape == (3, 17, 23)
    assert back.flags.c_contiguous
    np.testing.assert_allclose(back, img, atol=1e-6)


def test_float_round_trip_16bit(tmp_path):
    img = (RNG.integers(0, 65536, size=(3, 9, 11)) / 65535.0).astype(np.float32)
    rwcnn.save_image(tmp_path / "deep.png", img, bit_depth=16)
    np.testing.assert_allclose(rwcnn.load_image(tmp_path / "deep.png"), img, atol=1e-6)


def test_values_are_clamped(tmp_path):
    img = np.full((3, 4, 5), 2.0, np.float32)
    img[0] = -1
    rwcnn.save_image(tmp_path / "clamp.png", img)
    back = rwcnn.load_image(tmp_path / "clamp.png")
    assert back[0].max() == 0 and back[1:].min() == 1


def test_uint8_hwc_round_trip(tmp_path):
    hwc = RNG.integers(0, 256, size=(13, 19, 3), dtype=np.uint8)
    rwcnn.save_image(str(tmp_path / "u8.png"), hwc)
    back = rwcnn.load_image(str(tmp_path / "u8.png"))
    np.testing.assert_allclose(back, hwc.transpose(2, 0, 1) / 255.0, atol=1e-6)
    np.testing.assert_array_equal(rwcnn.to_uint8_hwc(back), hwc)


def test_uint8_gray_round_trip(tmp_path):
    gray = RNG.integers(0, 256, size=(10, 12), dtype=np.uint8)
    rwcnn.save_image(tmp_path / "gray.png", gray)
    back = rwcnn.load_image(tmp_path / "gray.png", channels=0)
    assert back.shape == (1, 10, 12)
    np.testing.assert_allclose(back[0], gray / 255.0, atol=1e-6)
    rgb = rwcnn.load_image(tmp_path / "gray.png", channels=3)
    assert rgb.shape == (3, 10, 12)
    for c in range(3):
        np.testing.assert_array_equal(rgb[c], back[0])
    assert rwcnn.image_size(tmp_path / "gray.png") == (12, 10, 1)


def test_alpha_is_dropped(tmp_path):
    rgba = RNG.random((4, 6, 7)).astype(np.float32)
    rwcnn.save_image(tmp_path / "rgba.png", rgba)
    assert rwcnn.image_size(tmp_path / "rgba.png") == (7, 6, 3)
    back = rwcnn.load_image(tmp_path / "rgba.png", channels=0)
    assert back.shape == (3, 6, 7)
    opaque = rgba.copy()
    opaque[3] = 1
    rwcnn.save_image(tmp_path / "opaque.png", opaque)
    np.testing.assert_allclose(rwcnn.load_image(tmp_path / "opaque.png", channels=0), rgba[:3],
                               atol=0.5 / 255 + 1e-6)


def test_encode_png_and_load_bytes():
    img = (RNG.integers(0, 256, size=(3, 8, 9)) / 255.0).astype(np.float32)
    data = rwcnn.encode_png(img)
    assert isinstance(data, bytes) and data[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_allclose(rwcnn.load_image_bytes(data), img, atol=1e-6)
    np.testing.assert_allclose(rwcnn.load_image_bytes(bytearray(data)), img, atol=1e-6)
    deep = rwcnn.encode_png(img, bit_depth=16)
    np.testing.assert_allclose(rwcnn.load_image_bytes(memoryview(deep)), img, atol=1e-6)
    gray = rwcnn.load_image_bytes(data, channels=1)
    luma = 0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2]
    np.testing.assert_allclose(gray[0], luma, atol=1.5 / 255)


def test_bundled_photos_round_trip(tmp_path, photos):
    for path in photos:
        img = rwcnn.load_image(path, channels=0)
        assert img.dtype == np.float32 and img.ndim == 3 and img.shape[0] in (1, 3)
        assert 0 <= img.min() and img.max() <= 1
        w, h, c = rwcnn.image_size(path)
        assert img.shape == (c, h, w)
        out = tmp_path / os.path.basename(path)
        rwcnn.save_image(out, img, bit_depth=16)
        np.testing.assert_allclose(rwcnn.load_image(out, channels=0), img, atol=1e-6)
        rwcnn.save_image(out, img, bit_depth=8)
        np.testing.assert_allclose(rwcnn.load_image(out, channels=0), img, atol=0.5 / 255 + 1e-6)
        rgb = rwcnn.load_image(path)
        assert rgb.shape == (3, h, w)


def test_layout_rules():
    hwc = RNG.integers(0, 256, size=(5, 6, 3), dtype=np.uint8)
    a, batched = as_images(hwc)
    assert a.shape == (1, 3, 5, 6) and not batched
    nhwc = np.stack([hwc, hwc])
    a, batched = as_images(nhwc)
    assert a.shape == (2, 3, 5, 6) and batched
    a, batched = as_images(hwc[..., 0])
    assert a.shape == (1, 1, 5, 6) and not batched
    chw = hwc.transpose(2, 0, 1) / 255.0           # float64, not contiguous
    a, batched = as_images(chw)
    assert a.dtype == np.float32 and a.flags.c_contiguous and a.shape == (1, 3, 5, 6)
    np.testing.assert_allclose(a[0], chw, atol=1e-7)
    a, _ = as_images(chw)
    a[...] = 7                                      # a copy: the input is untouched
    assert chw.max() <= 1
    a, batched = as_images(np.zeros((4, 5), np.float32))
    assert a.shape == (1, 1, 4, 5) and not batched
    u16 = np.full((2, 3, 3), 65535, np.uint16)
    assert as_images(u16)[0].max() == 1
    for bad in (np.zeros((3, 4, 5), np.int32), np.zeros((2,), np.float32),
                np.zeros((1, 1, 1, 1, 1), np.float32), np.zeros((2, 2), bool)):
        with pytest.raises(rwcnn.ArgumentError):
            as_images(bad)


def test_display_normalize():
    batch = RNG.normal(size=(2, 3, 7, 8)).astype(np.float32) * 5
    batch[1] += 10
    keep = batch.copy()
    out = rwcnn.display_normalize(batch)
    np.testing.assert_array_equal(batch, keep)
    assert out.shape == batch.shape
    for i in range(2):
        assert out[i].min() == pytest.approx(0) and out[i].max() == pytest.approx(1)
        lo, hi = keep[i].min(), keep[i].max()
        np.testing.assert_allclose(out[i], (keep[i] - lo) / (hi - lo), atol=1e-5)
    single = rwcnn.display_normalize(np.full((3, 4, 4), 3.0, np.float32))
    assert single.shape == (3, 4, 4)
    np.testing.assert_allclose(single, 0.5)


def test_metrics_against_numpy():
    a = RNG.random((2, 3, 16, 16)).astype(np.float32)
    b = np.clip(a + RNG.normal(scale=0.05, size=a.shape), 0, 1).astype(np.float32)
    m = float(np.mean((a.astype(np.float64) - b) ** 2))
    assert rwcnn.mse(a, b) == pytest.approx(m, rel=1e-5)
    per_image = [np.mean((a[i].astype(np.float64) - b[i]) ** 2) for i in range(2)]
    assert rwcnn.psnr(a, b) == pytest.approx(np.mean([-10 * np.log10(v) for v in per_image]),
                                             rel=1e-5)
    assert rwcnn.psnr(a[0], b[0]) == pytest.approx(-10 * np.log10(per_image[0]), rel=1e-5)
    assert rwcnn.psnr(a, a) == float("inf")
    assert rwcnn.ssim(a, a) == pytest.approx(1.0, abs=1e-6)
    assert 0 < rwcnn.ssim(a, b) < 1
    # colour-invariant: an affine colour change keeps the structure score
    recolour = (a * np.array([0.5, 2.0, -1.0], np.float32)[None, :, None, None] + 0.3)
    assert rwcnn.colour_ssim(recolour, a) == pytest.approx(1.0, abs=1e-4)
    assert rwcnn.ssim(recolour, a) < 0.9
    # uint8 HWC and float CHW of the same picture score the same
    u8 = (a[0] * 255).round().astype(np.uint8).transpose(1, 2, 0)
    assert rwcnn.mse(u8, u8.transpose(2, 0, 1) / 255.0) == pytest.approx(0, abs=1e-12)
    with pytest.raises(rwcnn.ArgumentError):
        rwcnn.mse(a, b[:, :2])
