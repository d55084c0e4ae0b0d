"""How one spatial axis is cut into tiles: which output units each tile makes and which input cells it reads.

Everything here is integer arithmetic on one axis, with no dask in it. A layer (or a whole
network) is described by its reach: output unit ``i`` reads the input cells
``i * jump + first`` to ``i * jump + last``, both included. For a convolution on an
input padded by ``pad`` before, ``first = -pad`` and ``last = span - 1 - pad``; for a
network they come from its receptive field (size, jump and start).

Output unit ``i`` belongs to the tile of the input chunk that holds the centre of its
reach, so output chunks follow input chunks: an input chunk of ``n`` cells makes about
``n / jump`` output units.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

__all__ = ["Reach", "Tile", "aligned_crop", "field_reach", "merge_small_chunks", "plan_axis"]


@dataclass(frozen=True)
class Reach:
    """Output unit ``i`` reads input cells ``i * jump + first`` .. ``i * jump + last`` (inclusive)."""

    jump: int
    first: int
    last: int

    @property
    def halo(self) -> int:
        """The input cells a tile reads beyond its own chunk, both sides together, at most."""
        return self.last - self.first

    def centre(self, unit: int) -> int:
        return unit * self.jump + (self.first + self.last) // 2

    def reads(self, units: tuple[int, int]) -> tuple[int, int]:
        """The input cells [start, stop) that output units [first, stop) read together."""
        return (units[0] * self.jump + self.first, (units[1] - 1) * self.jump + self.last + 1)


@dataclass(frozen=True)
class Tile:
    """One tile along one axis: output units [out[0], out[1]) made from input cells [read[0], read[1])."""

    out: tuple[int, int]
    read: tuple[int, int]

    @property
    def length(self) -> int:
        return self.out[1] - self.out[0]


def merge_small_chunks(chunks: tuple[int, ...], minimum: int) -> tuple[int, ...]:
    """Chunk sizes with every chunk smaller than ``minimum`` merged into its neighbour.

    A chunk smaller than the halo would make a tile that reads more halo than chunk,
    and a chunk smaller than the jump may hold no output unit at all.

    Example:
        >>> merge_small_chunks((5, 1, 1, 5, 2), minimum=3)
        (5, 9)
    """
    merged: list[int] = []
    pending = 0
    for size in chunks:
        pending += size
        if pending >= minimum:
            merged.append(pending)
            pending = 0
    if pending:
        if merged:
            merged[-1] += pending
        else:
            merged.append(pending)
    return tuple(merged)


def plan_axis(chunks: tuple[int, ...], outputs: int, reach: Reach) -> list[Tile]:
    """The tiles of one axis: one per input chunk that holds the centre of at least one output unit.

    Args:
        chunks: the input's chunk sizes along the axis.
        outputs: how many output units the whole axis has.
        reach: what each output unit reads.

    Example:
        >>> [(t.out, t.read) for t in plan_axis((4, 4), 4, Reach(jump=2, first=-1, last=1))]  # 3x3, s2, p1
        [((0, 2), (-1, 4)), ((2, 4), (3, 8))]
    """
    offsets = [0]
    for size in chunks[:-1]:
        offsets.append(offsets[-1] + size)
    centre0 = reach.centre(0)
    # the first unit whose centre lies at or after each chunk's start (the first chunk takes everything before)
    starts = [0] + [min(outputs, max(0, math.ceil((offset - centre0) / reach.jump))) for offset in offsets[1:]]
    bounds = [*starts, outputs]
    tiles = []
    for begin, end in itertools.pairwise(bounds):
        if end > begin:
            tiles.append(Tile((begin, end), reach.reads((begin, end))))
    return tiles


def field_reach(
    size: tuple[float, float], jump: tuple[float, float], start: tuple[float, float]
) -> tuple[Reach, Reach]:
    """Each axis's reach from a receptive field: unit ``i``'s field is centred on ``start + i * jump``.

    Example:
        >>> field_reach((12.0, 12.0), (4.0, 4.0), (5.5, 5.5))[0]  # conv3x3 conv3x3 maxpool2 conv3x3 maxpool2
        Reach(jump=4, first=0, last=11)
    """
    reaches = []
    for axis in range(2):
        half = (size[axis] - 1) / 2
        reaches.append(Reach(round(jump[axis]), round(start[axis] - half), round(start[axis] + half)))
    return reaches[0], reaches[1]


def aligned_crop(tile: Tile, reach: Reach, length: int) -> Tile:
    """The tile's read clipped to the image (``length`` cells), its start moved back to a multiple of the jump.

    A network run on a crop that starts at a multiple of its jump makes the whole image's
    output units ``start / jump`` onwards: every layer's windows fall where they fall on the
    whole image.
    """
    start = max(0, tile.read[0]) // reach.jump * reach.jump
    return Tile(tile.out, (start, min(length, tile.read[1])))
