"""Low-level access to librwcnn.so: library lookup, struct mirrors and the
prototypes of every function in include/rwcnn.h.

Everything here mirrors the C header one to one; the friendly API lives in
the other modules. The library is loaded lazily, on the first call of
:func:`lib`, so that ``import rwcnn`` works (and the struct mirrors can be
inspected) even where no library is installed.

Library lookup order (the first existing file wins; the error lists every
place that was tried). Only places the user chose or the package owns are
searched, so a library planted in a shared directory is never loaded:

1. the environment variable ``RWCNN_LIBRARY`` (a path to the library; if it
   is set but wrong, that is an error, no fallback);
2. next to this package: ``rwcnn/librwcnn.so`` (where ``pip install``
   bundles it);
3. only when ``RWCNN_DEV=1`` (working from a source checkout): the build
   output of the repository this package sits in
   (``<repo>/bindings/python/rwcnn``, ``<repo>`` holding ``Package.swift``):
   ``<repo>/.build/release/librwcnn.so`` (swift build), then
   ``<repo>/build/librwcnn.so`` (CMake); never any other parent directory;
4. the system: ``ctypes.util.find_library("rwcnn")``, then the dynamic
   loader's search path for ``librwcnn.so.0`` and ``librwcnn.so``.
"""

import ctypes
import ctypes.util
import os
import sys
import threading
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_float, c_int,
                    c_size_t, c_uint64, c_void_p)

if TYPE_CHECKING:
    import numpy as np

# ---- constants (values pinned by the header) -------------------------------

RWCNN_OK = 0
RWCNN_ERR_ARGUMENT = 1
RWCNN_ERR_IO = 2
RWCNN_ERR_FORMAT = 3
RWCNN_ERR_OUT_OF_MEMORY = 4
RWCNN_ERR_CANCELLED = 5
RWCNN_ERR_INTERNAL = 6
RWCNN_ERR_BUFFER_TOO_SMALL = 7

RWCNN_DIST_NORMAL = 0
RWCNN_DIST_UNIFORM = 1
RWCNN_DIST_LAPLACE = 2
RWCNN_DIST_LOGISTIC = 3

RWCNN_SCALE_HE = 0
RWCNN_SCALE_GLOROT = 1
RWCNN_SCALE_FIXED = 2

RWCNN_UNPOOL_SWITCHES = 0
RWCNN_UNPOOL_NEAREST = 1
RWCNN_UNPOOL_ZEROS = 2

RWCNN_DECODER_RANDOM = 0
RWCNN_DECODER_TIED = 1
RWCNN_DECODER_TRAINED = 2

RWCNN_OPTIMIZER_ADAM = 0
RWCNN_OPTIMIZER_SGD = 1

RWCNN_ENUM_DISTRIBUTION = 0
RWCNN_ENUM_SCALE_RULE = 1
RWCNN_ENUM_UNPOOL_MODE = 2
RWCNN_ENUM_DECODER_MODE = 3
RWCNN_ENUM_OPTIMIZER = 4
RWCNN_ENUM_PROGRESS_KIND = 5

RWCNN_PROGRESS_STEP = 0
RWCNN_PROGRESS_EVAL = 1
RWCNN_PROGRESS_WARNING = 2

# image synthesis (invert, texture, style)
RWCNN_ENUM_SYNTHESIS_OPTIMIZER = 6
RWCNN_ENUM_SYNTHESIS_START = 7
RWCNN_ENUM_FEATURE_NORMALIZATION = 8
RWCNN_ENUM_GRAM_NORMALIZATION = 9
# metrics: rwcnn_colour_map of rwcnn_fitted_psnr
RWCNN_ENUM_COLOUR_MAP = 10
RWCNN_COLOUR_CHANNEL = 0
RWCNN_COLOUR_MATRIX = 1
# image synthesis, continued: rwcnn_synthesis_task of rwcnn_synthesis_options_init_task
RWCNN_ENUM_SYNTHESIS_TASK = 11
RWCNN_TASK_INVERT = 0
RWCNN_TASK_TEXTURE = 1
RWCNN_TASK_STYLE = 2
RWCNN_SYNTHESIS_ADAM = 0
RWCNN_SYNTHESIS_LBFGS = 1
RWCNN_START_NOISE = 0
RWCNN_START_CONTENT = 1
RWCNN_FEATURE_MEAN = 0
RWCNN_FEATURE_RELATIVE = 1
RWCNN_GRAM_SCALED = 0
RWCNN_GRAM_GATYS = 1

# C enums are int-sized on every ABI rwcnn supports.
c_enum = c_int

# ---- struct mirrors (field order and types exactly as in rwcnn.h) -------------


class ModelConfig(Structure):
    """rwcnn_model_config"""
    _fields_ = [
        ("struct_size", c_size_t),
        ("arch", c_char_p),
        ("cut", c_char_p),
        ("width", c_double),
        ("kernel_size", c_int),
        ("distribution", c_enum),
        ("scale", c_enum),
        ("mean", c_double),
        ("std", c_double),
        ("seed", c_uint64),
        ("unpool", c_enum),
        ("decoder", c_enum),
        ("normalize_input", c_int),
    ]


class Progress(Structure):
    """rwcnn_progress"""
    _fields_ = [
        ("struct_size", c_size_t),
        ("kind", c_enum),
        ("step", c_size_t),
        ("steps", c_size_t),
        ("loss", c_double),
        ("learning_rate", c_double),
        ("images_per_second", c_double),
        ("eta_seconds", c_double),
        ("has_eval", c_int),
        ("eval_mse", c_double),
        ("eval_psnr", c_double),
        ("eval_ssim", c_double),
        ("message", c_char_p),
    ]


#: int (*rwcnn_progress_fn)(const rwcnn_progress *progress, void *user)
ProgressFn = CFUNCTYPE(c_int, POINTER(Progress), c_void_p)


# ---- training from memory (issue 9) ----
class Batch(Structure):
    """rwcnn_batch"""
    _fields_ = [
        ("struct_size", c_size_t),
        ("step", c_size_t),
        ("batch", c_size_t),
        ("channels", c_size_t),
        ("height", c_size_t),
        ("width", c_size_t),
        ("images", POINTER(c_float)),
        ("capacity", c_size_t),
        ("message", ctypes.c_void_p),
        ("message_capacity", c_size_t),
    ]


#: int (*rwcnn_batch_fn)(const rwcnn_batch *batch, void *user)
BatchFn = CFUNCTYPE(c_int, POINTER(Batch), c_void_p)


class TrainOptions(Structure):
    """rwcnn_train_options"""
    _fields_ = [
        ("struct_size", c_size_t),
        ("data_dir", c_char_p),
        ("eval_dir", c_char_p),
        ("eval_fraction", c_double),
        ("steps", c_size_t),
        ("batch", c_size_t),
        ("crop", c_size_t),
        ("short_side", c_size_t),
        ("resize_whole", c_int),
        ("flip", c_int),
        ("optimizer", c_enum),
        ("learning_rate", c_double),
        ("momentum", c_double),
        ("beta1", c_double),
        ("beta2", c_double),
        ("epsilon", c_double),
        ("weight_decay", c_double),
        ("data_seed", c_uint64),
        ("eval_every", c_size_t),
        ("checkpoint", c_char_p),
        ("checkpoint_every", c_size_t),
        ("resume", c_int),
        ("progress", ProgressFn),
        ("user", c_void_p),
        ("images", POINTER(c_float)),
        ("image_count", c_size_t),
        ("image_height", c_size_t),
        ("image_width", c_size_t),
        ("eval_images", POINTER(c_float)),
        ("eval_count", c_size_t),
        ("eval_height", c_size_t),
        ("eval_width", c_size_t),
        ("batch_fn", BatchFn),
        ("batch_user", c_void_p),
        ("image_shapes", POINTER(c_size_t)),
        ("eval_shapes", POINTER(c_size_t)),
    ]


class TrainResult(Structure):
    """rwcnn_train_result"""
    _fields_ = [
        ("struct_size", c_size_t),
        ("steps_done", c_size_t),
        ("final_loss", c_double),
        ("has_eval", c_int),
        ("eval_mse", c_double),
        ("eval_psnr", c_double),
        ("eval_ssim", c_double),
        ("seconds", c_double),
        ("train_images", c_size_t),
        ("eval_images", c_size_t),
        ("skipped_files", c_size_t),
        ("losses_written", c_size_t),
    ]


# image synthesis


class SynthesisProgress(Structure):
    """rwcnn_synthesis_progress"""
    _fields_ = [
        ("struct_size", c_size_t),
        ("step", c_size_t),
        ("steps", c_size_t),
        ("scale", c_size_t),
        ("scales", c_size_t),
        ("loss", c_double),
        ("seconds", c_double),
        ("image", POINTER(c_float)),
        ("n", c_size_t),
        ("channels", c_size_t),
        ("height", c_size_t),
        ("width", c_size_t),
    ]


#: int (*rwcnn_synthesis_progress_fn)(const rwcnn_synthesis_progress *progress, void *user)
SynthesisProgressFn = CFUNCTYPE(c_int, POINTER(SynthesisProgress), c_void_p)


class SynthesisOptions(Structure):
    """rwcnn_synthesis_options"""
    _fields_ = [
        ("struct_size", c_size_t),
        ("steps", c_size_t),
        ("optimizer", c_enum),
        ("learning_rate", c_double),
        ("clamp", c_int),
        ("scales", c_size_t),
        ("scale_factor", c_double),
        ("seed", c_uint64),
        ("start", c_enum),
        ("tv_weight", c_double),
        ("tv_beta", c_double),
        ("alpha_weight", c_double),
        ("alpha", c_double),
        ("feature_normalization", c_enum),
        ("gram_normalization", c_enum),
        ("progress", SynthesisProgressFn),
        ("user", c_void_p),
        ("losses", POINTER(c_double)),
        ("losses_capacity", c_size_t),
    ]


class SynthesisResult(Structure):
    """rwcnn_synthesis_result"""
    _fields_ = [
        ("struct_size", c_size_t),
        ("steps_done", c_size_t),
        ("start_loss", c_double),
        ("final_loss", c_double),
        ("seconds", c_double),
        ("losses_written", c_size_t),
    ]


class TaskDefaults(Structure):
    """rwcnn_task_defaults"""
    _fields_ = [
        ("struct_size", c_size_t),
        ("arch", c_char_p),
        ("content_layer", c_char_p),
        ("content_weight", c_double),
        ("style_layers", POINTER(c_char_p)),
        ("style_layer_count", c_size_t),
    ]


class FastStyleOptions(Structure):
    """rwcnn_fast_style_options"""
    _fields_ = [
        ("struct_size", c_size_t),
        ("style", POINTER(c_float)),
        ("style_height", c_size_t),
        ("style_width", c_size_t),
        ("content_layer", c_char_p),
        ("content_weight", c_double),
        ("style_layers", POINTER(c_char_p)),
        ("style_weights", POINTER(c_double)),
        ("style_layer_count", c_size_t),
        ("tv_weight", c_double),
        ("tv_beta", c_double),
        ("feature_normalization", c_enum),
        ("gram_normalization", c_enum),
        ("losses", POINTER(c_double)),
        ("losses_capacity", c_size_t),
        ("output_layer_scale", c_double),
    ]


#: The struct mirrors by C type name (used by the layout test).
STRUCTS = {
    "rwcnn_model_config": ModelConfig,
    "rwcnn_progress": Progress,
    "rwcnn_train_options": TrainOptions,
    "rwcnn_train_result": TrainResult,
    "rwcnn_synthesis_progress": SynthesisProgress,
    "rwcnn_synthesis_options": SynthesisOptions,
    "rwcnn_synthesis_result": SynthesisResult,
    "rwcnn_fast_style_options": FastStyleOptions,
    "rwcnn_task_defaults": TaskDefaults,
}

# ---- prototypes --------------------------------------------------------------

c_float_p = POINTER(c_float)
c_size_t_p = POINTER(c_size_t)
c_double_p = POINTER(c_double)
#: rwcnn_model * (opaque)
model_p = c_void_p
#: rwcnn_trace * (opaque)
trace_p = c_void_p


class status_t(c_int):
    """rwcnn_status. A type of its own (ctypes then hands the result to
    :func:`_errcheck` as this type) so that every function returning a
    status raises the matching :class:`rwcnn.Error` by itself."""


#: name -> (restype, argtypes) for every function declared in rwcnn.h.
PROTOTYPES = {
    # version
    "rwcnn_version": (c_char_p, []),
    "rwcnn_version_number": (c_int, []),
    # status and errors
    "rwcnn_status_name": (c_char_p, [c_int]),
    "rwcnn_enum_name": (c_char_p, [c_int, c_int]),
    "rwcnn_enum_value": (status_t, [c_int, c_char_p, POINTER(c_int)]),
    "rwcnn_last_error": (c_char_p, []),
    # threads
    "rwcnn_set_threads": (status_t, [c_int]),
    "rwcnn_get_threads": (c_int, []),
    "rwcnn_set_memory_limit": (status_t, [c_size_t]),
    "rwcnn_get_memory_limit": (c_size_t, []),
    # images
    "rwcnn_image_load": (status_t, [c_char_p, c_int, c_float_p, c_size_t,
                                    c_size_t_p, c_size_t_p, c_size_t_p]),
    "rwcnn_image_load_memory": (status_t, [c_void_p, c_size_t, c_int, c_float_p, c_size_t,
                                           c_size_t_p, c_size_t_p, c_size_t_p]),
    # PNG
    "rwcnn_png_load": (status_t, [c_char_p, c_int, c_float_p, c_size_t,
                                  c_size_t_p, c_size_t_p, c_size_t_p]),
    "rwcnn_png_load_memory": (status_t, [c_void_p, c_size_t, c_int, c_float_p, c_size_t,
                                         c_size_t_p, c_size_t_p, c_size_t_p]),
    "rwcnn_png_save": (status_t, [c_char_p, c_float_p, c_size_t, c_size_t, c_size_t, c_int]),
    "rwcnn_png_encode": (status_t, [c_float_p, c_size_t, c_size_t, c_size_t, c_int,
                                    c_void_p, c_size_t, c_size_t_p]),
    # models
    "rwcnn_model_config_init": (None, [POINTER(ModelConfig)]),
    "rwcnn_model_config_init_sized": (status_t, [POINTER(ModelConfig), c_size_t]),
    "rwcnn_model_create": (status_t, [POINTER(ModelConfig), POINTER(model_p)]),
    "rwcnn_model_free": (None, [model_p]),
    "rwcnn_model_save": (status_t, [model_p, c_char_p]),
    "rwcnn_model_load": (status_t, [c_char_p, POINTER(model_p)]),
    "rwcnn_model_get_config": (status_t, [model_p, POINTER(ModelConfig)]),
    "rwcnn_model_layer_count": (status_t, [model_p, c_size_t_p]),
    "rwcnn_model_layer": (status_t, [model_p, c_size_t, c_size_t, c_size_t,
                                     POINTER(c_char_p), c_size_t_p]),
    "rwcnn_model_layer_aliases": (status_t, [model_p, c_size_t, POINTER(c_char_p)]),
    "rwcnn_model_serialize": (status_t, [model_p, c_void_p, c_size_t, c_size_t_p]),
    "rwcnn_model_deserialize": (status_t, [c_void_p, c_size_t, POINTER(model_p)]),
    "rwcnn_model_feature_shape": (status_t, [model_p, c_size_t, c_size_t, c_size_t_p]),
    "rwcnn_model_decoded_shape": (status_t, [model_p, c_size_t, c_size_t, c_size_t_p]),
    "rwcnn_model_encode": (status_t, [model_p, c_float_p, c_size_t, c_size_t, c_size_t, c_size_t,
                                      c_float_p, c_size_t]),
    "rwcnn_model_decode": (status_t, [model_p, c_float_p, c_size_t, c_size_t, c_size_t, c_size_t,
                                      c_float_p, c_size_t]),
    "rwcnn_model_reconstruct": (status_t, [model_p, c_float_p, c_size_t, c_size_t, c_size_t,
                                           c_size_t, c_float_p, c_size_t]),
    # encode now, decode later (issue 9)
    "rwcnn_model_encode_trace": (status_t, [model_p, c_float_p, c_size_t, c_size_t, c_size_t,
                                            c_size_t, c_float_p, c_size_t, POINTER(trace_p)]),
    "rwcnn_model_decode_trace": (status_t, [model_p, trace_p, c_float_p, c_size_t, c_size_t,
                                            c_size_t, c_size_t, c_float_p, c_size_t]),
    "rwcnn_trace_shapes": (status_t, [trace_p, c_size_t_p, c_size_t_p]),
    "rwcnn_trace_free": (None, [trace_p]),
    # metrics and display
    "rwcnn_display_normalize": (status_t, [c_float_p, c_size_t, c_size_t, c_size_t, c_size_t]),
    "rwcnn_mse": (status_t, [c_float_p, c_float_p, c_size_t, c_size_t, c_size_t, c_size_t,
                             c_double_p]),
    "rwcnn_psnr": (status_t, [c_float_p, c_float_p, c_size_t, c_size_t, c_size_t, c_size_t,
                              c_double_p]),
    "rwcnn_ssim": (status_t, [c_float_p, c_float_p, c_size_t, c_size_t, c_size_t, c_size_t,
                              c_double_p]),
    "rwcnn_colour_ssim": (status_t, [c_float_p, c_float_p, c_size_t, c_size_t, c_size_t,
                                     c_size_t, c_double_p]),
    # colour-fitted figures (issue 11)
    "rwcnn_fitted_psnr": (status_t, [c_float_p, c_float_p, c_size_t, c_size_t, c_size_t,
                                     c_size_t, c_int, c_double_p]),
    # training
    "rwcnn_model_load_torchvision": (status_t, [model_p, c_char_p]),
    "rwcnn_train_options_init": (None, [POINTER(TrainOptions)]),
    "rwcnn_train_options_init_sized": (status_t, [POINTER(TrainOptions), c_size_t]),
    "rwcnn_train": (status_t, [model_p, POINTER(TrainOptions), POINTER(TrainResult)]),
    "rwcnn_fast_style_options_init": (None, [POINTER(FastStyleOptions)]),
    "rwcnn_fast_style_options_init_sized": (status_t, [POINTER(FastStyleOptions), c_size_t]),
    "rwcnn_train_fast_style": (status_t, [model_p, POINTER(TrainOptions), POINTER(FastStyleOptions),
                                          POINTER(TrainResult)]),
    # front-end helpers
    "rwcnn_image_resize_crop": (status_t, [c_float_p, c_size_t, c_size_t, c_size_t, c_size_t,
                                           c_float_p, c_size_t]),
    "rwcnn_image_resize_crop_batch": (status_t, [c_float_p, c_size_t, c_size_t, c_size_t, c_size_t,
                                                 c_size_t, c_float_p, c_size_t]),
    "rwcnn_model_display": (status_t, [model_p, c_float_p, c_size_t, c_size_t, c_size_t, c_size_t]),
    # image synthesis
    "rwcnn_synthesis_options_init": (None, [POINTER(SynthesisOptions)]),
    "rwcnn_synthesis_options_init_sized": (status_t, [POINTER(SynthesisOptions), c_size_t]),
    "rwcnn_synthesis_options_init_task": (status_t, [POINTER(SynthesisOptions), c_size_t, c_int, POINTER(c_int)]),
    "rwcnn_synthesis_task_defaults": (status_t, [c_int, POINTER(TaskDefaults), c_size_t]),
    "rwcnn_invert": (status_t, [model_p, c_float_p, c_size_t, c_size_t, c_size_t, c_size_t, c_char_p,
                                c_double, POINTER(SynthesisOptions), c_float_p, c_size_t,
                                POINTER(SynthesisResult)]),
    "rwcnn_texture": (status_t, [model_p, c_float_p, c_size_t, c_size_t, c_size_t, c_size_t,
                                 POINTER(c_char_p), c_double_p, c_size_t, c_size_t, c_size_t, c_size_t,
                                 POINTER(SynthesisOptions), c_float_p, c_size_t,
                                 POINTER(SynthesisResult)]),
    "rwcnn_style": (status_t, [model_p, c_float_p, c_size_t, c_size_t, c_size_t, c_size_t, c_float_p,
                               c_size_t, c_size_t, c_size_t, c_char_p, c_double, POINTER(c_char_p),
                               c_double_p, c_size_t, POINTER(SynthesisOptions), c_float_p, c_size_t,
                               POINTER(SynthesisResult)]),
}

# ---- lookup --------------------------------------------------------------------

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

if sys.platform == "darwin":
    _FILE_NAMES = ("librwcnn.dylib",)
    _SYSTEM_NAMES = ("librwcnn.0.dylib", "librwcnn.dylib")
elif sys.platform == "win32":
    _FILE_NAMES = ("rwcnn.dll", "librwcnn.dll")
    _SYSTEM_NAMES = ("rwcnn.dll",)
else:
    _FILE_NAMES = ("librwcnn.so",)
    _SYSTEM_NAMES = ("librwcnn.so.0", "librwcnn.so")


class LibraryNotFoundError(ImportError):
    """librwcnn could not be found or loaded; the message lists every place
    that was tried."""


def development_mode() -> bool:
    """Whether RWCNN_DEV=1 asks for the source checkout's build output."""
    return os.environ.get("RWCNN_DEV") == "1"


def repository_root(start: Optional[str] = None) -> Optional[str]:
    """The source checkout holding the package directory `start`
    (``<repo>/bindings/python/rwcnn``, ``<repo>/Package.swift`` present), or
    None. Only this one directory is ever considered, never other parents."""
    start = os.path.abspath(start or _PACKAGE_DIR)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(start)))
    if os.path.basename(os.path.dirname(start)) != "python" or not os.path.isfile(
            os.path.join(repo, "Package.swift")):
        return None
    return repo


def candidate_paths(start: Optional[str] = None, dev: Optional[bool] = None) -> List[Tuple[str, str]]:
    """Files that the lookup tries, in order, as (description, path) pairs
    (steps 2 and 3 of the lookup order; the environment variable and the
    system search are handled by :func:`find_library`). `dev` defaults to
    :func:`development_mode`."""
    start = os.path.abspath(start or _PACKAGE_DIR)
    out = [("next to the package", os.path.join(start, name)) for name in _FILE_NAMES]
    repo = repository_root(start) if (development_mode() if dev is None else dev) else None
    if repo is not None:
        for sub in (os.path.join(".build", "release"), "build"):
            for name in _FILE_NAMES:
                out.append(("repository build output (RWCNN_DEV=1)", os.path.join(repo, sub, name)))
    return out


def _try_load(path: str) -> Tuple[Optional[ctypes.CDLL], Optional[str]]:
    try:
        return ctypes.CDLL(path), None
    except OSError as e:  # exists but cannot be loaded (missing dependency, wrong arch)
        return None, str(e)


def find_library(start: Optional[str] = None, system: bool = True) -> Tuple[ctypes.CDLL, str]:
    """Loads librwcnn following the lookup order; returns (CDLL, path).
    Raises LibraryNotFoundError naming every place it looked. `start` is
    the directory the file search starts from (default: this package);
    system=False skips the system loader."""
    tried = []
    env = os.environ.get("RWCNN_LIBRARY")
    if env:
        if not os.path.exists(env):
            raise LibraryNotFoundError(
                "RWCNN_LIBRARY is set to %r, which does not exist; unset it to search the "
                "default places or point it at a built librwcnn.so" % env)
        dll, err = _try_load(env)
        if dll is None:
            raise LibraryNotFoundError("RWCNN_LIBRARY=%r could not be loaded: %s" % (env, err))
        return dll, env
    tried.append("environment variable RWCNN_LIBRARY (not set)")
    if not development_mode():
        tried.append("the source checkout's build output (not searched: set RWCNN_DEV=1)")
    for what, path in candidate_paths(start):
        if os.path.exists(path):
            dll, err = _try_load(path)
            if dll is not None:
                return dll, path
            tried.append("%s: %s (exists but failed to load: %s)" % (what, path, err))
        else:
            tried.append("%s: %s" % (what, path))
    found = ctypes.util.find_library("rwcnn") if system else None
    names = ([found] if found else []) + list(_SYSTEM_NAMES) if system else []
    if system:
        tried.append("ctypes.util.find_library('rwcnn'): %s" % (found or "nothing"))
    for name in names:
        dll, err = _try_load(name)
        if dll is not None:
            return dll, name
        tried.append("system loader: %s (%s)" % (name, err))
    raise LibraryNotFoundError(
        "librwcnn was not found. Build it (swift build -c release, or CMake) and set "
        "RWCNN_LIBRARY to its path, or reinstall the package after building. Looked in:\n  "
        + "\n  ".join(tried))


def _errcheck(result: Any, func: Any, args: Any) -> int:
    """errcheck of every function returning rwcnn_status: a non-zero status
    raises the rwcnn.Error subclass with this thread's last error message."""
    status = result.value if isinstance(result, c_int) else int(result)
    if status != RWCNN_OK:
        from .errors import error_for_status
        raise error_for_status(status, last_error())
    return status


def _declare(dll: ctypes.CDLL) -> None:
    missing = []
    for name, (restype, argtypes) in PROTOTYPES.items():
        try:
            f = getattr(dll, name)
        except AttributeError:
            missing.append(name)
            continue
        f.restype = restype
        f.argtypes = argtypes
        if restype is status_t:
            f.errcheck = _errcheck
    if missing:
        raise LibraryNotFoundError("the loaded librwcnn lacks %s; is it an older build?"
                                   % ", ".join(missing))
    from ._version import HEADER_VERSION_NUMBER
    n = dll.rwcnn_version_number()
    if n // 100 != HEADER_VERSION_NUMBER // 100:
        # 0.x: a minor release may change the ABI, so only the same
        # MAJOR.MINOR is safe to call.
        raise LibraryNotFoundError(
            "librwcnn %s is not ABI-compatible with this binding, written for %d.%d.x; use a "
            "library of the same MAJOR.MINOR" % (dll.rwcnn_version().decode("ascii", "replace"),
                                                 HEADER_VERSION_NUMBER // 10000,
                                                 HEADER_VERSION_NUMBER // 100 % 100))


_lock = threading.Lock()
_lib = None
_path = None


def lib() -> Any:
    """The loaded library with every prototype declared (loaded on first use)."""
    global _lib, _path
    if _lib is None:
        with _lock:
            if _lib is None:
                dll, path = find_library()
                _declare(dll)
                _path = path
                _lib = dll
    return _lib


def library_path() -> str:
    """Path (or loader name) of the library in use; loads it if needed."""
    lib()
    return _path or ""


def last_error() -> str:
    """rwcnn_last_error() as str."""
    msg = lib().rwcnn_last_error()
    return msg.decode("utf-8", "replace") if msg else ""


def encode_path(path: Any) -> bytes:
    """A path (str, bytes or os.PathLike) as bytes for a const char *."""
    try:
        b = os.fsencode(os.fspath(path))
    except TypeError:
        from .errors import ArgumentError
        raise ArgumentError("expected a path (str, bytes or os.PathLike), got %r"
                            % type(path).__name__) from None
    if b"\0" in b:
        from .errors import ArgumentError
        raise ArgumentError("path %r contains a NUL character" % (path,))
    return b


def encode_str(s: Any, what: str) -> bytes:
    if isinstance(s, bytes):
        b = s
    elif isinstance(s, str):
        b = s.encode("utf-8")
    else:
        from .errors import ArgumentError
        raise ArgumentError("%s must be a string, got %r" % (what, type(s).__name__))
    if b"\0" in b:
        from .errors import ArgumentError
        raise ArgumentError("%s contains a NUL character" % what)
    return b


def float_ptr(array: "np.ndarray[Any, Any]") -> Any:
    """float * into a C-contiguous float32 numpy array (which must stay alive)."""
    return array.ctypes.data_as(c_float_p)


def size3() -> Any:
    return (c_size_t * 3)()


_enum_tables: Dict[int, Dict[str, int]] = {}


def enum_table(kind: int) -> Dict[str, int]:
    """{name: value} of the library's enum `kind` (RWCNN_ENUM_*), in value
    order, read once through rwcnn_enum_name: the vocabulary lives there."""
    if kind not in _enum_tables:
        table: Dict[str, int] = {}
        while True:
            n = lib().rwcnn_enum_name(kind, len(table))
            if n is None:
                break
            table[n.decode("ascii")] = len(table)
        _enum_tables[kind] = table
    return _enum_tables[kind]


_status_table: Dict[int, str] = {}


def status_table() -> Dict[int, str]:
    """{code: name} of rwcnn_status, read once through rwcnn_status_name
    (codes from 0 up to the first the library calls unknown)."""
    if not _status_table:
        table: Dict[int, str] = {}
        while True:
            name = (lib().rwcnn_status_name(len(table)) or b"").decode("ascii")
            if name in ("", "RWCNN_UNKNOWN_STATUS"):
                break
            table[len(table)] = name
        _status_table.update(table)
    return _status_table
