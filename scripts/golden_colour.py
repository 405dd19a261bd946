#!/usr/bin/env python3
"""Golden values for the colour fits of Tests/RWCNNTests/ColourFitTests.swift,
computed independently with numpy, scipy and scikit-image.

    pip install numpy scipy scikit-image pillow
    python3 scripts/golden_colour.py

Definitions (what Sources/RWCNN/Metrics/ColourFit.swift must agree with):

* detail(x) of a channel: x minus its Gaussian local mean (sigma 1.5, truncate
  3.5: the 11 x 11 window of SSIM), on the pixels at least 5 from the border,
  where the window lies inside the image (scipy.ndimage.gaussian_filter; the
  border mode does not reach those pixels).
* colour-invariant SSIM: per image, the highest of three SSIMs against o
  (scikit-image's Gaussian settings):
  - SSIM(r, o), the plain SSIM;
  - SSIM(clip(A r + b, 0, 1), o) with A, b the raw least-squares fit of the
    fitted PSNR's colour matrix below;
  - SSIM(clip(A r + b, 0, 1), o) with the 3 x 3 matrix A minimising
    sum |detail(o) - A detail(r)|^2 (numpy.linalg.lstsq, no intercept) and
    the offset b = mean(o) - A mean(r) over all pixels.
* fitted PSNR: per image, least squares o ~ A r + b on the raw pixels, with A a
  full 3 x 3 matrix ("colour matrix", lstsq on the design [r, 1]) or diagonal
  ("per channel", one lstsq [r_c, 1] per channel); PSNR(clip(A r + b, 0, 1), o).

Images are photos from data/images read with Pillow (8-bit values / 255, RGB),
cropped as stated, and exact recolourings of them computed in float64 and
rounded once to float32, which the Swift test repeats operation for operation.
The trained-decoder cases reconstruct a crop with the shipped decoders of
data/decoders through the rwcnn Python package (the engine makes the input;
the scores are computed here), clamped to [0, 1]; the Swift test rebuilds
them with the Swift module, so they agree to the engine's float rounding
across thread counts. Without the built library those cases are skipped.
"""

import os

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter
from skimage.metrics import structural_similarity

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
R = 5  # SSIM window radius


def photo(name, top, left, size):
    img = np.asarray(Image.open(os.path.join(ROOT, "data", "images", name + ".png")).convert("RGB"))
    crop = img[top:top + size, left:left + size].transpose(2, 0, 1)
    return (crop.astype(np.float32) / np.float32(255)).astype(np.float32)


def ssim(a, b):
    return structural_similarity(a.astype(np.float64), b.astype(np.float64), channel_axis=0, data_range=1,
                                 gaussian_weights=True, sigma=1.5, use_sample_covariance=False)


def detail(x):
    x = x.astype(np.float64)
    return np.stack([(p - gaussian_filter(p, 1.5, truncate=3.5))[R:-R, R:-R] for p in x])


def colour_ssim(r, o):
    return max(ssim(r, o), ssim(raw_fitted(r, o, per_channel=False), o), ssim(detail_fitted(r, o), o))


def detail_fitted(r, o):
    c = r.shape[0]
    dr, do = detail(r).reshape(c, -1).T, detail(o).reshape(c, -1).T
    a, *_ = np.linalg.lstsq(dr, do, rcond=None)            # do ~ dr @ a, a = A^T
    r64 = r.reshape(c, -1).T.astype(np.float64)
    o64 = o.reshape(c, -1).T.astype(np.float64)
    b = o64.mean(0) - r64.mean(0) @ a
    fitted = (r64 @ a + b).T.reshape(r.shape)
    return np.clip(fitted, 0, 1).astype(np.float32)


def raw_fitted(r, o, per_channel):
    """clip(A r + b, 0, 1) for the least-squares fit on raw pixels, as float32 [C, H, W]."""
    c = r.shape[0]
    r64 = r.reshape(c, -1).T.astype(np.float64)
    o64 = o.reshape(c, -1).T.astype(np.float64)
    ones = np.ones((r64.shape[0], 1))
    if per_channel:
        fitted = np.empty_like(o64)
        for k in range(c):
            design = np.concatenate([r64[:, k:k + 1], ones], axis=1)
            coef, *_ = np.linalg.lstsq(design, o64[:, k], rcond=None)
            fitted[:, k] = design @ coef
    else:
        design = np.concatenate([r64, ones], axis=1)
        coef, *_ = np.linalg.lstsq(design, o64, rcond=None)
        fitted = design @ coef
    return np.clip(fitted, 0, 1).astype(np.float32).T.reshape(r.shape)


def fitted_psnr(r, o, per_channel):
    fitted = raw_fitted(r, o, per_channel).astype(np.float64)
    return float(-10 * np.log10(np.mean((fitted - o.astype(np.float64)) ** 2)))


# Recolourings, shared with the Swift test.
GAINS, OFFSETS = [0.5, -0.8, 2.0], [0.2, 0.9, -0.5]
MIXING, SHIFTS = [[0.2, 0.7, -0.3], [-0.6, 0.1, 0.5], [0.4, -0.2, 0.9]], [0.3, 0.4, -0.1]


def affine(p):
    p64 = p.astype(np.float64)
    return np.stack([g * p64[k] + o for k, (g, o) in enumerate(zip(GAINS, OFFSETS))]).astype(np.float32)


def mixed(p):
    p64 = p.astype(np.float64)
    return np.stack([m[0] * p64[0] + m[1] * p64[1] + m[2] * p64[2] + s
                     for m, s in zip(MIXING, SHIFTS)]).astype(np.float32)


def main():
    astronaut = photo("astronaut", 100, 180, 96)
    coffee = photo("coffee", 60, 150, 96)
    chelsea = photo("chelsea", 50, 100, 96)
    flat = np.full_like(astronaut, np.float32(0.5))
    p64 = astronaut.astype(np.float64)
    gray = ((p64[0] + p64[1] + p64[2]) / 3).astype(np.float32)
    gray_times_three = np.stack([gray, gray, gray])          # duplicate channels: a singular fit
    one_flat = astronaut.copy()
    one_flat[1] = np.float32(0.3)                              # one constant channel
    cases = [
        ("astronautAffine", astronaut, affine(astronaut)),
        ("astronautMixed", astronaut, mixed(astronaut)),
        ("astronautCoffee", astronaut, coffee),
        ("astronautChelsea", astronaut, chelsea),
        ("astronautFlat", astronaut, flat),
        ("coffeeAstronaut", coffee, astronaut),
        ("coffeeFlat", coffee, flat),
        ("astronautGrayTimesThree", astronaut, gray_times_three),
        ("astronautOneFlatChannel", astronaut, one_flat),
    ]
    cases += trained_cases()
    for name, o, r in cases:
        print("(\"%s\", %.10f, %.10f, %.10f, %.10f),"
              % (name, ssim(r, o), colour_ssim(r, o), fitted_psnr(r, o, True), fitted_psnr(r, o, False)))


def trained_cases():
    """The shipped pool1 and pool2 decoders on a 128 x 128 crop of the astronaut."""
    try:
        import sys
        sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
        os.environ.setdefault("RWCNN_LIBRARY", os.path.join(ROOT, ".build", "release", "librwcnn.so"))
        import rwcnn
    except Exception as err:  # no built library: print the other cases only
        print("# trained-decoder cases skipped: %s" % err)
        return []
    o = photo("astronaut", 100, 180, 128)
    out = []
    for cut in ["pool1", "pool2"]:
        with rwcnn.Model.load(os.path.join(ROOT, "data", "decoders", "vgg16_seed0_%s.safetensors" % cut)) as m:
            r = np.clip(m.reconstruct(o), 0, 1).astype(np.float32)
        out.append(("astronautTrained" + cut.capitalize(), o, r))
    return out


if __name__ == "__main__":
    main()
