"""Matrix products and large copies on all cores, from one pool of threads.

NumPy copies an array on one core, and BLAS, left to itself, starts and joins
its own threads for every product: dozens of small products per convolution
(Winograd runs 36) then spend their time waking threads, and on a busy machine
far longer. So convlab keeps BLAS at one thread per caller and splits each batch
of products by columns over its own :func:`convlab.get_num_threads` workers, one
hand-off per batch. NumPy releases the GIL in both copies and BLAS, so the
workers run in parallel. The pool is made afresh after a fork (the parent's
worker threads do not exist in a child).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from ..._args import Array
from . import threads

__all__ = ["copy", "matmul", "run"]

# Below these sizes threads.worth_splitting says no at any thread count: one thread does the whole job
SMALL_BYTES = int(2 * threads.POOL_HAND_OFF_SECONDS * threads.BYTES_COPIED_PER_SECOND)
SMALL_PRODUCT = int(2 * threads.POOL_HAND_OFF_SECONDS * threads.MULTIPLY_ADDS_PER_SECOND)  # multiply-adds
MIN_COLUMNS = 32  # narrower slices would run BLAS below its speed
_POOL: dict[int, ThreadPoolExecutor] = {}  # thread count -> the pool with that many workers
T = TypeVar("T")


def _pool() -> ThreadPoolExecutor:
    count = threads.get_num_threads()
    if count not in _POOL:
        for old in _POOL.values():
            old.shutdown(wait=False)
        _POOL.clear()
        _POOL[count] = ThreadPoolExecutor(max_workers=count, thread_name_prefix="convlab")
    return _POOL[count]


def run(work: Callable[[T], object], items: Iterable[T]) -> None:
    """Call ``work`` on every item on the thread pool, and wait (errors surface here).

    NumPy's floating-point error settings (``np.errstate``) belong to each thread: the workers take the
    caller's, so a caller that silenced "invalid value" warnings does not get them from a worker.
    """
    if threads.get_num_threads() == 1:
        for item in items:
            work(item)
        return
    caller = np.geterr()

    def as_caller(item: T) -> object:
        with np.errstate(**caller):
            return work(item)

    items = list(items)
    if len(items) > threads.get_num_threads():  # more items than threads: the workers share them out
        for _ in _pool().map(as_caller, items):
            pass
        return
    # one item per thread: the calling thread takes the first itself rather than wait idle for a worker
    others = [_pool().submit(as_caller, item) for item in items[1:]]
    try:
        if items:
            work(items[0])
    finally:
        for other in others:
            other.result()


def matmul(a: Array, b: Array, out: Array) -> Array:
    """``np.matmul(a, b, out=out)``, split by columns of ``b`` and ``out`` over the pool when large.

    Shape:
        a (..., m, k), b (..., k, n), out (..., m, n)
    """
    multiply_adds = out.size * a.shape[-1]
    if multiply_adds < SMALL_PRODUCT:  # too small to matter: BLAS as it is, no threadpoolctl import
        return np.matmul(a, b, out=out)
    if not threads.worth_splitting(
        multiply_adds / threads.MULTIPLY_ADDS_PER_SECOND, threads.POOL_HAND_OFF_SECONDS
    ):
        threads.apply_to_blas()
        return np.matmul(a, b, out=out)
    threads.apply_to_blas()
    columns = out.shape[-1]
    parts = min(threads.get_num_threads(), columns // MIN_COLUMNS)
    if parts >= 2:
        bounds = np.linspace(0, columns, parts + 1).astype(int).tolist()

        def columns_part(bound: tuple[int, int]) -> None:
            np.matmul(a, b[..., bound[0] : bound[1]], out=out[..., bound[0] : bound[1]])

        run(columns_part, itertools.pairwise(bounds))
        return out
    # Too few columns to split (Winograd's 36 products on a small image): split the stack of products instead
    stacked = out.shape[0] if out.ndim > 2 and a.ndim == out.ndim and b.ndim == out.ndim else 1
    parts = min(threads.get_num_threads(), stacked)
    if parts < 2:
        return np.matmul(a, b, out=out)
    bounds = np.linspace(0, stacked, parts + 1).astype(int).tolist()

    def stack_part(bound: tuple[int, int]) -> None:
        np.matmul(a[bound[0] : bound[1]], b[bound[0] : bound[1]], out=out[bound[0] : bound[1]])

    run(stack_part, itertools.pairwise(bounds))
    return out


def copy(destination: Array, source: Array, axis: int = 0) -> None:
    """``np.copyto(destination, source)``, in slices along ``axis`` on all cores when it is large."""
    length = destination.shape[axis]
    parts = min(2 * threads.get_num_threads(), length)  # twice the threads balances uneven slices
    seconds = destination.nbytes / threads.BYTES_COPIED_PER_SECOND
    if parts < 2 or not threads.worth_splitting(seconds, threads.POOL_HAND_OFF_SECONDS):
        np.copyto(destination, source)
        return
    bounds = np.linspace(0, length, parts + 1).astype(int)
    index = [slice(None)] * destination.ndim

    def part(bound: tuple[int, int]) -> None:
        index_here = list(index)
        index_here[axis] = slice(*bound)
        np.copyto(destination[tuple(index_here)], source[tuple(index_here)])

    run(part, zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def _forget_pool_in_child() -> None:
    """The parent's workers are gone in a forked child; the next call makes a new pool."""
    _POOL.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)
