"""Large memory copies on all cores.

NumPy copies an array on one core, while BLAS uses them all: the copies that
gather windows or tiles would otherwise take as long as the matrix products.
NumPy releases the GIL while copying, so a few threads, each copying a slice,
run in parallel.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from ..._args import Array

__all__ = ["copy", "run"]

PARTS = 4  # more slices than cores balances uneven slices
SMALL_BYTES = 1 << 20  # below this a thread hand-off costs more than it saves
_POOL: list[ThreadPoolExecutor] = []
T = TypeVar("T")


def _pool() -> ThreadPoolExecutor:
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="convlab"))
    return _POOL[0]


def run(work: Callable[[T], object], items: Iterable[T]) -> None:
    """Call ``work`` on every item on the thread pool, and wait (errors surface here)."""
    for _ in _pool().map(work, items):
        pass


def copy(destination: Array, source: Array, axis: int = 0) -> None:
    """``np.copyto(destination, source)``, in slices along ``axis`` on all cores when it is large."""
    length = destination.shape[axis]
    if destination.nbytes < SMALL_BYTES or length < 2:
        np.copyto(destination, source)
        return
    bounds = np.linspace(0, length, min(PARTS, length) + 1).astype(int)
    index = [slice(None)] * destination.ndim

    def part(bound: tuple[int, int]) -> None:
        index_here = list(index)
        index_here[axis] = slice(*bound)
        np.copyto(destination[tuple(index_here)], source[tuple(index_here)])

    run(part, zip(bounds[:-1].tolist(), bounds[1:].tolist()))
