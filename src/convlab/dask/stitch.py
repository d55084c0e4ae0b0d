"""One output array from tiles: each tile reads its input region (chunk plus halo) and computes its output block.

The graph is dask's own: a slice of the input per tile, merged into one block
(``rechunk``), a ``map_blocks`` that computes the tile, and ``da.block`` that puts
the tiles together. Any dask scheduler runs it (threads, processes, distributed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .checks import spatial_chunks
from .tiles import Reach, Tile, merge_small_chunks, plan_axis

__all__ = ["plan", "stitch"]

TileFunction = Callable[..., Any]
"""``function(block, row_tile, col_tile)`` -> the tile's output (n, channels, rows, cols) as a NumPy array."""


def plan(x: Any, reaches: tuple[Reach, Reach], output_size: tuple[int, int]) -> tuple[Any, list[Tile], list[Tile]]:
    """The tiles along H and W, and ``x`` with chunks smaller than the halo or the jump merged into a neighbour."""
    chunks = spatial_chunks(x)
    merged = tuple(
        merge_small_chunks(chunks[axis], max(reaches[axis].halo, reaches[axis].jump)) for axis in range(2)
    )
    if merged != chunks:
        x = x.rechunk({2: merged[0], 3: merged[1]})
    rows, cols = (plan_axis(merged[axis], output_size[axis], reaches[axis]) for axis in range(2))
    return x, rows, cols


def stitch(
    x: Any,
    rows: list[Tile],
    cols: list[Tile],
    function: TileFunction,
    channels: int,
    dtype: np.dtype[Any],
    offset: tuple[int, int] = (0, 0),
) -> Any:
    """Every tile's output, stitched into one dask array (N, channels, sum of rows, sum of cols).

    Args:
        x: the input (N, C, H, W), chunked along N as the output will be; C is read whole.
        rows, cols: the tiles along H and W; each reads ``x[..., read[0] + offset : read[1] + offset]``.
        function: computes one tile from its block (n, C, rows read, cols read).
        channels: the output's channel count.
        offset: added to every read (the padding before, when ``x`` was padded at its edges).
    """
    import dask.array as da

    x = x.rechunk({1: -1})
    grid = []
    for row in rows:
        line = []
        for col in cols:
            region = x[
                :,
                :,
                row.read[0] + offset[0] : row.read[1] + offset[0],
                col.read[0] + offset[1] : col.read[1] + offset[1],
            ].rechunk({2: -1, 3: -1})
            chunks = (region.chunks[0], (channels,), (row.length,), (col.length,))
            line.append(
                region.map_blocks(
                    function, row, col, chunks=chunks, dtype=dtype, meta=np.empty((0, 0, 0, 0), dtype)
                )
            )
        grid.append(line)
    return da.block(grid)
