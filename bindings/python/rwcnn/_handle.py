"""The lifetime of a library handle (rwcnn_model, rwcnn_trace), shared by
Model and Trace: concurrent calls borrow it through ``_use()``, ``close()``
frees it once the last of them has returned, ``with`` and garbage
collection free it too."""

import threading
from contextlib import contextmanager
from typing import Any, Iterator, Optional, TypeVar

from . import _lib
from .errors import ArgumentError

_H = TypeVar("_H", bound="LibraryHandle")


class LibraryHandle:
    _handle: Optional[int] = None
    #: what the handle is, for "the model is closed"
    _what = "handle"
    #: the rwcnn_*_free function of the handle's type
    _free_function = ""

    def _setup(self, handle: Optional[int]) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._closing = False
        self._handle = handle

    @contextmanager
    def _use(self) -> Iterator[int]:
        with self._lock:
            if self._handle is None or self._closing:
                raise ArgumentError("the %s is closed" % self._what)
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
            getattr(_lib.lib(), self._free_function)(h)

    def close(self) -> None:
        """Frees the library handle (idempotent). A call still running on
        another thread keeps the handle until it returns."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            if self._handle is None or self._closing:
                return
            self._closing = True
            if self._users == 0:
                self._free()

    @property
    def closed(self) -> bool:
        return self._handle is None or self._closing

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            h, self._handle = self._handle, None
            if h and _lib is not None and _lib._lib is not None:
                getattr(_lib._lib, self._free_function)(h)
        except Exception:
            pass
