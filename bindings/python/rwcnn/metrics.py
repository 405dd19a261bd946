"""Reconstruction quality: MSE, PSNR, SSIM, a colour-invariant SSIM and the
fitted PSNR.

Both arguments are an image or a batch in any form :mod:`rwcnn._arrays`
accepts (float CHW/NCHW or uint8 HWC/NHWC); they must have the same shape
once converted. Figures are averaged over the batch (PSNR and SSIM are
computed per image, then averaged).
"""

import ctypes
from typing import Any

from . import _lib
from ._arrays import as_images
from .errors import ArgumentError

__all__ = ["mse", "psnr", "ssim", "colour_ssim", "fitted_psnr"]


def _metric(name: str, a: Any, b: Any, what_a: str = "a", what_b: str = "b", *extra: Any) -> float:
    x, _ = as_images(a, what_a)
    y, _ = as_images(b, what_b)
    if x.shape != y.shape:
        raise ArgumentError("%s and %s must have the same shape, got %s and %s (as N x C x H x W)"
                            % (what_a, what_b, x.shape, y.shape))
    n, c, h, w = x.shape
    out = ctypes.c_double()
    getattr(_lib.lib(), name)(_lib.float_ptr(x), _lib.float_ptr(y), n, c, h, w, *extra, ctypes.byref(out))
    return float(out.value)


def mse(a: Any, b: Any) -> float:
    """Mean squared error."""
    return _metric("rwcnn_mse", a, b)


def psnr(a: Any, b: Any) -> float:
    """PSNR in dB with peak 1.0 (``inf`` for identical inputs); for a batch,
    the mean of the per-image PSNRs."""
    return _metric("rwcnn_psnr", a, b)


def ssim(a: Any, b: Any) -> float:
    """SSIM (Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03, data range 1),
    averaged over channels and images; images must be at least 11 x 11."""
    return _metric("rwcnn_ssim", a, b)


def colour_ssim(reconstruction: Any, original: Any) -> float:
    """Colour-invariant SSIM: per image, the highest SSIM against `original`
    of `reconstruction` itself and of its affine colour maps (a channels x
    channels matrix plus an offset) fitted by least squares on raw pixels or
    on detail (each channel minus its local mean in SSIM's window), clamped
    to [0, 1]. Never below plain SSIM; positions kept with colours changed,
    scaled or mixed still score high; an unrelated image scores about what a
    constant one does (docs/METRICS.md)."""
    return _metric("rwcnn_colour_ssim", reconstruction, original, "reconstruction", "original")


def fitted_psnr(reconstruction: Any, original: Any, colour_matrix: bool = True) -> float:
    """PSNR (dB, peak 1) after the least-squares affine colour map of
    `reconstruction` onto `original` on raw pixels, per image, clamped to
    [0, 1]: a full channels x channels matrix plus an offset, or with
    ``colour_matrix=False`` a gain and an offset per channel."""
    if not isinstance(colour_matrix, bool):
        raise ArgumentError("colour_matrix must be True or False, got %r" % (colour_matrix,))
    colour_map = _lib.enum_table(_lib.RWCNN_ENUM_COLOUR_MAP)["matrix" if colour_matrix else "channel"]
    return _metric("rwcnn_fitted_psnr", reconstruction, original, "reconstruction", "original", colour_map)
