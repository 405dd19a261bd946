"""rwcnn.Model: a random-weight encoder up to a cut and its mirrored decoder."""

import ctypes
import math
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import (IO, Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Type,
                    TypeVar, Union)

import numpy as np

from . import _lib

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
_M = TypeVar("_M", bound="Model")
from ._handle import LibraryHandle
from ._arrays import FloatArray, as_features, as_images, restore
from ._train_data import BatchFeed, is_array, is_folder
from .trace import Trace
from .errors import ArgumentError, Error

__all__ = ["Model", "TrainOptions", "TrainProgress", "TrainResult", "DISTRIBUTIONS", "SCALE_RULES",
           "UNPOOL_MODES", "DECODER_MODES", "OPTIMIZERS"]

# The enum tables come from the library (rwcnn_enum_name), where the one
# vocabulary lives; they are read on first use so that `import rwcnn` works
# without the library.
_TABLE_KINDS = {"DISTRIBUTIONS": _lib.RWCNN_ENUM_DISTRIBUTION, "SCALE_RULES": _lib.RWCNN_ENUM_SCALE_RULE,
                "UNPOOL_MODES": _lib.RWCNN_ENUM_UNPOOL_MODE, "DECODER_MODES": _lib.RWCNN_ENUM_DECODER_MODE,
                "OPTIMIZERS": _lib.RWCNN_ENUM_OPTIMIZER, "_PROGRESS_NAMES": _lib.RWCNN_ENUM_PROGRESS_KIND}


def _table(name: str) -> Dict[str, int]:
    """{name: value} of one of the library's enums, in value order."""
    return _lib.enum_table(_TABLE_KINDS[name])


def __getattr__(name: str) -> Dict[str, int]:
    if name in _TABLE_KINDS:
        return dict(_table(name))
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def _choice(table: Mapping[str, int], value: Union[str, int], what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value in table.values():
        return value
    key = value.lower() if isinstance(value, str) else None
    if key is None or key not in table:
        raise ArgumentError("%s must be one of %s, got %r" % (what, ", ".join(table), value))
    return table[key]


def _name(table: Mapping[str, int], code: int) -> str:
    for k, v in table.items():
        if v == code:
            return k
    return str(code)


def _size(value: Any, what: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ArgumentError("%s must be an integer, got %r" % (what, value))
    n = int(value)
    if n < minimum or n >= 1 << 63:
        raise ArgumentError("%s must be >= %d, got %d" % (what, minimum, n))
    return n


def _u64(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ArgumentError("%s must be an integer, got %r" % (what, value))
    n = int(value)
    if not 0 <= n < 1 << 64:
        raise ArgumentError("%s must be in 0 ... 2**64 - 1, got %d" % (what, n))
    return n


def _real(value: Any, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ArgumentError("%s must be a number, got %r" % (what, value)) from None


def _encoder_input(images: Any) -> Tuple[FloatArray, bool]:
    """Images for the encoder, a channels-last float array refused with the
    layout rule (the library itself refuses non-finite values and 0..255
    data in a float array, for every binding)."""
    raw = images if isinstance(images, np.ndarray) else None
    x, batched = as_images(images)
    floating = raw is None or raw.dtype.kind == "f"
    if floating and raw is not None and raw.ndim in (3, 4) and raw.shape[-3] not in (1, 3, 4) \
            and raw.shape[-1] in (1, 3, 4):
        raise ArgumentError(
            "images: float arrays are channels-first (C x H x W or N x C x H x W), but this one "
            "of shape %s looks channels-last; use a.transpose(2, 0, 1) (or (0, 3, 1, 2) for a "
            "batch), or pass uint8 H x W x C" % (raw.shape,))
    return x, batched


def _training_set(images: Any, what: str) -> Tuple[FloatArray, Optional["np.ndarray[Any, Any]"]]:
    """Training or held-out images as (pixels, shapes): an N x 3 x H x W
    array and None; or, for a list of images of different sizes (as a
    folder's files may be), their 3 x h x w pixels back to back and an
    N x 2 array of (height, width), rwcnn_train_options' image_shapes."""
    if isinstance(images, (list, tuple)) and len(images) > 1 \
            and len({np.shape(i) for i in images}) > 1:
        parts = [_training_images(i, "%s[%d]" % (what, k)) for k, i in enumerate(images)]
        shapes = np.array([(p.shape[2], p.shape[3]) for p in parts for _ in range(p.shape[0])],
                          dtype=np.uintp)
        pixels = np.ascontiguousarray(np.concatenate([p.ravel() for p in parts]))
        return pixels, shapes
    return _training_images(images, what), None


def _training_images(images: Any, what: str) -> FloatArray:
    """Training images or a batch as N x 3 x H x W float32 (gray replicated,
    alpha dropped, as a folder's files are loaded)."""
    if isinstance(images, (list, tuple)):
        try:
            images = np.stack([np.asarray(i) for i in images])
        except ValueError:
            raise ArgumentError("%s: the images of a batch must share one shape (batch x 3 x crop "
                                "x crop)" % what) from None
    x, _ = _encoder_input(images)
    if x.shape[1] == 1:
        x = np.repeat(x, 3, axis=1)
    elif x.shape[1] == 4:
        x = np.ascontiguousarray(x[:, :3])
    if x.shape[1] != 3:
        raise ArgumentError("%s: images must have 3 channels (RGB), 1 (gray) or 4 (alpha "
                            "dropped), got %d" % (what, x.shape[1]))
    return x


def _nan_to_none(x: Optional[float]) -> Optional[float]:
    return None if x is None or math.isnan(x) else x


# ---- training records --------------------------------------------------------


@dataclass
class TrainOptions:
    """Options of :meth:`Model.train`, grouped (every field also works as a
    keyword argument of train). None takes the library's default, the one
    the rwcnn.h comments list (and rwcnn_train_options_init sets)."""
    eval_data: Optional[PathLike] = None
    steps: Optional[int] = None
    batch: Optional[int] = None
    crop: Optional[int] = None
    learning_rate: Optional[float] = None
    checkpoint: Optional[PathLike] = None
    resume: Union[bool, PathLike, None] = None
    eval_fraction: Optional[float] = None
    short_side: Optional[int] = None
    resize_whole: Optional[bool] = None
    flip: Optional[bool] = None
    optimizer: Optional[str] = None
    momentum: Optional[float] = None
    betas: Optional[Tuple[float, float]] = None
    epsilon: Optional[float] = None
    weight_decay: Optional[float] = None
    data_seed: Optional[int] = None
    eval_every: Optional[int] = None
    checkpoint_every: Optional[int] = None

    @classmethod
    def defaults(cls) -> "TrainOptions":
        """The library's defaults (rwcnn_train_options_init, the one place
        they live) with every field filled in; eval_data and checkpoint stay
        None (no held-out folder: a seeded split of the data; no
        checkpoint)."""
        o = _lib.TrainOptions()
        _lib.lib().rwcnn_train_options_init_sized(ctypes.byref(o), ctypes.sizeof(o))
        return cls(eval_data=None, steps=o.steps, batch=o.batch, crop=o.crop, learning_rate=o.learning_rate,
                   checkpoint=None, resume=bool(o.resume), eval_fraction=o.eval_fraction,
                   short_side=o.short_side, resize_whole=bool(o.resize_whole), flip=bool(o.flip),
                   optimizer=_name(_table("OPTIMIZERS"), o.optimizer), momentum=o.momentum,
                   betas=(o.beta1, o.beta2), epsilon=o.epsilon, weight_decay=o.weight_decay,
                   data_seed=o.data_seed, eval_every=o.eval_every, checkpoint_every=o.checkpoint_every)



@dataclass
class TrainProgress:
    """One progress event of :meth:`Model.train` (passed to ``callback``).

    kind is "step" (after every training step), "eval" (after a held-out
    evaluation) or "warning" (e.g. a file that could not be loaded; see
    ``message``). Unmeasured figures are None.
    """
    kind: str
    step: int
    steps: int
    loss: Optional[float]
    learning_rate: float
    images_per_second: Optional[float]
    eta_seconds: Optional[float]
    eval_mse: Optional[float] = None
    eval_psnr: Optional[float] = None
    eval_ssim: Optional[float] = None
    message: str = ""

    @classmethod
    def _from_c(cls, p: Any) -> "TrainProgress":
        has_eval = bool(p.has_eval)
        return cls(
            kind=_name(_table("_PROGRESS_NAMES"), p.kind),
            step=p.step, steps=p.steps, loss=_nan_to_none(p.loss),
            learning_rate=p.learning_rate,
            images_per_second=_nan_to_none(p.images_per_second),
            eta_seconds=_nan_to_none(p.eta_seconds),
            eval_mse=p.eval_mse if has_eval else None,
            eval_psnr=p.eval_psnr if has_eval else None,
            eval_ssim=p.eval_ssim if has_eval else None,
            message=(p.message or b"").decode("utf-8", "replace"))


@dataclass
class TrainResult:
    """Outcome of :meth:`Model.train`. eval_* are the held-out metrics after
    the last step (None without evaluation); warnings are the messages of
    the run's warning events (skipped files)."""
    steps_done: int
    final_loss: float
    eval_mse: Optional[float]
    eval_psnr: Optional[float]
    eval_ssim: Optional[float]
    seconds: float
    train_images: int
    eval_images: int
    skipped_files: int
    warnings: List[str] = field(default_factory=list)
    #: fast style (``style=``): the loss of every step this call ran (at most
    #: the first 2**20); empty for plain training
    losses: List[float] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return dict(self.__dict__)


def _clock(seconds: Optional[float]) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return "%d:%02d:%02d" % (h, m, s) if h else "%d:%02d" % (m, s)


class _ProgressBar:
    """Plain-text progress on a stream: one rewritten line on a terminal,
    about twenty lines per run elsewhere (logs)."""

    def __init__(self, stream: IO[str], width: int = 24) -> None:
        self.stream = stream
        self.width = width
        try:
            self.tty = stream.isatty()
        except Exception:
            self.tty = False
        self.pending = False   # a \r line without its newline
        self.last_draw = 0.0
        self.last_logged = -1

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except Exception:
            pass

    def _line(self, e: "TrainProgress") -> str:
        frac = e.step / e.steps if e.steps else 1.0
        filled = int(round(frac * self.width))
        bar = "#" * filled + "." * (self.width - filled)
        parts = ["train %*d/%d [%s] %3d%%" % (len(str(e.steps)), e.step, e.steps, bar,
                                              int(frac * 100))]
        if e.loss is not None:
            parts.append("loss %.5g" % e.loss)
        if e.images_per_second is not None:
            parts.append("%.1f img/s" % e.images_per_second)
        if e.step < e.steps:
            parts.append("eta %s" % _clock(e.eta_seconds))
        return "  ".join(parts)

    def _newline(self) -> None:
        if self.pending:
            self._write("\n")
            self.pending = False

    def update(self, e: "TrainProgress") -> None:
        if e.kind == "warning":
            self._newline()
            self._write("warning: %s\n" % e.message)
        elif e.kind == "eval":
            self._newline()
            if e.eval_mse is not None and e.eval_psnr is not None and e.eval_ssim is not None:
                self._write("eval  step %d: mse %.5g  psnr %.2f dB  ssim %.4f\n"
                            % (e.step, e.eval_mse, e.eval_psnr, e.eval_ssim))
        else:
            if self.tty:
                now = time.monotonic()
                if now - self.last_draw >= 0.1 or e.step >= e.steps:
                    self.last_draw = now
                    self._write("\r" + self._line(e) + "\x1b[K")
                    self.pending = True
            else:
                every = max(1, -(-e.steps // 20))
                if e.step == e.steps or e.step // every != self.last_logged // every \
                        or self.last_logged < 0:
                    self.last_logged = e.step
                    self._write(self._line(e) + "\n")

    def close(self) -> None:
        self._newline()


class _TrainState:
    def __init__(self) -> None:
        self.interrupted = False      # Ctrl-C (SIGINT or KeyboardInterrupt in the callback)
        self.exception: Optional[BaseException] = None  # raised by the user's callback
        self.user_cancelled = False
        self.warnings: List[str] = []
        self.last_step = 0


# ---- the model -------------------------------------------------------------------


class Model(LibraryHandle):
    """A random-weight CNN encoder up to the layer `cut` and its mirrored
    decoder (see rwcnn.h for the meaning of every option). An argument left
    at None takes the library's default (rwcnn_model_config_init; see
    :meth:`defaults`): vgg16 cut at pool2, He-scaled normal weights, seed 0,
    switches unpooling, a random decoder.

    Args:
        arch: "vgg16", "vgg19" or a spec such as "64,M,128k5,M" (a number is a
            3x3 conv with that many channels, "64k5" a 5x5 one, "M" a 2x2 max
            pool with stride 2, "M3" 3x3 stride 3, "M3s2" 3x3 stride 2).
            Layers are named conv<block>_<i> and pool<block>.
        cut: the layer the encoder stops at (a conv includes its ReLU); an
            alias such as "relu4_2", "block4_conv2" or "features.22" works too.
        width: channel multiplier.
        kernel_size: odd kernel size for every conv, None keeps the arch's.
        distribution: weight distribution: "normal", "uniform", "laplace",
            "logistic" (``init=`` is a deprecated alias).
        scale: "he" (sqrt(2/fan_in)), "glorot" or "fixed" (uses `std`).
        std: standard deviation for scale="fixed".
        mean: mean of the weight draws.
        seed: the same config and seed give the same weights, bit for bit.
        unpool: "switches" (the pool's argmax), "nearest" or "zeros".
        decoder: "random" (independent draw), "tied" (the encoder's weights,
            its adjoint) or "trained" (trainable, He-normal init).
        normalize_input: ImageNet mean/std before the encoder (for
            torchvision-pretrained weights, see :meth:`load_torchvision`).

    The model holds a library handle: use it as a context manager or call
    :meth:`close` to free it deterministically (``__del__`` frees it
    otherwise). Reading calls (encode, decode, reconstruct, shapes) may run
    concurrently from several threads; :meth:`train` and
    :meth:`load_torchvision` need exclusive use.
    """

    _what = "model"
    _free_function = "rwcnn_model_free"

    def __init__(self, arch: Optional[str] = None, cut: Optional[str] = None,
                 width: Optional[float] = None, kernel_size: Optional[int] = None,
                 distribution: Optional[str] = None, scale: Optional[str] = None,
                 std: Optional[float] = None, mean: Optional[float] = None,
                 seed: Optional[int] = None, unpool: Optional[str] = None,
                 decoder: Optional[str] = None, normalize_input: Optional[bool] = None,
                 **deprecated: Any) -> None:
        self._setup(None)
        if "init" in deprecated:     # the old name of `distribution`
            import warnings
            warnings.warn("Model(init=...) is deprecated; use distribution=", DeprecationWarning,
                          stacklevel=2)
            if distribution is not None:
                raise ArgumentError("pass distribution or its deprecated alias init, not both")
            distribution = deprecated.pop("init")
        if deprecated:
            raise TypeError("Model() got unexpected keyword arguments: %s" % ", ".join(deprecated))
        L = _lib.lib()
        cfg = _lib.ModelConfig()
        # Every field starts at the library's default (rwcnn_model_config_init,
        # the one place defaults live); None leaves it there.
        L.rwcnn_model_config_init_sized(ctypes.byref(cfg), ctypes.sizeof(cfg))
        keep = []   # bytes the struct points to, alive for the call
        if arch is not None:
            keep.append(_lib.encode_str(arch, "arch"))
            cfg.arch = keep[-1]
        if cut is not None:
            keep.append(_lib.encode_str(cut, "cut"))
            cfg.cut = keep[-1]
        if width is not None:
            cfg.width = _real(width, "width")
        if kernel_size is not None:
            k = _size(kernel_size, "kernel_size", minimum=1)
            if k > 2 ** 31 - 1:
                raise ArgumentError("kernel_size %d is too large" % k)
            cfg.kernel_size = k
        if distribution is not None:
            cfg.distribution = _choice(_table("DISTRIBUTIONS"), distribution, "distribution")
        if scale is not None:
            cfg.scale = _choice(_table("SCALE_RULES"), scale, "scale")
        if std is not None:
            cfg.std = _real(std, "std")
        if mean is not None:
            cfg.mean = _real(mean, "mean")
        if seed is not None:
            cfg.seed = _u64(seed, "seed")
        if unpool is not None:
            cfg.unpool = _choice(_table("UNPOOL_MODES"), unpool, "unpool")
        if decoder is not None:
            cfg.decoder = _choice(_table("DECODER_MODES"), decoder, "decoder")
        if normalize_input is not None:
            cfg.normalize_input = 1 if normalize_input else 0
        h = _lib.model_p()
        L.rwcnn_model_create(ctypes.byref(cfg), ctypes.byref(h))
        self._setup(h.value)

    @staticmethod
    def defaults() -> Dict[str, Any]:
        """The library's default configuration (rwcnn_model_config_init), as
        :attr:`config` would report it for ``Model()``; std is the value a
        scale="fixed" model takes when none is given."""
        cfg = _lib.ModelConfig()
        _lib.lib().rwcnn_model_config_init_sized(ctypes.byref(cfg), ctypes.sizeof(cfg))
        return _config_dict(cfg, keep_std=True)

    @classmethod
    def _wrap(cls: Type[_M], handle: Optional[int]) -> _M:
        m = cls.__new__(cls)
        m._setup(handle)
        return m

    @classmethod
    def load(cls: Type[_M], path: PathLike) -> _M:
        """Reads a model written by :meth:`save` or a training checkpoint.
        Missing file: FileError; corrupt or not an rwcnn model: FormatError."""
        L = _lib.lib()
        h = _lib.model_p()
        L.rwcnn_model_load(_lib.encode_path(path), ctypes.byref(h))
        return cls._wrap(h.value)

    # -- description --

    @property
    def config(self) -> Dict[str, Any]:
        """The configuration as a dict of the keyword arguments of Model
        (``Model(**m.config)`` rebuilds the same weights); std is None unless
        scale is "fixed"."""
        with self._use() as h:
            cfg = _lib.ModelConfig()
            _lib.lib().rwcnn_model_config_init_sized(ctypes.byref(cfg), ctypes.sizeof(cfg))
            _lib.lib().rwcnn_model_get_config(h, ctypes.byref(cfg))
            return _config_dict(cfg)

    @property
    def cut(self) -> str:
        return str(self.config["cut"])

    @property
    def arch(self) -> str:
        return str(self.config["arch"])

    def __repr__(self) -> str:
        if self.closed:
            return "<rwcnn.Model (closed)>"
        c = self.config
        return "rwcnn.Model(%s)" % ", ".join("%s=%r" % kv for kv in c.items())

    @property
    def layers(self) -> List[str]:
        """Names of every layer of the architecture (also those after the cut);
        see :attr:`layer_aliases` for their names in other conventions."""
        with self._use() as h:
            L = _lib.lib()
            n = ctypes.c_size_t()
            L.rwcnn_model_layer_count(h, ctypes.byref(n))
            names = []
            for i in range(n.value):
                name = ctypes.c_char_p()
                L.rwcnn_model_layer(h, i, 1, 1, ctypes.byref(name), None)
                names.append((name.value or b"").decode("utf-8"))
            return names

    @property
    def layer_aliases(self) -> Dict[str, List[str]]:
        """{name: [aliases]} for every layer: the names other conventions give
        the same output (Caffe/Gatys ``relu4_2``, Keras ``block4_conv2`` /
        ``block4_pool``, torchvision's ReLU module ``features.<i>`` and the
        conv module before it, e.g. ``features.22`` and ``features.21`` for
        VGG19's conv4_2; rwcnn's conv output is after its ReLU). ``cut``
        and every other layer argument accept them."""
        with self._use() as h:
            L = _lib.lib()
            out = {}
            for i, name in enumerate(self.layers):
                aliases = ctypes.c_char_p()
                L.rwcnn_model_layer_aliases(h, i, ctypes.byref(aliases))
                out[name] = (aliases.value or b"").decode("utf-8").split()
            return out

    def layer_shapes(self, height: int, width: int) -> List[Tuple[str, Tuple[int, int, int]]]:
        """[(name, (C, H, W)), ...] for every layer of the architecture, for an
        input of height x width (ArgumentError if a pool would get an empty
        input)."""
        height, width = _size(height, "height"), _size(width, "width")
        with self._use() as h:
            L = _lib.lib()
            n = ctypes.c_size_t()
            L.rwcnn_model_layer_count(h, ctypes.byref(n))
            out = []
            for i in range(n.value):
                name = ctypes.c_char_p()
                shape = _lib.size3()
                L.rwcnn_model_layer(h, i, height, width, ctypes.byref(name), shape)
                out.append(((name.value or b"").decode("utf-8"), tuple(shape)))
            return out

    def feature_shape(self, height: int, width: int) -> Tuple[int, int, int]:
        """(C, H, W) of the features at the cut for an input of height x width."""
        height, width = _size(height, "height"), _size(width, "width")
        with self._use() as h:
            shape = _lib.size3()
            _lib.lib().rwcnn_model_feature_shape(h, height, width, shape)
            return tuple(shape)

    def decoded_shape(self, fheight: int, fwidth: int) -> Tuple[int, int, int]:
        """(C, H, W) of the images :meth:`decode` makes from fheight x fwidth features."""
        fheight, fwidth = _size(fheight, "fheight"), _size(fwidth, "fwidth")
        with self._use() as h:
            shape = _lib.size3()
            _lib.lib().rwcnn_model_decoded_shape(h, fheight, fwidth, shape)
            return tuple(shape)

    # -- running --

    def encode(self, images: Any, trace: bool = False) -> Any:
        """Features at the cut: C x H x W for one image, N x C x H x W for a
        batch (images as float CHW/NCHW in [0, 1] or uint8 HWC/NHWC). With
        ``trace=True``, returns ``(features, Trace)``: the encoder's trace
        (pool switches, layer sizes) for a later ``decode(features,
        trace=...)``."""
        x, batched = _encoder_input(images)
        n, c, hh, ww = x.shape
        with self._use() as h:
            fs = self.feature_shape(hh, ww)
            out = np.empty((n,) + fs, np.float32)
            if not trace:
                _lib.lib().rwcnn_model_encode(h, _lib.float_ptr(x), n, c, hh, ww,
                                              _lib.float_ptr(out), out.size)
                return restore(out, batched)
            t = _lib.trace_p()
            _lib.lib().rwcnn_model_encode_trace(h, _lib.float_ptr(x), n, c, hh, ww,
                                                _lib.float_ptr(out), out.size, ctypes.byref(t))
            return restore(out, batched), Trace(t.value, batched)

    def decode(self, features: Any, trace: Optional[Trace] = None) -> FloatArray:
        """Images from features (C x H x W or N x C x H x W float); raw output
        (see display_normalize). With ``trace`` (from ``encode(...,
        trace=True)``) the output has the encoded images' size and unpools
        by their switches; the features must have the trace's shape.
        Without it, sizes follow :meth:`decoded_shape`, and a model with
        unpool="switches" and a pool before the cut needs the trace:
        ArgumentError."""
        f, batched = as_features(features)
        n, c, fh, fw = f.shape
        if trace is not None:
            if not isinstance(trace, Trace):
                raise ArgumentError("trace must be an rwcnn.Trace from encode(..., trace=True), "
                                    "got %s" % type(trace).__name__)
            with self._use() as h, trace._use() as t:
                out = np.empty(trace.image_shape, np.float32)
                _lib.lib().rwcnn_model_decode_trace(h, t, _lib.float_ptr(f), n, c, fh, fw,
                                                    _lib.float_ptr(out), out.size)
            return restore(out, batched)
        with self._use() as h:
            ds = self.decoded_shape(fh, fw)
            out = np.empty((n,) + ds, np.float32)
            _lib.lib().rwcnn_model_decode(h, _lib.float_ptr(f), n, c, fh, fw,
                                          _lib.float_ptr(out), out.size)
        return restore(out, batched)

    def reconstruct(self, images: Any) -> FloatArray:
        """Encoder then decoder: raw reconstructions (float32, CHW or NCHW, the
        input's shape; arbitrary scale for random/tied decoders)."""
        x, batched = _encoder_input(images)
        n, c, hh, ww = x.shape
        out = np.empty_like(x)
        with self._use() as h:
            _lib.lib().rwcnn_model_reconstruct(h, _lib.float_ptr(x), n, c, hh, ww,
                                               _lib.float_ptr(out), out.size)
        return restore(out, batched)

    def for_display(self, reconstructions: Any) -> FloatArray:
        """Raw reconstructions of this model mapped to [0, 1] for viewing and
        scoring by the library's rule (the CLI's): display-normalised for
        random and tied decoders, whose scale is arbitrary; clamped for a
        trained decoder. Returns a new float32 CHW / NCHW array."""
        a, batched = as_images(reconstructions, "reconstructions")
        n, c, hh, ww = a.shape
        with self._use() as h:
            _lib.lib().rwcnn_model_display(h, _lib.float_ptr(a), n, c, hh, ww)
        return restore(a, batched)

    # -- pickling --

    def to_bytes(self) -> bytes:
        """The model as safetensors bytes (see :meth:`save`); the encoder's
        weights are left out while its seed redraws them, so a seeded model
        costs only its decoder."""
        with self._use() as h:
            f = _lib.lib().rwcnn_model_serialize
            size = ctypes.c_size_t()
            f(h, None, 0, ctypes.byref(size))
            out = ctypes.create_string_buffer(max(size.value, 1))
            f(h, out, len(out), ctypes.byref(size))
            return out.raw[:size.value]

    @classmethod
    def from_bytes(cls: Type[_M], data: Union[bytes, bytearray, memoryview]) -> _M:
        """A model from :meth:`to_bytes` (or a :meth:`save` file's contents),
        bit-identical to the original."""
        buf = bytes(data)
        h = _lib.model_p()
        _lib.lib().rwcnn_model_deserialize(buf, len(buf), ctypes.byref(h))
        return cls._wrap(h.value)

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        # Ray, multiprocessing and joblib pickle models. Random and tied
        # decoders are redrawn from the config alone; a trained one travels
        # as safetensors bytes without the seeded encoder.
        data = self.to_bytes()
        config = self.config
        if config["decoder"] != "trained" and _stored_metadata(data).get("encoder_weights") == "seed":
            return (_model_from_config, (config,))
        return (Model.from_bytes, (data,))

    # -- files --

    def save(self, path: PathLike) -> None:
        """Writes the model (every weight plus the metadata that rebuilds it)
        as safetensors, atomically."""
        p = _lib.encode_path(path)
        with self._use() as h:
            _lib.lib().rwcnn_model_save(h, p)

    def load_torchvision(self: _M, path: PathLike) -> _M:
        """Replaces the encoder's weights with torchvision VGG16/VGG19 weights
        from safetensors (scripts/export_torchvision_vgg.py); create the
        model with normalize_input=True for them. Missing tensor or shape
        mismatch: FormatError. Needs exclusive use of the model."""
        p = _lib.encode_path(path)
        with self._use() as h:
            _lib.lib().rwcnn_model_load_torchvision(h, p)
        return self

    # -- training --

    def train(self, data: Any, eval_data: Any = None,
              steps: Optional[int] = None, batch: Optional[int] = None,
              crop: Optional[int] = None, learning_rate: Optional[float] = None,
              checkpoint: Optional[PathLike] = None, resume: Union[bool, PathLike, None] = None,
              *, options: Optional[TrainOptions] = None, eval_fraction: Optional[float] = None,
              short_side: Optional[int] = None, resize_whole: Optional[bool] = None,
              flip: Optional[bool] = None, optimizer: Optional[str] = None,
              momentum: Optional[float] = None, betas: Optional[Tuple[float, float]] = None,
              epsilon: Optional[float] = None, weight_decay: Optional[float] = None,
              data_seed: Optional[int] = None, eval_every: Optional[int] = None,
              checkpoint_every: Optional[int] = None,
              progress: Union[bool, IO[str], None] = True,
              callback: Optional[Callable[[TrainProgress], Any]] = None,
              style: Any = None,
              **deprecated: Any) -> TrainResult:
        """Trains the decoder to reconstruct the input from the cut's features
        (MSE), the encoder fixed; the decoder mode becomes "trained".

        The options can come as a :class:`TrainOptions` (``options=``), as
        keyword arguments, or both (keywords that are not None win). Options
        left at None take the library's defaults (rwcnn_train_options_init;
        :meth:`TrainOptions.defaults` lists them).

        Args:
            data: a folder of PNG and JPEG files (searched recursively); or
                images in memory, an N x 3 x H x W float32 array in [0, 1]
                or N x H x W x 3 uint8, or a list of images (sizes may
                differ, as a folder's files may),
                sampled as a folder's files are (the same images give the
                same run); or an iterable of batches (batch x 3 x crop x
                crop, either layout; a DataLoader's (images, labels) pairs
                and torch tensors work as they are), trained on as given,
                batch and crop taken from its first batch unless set; a
                resumed run reads an iterable from its start again (it
                cannot be rewound) and warns so (RuntimeWarning, and a line
                in TrainResult.warnings); or a callable step -> batch
                (0-based step index), which resumes exactly.
            eval_data: held-out images: a folder (with a data folder), an
                array (with data in memory; required for batches); None
                holds out eval_fraction of the data folder or array.
                (``eval=`` is a deprecated alias.)
            learning_rate, data_seed: the C fields' names (``lr=`` and
                ``seed=`` are deprecated aliases; ``seed`` of :class:`Model`
                seeds the weights, data_seed the split, order, crops and
                flips).
            checkpoint: path of the checkpoint (written atomically every
                checkpoint_every steps, at the end and on cancellation).
            resume: True continues from `checkpoint`; a path is shorthand for
                checkpoint=path, resume=True.
            progress: True prints a progress bar to stderr, False prints
                nothing, a file object receives the bar instead.
            callback: called with a :class:`TrainProgress` for every event;
                a true return value cancels the run.
            style: a :class:`rwcnn.FastStyle`: train for fast style transfer
                (rwcnn_train_fast_style) instead of reconstruction; the
                losses are then the fast-style loss, and the result's
                ``losses`` holds the loss curve.

        Returns a :class:`TrainResult`. Raises CancelledError when the
        callback cancelled (the checkpoint holds the last completed step),
        KeyboardInterrupt after Ctrl-C (same checkpoint guarantee), and
        re-raises any exception the callback raised.
        """
        # Old spellings (one name per concept is the C field's: learning_rate,
        # data_seed; eval_data pairs with data).
        for old, new in (("eval", "eval_data"), ("lr", "learning_rate"), ("seed", "data_seed")):
            if old in deprecated:
                import warnings
                warnings.warn("train(%s=...) is deprecated; use %s=" % (old, new), DeprecationWarning,
                              stacklevel=2)
                value = deprecated.pop(old)
                if new == "eval_data":
                    if eval_data is not None:
                        raise ArgumentError("pass eval_data or its deprecated alias eval, not both")
                    eval_data = value
                elif new == "learning_rate":
                    if learning_rate is not None:
                        raise ArgumentError("pass learning_rate or its deprecated alias lr, not both")
                    learning_rate = value
                else:
                    if data_seed is not None:
                        raise ArgumentError("pass data_seed or its deprecated alias seed, not both")
                    data_seed = value
        if deprecated:
            raise TypeError("train() got unexpected keyword arguments: %s" % ", ".join(deprecated))
        if options is None:
            options = TrainOptions()
        elif not isinstance(options, TrainOptions):
            raise ArgumentError("options must be a rwcnn.TrainOptions, got %r"
                                % type(options).__name__)
        given = dict(eval_data=eval_data, steps=steps, batch=batch, crop=crop, learning_rate=learning_rate,
                     checkpoint=checkpoint, resume=resume, eval_fraction=eval_fraction,
                     short_side=short_side, resize_whole=resize_whole, flip=flip,
                     optimizer=optimizer, momentum=momentum, betas=betas, epsilon=epsilon,
                     weight_decay=weight_decay, data_seed=data_seed, eval_every=eval_every,
                     checkpoint_every=checkpoint_every)
        merged: Dict[str, Any] = {k: (v if v is not None else getattr(options, k)) for k, v in given.items()}
        (eval_data, steps, batch, crop, learning_rate, checkpoint, resume, eval_fraction, short_side,
         resize_whole, flip, optimizer, momentum, betas, epsilon, weight_decay, data_seed, eval_every,
         checkpoint_every) = (merged[k] for k in given)
        if resume is None:
            resume = False
        L = _lib.lib()
        o = _lib.TrainOptions()
        L.rwcnn_train_options_init_sized(ctypes.byref(o), ctypes.sizeof(o))
        keep = []   # bytes the struct points to, alive for the call

        def path_arg(value: PathLike) -> bytes:
            b = _lib.encode_path(value)
            keep.append(b)
            return b

        if resume is not None and not isinstance(resume, (bool, int)):
            rpath = os.fspath(resume)
            if checkpoint is not None and os.fspath(checkpoint) != rpath:
                raise ArgumentError("resume=%r differs from checkpoint=%r; training resumes from "
                                    "and writes the same checkpoint (pass resume=True)"
                                    % (resume, checkpoint))
            checkpoint, resume = rpath, True
        if resume and checkpoint is None:
            raise ArgumentError("resume needs a checkpoint path")
        if checkpoint is not None:
            o.checkpoint = path_arg(checkpoint)
        o.resume = 1 if resume else 0
        if eval_fraction is not None:
            o.eval_fraction = _real(eval_fraction, "eval_fraction")
        if steps is not None:
            o.steps = _size(steps, "steps")
        if batch is not None:
            o.batch = _size(batch, "batch")
        if crop is not None:
            o.crop = _size(crop, "crop")
        if short_side is not None:
            o.short_side = _size(short_side, "short_side")
        if resize_whole is not None:
            o.resize_whole = 1 if resize_whole else 0
        if flip is not None:
            o.flip = 1 if flip else 0
        if optimizer is not None:
            o.optimizer = _choice(_table("OPTIMIZERS"), optimizer, "optimizer")
        if learning_rate is not None:
            o.learning_rate = _real(learning_rate, "learning_rate")
        if momentum is not None:
            o.momentum = _real(momentum, "momentum")
        if betas is not None:
            try:
                b1, b2 = betas
            except (TypeError, ValueError):
                raise ArgumentError("betas must be a pair (beta1, beta2), got %r" % (betas,)) \
                    from None
            o.beta1, o.beta2 = _real(b1, "beta1"), _real(b2, "beta2")
        if epsilon is not None:
            o.epsilon = _real(epsilon, "epsilon")
        if weight_decay is not None:
            o.weight_decay = _real(weight_decay, "weight_decay")
        if data_seed is not None:
            o.data_seed = _u64(data_seed, "data_seed")
        if eval_every is not None:
            o.eval_every = _size(eval_every, "eval_every")
        if checkpoint_every is not None:
            o.checkpoint_every = _size(checkpoint_every, "checkpoint_every")
        if callback is not None and not callable(callback):
            raise ArgumentError("callback must be callable")
        feed = self._train_data(o, data, eval_data, keep, path_arg, batch is None, crop is None)
        fast = None
        if style is not None:
            from .fast_style import FastStyle
            if not isinstance(style, FastStyle):
                raise ArgumentError("style must be a rwcnn.FastStyle, got %r" % type(style).__name__)
            fast = style._c_options(keep, min(int(o.steps), 1 << 20))

        if progress is True:
            bar = _ProgressBar(sys.stderr)
        elif progress is False or progress is None:
            bar = None
        elif hasattr(progress, "write"):
            bar = _ProgressBar(progress)
        else:
            raise ArgumentError("progress must be True, False or a writable stream")

        state = _TrainState()

        def on_progress(p: Any, user: Any) -> int:
            # Everything inside the try: an exception escaping a ctypes
            # callback would be printed and ignored (training would go on).
            try:
                if state.interrupted:
                    return 1
                event = TrainProgress._from_c(p.contents)
                state.last_step = event.step
                if event.kind == "warning":
                    state.warnings.append(event.message)
                if bar is not None:
                    bar.update(event)
                if callback is not None and callback(event):
                    state.user_cancelled = True
                    return 1
                return 1 if state.interrupted else 0
            except KeyboardInterrupt:
                state.interrupted = True
                return 1
            except BaseException as e:  # noqa: B902 - handed back to the caller below
                state.exception = e
                return 1

        fn = _lib.ProgressFn(on_progress)
        o.progress = fn
        o.user = None
        result = _lib.TrainResult()
        result.struct_size = ctypes.sizeof(_lib.TrainResult)

        # Ctrl-C: Python runs the SIGINT handler only when the callback
        # executes; a flag-setting handler makes the next callback return
        # non-zero, so the library stops cleanly (checkpoint written).
        old_handler = None
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    def on_sigint(signum: int, frame: Any) -> None:
                        state.interrupted = True
                    old_handler = signal.signal(signal.SIGINT, on_sigint)
            except (ValueError, OSError):
                old_handler = None
        failure = None
        try:
            with self._use() as h:
                try:
                    if fast is None:
                        L.rwcnn_train(h, ctypes.byref(o), ctypes.byref(result))
                    else:
                        L.rwcnn_train_fast_style(h, ctypes.byref(o), ctypes.byref(fast), ctypes.byref(result))
                except Error as e:  # reported after the callback's own outcome
                    failure = e
        finally:
            if old_handler is not None:
                signal.signal(signal.SIGINT, old_handler)
            if bar is not None:
                bar.close()

        if feed is not None:
            state.interrupted = state.interrupted or feed.interrupted
            state.exception = state.exception or feed.error
            state.warnings = feed.notes + state.warnings
        if state.interrupted:
            raise KeyboardInterrupt("training interrupted after step %d%s" % (
                state.last_step, "; checkpoint saved to %s" % os.fsdecode(checkpoint) if checkpoint else ""))
        if state.exception is not None:
            raise state.exception
        if failure is not None:
            raise failure
        return TrainResult(
            steps_done=result.steps_done, final_loss=result.final_loss,
            eval_mse=result.eval_mse if result.has_eval else None,
            eval_psnr=result.eval_psnr if result.has_eval else None,
            eval_ssim=result.eval_ssim if result.has_eval else None,
            seconds=result.seconds, train_images=result.train_images,
            eval_images=result.eval_images, skipped_files=result.skipped_files,
            warnings=state.warnings,
            losses=[float(fast.losses[i]) for i in range(result.losses_written)] if fast is not None else [])


    @staticmethod
    def _train_data(o: Any, data: Any, eval_data: Any, keep: List[Any],
                    path_arg: Callable[[PathLike], bytes], default_batch: bool,
                    default_crop: bool) -> Optional[BatchFeed]:
        """Sets the data fields of rwcnn_train_options `o` (data_dir, or
        images / eval_images / batch_fn); `keep` holds what they point to."""
        if is_folder(data):
            o.data_dir = path_arg(data)
            if eval_data is not None:
                if not is_folder(eval_data):
                    raise ArgumentError("eval_data: with a data folder, the held-out images are a "
                                        "folder too (arrays go with data in memory)")
                o.eval_dir = path_arg(eval_data)
            return None
        if eval_data is not None:
            if is_folder(eval_data):
                raise ArgumentError("eval_data: with data in memory, give the held-out images as "
                                    "an array (rwcnn.load_image reads files)")
            ev, ev_shapes = _training_set(eval_data, "eval_data")
            keep.append(ev)
            o.eval_images = _lib.float_ptr(ev)
            if ev_shapes is None:
                o.eval_count, _, o.eval_height, o.eval_width = ev.shape
            else:
                keep.append(ev_shapes)
                o.eval_count, o.eval_height, o.eval_width = len(ev_shapes), 0, 0
                o.eval_shapes = ev_shapes.ctypes.data_as(ctypes.POINTER(ctypes.c_size_t))
        if is_array(data):
            x, shapes = _training_set(data, "data")
            keep.append(x)
            o.images = _lib.float_ptr(x)
            if shapes is None:
                o.image_count, _, o.image_height, o.image_width = x.shape
            else:
                keep.append(shapes)
                o.image_count, o.image_height, o.image_width = len(shapes), 0, 0
                o.image_shapes = shapes.ctypes.data_as(ctypes.POINTER(ctypes.c_size_t))
            return None
        if eval_data is None:
            raise ArgumentError("training from batches needs held-out images: pass eval_data as "
                                "an array")
        feed = BatchFeed(data, lambda b: _training_images(b, "batch"))
        if feed.call is None and (default_batch or default_crop):
            n, _, h, w = feed.peek_shape()
            if h != w:
                raise ArgumentError("batches must be square (batch x 3 x crop x crop), the first "
                                    "is %dx%d" % (h, w))
            if default_batch:
                o.batch = n
            if default_crop:
                o.crop = h
        fn = feed.c_callback()
        keep.append(fn)
        o.batch_fn = fn
        return feed
def _config_dict(cfg: Any, keep_std: bool = False) -> Dict[str, Any]:
    """A filled rwcnn_model_config as Model's keyword arguments."""
    scale = _name(_table("SCALE_RULES"), cfg.scale)
    return {
        "arch": cfg.arch.decode("utf-8"),
        "cut": cfg.cut.decode("utf-8"),
        "width": cfg.width,
        "kernel_size": cfg.kernel_size or None,
        "distribution": _name(_table("DISTRIBUTIONS"), cfg.distribution),
        "scale": scale,
        "std": cfg.std if scale == "fixed" or keep_std else None,
        "mean": cfg.mean,
        "seed": cfg.seed,
        "unpool": _name(_table("UNPOOL_MODES"), cfg.unpool),
        "decoder": _name(_table("DECODER_MODES"), cfg.decoder),
        "normalize_input": bool(cfg.normalize_input),
    }


def _stored_metadata(data: bytes) -> Dict[str, str]:
    """The __metadata__ of safetensors bytes (8-byte length, then JSON)."""
    import json
    import struct
    (n,) = struct.unpack("<Q", data[:8])
    metadata: Dict[str, str] = json.loads(data[8:8 + n].decode("utf-8")).get("__metadata__", {})
    return metadata


def _model_from_config(config: Dict[str, Any]) -> Model:
    """Unpickles a model whose weights its config redraws (a config pickled
    before `init` was renamed `distribution` still works)."""
    config = dict(config)
    if "init" in config:
        config["distribution"] = config.pop("init")
    return Model(**config)
