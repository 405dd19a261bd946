#!/usr/bin/env python3
"""Golden SSIM values for Tests/RWCNNTests/MetricsTests.swift, from scikit-image.

    pip install scikit-image numpy pillow
    python3 scripts/golden_ssim.py

The test images are built from formulas that the Swift test repeats
operation for operation (float64 arithmetic, one rounding to float32), plus a
crop of data/images/astronaut.png read with Pillow (stored 8-bit values / 255,
no colour management). Every SSIM is

    structural_similarity(a, b, channel_axis=0, data_range=1,
                          gaussian_weights=True, sigma=1.5,
                          use_sample_covariance=False)

on float64 copies of the float32 images, averaged over the images of a batch.
The colour fits have their own script, scripts/golden_colour.py.
"""

import os

import numpy as np
from PIL import Image
from skimage.metrics import structural_similarity

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def pattern(c, h, w, phase):
    """Smooth colour pattern in about [0.15, 0.85]."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.empty((c, h, w))
    for k in range(c):
        out[k] = 0.5 + 0.35 * np.sin(0.23 * x + 0.11 * y + 1.7 * k + phase) * np.cos(0.07 * x - 0.19 * y + 0.5 * k)
    return out.astype(np.float32)


def hash_noise(c, h, w, seed):
    """Integer-hash noise in [0, 1): exact in any language."""
    k, y, x = np.meshgrid(np.arange(c, dtype=np.uint64), np.arange(h, dtype=np.uint64),
                          np.arange(w, dtype=np.uint64), indexing="ij")
    v = ((x * np.uint64(73) + y * np.uint64(151) + k * np.uint64(29) + np.uint64(seed * 1013))
         * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)
    return v.astype(np.float64) / 2.0**32


def noisy(a, seed, amplitude):
    """a + amplitude * (noise - 0.5), clipped to [0, 1]."""
    n = hash_noise(*a.shape, seed)
    return np.clip(a.astype(np.float64) + amplitude * (n - 0.5), 0, 1).astype(np.float32)


def photo_crop():
    """astronaut.png rows 100..163, columns 180..243, as float32 [3, 64, 64]."""
    img = np.asarray(Image.open(os.path.join(ROOT, "data", "images", "astronaut.png")))
    crop = img[100:164, 180:244, :3].transpose(2, 0, 1)
    return (crop.astype(np.float32) / np.float32(255)).astype(np.float32)


def ssim(a, b):
    a = a if a.ndim == 4 else a[None]
    b = b if b.ndim == 4 else b[None]
    return float(np.mean([
        structural_similarity(x.astype(np.float64), y.astype(np.float64), channel_axis=0, data_range=1,
                              gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
        for x, y in zip(a, b)]))


def main():
    a = pattern(3, 40, 37, 0.0)
    shifted = np.roll(a, -1, axis=2)  # b[..., x] = a[..., (x + 1) % w]
    gray = pattern(1, 23, 29, 0.4)
    tiny = pattern(2, 11, 11, 1.0)
    photo = photo_crop()
    cases = [
        ("patternNoisy", ssim(a, noisy(a, 1, 0.2))),
        ("patternShifted", ssim(a, shifted)),
        ("grayInverted", ssim(gray, (1 - gray.astype(np.float64)).astype(np.float32))),
        ("batchOfTwo", ssim(np.stack([a, a]), np.stack([noisy(a, 1, 0.2), shifted]))),
        ("tiny11", ssim(tiny, noisy(tiny, 2, 0.3))),
        ("photoNoisy", ssim(photo, noisy(photo, 3, 0.2))),
    ]
    for name, value in cases:
        print("%s: %.10f" % (name, value))


if __name__ == "__main__":
    main()
