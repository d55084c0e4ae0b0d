"""The halo of a tiled network run, drawn: one tile's chunk, the input it reads, and the fields that set it.

The arithmetic is :mod:`convlab.dask.tiles` (no dask needed to draw it): the network's
receptive field (size, jump, start) says which input cells each output unit sees; a
tile makes the output units centred in its chunk and reads their fields, clipped to
the image, from a multiple of the jump.

Example:
    >>> plan = halo_plan("conv3x3(8,p1) relu maxpool2 conv3x3(8,p1)", (1, 1, 96, 96), chunk=32)
    >>> plan.reach[0], plan.rows[1].out, plan.rows[1].read
    (Reach(jump=2, first=-3, last=4), (16, 32), (28, 67))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .._files import atomic_path
from . import style

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..dask.tiles import Reach, Tile
    from ..network.summary import LayerRecord

__all__ = ["HaloPlan", "halo_figure", "halo_plan"]


@dataclass(frozen=True)
class HaloPlan:
    """The tiles of an input cut in ``chunk`` x ``chunk`` chunks, for the network's last local layer."""

    model: str
    size: tuple[int, int]
    chunk: int
    record: LayerRecord
    reach: tuple[Reach, Reach]
    rows: tuple[Tile, ...]
    cols: tuple[Tile, ...]


def halo_plan(model: object, input_shape: tuple[int, int, int, int], chunk: int) -> HaloPlan:
    """What each tile makes and reads, for ``model`` on an input of ``input_shape`` cut in square chunks."""
    from ..dask.tiles import aligned_crop, field_reach, plan_axis
    from ..network.receptive_field import receptive_field

    field = receptive_field(model, input_shape)
    record = field.final
    assert record.rf is not None
    reach = field_reach(record.rf, record.jump, record.start)
    size = (input_shape[2], input_shape[3])
    tiles = []
    for axis in range(2):
        chunks = tuple(min(chunk, size[axis] - start) for start in range(0, size[axis], chunk))
        planned = plan_axis(chunks, record.output_shape[2 + axis], reach[axis])
        tiles.append(tuple(aligned_crop(tile, reach[axis], size[axis]) for tile in planned))
    return HaloPlan(field.model, size, chunk, record, reach, tiles[0], tiles[1])


def _rectangle(axes: Axes, rows: tuple[float, float], cols: tuple[float, float], **style_: object) -> None:
    from matplotlib.patches import Rectangle

    axes.add_patch(Rectangle((cols[0], rows[0]), cols[1] - cols[0], rows[1] - rows[0], **style_))  # type: ignore[arg-type]


def _chunk(plan: HaloPlan, tile: Tile, axis: int) -> tuple[int, int]:
    """The chunk a tile belongs to: the one that holds the centre of its first unit's field."""
    index = plan.reach[axis].centre(tile.out[0]) // plan.chunk
    return (index * plan.chunk, min(plan.size[axis], (index + 1) * plan.chunk))


def _draw(axes: Axes, plan: HaloPlan, tile: tuple[int, int]) -> None:
    colours = style.OKABE_ITO
    height, width = plan.size
    _rectangle(axes, (0, height), (0, width), facecolor="#F2F2F2", edgecolor=style.INK, linewidth=1.2)
    for line in range(plan.chunk, max(plan.size), plan.chunk):
        if line < height:
            axes.axhline(line, color=style.MUTED, linewidth=0.8, linestyle=":")
        if line < width:
            axes.axvline(line, color=style.MUTED, linewidth=0.8, linestyle=":")
    row, col = plan.rows[tile[0]], plan.cols[tile[1]]
    chunk_rows, chunk_cols = _chunk(plan, row, 0), _chunk(plan, col, 1)
    _rectangle(
        axes,
        row.read,
        col.read,
        facecolor=colours["orange"],
        alpha=0.35,
        hatch="//",
        edgecolor=style.WINDOW_EDGE,
        linewidth=2,
        label="what the tile reads: its chunk plus the halo",
    )
    _rectangle(
        axes,
        chunk_rows,
        chunk_cols,
        facecolor=colours["sky"],
        alpha=0.8,
        edgecolor=colours["blue"],
        linewidth=2,
        label="the tile's chunk",
    )
    reach = plan.reach
    centres = [
        (
            unit * reach[0].jump + (reach[0].first + reach[0].last) / 2,
            other * reach[1].jump + (reach[1].first + reach[1].last) / 2,
        )
        for unit in range(*row.out)
        for other in range(*col.out)
    ]
    axes.scatter(
        [c[1] for c in centres],
        [c[0] for c in centres],
        s=6,
        color=colours["blue"],
        label=f"centres of its {row.length} x {col.length} output units' fields",
    )
    corner = (row.out[0], col.out[0])
    field_rows = (corner[0] * reach[0].jump + reach[0].first, corner[0] * reach[0].jump + reach[0].last + 1)
    field_cols = (corner[1] * reach[1].jump + reach[1].first, corner[1] * reach[1].jump + reach[1].last + 1)
    _rectangle(
        axes,
        field_rows,
        field_cols,
        fill=False,
        edgecolor=style.INK,
        linestyle="--",
        linewidth=1.6,
        label="the receptive field of its first unit",
    )
    axes.set_xlim(-2, width + 2)
    axes.set_ylim(height + 2, -2)
    axes.set_aspect("equal")
    axes.set_xlabel("column")
    axes.set_ylabel("row")
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)


def halo_figure(
    model: object, input_shape: tuple[int, int, int, int], chunk: int, out: str | Path | None = None
) -> Figure:
    """One tile of ``model`` on ``input_shape`` in ``chunk`` x ``chunk`` chunks: its chunk, halo and a field.

    Args:
        out: also write the figure to this PNG.
    """
    from matplotlib import rc_context

    from .shown_figure import ShownFigure as Figure

    plan = halo_plan(model, input_shape, chunk)
    record, reach = plan.record, plan.reach
    tile = ((len(plan.rows) - 1) // 2, (len(plan.cols) - 1) // 2)
    with rc_context(style.mpl_font_sizes()):
        figure = Figure(figsize=(12, 6.6), dpi=100, layout="constrained")
        axes = figure.subplots()
        _draw(axes, plan, tile)
        row = plan.rows[tile[0]]
        bounds = _chunk(plan, row, 0)
        before, after = bounds[0] - row.read[0], row.read[1] - bounds[1]
        name = model if isinstance(model, str) else plan.model
        figure.suptitle(
            f"{name}\nreceptive field {record.rf[0]:g}, jump {reach[0].jump}, start {record.start[0]:g} "  # type: ignore[index]
            f"-> halo {before} rows before the chunk, {after} after",
            fontsize=13,
            fontweight="bold",
        )
    if out is not None:
        with atomic_path(out) as temporary:
            figure.savefig(temporary)
    return figure
