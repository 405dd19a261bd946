"""Image synthesis on a random encoder: invert a layer, synthesise a texture,
transfer a style (rwcnn_invert / rwcnn_texture / rwcnn_style).

Each function optimises the pixels of an image (Adam or L-BFGS) against
losses on the features of a model's random VGG; see rwcnn.h and
docs/ENGINE.md ("Synthesis") for the losses and every option::

    import rwcnn
    photo = rwcnn.load_image("data/images/astronaut.png")
    r = rwcnn.invert(photo, "pool1", size=64, steps=200, progress=True)
    rwcnn.save_image("out/invert.png", r.image)

Without ``model=`` a model of ``arch`` (default: the library's for the
task, ``vgg16`` for invert and ``vgg16-avg`` for texture and style) and ``seed`` is
built with its cut at the deepest layer named. The progress bar goes to
stderr with ``progress=True``; Ctrl-C stops the run cleanly and raises
KeyboardInterrupt.
"""

import ctypes
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, IO, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _lib
from ._arrays import FloatArray, restore
from .errors import ArgumentError, Error
from .model import Model, _choice, _encoder_input, _real, _size, _u64

__all__ = ["invert", "texture", "style", "SynthesisResult", "SynthesisProgress",
           "SYNTHESIS_OPTIMIZERS", "FEATURE_NORMALIZATIONS", "GRAM_NORMALIZATIONS"]

_KINDS = {"SYNTHESIS_OPTIMIZERS": _lib.RWCNN_ENUM_SYNTHESIS_OPTIMIZER,
          "_STARTS": _lib.RWCNN_ENUM_SYNTHESIS_START,
          "FEATURE_NORMALIZATIONS": _lib.RWCNN_ENUM_FEATURE_NORMALIZATION,
          "GRAM_NORMALIZATIONS": _lib.RWCNN_ENUM_GRAM_NORMALIZATION}


def _table(name: str) -> Dict[str, int]:
    """{name: value} of one of the library's enums, in value order."""
    return _lib.enum_table(_KINDS[name])


def __getattr__(name: str) -> Dict[str, int]:
    if name in _KINDS:
        return dict(_table(name))
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


@dataclass
class SynthesisProgress:
    """One step's report to ``callback``: ``image`` is the current image
    (float32 N x C x H x W, a copy)."""
    step: int
    steps: int
    scale: int
    scales: int
    loss: float
    seconds: float
    image: FloatArray


@dataclass
class SynthesisResult:
    """The synthesised image (C x H x W, or N x C x H x W for a batch), the
    loss after every step, and the start and final losses."""
    image: FloatArray
    losses: FloatArray
    start_loss: float
    final_loss: float
    steps_done: int
    seconds: float
    extra: Dict[str, Any] = field(default_factory=dict)


class _Bar:
    """One rewritten line on a terminal, about twenty lines elsewhere."""

    def __init__(self, stream: IO[str], label: str) -> None:
        self.stream, self.label = stream, label
        try:
            self.tty = stream.isatty()
        except Exception:
            self.tty = False
        self.last = 0.0
        self.logged = -1
        self.pending = False

    def update(self, p: SynthesisProgress) -> None:
        frac = p.step / p.steps if p.steps else 1.0
        bar = "#" * int(round(frac * 24)) + "." * (24 - int(round(frac * 24)))
        line = "%s %*d/%d [%s] %3d%%  loss %.5g  scale %d/%d  %.1f steps/s" % (
            self.label, len(str(p.steps)), p.step, p.steps, bar, int(frac * 100), p.loss, p.scale, p.scales,
            p.step / p.seconds if p.seconds > 0 else 0.0)
        try:
            if self.tty:
                now = time.monotonic()
                if now - self.last >= 0.1 or p.step == p.steps:
                    self.last = now
                    self.stream.write("\r" + line + "\x1b[K")
                    self.pending = True
            else:
                every = max(1, -(-p.steps // 20))
                if p.step == p.steps or self.logged < 0 or p.step // every != self.logged // every:
                    self.logged = p.step
                    self.stream.write(line + "\n")
            self.stream.flush()
        except Exception:
            pass

    def close(self) -> None:
        if self.pending:
            try:
                self.stream.write("\n")
            except Exception:
                pass


def _task_defaults(task: str) -> Tuple[Any, bool]:
    """The library's defaults of `task` ("invert", "texture", "style"):
    a filled rwcnn_synthesis_options and whether its model should centre
    its input (rwcnn_synthesis_options_init_task)."""
    o = _lib.SynthesisOptions()
    centred = ctypes.c_int(0)
    _lib.lib().rwcnn_synthesis_options_init_task(ctypes.byref(o), ctypes.sizeof(o),
                                                 _lib.enum_table(_lib.RWCNN_ENUM_SYNTHESIS_TASK)[task],
                                                 ctypes.byref(centred))
    return o, bool(centred.value)


def _task_inputs(task: str) -> Any:
    """What `task` uses when the caller names nothing more: its default
    arch and, for style, the content layer, content weight and style
    layers (rwcnn_synthesis_task_defaults)."""
    d = _lib.TaskDefaults()
    _lib.lib().rwcnn_synthesis_task_defaults(_lib.enum_table(_lib.RWCNN_ENUM_SYNTHESIS_TASK)[task],
                                             ctypes.byref(d), ctypes.sizeof(d))
    return d


def _arch(task: str, arch: Optional[str]) -> str:
    """arch, or the library's default for the task (None)."""
    return _task_inputs(task).arch.decode() if arch is None else arch


def _options(task: str, steps: Optional[int], optimizer: Optional[str], lr: Optional[float],
             clamp: Optional[bool], scales: Optional[int], scale_factor: Optional[float],
             seed: Optional[int], start: Optional[str], tv_weight: Optional[float], tv_beta: Optional[float],
             alpha_weight: Optional[float], alpha: Optional[float],
             feature_normalization: Optional[str], gram_normalization: Optional[str]) -> Any:
    """The task's library defaults with every option that is not None set."""
    o, _ = _task_defaults(task)
    if steps is not None:
        o.steps = _size(steps, "steps")
    if optimizer is not None:
        o.optimizer = _choice(_table("SYNTHESIS_OPTIMIZERS"), optimizer, "optimizer")
    if lr is not None:
        o.learning_rate = _real(lr, "learning_rate")
    if clamp is not None:
        o.clamp = 1 if clamp else 0
    if scales is not None:
        o.scales = _size(scales, "scales")
    if scale_factor is not None:
        o.scale_factor = _real(scale_factor, "scale_factor")
    if seed is not None:
        o.seed = _u64(seed, "seed")
    if start is not None:
        o.start = _choice(_table("_STARTS"), start, "start")
    for name, value in (("tv_weight", tv_weight), ("tv_beta", tv_beta), ("alpha_weight", alpha_weight),
                        ("alpha", alpha)):
        if value is not None:
            setattr(o, name, _real(value, name))
    if feature_normalization is not None:
        o.feature_normalization = _choice(_table("FEATURE_NORMALIZATIONS"), feature_normalization,
                                          "feature_normalization")
    if gram_normalization is not None:
        o.gram_normalization = _choice(_table("GRAM_NORMALIZATIONS"), gram_normalization, "gram_normalization")
    return o


def _centred(task: str, normalize_input: Optional[bool]) -> bool:
    """normalize_input, or the library's advice for the task (None)."""
    return _task_defaults(task)[1] if normalize_input is None else bool(normalize_input)


def _layers(layers: Union[str, Sequence[str]], what: str) -> List[str]:
    names = [layers] if isinstance(layers, str) else list(layers)
    for n in names:
        if not isinstance(n, str):
            raise ArgumentError("%s must be layer names, got %r" % (what, n))
    return names


def _weights(weights: Optional[Sequence[float]], count: int, what: str) -> Optional[Any]:
    if weights is None:
        return None
    w = [_real(v, what) for v in (weights if isinstance(weights, (list, tuple, np.ndarray)) else [weights])]
    if len(w) != count:
        raise ArgumentError("%s: %d weights for %d layers; give one per layer" % (what, len(w), count))
    return (ctypes.c_double * max(1, count))(*w)


def _model_for(model: Optional[Model], layers: List[str], arch: str, seed: int, width: float,
               normalize_input: bool = False) -> Tuple[Model, bool]:
    """The caller's model, or one of `arch` cut at the deepest of `layers`
    (built here, and closed by the caller: the bool says so)."""
    if model is not None:
        if not isinstance(model, Model):
            raise ArgumentError("model must be an rwcnn.Model, got %s" % type(model).__name__)
        return model, False
    if not layers:
        raise ArgumentError("no layers given; name at least one, e.g. conv1_1, pool1, pool2")
    probe = Model(arch=arch, cut=layers[0], seed=seed, width=width, normalize_input=normalize_input)
    names = probe.layers
    aliases = probe.layer_aliases
    index = {}
    for i, n in enumerate(names):
        index[n] = i
        for a in aliases.get(n, []):
            index.setdefault(a, i)
    known = [index[n] for n in layers if n in index]
    if len(known) < len(layers):
        # The library's message lists the valid names.
        bad = next(n for n in layers if n not in index)
        probe.close()
        return Model(arch=arch, cut=bad, seed=seed, width=width, normalize_input=normalize_input), True
    deepest = names[max(known)]
    if deepest == probe.cut:
        return probe, True
    probe.close()
    return Model(arch=arch, cut=deepest, seed=seed, width=width, normalize_input=normalize_input), True


def _resized(x: FloatArray, size: Optional[int]) -> FloatArray:
    """x (N x C x H x W) with its short side resized to `size` and the
    central size x size square cropped, by the library
    (rwcnn_image_resize_crop): what the CLI's --size does, pixel for pixel."""
    if size is None:
        return x
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
        raise ArgumentError("size is one side (the short side is resized to it and the central square "
                            "cropped, as the CLI's --size), got %r" % (size,))
    from .image import resize_crop
    return np.ascontiguousarray(resize_crop(x, _size(size, "size", 1)))


def _run(label: str, call: Callable[[Any, Any, Any, int], None], out_shape: Tuple[int, ...], o: Any,
         batched: bool, progress: Union[bool, IO[str], None],
         callback: Optional[Callable[[SynthesisProgress], Any]]) -> SynthesisResult:
    if callback is not None and not callable(callback):
        raise ArgumentError("callback must be callable")
    if progress is True:
        bar: Optional[_Bar] = _Bar(sys.stderr, label)
    elif progress is False or progress is None:
        bar = None
    elif hasattr(progress, "write"):
        bar = _Bar(progress, label)
    else:
        raise ArgumentError("progress must be True, False or a writable stream")
    total = o.steps * o.scales
    losses = np.full(max(1, total), np.nan, np.float64)
    o.losses = losses.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
    o.losses_capacity = total
    state: Dict[str, Any] = {"interrupted": False, "exception": None, "step": 0}

    def on_progress(p: Any, user: Any) -> int:
        try:
            if state["interrupted"]:
                return 1
            c = p.contents
            state["step"] = c.step
            if bar is None and callback is None:
                return 0
            count = c.n * c.channels * c.height * c.width
            image = np.ctypeslib.as_array(c.image, shape=(count,)).reshape(
                c.n, c.channels, c.height, c.width).copy()
            event = SynthesisProgress(step=c.step, steps=c.steps, scale=c.scale, scales=c.scales, loss=c.loss,
                                      seconds=c.seconds, image=image)
            if bar is not None:
                bar.update(event)
            if callback is not None and callback(event):
                return 1
            return 1 if state["interrupted"] else 0
        except KeyboardInterrupt:
            state["interrupted"] = True
            return 1
        except BaseException as e:  # noqa: B902 - re-raised after the call
            state["exception"] = e
            return 1

    fn = _lib.SynthesisProgressFn(on_progress)
    o.progress = fn
    o.user = None
    out = np.empty(out_shape, np.float32)
    result = _lib.SynthesisResult()
    result.struct_size = ctypes.sizeof(_lib.SynthesisResult)
    old_handler = None
    if threading.current_thread() is threading.main_thread():
        try:
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                def on_sigint(signum: int, frame: Any) -> None:
                    state["interrupted"] = True
                old_handler = signal.signal(signal.SIGINT, on_sigint)
        except (ValueError, OSError):
            old_handler = None
    failure = None
    try:
        try:
            call(o, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), ctypes.byref(result), out.size)
        except Error as e:
            failure = e
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGINT, old_handler)
        if bar is not None:
            bar.close()
    if state["interrupted"]:
        raise KeyboardInterrupt("%s interrupted after step %d" % (label, state["step"]))
    if state["exception"] is not None:
        raise state["exception"]
    if failure is not None:
        raise failure
    return SynthesisResult(image=restore(out, batched), losses=losses[:result.losses_written].copy(),
                           start_loss=result.start_loss, final_loss=result.final_loss,
                           steps_done=result.steps_done, seconds=result.seconds)


def _rate(learning_rate: Optional[float], lr: Optional[float]) -> Optional[float]:
    """learning_rate, or its deprecated alias lr (one name per concept:
    rwcnn_synthesis_options.learning_rate, --learning-rate)."""
    if lr is None:
        return learning_rate
    import warnings
    warnings.warn("lr= is deprecated; use learning_rate=", DeprecationWarning, stacklevel=3)
    return lr


_COMMON_DOC = """
    Options shared by invert, texture and style; None (the default) takes
    the library's default for the task (rwcnn_synthesis_options_init_task:
    Adam on raw input for invert, L-BFGS on a model with centred input,
    ``normalize_input``, for texture and style):
    steps (at each scale), optimizer ("adam" or "lbfgs"), learning_rate
    (Adam; the C field's name, ``lr=`` is a deprecated alias), clamp
    (pixels in [0, 1]), scales and scale_factor (coarse to fine), seed (of
    the white-noise start), tv_weight / tv_beta and alpha_weight / alpha
    (priors), feature_normalization ("relative" or "mean"),
    gram_normalization ("scaled" or "gatys"); progress=True draws a bar on
    stderr (or pass a stream); callback(SynthesisProgress) is called after
    every step and cancels (rwcnn.CancelledError) by returning True.
"""


def invert(images: Any, layer: str, *, weight: float = 1.0, model: Optional[Model] = None,
           arch: Optional[str] = None, seed: int = 0, width: float = 1.0, size: Optional[int] = None,
           steps: Optional[int] = None, optimizer: Optional[str] = None, learning_rate: Optional[float] = None,
           lr: Optional[float] = None, clamp: Optional[bool] = None, scales: Optional[int] = None,
           scale_factor: Optional[float] = None, noise_seed: Optional[int] = None, tv_weight: Optional[float] = None,
           tv_beta: Optional[float] = None, alpha_weight: Optional[float] = None, alpha: Optional[float] = None,
           feature_normalization: Optional[str] = None, normalize_input: Optional[bool] = None,
           progress: Union[bool, IO[str], None] = False,
           callback: Optional[Callable[[SynthesisProgress], Any]] = None) -> SynthesisResult:
    """Reconstructs images from their features at `layer`, from seeded
    noise. `images`: C x H x W / N x C x H x W float in [0, 1] or uint8
    H x W x C; `size` resizes their short side to it and crops the central
    square first (rwcnn.resize_crop)."""
    x, batched = _encoder_input(images)
    x = _resized(x, size)
    if not isinstance(layer, str):
        raise ArgumentError("layer must be a layer name, got %r" % (layer,))
    o = _options("invert", steps, optimizer, _rate(learning_rate, lr), clamp, scales, scale_factor, noise_seed, None,
                 tv_weight, tv_beta, alpha_weight, alpha, feature_normalization, None)
    m, owned = _model_for(model, [layer], _arch("invert", arch), seed, width, _centred("invert", normalize_input))
    try:
        with m._use() as h:
            def call(o: Any, out: Any, result: Any, capacity: int) -> None:
                _lib.lib().rwcnn_invert(h, x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), *x.shape,
                                        layer.encode(), _real(weight, "weight"), ctypes.byref(o), out, capacity,
                                        result)
            return _run("invert", call, x.shape, o, batched, progress, callback)
    finally:
        if owned:
            m.close()


def texture(source: Any, layers: Sequence[str], *, weights: Optional[Sequence[float]] = None,
            out_size: Optional[int] = None, count: Optional[int] = None,
            model: Optional[Model] = None, arch: Optional[str] = None, seed: int = 0, width: float = 1.0,
            size: Optional[int] = None, steps: Optional[int] = None, optimizer: Optional[str] = None,
            learning_rate: Optional[float] = None, lr: Optional[float] = None, clamp: Optional[bool] = None,
            scales: Optional[int] = None, scale_factor: Optional[float] = None, noise_seed: Optional[int] = None,
            tv_weight: Optional[float] = None, tv_beta: Optional[float] = None, alpha_weight: Optional[float] = None,
            alpha: Optional[float] = None, gram_normalization: Optional[str] = None,
            normalize_input: Optional[bool] = None,
            progress: Union[bool, IO[str], None] = False,
            callback: Optional[Callable[[SynthesisProgress], Any]] = None) -> SynthesisResult:
    """Synthesises textures of out_size (a side or (height, width); default:
    the source's size after `size`) whose Gram matrices at `layers` (weighted by
    `weights`, default 1 each) match the source's. `count` textures (default:
    one per source image). Without ``model=``, the model built sees
    ImageNet-normalised (centred) pixels unless ``normalize_input=False``:
    with L-BFGS, the default here, that is what makes the textures look like
    the source (README, "Invert, texture, style")."""
    s, batched = _encoder_input(source)
    s = _resized(s, size)
    names = _layers(layers, "layers")
    w = _weights(weights, len(names), "weights")
    if out_size is None:
        oh, ow = s.shape[2], s.shape[3]
    elif isinstance(out_size, int):
        oh = ow = _size(out_size, "out_size", 1)
    else:
        oh, ow = (_size(v, "out_size", 1) for v in out_size)
    n = _size(count if count is not None else s.shape[0], "count", 1)
    o = _options("texture", steps, optimizer, _rate(learning_rate, lr), clamp, scales, scale_factor, noise_seed, None,
                 tv_weight, tv_beta, alpha_weight, alpha, None, gram_normalization)
    m, owned = _model_for(model, names, _arch("texture", arch), seed, width, _centred("texture", normalize_input))
    try:
        with m._use() as h:
            c_names = (ctypes.c_char_p * max(1, len(names)))(*[x.encode() for x in names])

            def call(o: Any, out: Any, result: Any, capacity: int) -> None:
                _lib.lib().rwcnn_texture(h, s.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), *s.shape, c_names,
                                         w, len(names), n, oh, ow, ctypes.byref(o), out, capacity, result)
            return _run("texture", call, (n, s.shape[1], oh, ow), o, batched or n > 1, progress, callback)
    finally:
        if owned:
            m.close()


def style(content: Any, style_image: Any, *, content_layer: Optional[str] = None,
          style_layers: Optional[Sequence[str]] = None,
          content_weight: Optional[float] = None, style_weights: Optional[Sequence[float]] = None,
          model: Optional[Model] = None, arch: Optional[str] = None, seed: int = 0, width: float = 1.0,
          size: Optional[int] = None, style_size: Optional[int] = None,
          steps: Optional[int] = None, optimizer: Optional[str] = None, learning_rate: Optional[float] = None,
          lr: Optional[float] = None, clamp: Optional[bool] = None, scales: Optional[int] = None,
          scale_factor: Optional[float] = None, noise_seed: Optional[int] = None, start: Optional[str] = None,
          tv_weight: Optional[float] = None, tv_beta: Optional[float] = None, alpha_weight: Optional[float] = None,
          alpha: Optional[float] = None, feature_normalization: Optional[str] = None,
          gram_normalization: Optional[str] = None, normalize_input: Optional[bool] = None, progress: Union[bool, IO[str], None] = False,
          callback: Optional[Callable[[SynthesisProgress], Any]] = None) -> SynthesisResult:
    """The content of `content` at `content_layer` plus the style (Grams) of
    `style_image` at `style_layers`; the result has the content's size (after
    `size`). start="content" starts from the content image. None takes the
    library's default (rwcnn_synthesis_task_defaults): content at conv4_2
    with weight 1, style at conv1_1, conv2_1, conv3_1, conv4_1 and conv5_1,
    arch vgg16-avg; the options as for :func:`texture` (L-BFGS, a model
    with centred input)."""
    d = _task_inputs("style")
    if content_layer is None:
        content_layer = d.content_layer.decode()
    if style_layers is None:
        style_layers = [d.style_layers[i].decode() for i in range(d.style_layer_count)]
    if content_weight is None:
        content_weight = d.content_weight
    c, batched = _encoder_input(content)
    c = _resized(c, size)
    s, _ = _encoder_input(style_image)
    s = _resized(s, style_size)
    if s.shape[1] != c.shape[1]:
        raise ArgumentError("style image has %d channels, the content %d" % (s.shape[1], c.shape[1]))
    if not isinstance(content_layer, str):
        raise ArgumentError("content_layer must be a layer name, got %r" % (content_layer,))
    names = _layers(style_layers, "style_layers")
    w = _weights(style_weights, len(names), "style_weights")
    o = _options("style", steps, optimizer, _rate(learning_rate, lr), clamp, scales, scale_factor, noise_seed, start,
                 tv_weight, tv_beta, alpha_weight, alpha, feature_normalization, gram_normalization)
    m, owned = _model_for(model, [content_layer] + names, _arch("style", arch), seed, width,
                          _centred("style", normalize_input))
    try:
        with m._use() as h:
            c_names = (ctypes.c_char_p * max(1, len(names)))(*[x.encode() for x in names])

            def call(o: Any, out: Any, result: Any, capacity: int) -> None:
                _lib.lib().rwcnn_style(h, c.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), *c.shape,
                                       s.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), s.shape[0], s.shape[2],
                                       s.shape[3], content_layer.encode(), _real(content_weight, "content_weight"),
                                       c_names, w, len(names), ctypes.byref(o), out, capacity, result)
            return _run("style", call, c.shape, o, batched, progress, callback)
    finally:
        if owned:
            m.close()


for _f in (invert, texture, style):
    _f.__doc__ = (_f.__doc__ or "") + _COMMON_DOC
