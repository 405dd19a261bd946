"""Training data that is not a folder: arrays of images and iterables (or a
callable) of batches, fed to rwcnn_train's `images` / `batch_fn` fields.

An array is NCHW float32 in [0, 1] or NHWC uint8, the layout rule of every
image argument (a list of images may mix sizes, as a folder's files do); the library copies it
at the start of the call and samples it as it samples a folder's files.

An iterable yields one batch per step (batch x 3 x crop x crop, either
layout); a (images, labels) pair, as a torch DataLoader gives, takes its
first element, and anything numpy can convert (a CPU torch tensor) is
converted. When it runs out it is iterated again if it can be (a
DataLoader, a list), otherwise training stops with an ArgumentError. A
callable is called with the 0-based step index and returns that step's
batch (so a resumed run can ask for exactly the batch it needs).

An iterable cannot be asked for step k's batch: a resumed run reads it from
its start again (a generator, a fresh DataLoader iterator), so the steps
after the checkpoint train on its first batches, not on the ones the
interrupted run would have seen. Training goes on, and says so: a
RuntimeWarning and a line in TrainResult.warnings. Pass a callable for an
exact resume.
"""

import ctypes
import os
import warnings
from typing import Any, Callable, Iterator, List, Optional, Tuple

import numpy as np

from . import _lib
from ._arrays import FloatArray
from .errors import ArgumentError

__all__ = ["is_folder", "is_array", "BatchFeed"]


def is_folder(x: Any) -> bool:
    return isinstance(x, (str, bytes, os.PathLike))


def is_array(x: Any) -> bool:
    """Arrays and array-likes (numpy, torch tensors, lists of images) are
    image sets; any other iterable is a source of batches."""
    return isinstance(x, (np.ndarray, list, tuple)) or hasattr(x, "__array__")


def _unpair(item: Any) -> Any:
    if isinstance(item, (tuple, list)) and len(item) == 2 and not isinstance(item[0], (int, float)):
        return item[0]
    return item


class BatchFeed:
    """Adapts an iterable or a callable of batches to rwcnn_batch_fn. The
    batches pass through `convert` (the encoder input checks: layout, finite
    values, [0, 1])."""

    def __init__(self, source: Any, convert: Callable[[Any], FloatArray]) -> None:
        self.convert = convert
        self.call: Optional[Callable[[int], Any]] = None
        self.source = source
        self.it: Optional[Iterator[Any]] = None
        self.reiterable = False
        self.given = 0
        self.pending: Optional[FloatArray] = None
        self.error: Optional[BaseException] = None
        self.interrupted = False
        self.asked = False
        self.notes: List[str] = []   # warnings for TrainResult.warnings
        if callable(source) and not hasattr(source, "__iter__"):
            self.call = source
        else:
            try:
                self.it = iter(source)
            except TypeError:
                raise ArgumentError("data must be a folder, an array of images, an iterable of "
                                    "batches or a callable step -> batch; got %s"
                                    % type(source).__name__) from None
            self.reiterable = self.it is not source

    def _next_item(self) -> Any:
        assert self.it is not None
        try:
            return next(self.it)
        except StopIteration:
            if not self.reiterable or self.given == 0:
                raise ArgumentError(
                    "the iterable of batches ended after %d batch(es); give one batch per step "
                    "(steps), or a re-iterable such as a DataLoader or a list" % self.given) from None
            self.it = iter(self.source)
            try:
                return next(self.it)
            except StopIteration:
                raise ArgumentError("the iterable of batches is empty on its second pass") from None

    def batch(self, step: int) -> FloatArray:
        if self.pending is not None:
            out, self.pending = self.pending, None
            return out
        item = self.call(step) if self.call is not None else self._next_item()
        x = self.convert(_unpair(item))
        self.given += 1
        return x

    def peek_shape(self) -> Tuple[int, ...]:
        """The first batch's shape (kept for the first step), to default the
        batch size and crop. Only for iterables."""
        if self.pending is None:
            self.pending = self.batch(0)
            self.given = 1
        return tuple(self.pending.shape)

    def c_callback(self) -> Any:
        def fill(p: Any, user: Any) -> int:
            # Everything inside the try: an exception escaping a ctypes
            # callback would be printed and ignored.
            try:
                b = p.contents
                if not self.asked and self.call is None and b.step > 0:
                    note = ("resumed at step %d from an iterable, which cannot be rewound to that step: "
                            "its batches are read from its start, so step %d trains on its first batch, "
                            "not the one the interrupted run would have seen; pass a callable step -> "
                            "batch for an exact resume" % (b.step, b.step + 1))
                    self.notes.append(note)
                    warnings.warn(note, RuntimeWarning, stacklevel=2)
                self.asked = True
                x = self.batch(int(b.step))
                want = (b.batch, b.channels, b.height, b.width)
                if x.shape != want:
                    raise ArgumentError(
                        "batch for step %d has shape %s after conversion; every batch must be %s "
                        "(batch x 3 x crop x crop; a DataLoader: drop_last=True)"
                        % (b.step + 1, x.shape, want))
                ctypes.memmove(b.images, x.ctypes.data, x.nbytes)
                return _lib.RWCNN_OK
            except KeyboardInterrupt:
                self.interrupted = True
                return _lib.RWCNN_ERR_CANCELLED
            except BaseException as e:  # noqa: B902 - re-raised after the call
                self.error = e
                return _lib.RWCNN_ERR_CANCELLED
        return _lib.BatchFn(fill)
