"""The colour-fitted figures through the C ABI (rwcnn.colour_ssim,
rwcnn.fitted_psnr) against scripts/golden_colour.py's values (numpy, scipy,
scikit-image), on crops of the bundled photos read with Pillow."""

import os

import numpy as np
import pytest
from PIL import Image

import rwcnn
from conftest import IMAGES, REPO

pytestmark = pytest.mark.usefixtures("lib")

MIXING = np.array([[0.2, 0.7, -0.3], [-0.6, 0.1, 0.5], [0.4, -0.2, 0.9]])
SHIFTS = np.array([0.3, 0.4, -0.1])


def photo(name, top, left, size):
    img = np.asarray(Image.open(os.path.join(IMAGES, name + ".png")).convert("RGB"))
    crop = img[top:top + size, left:left + size].transpose(2, 0, 1)
    return np.ascontiguousarray(crop.astype(np.float32) / np.float32(255))


def mixed(p):
    p64 = p.astype(np.float64)
    return np.stack([m[0] * p64[0] + m[1] * p64[1] + m[2] * p64[2] + s
                     for m, s in zip(MIXING, SHIFTS)]).astype(np.float32)


# (plain SSIM, colour-invariant SSIM, fitted PSNR per channel, fitted PSNR 3x3)
GOLDEN = {
    "astronautCoffee": (0.2219409903, 0.3067537876, 11.8532146750, 12.0391188932),
    "coffeeAstronaut": (0.2219409903, 0.5339516997, 12.6462651828, 13.3146682125),
    "astronautMixed": (0.7038814295, 1.0, 17.4025103707, None),
    "astronautTrainedPool1": (0.7915365074, 0.7964773197, 28.0053410814, 28.2648381477),
    "astronautTrainedPool2": (0.8860205212, 0.8860205212, 29.9836163270, 30.2948670777),
}


def cases():
    astronaut, coffee = photo("astronaut", 100, 180, 96), photo("coffee", 60, 150, 96)
    yield "astronautCoffee", astronaut, coffee, 1e-6
    yield "coffeeAstronaut", coffee, astronaut, 1e-6
    yield "astronautMixed", astronaut, mixed(astronaut), 1e-6
    big = photo("astronaut", 100, 180, 128)
    for cut in ["pool1", "pool2"]:
        with rwcnn.Model.load(os.path.join(REPO, "data", "decoders", "vgg16_seed0_%s.safetensors" % cut)) as m:
            r = np.clip(m.reconstruct(big), 0, 1).astype(np.float32)
        # the engine's output differs across thread counts by float rounding only
        yield "astronautTrained" + cut.capitalize(), big, r, 1e-4


def test_colour_figures_match_the_golden_script():
    for name, o, r, tol in cases():
        plain, colour, per_channel, matrix = GOLDEN[name]
        assert rwcnn.ssim(r, o) == pytest.approx(plain, abs=tol), name
        assert rwcnn.colour_ssim(r, o) == pytest.approx(colour, abs=tol), name
        assert rwcnn.fitted_psnr(r, o, colour_matrix=False) == pytest.approx(per_channel, abs=10 * tol), name
        if matrix is None:  # exact recolouring: undone to float32 rounding
            assert rwcnn.fitted_psnr(r, o) > 100, name
        else:
            assert rwcnn.fitted_psnr(r, o) == pytest.approx(matrix, abs=10 * tol), name
        # never below the plain figures
        assert rwcnn.colour_ssim(r, o) >= rwcnn.ssim(r, o), name
        assert rwcnn.fitted_psnr(r, o, colour_matrix=False) >= rwcnn.psnr(r, o), name


def test_colour_maps_are_the_librarys():
    # The names of rwcnn_colour_map, also the suffixes of the studies' fitted_psnr_* metrics.
    from rwcnn import _lib
    assert _lib.enum_table(_lib.RWCNN_ENUM_COLOUR_MAP) == {"channel": 0, "matrix": 1}


def test_fitted_psnr_bad_arguments():
    o = photo("astronaut", 100, 180, 32)
    with pytest.raises(rwcnn.ArgumentError):
        rwcnn.fitted_psnr(o, o[:2])
    with pytest.raises(rwcnn.ArgumentError):
        rwcnn.fitted_psnr(o[:, :10, :10], o[:, :10, :10])   # SSIM's 11 x 11, as colour_ssim
    with pytest.raises(rwcnn.ArgumentError):
        rwcnn.fitted_psnr(o, o, colour_matrix=1)
