"""Matrix products and whole-array passes (copies, zeroing, padding, comparing, NaN checks) on all cores, from
one pool of threads.

NumPy copies an array on one core, so every such pass left on the calling thread
is a part of the call that no thread count shortens. BLAS, left to itself, starts and joins
its own threads for every product: dozens of small products per convolution
(Winograd runs 36) then spend their time waking threads, and on a busy machine
far longer. So convlab keeps BLAS at one thread per caller and splits each batch
of products into blocks (columns, then the stack of products, then rows) over
its own :func:`convlab.get_num_threads` workers, one hand-off per batch. NumPy
releases the GIL in both copies and BLAS, so the workers run in parallel. The
pool is made afresh after a fork (the parent's worker threads do not exist in a
child).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from ..._args import Array
from . import threads

__all__ = ["copy", "equal", "finite", "matmul", "run", "slices", "zero_padded", "zeros"]

# Below these sizes threads.worth_splitting says no at any thread count: one thread does the whole job
SMALL_BYTES = int(2 * threads.POOL_HAND_OFF_SECONDS * threads.BYTES_COPIED_PER_SECOND)
SMALL_PRODUCT = int(2 * threads.POOL_HAND_OFF_SECONDS * threads.MULTIPLY_ADDS_PER_SECOND)  # multiply-adds
MIN_COLUMNS = 32  # narrower slices would run BLAS below its speed
MIN_ROWS = 16  # likewise for slices of rows, which each read all of b
EQUAL_BLOCK = 1 << 18  # values compared at a time by :func:`equal` before it looks whether to stop
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
    items = list(items)
    if threads.get_num_threads() == 1 or len(items) < 2:  # nothing to hand out: no pool, no settings to pass on
        for item in items:
            work(item)
        return
    caller = np.geterr()

    def as_caller(item: T) -> object:
        with np.errstate(**caller):
            return work(item)

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
    """``np.matmul(a, b, out=out)``, split into blocks of ``out`` over the pool when large.

    The columns are split first (each block then reads a slice of ``b`` and all of ``a``); where they are too
    few to give every thread a slice, the stack of products and then the rows take up the threads left (the
    weight gradient's 36 (out x in) sums for 64 channels have 2 slices of columns: 16 threads need 8 more).

    Shape:
        a (..., m, k), b (..., k, n), out (..., m, n); a or b may lack the leading stack axes (broadcast)
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
    blocks = _blocks(out.shape, _stackable(a, b, out), threads.get_num_threads())
    if len(blocks) < 2:
        return np.matmul(a, b, out=out)

    def block(where: tuple[slice, slice, slice]) -> None:
        stack, rows, columns = where
        np.matmul(
            _stack_part(a, stack, out.ndim)[..., rows, :],
            _stack_part(b, stack, out.ndim)[..., columns],
            out=out[stack][..., rows, columns],
        )

    run(block, blocks)
    return out


def _stackable(a: Array, b: Array, out: Array) -> bool:
    """Whether slices of out's first axis can be computed apart: a 3-d or deeper product whose operands
    each have that axis in full or broadcast it."""
    if out.ndim < 3:
        return False
    return all(x.ndim < out.ndim or x.shape[0] in (1, out.shape[0]) for x in (a, b))


def _stack_part(x: Array, stack: slice, ndim: int) -> Array:
    """``x``'s part for the products ``stack`` of out's first axis (all of it where x broadcasts that axis)."""
    return x[stack] if x.ndim == ndim and x.shape[0] > 1 else x


def slices(length: int, seconds: float) -> list[slice]:
    """``range(length)`` in consecutive slices for :func:`run`: one per thread when ``seconds`` of work on one
    thread is worth handing out (:func:`.threads.worth_splitting`), else a single slice."""
    if not threads.worth_splitting(seconds, threads.POOL_HAND_OFF_SECONDS):
        return [slice(0, length)]
    return _split(length, max(1, min(threads.get_num_threads(), length)))


def _split(length: int, parts: int) -> list[slice]:
    """``parts`` consecutive slices of ``range(length)``, as equal as whole numbers allow."""
    bounds = [length * part // parts for part in range(parts + 1)]
    return [slice(start, stop) for start, stop in itertools.pairwise(bounds)]


def _blocks(shape: tuple[int, ...], stackable: bool, count: int) -> list[tuple[slice, slice, slice]]:
    """At most ``count`` blocks of an ``out`` of ``shape``: (first-axis slice, rows, columns) each.

    Example:
        >>> len(_blocks((36, 1, 64, 64), True, 16))  # 2 slices of columns, 8 of the stack
        16
        >>> len(_blocks((36, 1, 64, 784), True, 2))  # the columns alone
        2
    """
    rows, columns = shape[-2], shape[-1]
    column_parts = max(1, min(count, columns // MIN_COLUMNS))
    left = count // column_parts  # threads for each slice of columns: never more blocks than threads
    stack_parts = max(1, min(left, shape[0])) if stackable else 1
    row_parts = max(1, min(left // stack_parts, rows // MIN_ROWS))
    whole = slice(None)
    return [
        (stack, row_slice, column_slice)
        for stack in (_split(shape[0], stack_parts) if stack_parts > 1 else [whole])
        for row_slice in _split(rows, row_parts)
        for column_slice in _split(columns, column_parts)
    ]


def copy(destination: Array, source: Array, axis: int = 0) -> None:
    """``np.copyto(destination, source)``, in slices along ``axis`` on all cores when it is large."""
    length = destination.shape[axis]
    parts = min(2 * threads.get_num_threads(), length)  # twice the threads balances uneven slices
    seconds = destination.nbytes / threads.BYTES_COPIED_PER_SECOND
    if parts < 2 or not threads.worth_splitting(seconds, threads.POOL_HAND_OFF_SECONDS):
        np.copyto(destination, source)
        return
    before = (slice(None),) * axis

    def part(cells: slice) -> None:
        index = (*before, cells)
        np.copyto(destination[index], source[index])

    run(part, _split(length, parts))


def zeros(shape: tuple[int, ...], dtype: np.dtype[Any] | type) -> Array:
    """``np.zeros(shape, dtype)``, written on all cores when large: memory that NumPy reuses from an earlier
    array must be cleared cell by cell, which on one core is a serial part of the call.

    Example:
        >>> zeros((2, 3), np.float32).sum()
        np.float32(0.0)
    """
    out = np.empty(shape, dtype=dtype)
    flat = out.reshape(-1)
    run(lambda cells: flat[cells].fill(0), slices(flat.size, out.nbytes / threads.BYTES_COPIED_PER_SECOND))
    return out


def zero_padded(x: Array, padding: tuple[tuple[int, int], tuple[int, int]]) -> Array:
    """``x`` inside a frame of zeros ((top, bottom), (left, right)) around its last two axes, as a new array:
    runs of planes each zero their frame and copy their cells, on all cores when large.

    Example:
        >>> zero_padded(np.ones((1, 1, 1, 2)), ((1, 0), (0, 1)))[0, 0]
        array([[0., 0., 0.],
               [1., 1., 0.]])

    Shape:
        (..., H, W) -> (..., top + H + bottom, left + W + right)
    """
    (top, bottom), (left, right) = padding
    H, W = x.shape[-2:]
    shape = (*x.shape[:-2], top + H + bottom, left + W + right)
    if math.prod(shape) * x.itemsize < SMALL_BYTES:  # a Lab-sized image: one core, the fewest NumPy calls
        small = np.zeros(shape, dtype=x.dtype)
        small[..., top : top + H, left : left + W] = x
        return small
    out = np.empty(shape, dtype=x.dtype)
    planes, cells = out.reshape(-1, *out.shape[-2:]), x.reshape(-1, H, W)  # a view for the usual contiguous x

    def part(run_of_planes: slice) -> None:
        block = planes[run_of_planes]
        block[:, :top] = 0
        block[:, top + H :] = 0
        block[:, top : top + H, :left] = 0
        block[:, top : top + H, left + W :] = 0
        block[:, top : top + H, left : left + W] = cells[run_of_planes]

    run(part, slices(len(planes), out.nbytes / threads.BYTES_COPIED_PER_SECOND))
    return out


def equal(a: Array, b: Array) -> bool:
    """``np.array_equal(a, b)`` for two contiguous arrays of one shape, on all cores when large, stopping at
    the first block of values that differs (a weight an optimizer has just changed is told apart at once).

    Example:
        >>> equal(np.zeros(5), np.zeros(5)), equal(np.zeros(5), np.ones(5))
        (True, False)
    """
    if a.shape != b.shape or not (a.flags.c_contiguous and b.flags.c_contiguous):
        return bool(np.array_equal(a, b))
    flat_a, flat_b = a.reshape(-1), b.reshape(-1)
    differs = False

    def compare(part: slice) -> None:
        nonlocal differs
        for start in range(part.start, part.stop, EQUAL_BLOCK):
            if differs:  # another part found a difference: the answer is known
                return
            block = slice(start, min(start + EQUAL_BLOCK, part.stop))
            if not np.array_equal(flat_a[block], flat_b[block]):
                differs = True
                return

    run(compare, slices(flat_a.size, (a.nbytes + b.nbytes) / threads.BYTES_COPIED_PER_SECOND))
    return not differs


def finite(a: Array) -> bool:
    """Whether every value of ``a`` is finite, by one sum per block of values, on all cores when large.

    A NaN or Inf among the terms makes the sum NaN or Inf. A sum that overflows says no too: a caller that
    picks a faster algorithm only for finite values then takes its exact one, never a wrong answer.

    Example:
        >>> finite(np.ones(5)), finite(np.array([1.0, np.nan]))
        (True, False)
    """
    parts = slices(a.size, a.nbytes / threads.BYTES_COPIED_PER_SECOND)  # a sum reads as fast as a copy
    with np.errstate(over="ignore", invalid="ignore"):  # the workers take the caller's settings
        if len(parts) == 1 or not a.flags.c_contiguous:
            return math.isfinite(float(np.sum(a)))
        flat = a.reshape(-1)
        sums = [0.0] * len(parts)

        def add(part: int, cells: slice) -> None:
            sums[part] = float(np.sum(flat[cells]))

        run(lambda job: add(*job), enumerate(parts))
    return all(math.isfinite(total) for total in sums)


def _forget_pool_in_child() -> None:
    """The parent's workers are gone in a forked child; the next call makes a new pool."""
    _POOL.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)
