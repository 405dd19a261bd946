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
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Tuple

from . import _lib
from .errors import ArgumentError

__all__ = ["Trace"]


class Trace:
    """What :meth:`Model.encode` returns with ``trace=True`` beside the
    features, and :meth:`Model.decode` accepts as ``trace=``."""

    _handle: Optional[int] = None

    def __init__(self, handle: Optional[int], batched: bool) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._closing = False
        self._handle = handle
        self.batched = batched

    @contextmanager
    def _use(self) -> Iterator[int]:
        with self._lock:
            if self._handle is None or self._closing:
                raise ArgumentError("the trace is closed")
            self._users += 1
            h = self._handle
        try:
            yield h
        finally:
            with self._lock:
                self._users -= 1
                if self._closing and self._users == 0:
                    self._free()

    def _free(self) -> None:
        h, self._handle = self._handle, None
        if h:
            _lib.lib().rwcnn_trace_free(h)

    def close(self) -> None:
        """Frees the handle (idempotent; a decode still running keeps it until it returns)."""
        with self._lock:
            if self._handle is None or self._closing:
                return
            self._closing = True
            if self._users == 0:
                self._free()

    @property
    def closed(self) -> bool:
        return self._handle is None or self._closing

    def __enter__(self) -> "Trace":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            h, self._handle = self._handle, None
            if h and _lib is not None and _lib._lib is not None:
                _lib._lib.rwcnn_trace_free(h)
        except Exception:
            pass

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
