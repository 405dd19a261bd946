"""Image files (PNG and JPEG in, PNG out) and display normalisation.

Images come back as float32 C x H x W arrays in [0, 1]. Functions that take
an image accept the forms described in :mod:`rwcnn._arrays` (float CHW or
uint8 HWC/HW).
"""

import ctypes
import os
from typing import Any, Callable, Optional, Tuple, Union

import numpy as np

from . import _lib
from ._arrays import FloatArray, as_image, as_images, restore
from .errors import ArgumentError

__all__ = ["load_image", "load_image_bytes", "save_image", "encode_png", "display_normalize",
           "image_size", "resize_crop"]

#: Images above this many pixels are not allocated before the library has
#: checked them against its own pixel limit (64 megapixels, see rwcnn.h).
PNG_PIXEL_LIMIT = 64 << 20


#: What a path argument may be.
PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


def _check_channels(channels: int) -> int:
    if channels not in (0, 1, 3):
        raise ArgumentError("channels must be 0 (as stored, alpha dropped), 1 (gray) or 3 (RGB), "
                            "got %r" % (channels,))
    return int(channels)


def _load(call: Callable[..., Any], what: Optional[str]) -> FloatArray:
    """Query, then fill, for rwcnn_image_load and rwcnn_image_load_memory.
    `call(out, capacity, w, h, c)` runs the C function."""
    w, h, c = ctypes.c_size_t(), ctypes.c_size_t(), ctypes.c_size_t()
    call(None, 0, ctypes.byref(w), ctypes.byref(h), ctypes.byref(c))
    if h.value * w.value > PNG_PIXEL_LIMIT:
        # Beyond the pixel limit: do not allocate gigabytes first. With a
        # one-float buffer the library checks its limit before decoding
        # (RWCNN_ERR_OUT_OF_MEMORY); only if it accepts the size does it
        # complain about the buffer (RWCNN_ERR_ARGUMENT), and then we go on.
        dummy = np.zeros(1, np.float32)
        try:
            call(_lib.float_ptr(dummy), 1, ctypes.byref(w), ctypes.byref(h), ctypes.byref(c))
        except ArgumentError:
            pass  # the size passed the limit; only the buffer was too small
    out = np.empty((c.value, h.value, w.value), np.float32)
    call(_lib.float_ptr(out), out.size, ctypes.byref(w), ctypes.byref(h), ctypes.byref(c))
    return out


def load_image(path: PathLike, channels: int = 3) -> FloatArray:
    """Reads a PNG or JPEG file (told apart by its bytes, not its name) as
    float32 C x H x W in [0, 1].

    channels: 3 gives RGB (gray is replicated, alpha dropped: colour under
    transparent pixels is kept as stored),
    1 gives gray (BT.601 luma), 0 keeps the file's colour channels (1 or 3)
    and drops alpha. JPEGs decode as Pillow decodes them (libjpeg-turbo,
    accurate IDCT, smooth upsampling). Missing file: FileError; neither
    format, truncated or corrupt: FormatError; beyond 64 megapixels:
    OutOfMemoryError (checked on the header, before allocating).
    """
    channels = _check_channels(channels)
    p = _lib.encode_path(path)
    f = _lib.lib().rwcnn_image_load
    return _load(lambda out, cap, w, h, c: f(p, channels, out, cap, w, h, c), None)


def load_image_bytes(data: Union[bytes, bytearray, memoryview], channels: int = 3) -> FloatArray:
    """As :func:`load_image`, from PNG or JPEG bytes (bytes, bytearray, memoryview)."""
    channels = _check_channels(channels)
    if isinstance(data, str):
        raise ArgumentError("load_image_bytes takes bytes, not str; use load_image for paths")
    buf = np.frombuffer(bytes(data), dtype=np.uint8)
    if buf.size == 0:
        buf = np.zeros(1, np.uint8)  # a valid pointer; size 0 is reported by the library
        size = 0
    else:
        size = buf.size
    ptr = buf.ctypes.data_as(ctypes.c_void_p)
    f = _lib.lib().rwcnn_image_load_memory
    return _load(lambda out, cap, w, h, c: f(ptr, size, channels, out, cap, w, h, c), None)


def image_size(path: PathLike) -> Tuple[int, int, int]:
    """(width, height, channels) of a PNG or JPEG file from its header,
    without decoding it; channels as load_image(path, channels=0) would give."""
    w, h, c = ctypes.c_size_t(), ctypes.c_size_t(), ctypes.c_size_t()
    _lib.lib().rwcnn_image_load(_lib.encode_path(path), 0, None, 0, ctypes.byref(w),
                                ctypes.byref(h), ctypes.byref(c))
    return w.value, h.value, c.value


def _bit_depth(bit_depth: int) -> int:
    if bit_depth not in (8, 16):
        raise ArgumentError("bit_depth must be 8 or 16, got %r" % (bit_depth,))
    return int(bit_depth)


def save_image(path: PathLike, image: Any, bit_depth: int = 8) -> None:
    """Writes one image (float C x H x W in [0, 1], or uint8 H x W x C / H x W;
    1, 3 or 4 channels; values clamped) as an 8- or 16-bit PNG, atomically."""
    bit_depth = _bit_depth(bit_depth)
    a = as_image(image)
    c, h, w = a.shape
    _lib.lib().rwcnn_png_save(_lib.encode_path(path), _lib.float_ptr(a), c, h, w, bit_depth)


def encode_png(image: Any, bit_depth: int = 8) -> bytes:
    """One image (as for :func:`save_image`) encoded as PNG bytes."""
    bit_depth = _bit_depth(bit_depth)
    a = as_image(image)
    c, h, w = a.shape
    f = _lib.lib().rwcnn_png_encode
    size = ctypes.c_size_t()
    f(_lib.float_ptr(a), c, h, w, bit_depth, None, 0, ctypes.byref(size))
    out = ctypes.create_string_buffer(max(size.value, 1))
    f(_lib.float_ptr(a), c, h, w, bit_depth, out, len(out), ctypes.byref(size))
    return out.raw[:size.value]


def display_normalize(images: Any) -> FloatArray:
    """Maps each image of an image or batch to [0, 1] by its own min and max
    over all channels (colour relations kept; a constant image becomes 0.5).
    Returns a new float32 CHW / NCHW array; the input is left unchanged."""
    a, batched = as_images(images)
    n, c, h, w = a.shape
    _lib.lib().rwcnn_display_normalize(_lib.float_ptr(a), n, c, h, w)
    return restore(a, batched)


def resize_crop(images: Any, size: int) -> FloatArray:
    """Resizes each image so that its shorter side is `size` (antialiased
    triangle filter, the longer side to round(long * size / short)) and
    crops the central size x size square: what ``rwcnn reconstruct --size``
    and the C example do to a photo (rwcnn_image_resize_crop), pixel for
    pixel. Takes one image or a batch in any accepted form (float CHW/NCHW
    in [0, 1], uint8 HWC/NHWC); returns float32 CHW / NCHW."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 1 <= int(size) <= 65536:
        raise ArgumentError("size must be an integer in 1 ... 65536, got %r" % (size,))
    side = int(size)
    a, batched = as_images(images)
    n, c, h, w = a.shape
    out = np.empty((n, c, side, side), np.float32)
    _lib.lib().rwcnn_image_resize_crop_batch(_lib.float_ptr(a), n, c, h, w, side, _lib.float_ptr(out),
                                             out.size)
    return restore(out, batched)
