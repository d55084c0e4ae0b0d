"""Padding a dask array at its edges only, lazily: the interior chunks are not touched or copied.

Each padded strip is a small array of its own, concatenated before and after the
image along each axis: zeros, or the cells :func:`convlab.functional.padding.source_index`
says each padded cell copies (reflect and replicate read the nearest chunk,
circular the chunk at the far side).
"""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np

from .._args import Pad2d
from ..functional.padding import source_index

__all__ = ["pad_edges"]


def _strip(x: Any, axis: int, index: np.ndarray[Any, Any], mode: str) -> Any:
    """The cells of one padded strip along ``axis``: ``len(index)`` cells wide."""
    if mode == "zeros":
        chunks = tuple((len(index),) if k == axis else x.chunks[k] for k in range(x.ndim))
        return da.zeros(tuple(sum(c) for c in chunks), dtype=x.dtype, chunks=chunks)
    where: list[Any] = [slice(None)] * x.ndim
    where[axis] = index
    return x[tuple(where)]


def pad_edges(x: Any, padding: Pad2d, mode: str) -> Any:
    """``x`` (..., H, W) padded by ((top, bottom), (left, right)) in ``mode``, as a lazy dask array.

    The padding must already be checked (:func:`convlab.functional.geometry.check_padding_fits`).

    Shape:
        (..., H, W) -> (..., H + top + bottom, W + left + right)
    """
    for axis, (before, after) in zip((x.ndim - 2, x.ndim - 1), padding):
        if before == after == 0:
            continue
        index = source_index(x.shape[axis], before, after, "replicate" if mode == "zeros" else mode)
        pieces = [x]
        if before:
            pieces.insert(0, _strip(x, axis, index[:before], mode))
        if after:
            pieces.append(_strip(x, axis, index[len(index) - after :], mode))
        x = da.concatenate(pieces, axis=axis)
    return x
