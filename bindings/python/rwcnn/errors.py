"""Exceptions raised by rwcnn.

Every failure of the C library arrives as an ``rwcnn_status``; the binding
raises the matching subclass of :class:`Error`, whose message is the
library's ``rwcnn_last_error()`` text and whose ``status`` is the code:

==============================  ============================  ======================
status                          exception                     also an instance of
==============================  ============================  ======================
RWCNN_ERR_ARGUMENT (1)          :class:`ArgumentError`        ``ValueError``
RWCNN_ERR_IO (2)                :class:`FileError`            ``OSError``
RWCNN_ERR_FORMAT (3)            :class:`FormatError`          ``ValueError``
RWCNN_ERR_OUT_OF_MEMORY (4)     :class:`OutOfMemoryError`     ``MemoryError``
RWCNN_ERR_CANCELLED (5)         :class:`CancelledError`
RWCNN_ERR_INTERNAL (6)          :class:`InternalError`
RWCNN_ERR_BUFFER_TOO_SMALL (7)  :class:`BufferTooSmallError`  :class:`ArgumentError`
==============================  ============================  ======================

``STATUS_NAMES`` ({code: name}) is read from the library's
``rwcnn_status_name()`` on first use, where the one table lives; nothing here
types the names again.

Arguments the binding rejects itself (wrong dtype, wrong number of
dimensions, unknown option names) raise :class:`ArgumentError` too.
"""

from typing import Any, Dict, Optional, Tuple

from . import _lib

__all__ = ["Error", "ArgumentError", "FileError", "FormatError", "OutOfMemoryError",
           "CancelledError", "InternalError", "BufferTooSmallError", "error_for_status", "STATUS_NAMES"]


def __getattr__(name: str) -> Dict[int, str]:
    if name == "STATUS_NAMES":
        return dict(_lib.status_table())
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


class Error(Exception):
    """Base class of every rwcnn error.

    Attributes:
        status: the rwcnn_status code (int).
        message: the library's message (rwcnn_last_error()) or the binding's.
    """

    status = None

    def __init__(self, message: str = "", status: Optional[int] = None) -> None:
        if status is not None:
            self.status = status
        self.message = message
        super().__init__(message)

    @property
    def status_name(self) -> str:
        if self.status is None:
            return "RWCNN_UNKNOWN_STATUS"
        try:
            return _lib.status_table().get(self.status, "RWCNN_UNKNOWN_STATUS")
        except (ImportError, OSError):  # no library to ask
            return "RWCNN_UNKNOWN_STATUS"

    def __str__(self) -> str:
        return self.message or self.status_name

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        return (type(self), (self.message, self.status))


class ArgumentError(Error, ValueError):
    """RWCNN_ERR_ARGUMENT: an invalid argument (bad size or shape, unknown
    name, buffer too small)."""
    status = 1


class FileError(Error, OSError):
    """RWCNN_ERR_IO: a file could not be opened, read, written or renamed."""
    status = 2

    def __init__(self, message: str = "", status: Optional[int] = None) -> None:
        Error.__init__(self, message, status)

    def __str__(self) -> str:
        return Error.__str__(self)


class FormatError(Error, ValueError):
    """RWCNN_ERR_FORMAT: a file or buffer is corrupt, truncated or has the
    wrong metadata, tensor names or shapes."""
    status = 3


class OutOfMemoryError(Error, MemoryError):
    """RWCNN_ERR_OUT_OF_MEMORY: a size beyond what can be allocated or
    beyond a limit (such as the PNG pixel limit)."""
    status = 4


class CancelledError(Error):
    """RWCNN_ERR_CANCELLED: a progress callback asked to stop."""
    status = 5


class InternalError(Error):
    """RWCNN_ERR_INTERNAL: a bug in rwcnn; please report it with the message."""
    status = 6


class BufferTooSmallError(ArgumentError):
    """RWCNN_ERR_BUFFER_TOO_SMALL: a caller's buffer is smaller than the
    result (the message names the size needed). An ArgumentError too; the
    package sizes its own buffers, so only raw calls meet it."""
    status = 7


_BY_STATUS = {cls.status: cls for cls in
              (ArgumentError, FileError, FormatError, OutOfMemoryError, CancelledError,
               InternalError, BufferTooSmallError)}


def error_for_status(status: int, message: str = "") -> "Error":
    """The exception instance for a non-zero rwcnn_status (Error itself for
    codes this binding does not know)."""
    cls = _BY_STATUS.get(status, Error)
    return cls(message, status)
