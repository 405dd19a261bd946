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
The colour-invariant score fits, per image, the affine colour map
original ~ A r + b (A a C x C matrix mixing the reconstruction's channels, b a
C-vector) by least squares over all pixels, here with numpy.linalg.lstsq on
the design matrix [r_1 .. r_C, 1] in float64, then matches moments per
channel: each fitted channel f_c becomes

    mean(o_c) + (f_c - mean(f_c)) * std(o_c) / std(f_c)

(population standard deviations; the constant mean(o_c) when f_c is constant,
i.e. var(f_c) <= 1e-12 * (var(f_c) + mean(f_c)**2)), because least squares
shrinks a weakly correlated fit towards the mean and SSIM's contrast term
would penalise that. The result is clamped to [0, 1], rounded to float32,
and scored by the SSIM above. lstsq returns the minimum-norm solution when
channels are constant or duplicated; the fitted image (the projection) is
unique, so it equals the Swift fit, which settles those cases by dropping
constant channels and a 1e-9 ridge, to about 1e-9.
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


def colour_fit(r, o):
    """The least-squares affine colour map of one [C, H, W] image r onto o, applied."""
    c = r.shape[0]
    design = np.concatenate([r.reshape(c, -1).T.astype(np.float64), np.ones((r[0].size, 1))], axis=1)
    target = o.reshape(c, -1).T.astype(np.float64)
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    fitted = (design @ coef).T.reshape(r.shape)
    return np.clip(match_moments(fitted, o), 0, 1).astype(np.float32)


def match_moments(fitted, o):
    """Each fitted channel rescaled to the mean and standard deviation of o's."""
    out = np.empty_like(fitted)
    for k, f in enumerate(fitted):
        target = o[k].astype(np.float64)
        mean_f, var_f = f.mean(), f.var()
        if np.isfinite(var_f) and var_f > 1e-12 * (var_f + mean_f**2):
            out[k] = target.mean() + (f - mean_f) * (target.std() / np.sqrt(var_f))
        else:
            out[k] = target.mean()
    return out


def colour_ssim(r, o):
    r = r if r.ndim == 4 else r[None]
    o = o if o.ndim == 4 else o[None]
    return ssim(np.stack([colour_fit(x, y) for x, y in zip(r, o)]), o)


def main():
    a = pattern(3, 40, 37, 0.0)
    shifted = np.roll(a, -1, axis=2)  # b[..., x] = a[..., (x + 1) % w]
    gray = pattern(1, 23, 29, 0.4)
    tiny = pattern(2, 11, 11, 1.0)
    photo = photo_crop()
    gains, offsets = [0.5, -0.8, 2.0], [0.2, 0.9, -0.5]
    affine = np.stack([(g * photo[k].astype(np.float64) + o) for k, (g, o) in enumerate(zip(gains, offsets))])
    affine = (affine + 0.02 * (hash_noise(3, 64, 64, 4) - 0.5)).astype(np.float32)
    permuted = photo[[1, 2, 0]]
    p64 = photo.astype(np.float64)
    mixing, shifts = [[0.2, 0.7, -0.3], [-0.6, 0.1, 0.5], [0.4, -0.2, 0.9]], [0.3, 0.4, -0.1]
    mixed = np.stack([m[0] * p64[0] + m[1] * p64[1] + m[2] * p64[2] + s for m, s in zip(mixing, shifts)])
    mixed = (mixed + 0.02 * (hash_noise(3, 64, 64, 6) - 0.5)).astype(np.float32)
    photo_gray = ((p64[0] + p64[1] + p64[2]) / 3).astype(np.float32)
    gray_times_three = np.stack([photo_gray, photo_gray, photo_gray])  # duplicate channels: a singular fit
    flat = a.copy()
    flat[1] = np.float32(0.3)
    all_flat = np.full_like(photo, np.float32(0.5))
    # Strong independent noise: weakly correlated with the photo, unclipped.
    very_noisy = (p64 + 1.5 * (hash_noise(3, 64, 64, 8) - 0.5)).astype(np.float32)

    cases = [
        ("patternNoisy", ssim(a, noisy(a, 1, 0.2))),
        ("patternShifted", ssim(a, shifted)),
        ("grayInverted", ssim(gray, (1 - gray.astype(np.float64)).astype(np.float32))),
        ("batchOfTwo", ssim(np.stack([a, a]), np.stack([noisy(a, 1, 0.2), shifted]))),
        ("tiny11", ssim(tiny, noisy(tiny, 2, 0.3))),
        ("photoNoisy", ssim(photo, noisy(photo, 3, 0.2))),
        ("photoAffinePlain", ssim(affine, photo)),
        ("photoAffineColour", colour_ssim(affine, photo)),
        ("photoPermutedPlain", ssim(permuted, photo)),
        ("photoPermutedColour", colour_ssim(permuted, photo)),
        ("photoMixedPlain", ssim(mixed, photo)),
        ("photoMixedColour", colour_ssim(mixed, photo)),
        ("photoGrayColour", colour_ssim(gray_times_three, photo)),
        ("photoAllFlatColour", colour_ssim(all_flat, photo)),
        ("patternFlatChannelColour", colour_ssim(flat, a)),
        ("grayInvertedColour", colour_ssim((1 - gray.astype(np.float64)).astype(np.float32)[None], gray[None])),
        ("batchAffinePermutedColour", colour_ssim(np.stack([affine, permuted]), np.stack([photo, photo]))),
        ("photoVeryNoisyPlain", ssim(very_noisy, photo)),
        ("photoVeryNoisyColour", colour_ssim(very_noisy, photo)),
    ]
    for name, value in cases:
        print("%s: %.10f" % (name, value))


if __name__ == "__main__":
    main()
