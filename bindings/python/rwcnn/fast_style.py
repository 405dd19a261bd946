"""Fast style transfer with a random CNN-DeCNN (rwcnn_train_fast_style).

Pass a :class:`FastStyle` as ``style=`` to :meth:`rwcnn.Model.train`: the
decoder then learns, on the same data, checkpoints, progress and Ctrl-C
handling as plain training, to turn a photo's features into the photo in the
style image's Gram statistics; afterwards ``model.reconstruct(photo)``
stylises in one pass::

    import rwcnn

    gravel = rwcnn.load_image("data/images/gravel.png")
    model = rwcnn.Model(arch="vgg16-avg", cut="pool2", decoder="trained", normalize_input=True)
    r = model.train("data/images", steps=300, crop=64, batch=4,
                    style=rwcnn.FastStyle(gravel, content_layer="conv2_2",
                                          style_layers=["conv1_1", "pool1", "pool2"]))
    out = model.reconstruct(rwcnn.load_image("data/images/astronaut.png"))

The loss and its normalisations are rwcnn.h's (rwcnn_fast_style_options).
Create the model with ``normalize_input=True``: on uncentred pixels the
random encoder's Grams are dominated by the mean colour and the decoder
learns the style's colour but not its grain (docs/ENGINE.md, "Fast style").
"""

import ctypes
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence

from . import _lib
from .errors import ArgumentError

__all__ = ["FastStyle"]


@dataclass
class FastStyle:
    """The style image (float32 C x H x W in [0, 1], or uint8 H x W x C),
    the content layer, the style layers and the loss weights (None: the
    library's defaults, rwcnn_fast_style_options_init)."""
    image: Any
    content_layer: str
    style_layers: Sequence[str]
    content_weight: Optional[float] = None
    style_weights: Optional[Sequence[float]] = None
    tv_weight: Optional[float] = None
    tv_beta: Optional[float] = None
    feature_normalization: Optional[str] = None
    gram_normalization: Optional[str] = None
    output_layer_scale: Optional[float] = None

    def _c_options(self, keep: List[Any], capacity: int) -> Any:
        """A filled rwcnn_fast_style_options with room for `capacity` losses;
        `keep` holds what it points to."""
        from .model import _choice, _real, _training_images
        from .synthesis import _table
        o = _lib.FastStyleOptions()
        _lib.lib().rwcnn_fast_style_options_init_sized(ctypes.byref(o), ctypes.sizeof(o))
        x = _training_images(self.image, "style image")
        if x.shape[0] != 1:
            raise ArgumentError("style image: give one image, got %d" % x.shape[0])
        keep.append(x)
        o.style = _lib.float_ptr(x)
        o.style_height, o.style_width = x.shape[2], x.shape[3]
        if not isinstance(self.content_layer, str):
            raise ArgumentError("content_layer must be a layer name, got %r" % (self.content_layer,))
        layer = self.content_layer.encode()
        keep.append(layer)
        o.content_layer = layer
        if isinstance(self.style_layers, str):
            names = [self.style_layers]
        else:
            names = list(self.style_layers)
        if not all(isinstance(n, str) for n in names):
            raise ArgumentError("style_layers must be layer names, got %r" % (self.style_layers,))
        c_names = (ctypes.c_char_p * max(1, len(names)))(*[n.encode() for n in names])
        keep.append(c_names)
        o.style_layers = c_names
        o.style_layer_count = len(names)
        if self.style_weights is not None:
            w = list(self.style_weights)
            if len(w) != len(names):
                raise ArgumentError("%d style_weights for %d style_layers; give one per layer"
                                    % (len(w), len(names)))
            c_w = (ctypes.c_double * max(1, len(w)))(*[_real(v, "style_weights") for v in w])
            keep.append(c_w)
            o.style_weights = c_w
        if self.content_weight is not None:
            o.content_weight = _real(self.content_weight, "content_weight")
        if self.tv_weight is not None:
            o.tv_weight = _real(self.tv_weight, "tv_weight")
        if self.tv_beta is not None:
            o.tv_beta = _real(self.tv_beta, "tv_beta")
        if self.feature_normalization is not None:
            o.feature_normalization = _choice(_table("FEATURE_NORMALIZATIONS"), self.feature_normalization,
                                              "feature_normalization")
        if self.gram_normalization is not None:
            o.gram_normalization = _choice(_table("GRAM_NORMALIZATIONS"), self.gram_normalization,
                                           "gram_normalization")
        if self.output_layer_scale is not None:
            o.output_layer_scale = _real(self.output_layer_scale, "output_layer_scale")
        losses = (ctypes.c_double * max(1, capacity))()
        keep.append(losses)
        o.losses = losses
        o.losses_capacity = capacity
        return o
