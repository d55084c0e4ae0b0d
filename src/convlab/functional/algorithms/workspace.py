"""Scratch arrays kept between calls, so a convolution does not allocate (and fault in) megabytes each time.

An algorithm borrows a workspace of a given shape and dtype, uses it, and gives
it back; the next call of the same shape gets the same memory, already mapped.
Only the result array is new per call. Idle workspaces are kept up to a limit
(64 MB by default, :func:`set_workspace_limit`); beyond it a returned array is
simply dropped. Two threads never share a workspace: one that is lent out is
not in the cache, so a second borrower gets a new array.

Example:
    >>> with borrow((2, 3), np.float32) as scratch:
    ...     scratch.shape
    (2, 3)
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from ..._args import Array
from ...errors import ArgumentError

__all__ = ["borrow", "cached_bytes", "chunks", "get_workspace_limit", "set_workspace_limit"]

DEFAULT_LIMIT_BYTES = 64 * 2**20
"""Idle workspace memory kept for the next call, by default."""

Key = tuple[tuple[int, ...], str]


def chunks(batch: int, bytes_per_image: int, budget: int) -> list[slice]:
    """Whole images at a time, as many as fit ``budget`` bytes of scratch memory (at least one).

    Example:
        >>> chunks(5, bytes_per_image=100, budget=250)
        [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    step = max(1, budget // max(1, bytes_per_image))
    return [slice(start, min(start + step, batch)) for start in range(0, batch, step)]


class _Cache:
    """Idle arrays by (shape, dtype), oldest first, with their total size."""

    def __init__(self) -> None:
        self.idle: OrderedDict[Key, list[Array]] = OrderedDict()
        self.bytes = 0
        self.limit = DEFAULT_LIMIT_BYTES
        self.lock = threading.Lock()

    def take(self, key: Key) -> Array | None:
        with self.lock:
            arrays = self.idle.get(key)
            if not arrays:
                return None
            array = arrays.pop()
            if not arrays:
                del self.idle[key]
            self.bytes -= array.nbytes
            return array

    def give_back(self, key: Key, array: Array) -> None:
        with self.lock:
            if array.nbytes > self.limit:
                return
            self.idle.setdefault(key, []).append(array)
            self.idle.move_to_end(key)
            self.bytes += array.nbytes
            self._trim()

    def _trim(self) -> None:
        """Drop the least recently returned arrays until the idle total fits the limit."""
        while self.bytes > self.limit and self.idle:
            key, arrays = next(iter(self.idle.items()))
            self.bytes -= arrays.pop(0).nbytes
            if not arrays:
                del self.idle[key]


_CACHE = _Cache()


@contextmanager
def borrow(shape: tuple[int, ...], dtype: object) -> Iterator[Array]:
    """An uninitialised array of this shape and dtype for the duration of a ``with`` block.

    Its contents are whatever the last borrower left: write before reading.
    """
    key = (tuple(shape), np.dtype(dtype).str)  # type: ignore[call-overload]
    array = _CACHE.take(key)
    if array is None:
        array = np.empty(shape, dtype=dtype)
    try:
        yield array
    finally:
        _CACHE.give_back(key, array)


def set_workspace_limit(limit_bytes: object) -> None:
    """Keep at most ``limit_bytes`` of idle scratch memory between calls (0 keeps none; default 64 MB).

    Raises:
        ArgumentError: the limit is not a whole number of bytes >= 0.
    """
    if isinstance(limit_bytes, bool) or not isinstance(limit_bytes, int) or limit_bytes < 0:
        raise ArgumentError(
            f"set_workspace_limit: limit_bytes must be an int >= 0, got {limit_bytes!r}",
            fix=f"pass a size in bytes, e.g. {DEFAULT_LIMIT_BYTES} (64 MB, the default) or 0 to keep none",
        )
    with _CACHE.lock:
        _CACHE.limit = limit_bytes
        _CACHE._trim()


def get_workspace_limit() -> int:
    """The idle scratch memory kept between calls, in bytes."""
    return _CACHE.limit


def cached_bytes() -> int:
    """The idle scratch memory held right now, in bytes (never above the limit)."""
    return _CACHE.bytes


def _fresh_lock_in_child() -> None:
    """A lock held by another thread at fork would stay held in the child."""
    _CACHE.lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_lock_in_child)
