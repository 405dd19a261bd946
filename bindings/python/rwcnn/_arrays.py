"""numpy conversion between the arrays Python users have and the float32
CHW / NCHW buffers the library takes.

The layout rule (no guessing from shapes, only from the dtype):

* **uint8 (or uint16) arrays are channels-last**, as scikit-image, Pillow
  (``np.asarray(img)``) and imageio give them: ``H x W`` (gray),
  ``H x W x C`` (one image) or ``N x H x W x C`` (a batch). Values are scaled
  to [0, 1] by 255 (65535 for uint16).
* **Float arrays (float16/32/64) are channels-first**, as the library and
  PyTorch use them: ``C x H x W`` (one image) or ``N x C x H x W`` (a batch);
  a 2-D float array ``H x W`` is one gray image. Values are taken as they are
  (images in [0, 1]; raw decoder outputs may lie outside).

Whatever comes in, the library receives a fresh C-contiguous float32 copy,
so the caller's array is never modified and never has to be contiguous.
Results are float32 CHW for a single image and NCHW for a batch.
"""

from typing import Any, Tuple

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

from .errors import ArgumentError

__all__ = ["as_images", "as_features", "as_image", "restore", "to_uint8_hwc"]

_FLOAT_KINDS = "f"


def _asarray(x: Any, what: str) -> "np.ndarray[Any, Any]":
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except Exception as e:  # e.g. ragged lists
        raise ArgumentError("%s: cannot convert %s to an array: %s"
                            % (what, type(x).__name__, e)) from None


def as_images(x: Any, what: str = "images") -> Tuple[FloatArray, bool]:
    """Converts an image or batch to (float32 NCHW C-contiguous copy, batched).

    ``batched`` is False when the input was a single image (HW, HWC or CHW);
    pass it to :func:`restore` to give results the same form.
    """
    a = _asarray(x, what)
    if a.dtype == np.uint8 or a.dtype == np.uint16:
        scale = 255.0 if a.dtype == np.uint8 else 65535.0
        if a.ndim == 2:                      # H x W gray
            out, batched = a[None, None], False
        elif a.ndim == 3:                    # H x W x C
            out, batched = a.transpose(2, 0, 1)[None], False
        elif a.ndim == 4:                    # N x H x W x C
            out, batched = a.transpose(0, 3, 1, 2), True
        else:
            raise ArgumentError(
                "%s: a %s array must be H x W, H x W x C or N x H x W x C (channels last), "
                "got shape %s" % (what, a.dtype, a.shape))
        out = np.ascontiguousarray(out, dtype=np.float32)
        out /= np.float32(scale)
        return out, batched
    if a.dtype.kind == _FLOAT_KINDS:
        if a.ndim == 2:                      # H x W gray
            out, batched = a[None, None], False
        elif a.ndim == 3:                    # C x H x W
            out, batched = a[None], False
        elif a.ndim == 4:                    # N x C x H x W
            out, batched = a, True
        else:
            raise ArgumentError(
                "%s: a float array must be H x W, C x H x W or N x C x H x W (channels "
                "first), got shape %s" % (what, a.shape))
        return np.array(out, dtype=np.float32, order="C", copy=True), batched
    raise ArgumentError(
        "%s: dtype %s is not supported; use float32 C x H x W in [0, 1] (channels first) "
        "or uint8 H x W x C (channels last)" % (what, a.dtype))


def as_features(x: Any, what: str = "features") -> Tuple[FloatArray, bool]:
    """A feature map or batch (float, C x H x W or N x C x H x W) as
    (float32 NCHW C-contiguous copy, batched)."""
    a = _asarray(x, what)
    if a.dtype.kind != _FLOAT_KINDS:
        raise ArgumentError("%s must be a float array (C x H x W or N x C x H x W), got dtype %s"
                            % (what, a.dtype))
    if a.ndim == 3:
        out, batched = a[None], False
    elif a.ndim == 4:
        out, batched = a, True
    else:
        raise ArgumentError("%s must be C x H x W or N x C x H x W, got shape %s"
                            % (what, a.shape))
    return np.array(out, dtype=np.float32, order="C", copy=True), batched


def as_image(x: Any, what: str = "image") -> FloatArray:
    """One image as a float32 CHW C-contiguous copy (a batch of one is
    accepted and unwrapped)."""
    a, batched = as_images(x, what)
    if a.shape[0] != 1:
        raise ArgumentError("%s: expected one image, got a batch of %d" % (what, a.shape[0]))
    image: FloatArray = a[0]
    return image


def restore(out: FloatArray, batched: bool) -> FloatArray:
    """NCHW result -> CHW when the input was a single image."""
    return out if batched else out[0]


def to_uint8_hwc(x: Any) -> "npt.NDArray[np.uint8]":
    """An image or batch (any form :func:`as_images` takes) as uint8
    channels-last (H x W x C, or N x H x W x C), values clamped to [0, 1] and
    rounded; handy for Pillow (``Image.fromarray(to_uint8_hwc(img))``) and
    matplotlib. A single-channel image gives H x W."""
    a, batched = as_images(x)
    u = np.rint(np.clip(a, 0.0, 1.0) * 255.0).astype(np.uint8).transpose(0, 2, 3, 1)
    if u.shape[-1] == 1:
        u = u[..., 0]
    return np.ascontiguousarray(u if batched else u[0])
