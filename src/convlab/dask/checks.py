"""What every convlab.dask entry point checks of its dask input before building a graph."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ArgumentTypeError, ShapeError

__all__ = ["dask_input", "spatial_chunks"]


def dask_input(x: object, op: str) -> Any:
    """``x`` if it is a dask array of known shape; a NumPy array is refused with the line that wraps it."""
    import dask.array as da

    if not isinstance(x, da.Array):
        shown = f"a NumPy array of shape {x.shape}" if isinstance(x, np.ndarray) else f"a {type(x).__name__}"
        raise ArgumentTypeError(
            f"{op}: input must be a dask array (N, C, H, W), got {shown}",
            fix="wrap it first: input = dask.array.from_array(input, chunks=(1, -1, 2048, 2048))",
        )
    if any(math.isnan(n) for n in x.shape):
        raise ShapeError(
            f"{op}: input has unknown chunk sizes, shape {x.shape}",
            evidence=["the tiles are planned from the chunk sizes before anything is computed"],
            fix="compute them first: input = input.compute_chunk_sizes()",
        )
    return x


def spatial_chunks(x: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The chunk sizes of the last two axes, (H chunks, W chunks)."""
    return tuple(int(n) for n in x.chunks[-2]), tuple(int(n) for n in x.chunks[-1])
