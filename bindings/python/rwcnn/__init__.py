"""rwcnn: random-weight CNNs and their deconvolutional reconstructions.

A ctypes binding of librwcnn (include/rwcnn.h)::

    import rwcnn

    image = rwcnn.load_image("data/images/astronaut.png")   # float32 C x H x W in [0, 1]
    with rwcnn.Model(arch="vgg16", cut="pool2", seed=0, decoder="tied") as model:
        features = model.encode(image)                        # (128, H/4, W/4)
        out = rwcnn.display_normalize(model.reconstruct(image))
        print(rwcnn.psnr(out, image), rwcnn.colour_ssim(out, image))
        rwcnn.save_image("out/astronaut-tied.png", out)

Array layouts: float arrays are channels-first (C x H x W or N x C x H x W),
uint8 arrays are channels-last (H x W, H x W x C or N x H x W x C) as
scikit-image and Pillow give them; results are float32 CHW / NCHW.
"""

from typing import Optional

from . import _lib
from ._arrays import to_uint8_hwc
from ._lib import LibraryNotFoundError
from ._version import __version__
from .errors import (ArgumentError, BufferTooSmallError, CancelledError, Error, FileError, FormatError, InternalError,
                     OutOfMemoryError)
from .image import display_normalize, encode_png, image_size, load_image, load_image_bytes, resize_crop, save_image
from .metrics import colour_ssim, fitted_psnr, mse, psnr, ssim
from .model import Model, TrainOptions, TrainProgress, TrainResult
from .study import report, study
from .sweep import sweep, sweep_count
from .trace import Trace  # issue 9: encode now, decode later
from .synthesis import SynthesisProgress, SynthesisResult, invert, style, texture
from .fast_style import FastStyle

__all__ = [
    "Model", "TrainOptions", "TrainProgress", "TrainResult",
    "load_image", "load_image_bytes", "save_image", "encode_png", "image_size",
    "display_normalize", "resize_crop", "to_uint8_hwc",
    "mse", "psnr", "ssim", "colour_ssim", "fitted_psnr",
    "study", "report", "sweep", "sweep_count", "Trace",
    "invert", "texture", "style", "SynthesisResult", "SynthesisProgress", "FastStyle",
    "Error", "ArgumentError", "BufferTooSmallError", "FileError", "FormatError", "OutOfMemoryError", "CancelledError",
    "InternalError", "LibraryNotFoundError",
    "version", "version_number", "library_path", "set_threads", "get_threads",
    "set_memory_limit", "get_memory_limit",
    "__version__",
]

def version() -> str:
    """The C library's version string, "MAJOR.MINOR.PATCH"."""
    return str(_lib.lib().rwcnn_version().decode("ascii"))


def version_number() -> int:
    """The C library's version as MAJOR*10000 + MINOR*100 + PATCH."""
    return int(_lib.lib().rwcnn_version_number())


def library_path() -> str:
    """Where the loaded librwcnn came from (see the lookup order in README)."""
    return _lib.library_path()


def set_threads(n: int) -> None:
    """Bounds the library's worker threads (BLAS included) to n >= 1,
    process-wide. Do not call while other rwcnn calls run. Results do not
    depend on the thread count."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise ArgumentError("thread count must be an integer, got %r" % (n,))
    if not -2 ** 31 <= n <= 2 ** 31 - 1:
        raise ArgumentError("thread count must be >= 1, got %d" % n)
    _lib.lib().rwcnn_set_threads(n)


def get_threads() -> int:
    """The current thread bound (defaults to the number of online CPUs)."""
    return int(_lib.lib().rwcnn_get_threads())


def set_memory_limit(nbytes: Optional[int]) -> None:
    """Sets the memory budget in bytes (None or 0 restores the default, half
    of physical memory): any one large allocation above it (file read,
    decoded image, resize, training batch, model weights, encoder pass)
    raises OutOfMemoryError before it is made. Process-wide; do not call
    while other rwcnn calls run."""
    if nbytes is None:
        nbytes = 0
    if isinstance(nbytes, bool) or not isinstance(nbytes, int) or not 0 <= nbytes < 2 ** 63:
        raise ArgumentError("memory limit must be a byte count >= 0, got %r" % (nbytes,))
    _lib.lib().rwcnn_set_memory_limit(nbytes)


def get_memory_limit() -> int:
    """The current memory budget in bytes."""
    return int(_lib.lib().rwcnn_get_memory_limit())
