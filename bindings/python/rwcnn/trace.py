"""rwcnn.Trace: the encoder's trace of one encode (layer input sizes and
pool switches), for decoding later with ``unpool="switches"``.

    features, trace = model.encode(images, trace=True)
    ...                                   # edit, store or batch the features
    out = model.decode(features, trace=trace)

A trace holds a library handle (rwcnn_trace), freed by :meth:`Trace.close`,
``with`` or garbage collection. It does not refer to the model: any model of
the same architecture and cut decodes with it. Traces are not picklable.
"""

import ctypes
from typing import Any, Optional, Tuple

from . import _lib
from ._handle import LibraryHandle

__all__ = ["Trace"]


class Trace(LibraryHandle):
    """What :meth:`Model.encode` returns with ``trace=True`` beside the
    features, and :meth:`Model.decode` accepts as ``trace=``."""

    _what = "trace"
    _free_function = "rwcnn_trace_free"

    def __init__(self, handle: Optional[int], batched: bool) -> None:
        self._setup(handle)
        self.batched = batched

    def __reduce__(self) -> Any:
        raise TypeError("an rwcnn.Trace cannot be pickled; decode in the process that encoded, or "
                        "use unpool='nearest' or 'zeros', which decode from the features alone")

    def shapes(self) -> Tuple[Tuple[int, int, int, int], Tuple[int, int, int, int]]:
        """((N, C, H, W) of the encoded images, (N, C, h, w) of their features)."""
        with self._use() as h:
            a, b = (ctypes.c_size_t * 4)(), (ctypes.c_size_t * 4)()
            _lib.lib().rwcnn_trace_shapes(h, a, b)
            return (a[0], a[1], a[2], a[3]), (b[0], b[1], b[2], b[3])

    @property
    def image_shape(self) -> Tuple[int, int, int, int]:
        return self.shapes()[0]

    @property
    def feature_shape(self) -> Tuple[int, int, int, int]:
        return self.shapes()[1]

    def __repr__(self) -> str:
        if self.closed:
            return "<rwcnn.Trace (closed)>"
        return "<rwcnn.Trace of images %s, features %s>" % self.shapes()
