"""Which cells of a strided, shifted row lie on the array: arithmetic that compiled kernels share.

A kernel that reads (or writes) cells ``j * stride + offset`` of a row of ``length``
cells skips those that fall in the padding instead of testing each one; these
helpers say where that range starts and stops. They are kernels themselves, so
each caller's machine code has them inlined (Numba's disk cache follows the
caller's own file: after editing this one, touch the callers' files).

Example (``.python`` is the plain function, run without compiling):
    >>> inside_columns.python(-3, 2, 10, 8)  # cells -3, -1, 1, 3, ..., 11: j = 2 .. 6 lie on the row
    (2, 7)
"""

from __future__ import annotations

from .compiled import kernel

__all__ = ["inside_columns"]


@kernel(parallel=False)
def inside_columns(offset: int, stride: int, length: int, outputs: int) -> tuple[int, int]:
    """The columns j < ``outputs`` whose cell ``j * stride + offset`` lies in [0, length): (start, stop)."""
    start = 0 if offset >= 0 else (stride - 1 - offset) // stride
    stop = min(outputs, (length - 1 - offset) // stride + 1)  # <= 0 when the offset is past the row
    return start, stop
