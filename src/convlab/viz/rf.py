"""Receptive-field growth through a stack or a preset, over a real image.

Two or three panels:

* the receptive field of the unit nearest the image centre, per layer, as
  nested squares over the image (from :func:`convlab.network.receptive_field.receptive_field`:
  size, jump and start place each square exactly); in a network with shortcuts
  these are the layers of the path through the larger branch at each merge;
* the field's size per layer as a line chart, with the image size for scale;
* where some layer's stride skips part of its input: the first such layer, its
  input grid with the skipped rows/columns hatched
  (:func:`convlab.network.shapes.uncovered`), and whether another branch reads
  them after all (a strided 1x1 shortcut skips pixels its block's own conv reads).
  With no such layer the panel is left out.

Example:
    >>> growth = rf_growth("conv3x3(8,s2) conv3x3(8,s2)", "1x28x28")
    >>> [(layer.name, layer.rf) for layer in growth.layers]
    [('1.conv', (3.0, 3.0)), ('2.conv', (7.0, 7.0))]
    >>> growth.dropped.layer, growth.dropped.rows
    ('1.conv', (27,))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .._files import atomic_path
from . import style

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .._args import Array
    from ..network.receptive_field import ReceptiveField
    from ..network.summary import LayerRecord

__all__ = ["Dropped", "Growth", "rf_figure", "rf_growth"]

MAX_SQUARES = 8


@dataclass(frozen=True)
class Square:
    """One layer's field drawn on the input: the unit nearest the centre, and the box it sees."""

    name: str
    rf: tuple[float, float]
    unit: tuple[int, int]
    centre: tuple[float, float]  # (row, col) in input pixels


@dataclass(frozen=True)
class Dropped:
    """Rows and columns of a layer's input that none of its windows read."""

    layer: str
    description: str
    input_size: tuple[int, int]
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    # the other layers reading the same input: those that read every pixel this one skips, then the rest
    read_by: tuple[str, ...] = ()
    also_reading: tuple[str, ...] = ()

    @property
    def unread(self) -> bool:
        """Whether the skipped pixels are read by nothing else, so they cannot change the output."""
        return not self.read_by and not self.also_reading


@dataclass(frozen=True)
class Growth:
    model: str
    input_shape: tuple[int, int, int, int]
    layers: tuple[LayerRecord, ...]  # the layers that grow the field, in order (the path through the network)
    squares: tuple[Square, ...]  # the ones drawn on the image (at most MAX_SQUARES)
    dropped: Dropped | None  # the first layer that never reads some of its input; None if none
    field: ReceptiveField
    shortcuts: bool = False  # some layer adds or joins branches: the field follows the larger one


def rf_growth(model: object = "resnet18", input_shape: object = None) -> Growth:
    """The data the figure draws: the growing layers, the squares, and the first dropped rows/columns."""
    from ..network.as_graph import as_graph
    from ..network.receptive_field import receptive_field

    field = receptive_field(model, input_shape)
    by_name = {record.name: record for record in field.layers}
    layers = tuple(by_name[name] for name in field.path if by_name[name].rf is not None)
    if not layers:
        layers = (field.final,)
    _, _, H, W = field.input_shape
    chosen = _spread(len(layers), MAX_SQUARES)
    squares = []
    for index in chosen:
        record = layers[index]
        assert record.rf is not None
        out_h, out_w = record.output_shape[2], record.output_shape[3]
        middle = ((H - 1) / 2, (W - 1) / 2)
        nearest = [round((middle[a] - record.start[a]) / record.jump[a]) for a in range(2)]
        units = (min(max(nearest[0], 0), out_h - 1), min(max(nearest[1], 0), out_w - 1))
        centre = (record.start[0] + units[0] * record.jump[0], record.start[1] + units[1] * record.jump[1])
        squares.append(Square(record.name, record.rf, units, centre))
    graph, _ = as_graph(model)
    shortcuts = any(len(node.inputs) > 1 for node in graph.nodes)
    dropped = _first_dropped(graph, field)
    return Growth(field.model, field.input_shape, layers, tuple(squares), dropped, field, shortcuts)


def _spread(count: int, most: int) -> list[int]:
    if count <= most:
        return list(range(count))
    return sorted({round(k * (count - 1) / (most - 1)) for k in range(most)})


def _first_dropped(graph: object, field: ReceptiveField) -> Dropped | None:
    """The first layer whose skipped pixels nothing else reads, before one whose pixels another branch reads;
    among those, one that leaves the last rows/columns out (a stride that does not divide) before one that
    skips any (a stride larger than its window)."""
    found = _dropping(graph, field)

    def rank(d: Dropped) -> tuple[bool, bool]:
        ends = any(rows and rows[-1] == size - 1 for rows, size in zip((d.rows, d.cols), d.input_size))
        return (not d.unread, not ends)

    return min(found, key=rank) if found else None  # min keeps the first of equals: the earliest layer


def _dropping(graph: object, field: ReceptiveField) -> list[Dropped]:
    shapes = {"input": field.input_shape, **{record.name: record.output_shape for record in field.layers}}
    descriptions = {record.name: record.description for record in field.layers}
    readers: dict[str, list[object]] = {}
    for node in graph.nodes:  # type: ignore[attr-defined]
        for source in node.inputs:
            readers.setdefault(source, []).append(node)

    def skipped(node: object, size: tuple[int, int]) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """The rows and columns a windowed layer never reads; None for a layer that is not one."""
        missed = node.op.unread(size)  # type: ignore[attr-defined]
        return None if missed is None else (missed.rows, missed.cols)

    found: list[Dropped] = []
    for node in graph.nodes:  # type: ignore[attr-defined]
        shape = shapes.get(node.inputs[0])
        if shape is None or len(shape) != 4:
            continue
        size = (shape[2], shape[3])
        missed = skipped(node, size)
        if missed is None or not (missed[0] or missed[1]):
            continue
        others = [other for other in readers[node.inputs[0]] if other is not node]
        # a layer that is not windowed (an addition, an activation) reads every pixel of its input
        complete = [o.name for o in others if skipped(o, size) in (None, ((), ()))]  # type: ignore[attr-defined]
        partial = [o.name for o in others if o.name not in complete]  # type: ignore[attr-defined]
        record = Dropped(node.name, descriptions[node.name], size, *missed, tuple(complete), tuple(partial))
        found.append(record)
    return found


def _picture(image: str | Array, channels: int, size: tuple[int, int]) -> Array:
    """The image resized to the model's input, colour for 3-channel models, grey otherwise; floats 0..1."""
    import numpy as np
    from PIL import Image

    from ..data import read_image

    array = read_image(image) if isinstance(image, str) else np.asarray(image)
    if array.dtype != np.uint8:
        array = np.clip(np.asarray(array, dtype=np.float64) * (255 if array.max(initial=0) <= 1 else 1), 0, 255)
        array = array.astype(np.uint8)
    picture = Image.fromarray(array).convert("RGB" if channels == 3 else "L")
    resized = picture.resize((size[1], size[0]), Image.Resampling.LANCZOS)
    values: Array = np.asarray(resized, dtype=np.float32) / np.float32(255)
    return values


def rf_figure(
    model: object = "resnet18",
    input_shape: object = None,
    *,
    image: str | Array = "astronaut",
    out: str | Path | None = None,
) -> Figure:
    """Receptive-field growth of ``model`` (a preset, a layer string, a convlab or torch model) on an image.

    Args:
        model, input_shape: as in :func:`convlab.network.receptive_field.receptive_field`.
        image: a bundled image name, a PNG/JPEG path, or an array; resized to the model's input.
        out: also write the figure to this PNG.
    """
    from matplotlib import rc_context

    from .shown_figure import ShownFigure as Figure

    growth = rf_growth(model, input_shape)
    _, C, H, W = growth.input_shape
    picture = _picture(image, C, (H, W))
    with rc_context(style.mpl_font_sizes()):
        if growth.dropped is None:  # no layer skips pixels: no third panel to leave empty
            figure = Figure(figsize=(13.5, 6.2), dpi=100, layout="constrained")
            squares_axes, chart_axes = figure.subplots(1, 2, width_ratios=[1.15, 1.5])
        else:
            figure = Figure(figsize=(17, 6.2), dpi=100, layout="constrained")
            squares_axes, chart_axes, dropped_axes = figure.subplots(1, 3, width_ratios=[1.15, 1.5, 1])
            _draw_dropped(dropped_axes, growth.dropped)
        colours = _colours(len(growth.squares))
        _draw_squares(squares_axes, growth, picture, colours)
        _draw_chart(chart_axes, growth, colours)
        figure.suptitle(_caption(growth), fontsize=13, fontweight="bold")
    if out is not None:
        with atomic_path(out) as temporary:
            figure.savefig(temporary)
    return figure


def _caption(growth: Growth) -> str:
    """The figure's title: with shortcuts, the field is the larger branch's at each merge, not every layer's."""
    _, C, H, W = growth.input_shape
    head = f"Receptive field of {growth.model} on a {C}x{H}x{W} input"
    if growth.shortcuts:
        return (
            f"{head}: how far one unit sees, along the path through the larger branch at each merge\n"
            "(a shortcut branch sees less: its units' fields are the smaller ones that are added in)"
        )
    return f"{head}: each layer with a window or a stride sees more of the image"


def _colours(count: int) -> list[tuple[float, float, float, float]]:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]  # dark to light: ordered in greyscale too, and safe for colour deficiencies
    return [cmap(0.05 + 0.85 * k / max(count - 1, 1)) for k in range(count)]


def _draw_squares(axes: Axes, growth: Growth, picture: Array, colours: Sequence[tuple[float, ...]]) -> None:
    from matplotlib.patches import Rectangle

    _, C, H, W = growth.input_shape
    axes.imshow(picture, cmap=None if C == 3 else "gray", vmin=0, vmax=1, extent=(-0.5, W - 0.5, H - 0.5, -0.5))
    styles = ["-", "--", "-.", ":"]
    largest = 0.0
    for index, (square, colour) in enumerate(zip(growth.squares, colours)):
        h, w = square.rf
        largest = max(largest, h, w)
        top, left = square.centre[0] - (h - 1) / 2 - 0.5, square.centre[1] - (w - 1) / 2 - 0.5
        beyond = " (past the image)" if h > H or w > W else ""
        axes.add_patch(
            Rectangle(
                (left, top),
                w,
                h,
                fill=False,
                edgecolor=colour,
                linewidth=2.2,
                linestyle=styles[index % len(styles)],
                label=f"{square.name}: {_size(square.rf)}{beyond}",
            )
        )
    reach = max(largest, H, W) * 0.5 + 6  # the largest field stays in view, even past the image
    centre_r, centre_c = (H - 1) / 2, (W - 1) / 2
    axes.set_xlim(centre_c - reach, centre_c + reach)
    axes.set_ylim(centre_r + reach, centre_r - reach)
    axes.set_facecolor("#EDEDED")
    axes.legend(loc="upper left", bbox_to_anchor=(0, -0.02), ncols=2, frameon=False, fontsize=8.5)
    axes.set_title("what one unit near the centre sees, layer by layer")
    axes.set_xticks([])
    axes.set_yticks([])


def _size(rf: tuple[float, float]) -> str:
    h, w = (int(v) if float(v).is_integer() else v for v in rf)
    return f"{h}x{w}"


def _draw_chart(axes: Axes, growth: Growth, colours: Sequence[tuple[float, ...]]) -> None:
    H = growth.input_shape[2]
    names = [layer.name for layer in growth.layers]
    sizes = [layer.rf[0] if layer.rf else 0.0 for layer in growth.layers]
    jumps = [layer.jump[0] for layer in growth.layers]
    positions = list(range(len(names)))
    axes.plot(positions, sizes, color=style.OKABE_ITO["blue"], marker="o", linewidth=2, label="receptive field")
    drawn = {square.name: colour for square, colour in zip(growth.squares, colours)}
    for position, name, size in zip(positions, names, sizes):
        if name in drawn:
            axes.plot([position], [size], marker="s", markersize=10, color=drawn[name], zorder=3)
    axes.axhline(H, color=style.MUTED, linestyle="--", linewidth=1)
    axes.text(0, H, f" image height {H}", va="bottom", ha="left", color=style.MUTED, fontsize=9)
    last = growth.layers[-1]
    axes.annotate(
        f"{_size(last.rf or (0.0, 0.0))}",
        (positions[-1], sizes[-1]),
        textcoords="offset points",
        xytext=(-8, 6),
        ha="right",
        fontweight="bold",
    )
    axes.set_xticks(positions, names, rotation=60, ha="right", fontsize=8)
    axes.set_ylabel("receptive field (input pixels, one side)")
    path = "on the larger branch's path " if growth.shortcuts else ""
    axes.set_title(f"receptive field size per layer (layers {path}that grow it)")
    axes.grid(True, alpha=0.3)
    twin = axes.twinx()
    twin.step(positions, jumps, where="mid", color=style.OKABE_ITO["orange"], linewidth=1.5, linestyle="--")
    twin.set_ylim(0, max(jumps) * 1.15)  # from 0, so a constant jump is a flat line, not a zoomed-in one
    twin.set_ylabel("jump: input pixels between neighbouring units", color=style.WINDOW_EDGE)
    twin.tick_params(axis="y", colors=style.WINDOW_EDGE)
    axes.plot([], [], color=style.OKABE_ITO["orange"], linestyle="--", label="jump (right axis)")
    axes.legend(loc="best", frameon=True, framealpha=0.9)


def _draw_dropped(axes: Axes, dropped: Dropped) -> None:
    import numpy as np
    from matplotlib.patches import Rectangle

    H, W = dropped.input_size
    read_colour = style.CELL_STYLES["input"].fill
    grid = np.ones((H, W, 3))
    grid[:, :] = _rgb(read_colour)
    drop_style = style.CELL_STYLES["dropped"]
    for r in dropped.rows:
        grid[r, :] = _rgb(drop_style.fill)
    for c in dropped.cols:
        grid[:, c] = _rgb(drop_style.fill)
    axes.imshow(grid, extent=(-0.5, W - 0.5, H - 0.5, -0.5), interpolation="nearest")
    hatched = max(H, W) <= 40  # on a fine grid the hatch turns to noise: the darker grey carries it alone
    for r in dropped.rows if hatched else ():
        axes.add_patch(Rectangle((-0.5, r - 0.5), W, 1, fill=False, hatch=drop_style.mpl_hatch, linewidth=0))
    for c in dropped.cols if hatched else ():
        axes.add_patch(Rectangle((c - 0.5, -0.5), 1, H, fill=False, hatch=drop_style.mpl_hatch, linewidth=0))
    if max(H, W) <= 40:  # cell lines while they can be seen
        axes.set_xticks(np.arange(-0.5, W, 1), minor=True)
        axes.set_yticks(np.arange(-0.5, H, 1), minor=True)
        axes.grid(which="minor", color="white", linewidth=0.6)
        axes.tick_params(which="minor", length=0)
    axes.set_xticks([0, W - 1])
    axes.set_yticks([0, H - 1])
    axes.set_title(
        f"{dropped.layer} ({dropped.description})\nskips these rows/columns of its {H}x{W} input", fontsize=10
    )
    axes.set_xlabel(
        f"dark grey{', crossed' if hatched else ''}: skipped rows {_list(dropped.rows)}\n"
        f"and cols {_list(dropped.cols)}; light blue: read\n{_consequence(dropped)}",
        fontsize=9,
    )


def _consequence(dropped: Dropped) -> str:
    """What skipping means for the network: nothing else reads them, or another branch does."""
    if dropped.read_by:
        return f"but {_names(dropped.read_by)}, on another branch,\nreads every one: they still reach the output"
    if dropped.also_reading:
        return f"{_names(dropped.also_reading)} on another branch reads some of them"
    return "no other layer reads them: they cannot change\nthe output and get zero gradient"


def _names(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _list(values: tuple[int, ...]) -> str:
    if not values:
        return "none"
    if len(values) > 6:
        return f"{', '.join(map(str, values[:4]))}, ... {values[-1]} ({len(values)} in all)"
    return ", ".join(map(str, values))


def _rgb(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(colour)
