"""The kernel sliding over the input, one frame per output value: an animated GIF and a PNG strip.

The frames are made from :func:`convlab.lesson.explain.explain_all` traces, so the
window drawn, the products written under it and the value written into the
output cell are the engine's own. A transposed convolution is drawn the way it
is computed as a plain convolution (the conv_arithmetic view): the stride
inserts ``stride - 1`` zeros between input cells, the result is padded by
``dilation*(kernel-1) - padding`` on every side (plus ``output_padding`` at the
bottom and right), and the flipped kernel slides over it with stride 1. That is
the same sum as each input value stamping ``value * kernel`` into the output;
every drawn value is checked against :func:`convlab.functional.conv_transpose2d`.

Frames are drawn with PIL, the static parts once and the few changing cells per
frame, so a 30-frame GIF takes a fraction of a second.

Example:
    >>> lab1 = window([[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]], [[1, 0], [0, -1]])
    >>> len(lab1.frames), lab1.frames[3].position, lab1.frames[3].text
    (9, (1, 0), '4')
    >>> lab1.frames[3].equation[0]
    'out[1, 0] = 5*1 + 3*0 + 2*0 + 1*(-1) = 4'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import atomic_path
from ..lesson.explain_text import number
from . import style
from .cells import Grid, cell_value, draw_cell, legend, measure_legend, new_canvas, text, text_width, wrap

if TYPE_CHECKING:
    from PIL import Image

    from .._args import Array, Pad2d, Pair
    from ..functional.geometry import ConvSettings, TransposeGeometry

__all__ = ["MAX_EQUATION_TERMS", "Frame", "WindowAnimation", "window"]

MAX_EQUATION_TERMS = 16  # kernels with more cells get "sum of N products" instead of every product
MARGIN, GAP = 16, 36


@dataclass(frozen=True)
class Frame:
    """One output value: where the window was, what was written, and why."""

    position: tuple[int, int]  # (i, j) in the output
    cells: tuple[tuple[int, int], ...]  # the drawn grid's cells under the kernel, row by row
    value: float  # the engine's output value
    text: str  # what is written into the output cell
    where: str  # which rows and columns the window read
    equation: tuple[str, ...]  # the lines written under the picture


@dataclass(frozen=True)
class WindowAnimation:
    """The picture's data and its frames. ``grid`` is what is drawn as the input: the padded input, or for a
    transposed convolution the zero-inserted and padded input; ``kinds`` names every grid cell
    ("input", "padding", "zero", "output_padding"); ``input_cells`` maps input (a, b) to its grid cell."""

    operation: str  # "conv2d" or "conv_transpose2d"
    title: str
    notes: tuple[str, ...]
    grid: Array
    kinds: tuple[tuple[str, ...], ...]
    input_cells: dict[tuple[int, int], tuple[int, int]]
    kernel: Array  # as it slides: flipped for a transposed convolution
    output: Array  # the engine's output
    frames: tuple[Frame, ...]
    images: tuple[Image.Image, ...] = field(repr=False)
    layout: dict[str, tuple[int, int, int]] = field(repr=False)  # panel -> (x, y, cell size) in pixels

    def box(self, panel: str, r: int, c: int) -> tuple[int, int, int, int]:
        """The pixel box of cell (r, c) of a panel ("input", "kernel" or "output") in every frame."""
        x, y, cell = self.layout[panel]
        return (x + c * cell, y + r * cell, x + (c + 1) * cell, y + (r + 1) * cell)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of every frame in pixels."""
        width, height = self.images[0].size
        return (width, height)

    def gif_bytes(self, frame_ms: int = 700, last_ms: int = 2000) -> bytes:
        """The animated GIF (looping; the last frame, the whole output, stays longer) as bytes."""
        import io

        from PIL import Image

        palette = _palette()  # every style colour exactly, no dithering: flat cells stay flat and true
        frames = [image.quantize(palette=palette, dither=Image.Dither.NONE) for image in self.images]
        durations = [frame_ms] * (len(frames) - 1) + [last_ms]
        buffer = io.BytesIO()
        frames[0].save(
            buffer,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=durations,
            loop=0,
            optimize=True,
        )
        return buffer.getvalue()

    def save_gif(self, path: str | Path, frame_ms: int = 700, last_ms: int = 2000) -> Path:
        """Write the animated GIF (see :meth:`gif_bytes`)."""
        target = Path(path)
        with atomic_path(target) as temporary:
            Path(temporary).write_bytes(self.gif_bytes(frame_ms, last_ms))
        return target

    def _repr_html_(self) -> str:
        """The animation itself, inline in a notebook."""
        from .._display import html

        return html.block(html.image(self.gif_bytes(), "image/gif", self.title))  # the frames carry the title

    def strip(self, frames: Sequence[int] | None = None, columns: int = 2) -> Image.Image:
        """Some frames side by side (default: four spread from first to last), ``columns`` to a row."""
        from PIL import Image

        count = len(self.images)
        chosen = list(frames) if frames is not None else sorted({round(k * (count - 1) / 3) for k in range(4)})
        width, height = self.size
        columns = max(1, min(columns, len(chosen)))
        rows = -(-len(chosen) // columns)
        sheet = Image.new("RGB", (columns * width + (columns - 1) * 8, rows * height + (rows - 1) * 8), "#9A9A9A")
        for index, frame in enumerate(chosen):
            r, c = divmod(index, columns)
            sheet.paste(self.images[frame], (c * (width + 8), r * (height + 8)))
        return sheet

    def save_strip(self, path: str | Path, frames: Sequence[int] | None = None, columns: int = 2) -> Path:
        target = Path(path)
        with atomic_path(target) as temporary:
            self.strip(frames, columns).save(temporary)
        return target


def _palette() -> Image.Image:
    """A GIF palette holding each style colour exactly, a grey ramp, and each fill blended with the ink
    (the edges of antialiased text), so quantizing never shifts a cell's colour."""
    from PIL import Image

    def rgb(colour: str) -> tuple[int, int, int]:
        return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))

    fills = {rgb(cell.fill) for cell in style.CELL_STYLES.values()}
    inks = [rgb(colour) for colour in (style.INK, style.MUTED, style.HATCH_INK, style.WINDOW_EDGE)]
    inks.append(rgb(style.OKABE_ITO["blue"]))
    colours = sorted(fills) + inks + [(v, v, v) for v in range(0, 256, 12)]
    for fill in sorted(fills):
        for ink in inks[:2] + inks[3:]:
            for t in (0.25, 0.5, 0.75):
                r, g, b = (round(f + (i - f) * t) for f, i in zip(fill, ink))
                colours.append((r, g, b))
    unique = list(dict.fromkeys(colours))[:256]
    flat = [channel for colour in unique for channel in colour]
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat + flat[:3] * (256 - len(unique)))
    return palette


def _two_d(values: object, name: str) -> Array:
    import numpy as np

    from ..errors import ShapeError

    array = np.asarray(values.detach().cpu().numpy() if hasattr(values, "detach") else values)
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise ShapeError(
            f"window draws one channel: {name} must be 2-D (H, W), got shape {tuple(array.shape)}",
            fix=f"pass one channel, e.g. {name}[0, 0]",
        )
    if array.dtype.kind not in "biuf":
        raise ShapeError(f"window: {name} holds {array.dtype} values, not numbers", fix="pass numbers")
    return np.asarray(array, dtype=np.float64 if array.dtype == np.float64 else np.float32)


def _explicit_padding(padding: object) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """((top, bottom), (left, right)) when given that way; None for what conv2d takes itself."""
    if (
        isinstance(padding, (tuple, list))
        and len(padding) == 2
        and all(isinstance(side, (tuple, list)) and len(side) == 2 for side in padding)
    ):
        from .._args import as_int

        (top, bottom), (left, right) = ((as_int(v, "padding", minimum=0) for v in side) for side in padding)
        return ((top, bottom), (left, right))
    return None


def _equation(position: tuple[int, int], trace: Any, value: float) -> tuple[str, ...]:
    from ..lesson.explain_text import equation

    i, j = position
    term = trace.terms[0]
    if term.kernel.size <= MAX_EQUATION_TERMS:
        lines = [f"out[{i}, {j}] = {equation(term)}"]
    else:
        lines = [f"out[{i}, {j}] = sum of {term.kernel.size} products = {number(term.total).strip('()')}"]
    if trace.bias is not None:
        lines.append(f"sum {number(term.total)} + bias {number(trace.bias)} = {cell_value(value)}")
    return tuple(lines)


def _frames(traces: list[Any], values: Array, offset: tuple[int, int] | None) -> tuple[Frame, ...]:
    """Frames from traces; ``offset`` turns grid rows into input rows (None: say grid rows instead)."""
    from ..lesson.explain_text import span

    frames = []
    for trace in traces:
        i, j = trace.position
        value = float(values[i, j])
        cells = tuple((r, c) for r in trace.rows for c in trace.cols)
        if offset is None:
            where = (
                f"out[{i}, {j}]: the window covers rows {span(trace.rows)}, cols {span(trace.cols)} of the grid"
            )
        else:
            rows = tuple(r - offset[0] for r in trace.rows)
            cols = tuple(c - offset[1] for c in trace.cols)
            where = f"out[{i}, {j}] reads input rows {span(rows)}, cols {span(cols)}"
        frames.append(Frame((i, j), cells, value, cell_value(value), where, _equation((i, j), trace, value)))
    return tuple(frames)


def _conv2d_settings(
    image: Array, kernel: Array, stride: object, padding: object, dilation: object, padding_mode: str
) -> tuple[Array, ConvSettings, Pad2d]:
    """The settings, normalised and warned about once, the input they apply to, and the padding drawn.

    Explicit ``((top, bottom), (left, right))`` padding is applied first, as ``F.pad`` would, and the
    window then slides over the padded image with no padding of its own.
    """
    from .. import functional as F
    from ..functional.geometry import conv_settings

    explicit = _explicit_padding(padding)
    if explicit is None:
        settings = conv_settings("window", kernel.shape, stride, padding, dilation, 1, padding_mode)
        return image, settings, settings.padding
    (top, bottom), (left, right) = explicit
    mode = "constant" if padding_mode == "zeros" else padding_mode
    padded = F.pad(image[None], (left, right, top, bottom), mode=mode)[0]
    return padded, conv_settings("window", kernel.shape, stride, 0, dilation, 1, padding_mode), explicit


def _conv2d_data(
    image: Array, slid_over: Array, kernel: Array, bias: float | None, settings: ConvSettings, pads: Pad2d
) -> dict[str, Any]:
    """The picture of conv2d: ``slid_over`` is the image, or the image already padded by hand."""
    import numpy as np

    from ..lesson.explain import explain_all

    biases = None if bias is None else np.array([bias], dtype=image.dtype)
    traces = explain_all(slid_over, kernel, biases, settings=settings)
    padding_mode = settings.padding_mode
    grid = traces[0].padded[0]
    (top, bottom), (left, right) = pads
    H, W = image.shape
    kinds = tuple(
        tuple("input" if top <= r < top + H and left <= c < left + W else "padding" for c in range(grid.shape[1]))
        for r in range(grid.shape[0])
    )
    output = traces[0].output
    trace0 = traces[0]
    pad_text = "no padding" if top == bottom == left == right == 0 else _pad_text(pads, padding_mode)
    title = (
        f"conv2d: input {H}x{W}, kernel {kernel.shape[0]}x{kernel.shape[1]}, stride {_pair(trace0.stride)}, "
        f"{pad_text}, dilation {_pair(trace0.dilation)} -> output {output.shape[0]}x{output.shape[1]}"
    )
    notes = ["the kernel slides over the padded input; each window's products sum to one output value"]
    return {
        "operation": "conv2d",
        "title": title,
        "notes": tuple(notes),
        "grid": grid,
        "kinds": kinds,
        "input_cells": {(a, b): (a + top, b + left) for a in range(H) for b in range(W)},
        "kernel": kernel,
        "output": output,
        "frames": _frames(traces, output, (top, left)),
    }


def _pair(values: tuple[int, int]) -> str:
    return str(values[0]) if values[0] == values[1] else f"({values[0]}, {values[1]})"


def _pad_text(pads: tuple[tuple[int, int], tuple[int, int]], mode: str) -> str:
    (top, bottom), (left, right) = pads
    mode_text = "" if mode == "zeros" else f" ({mode})"
    if top == bottom == left == right:
        return f"padding {top}{mode_text}"
    if top == bottom and left == right:
        return f"padding ({top}, {left}){mode_text}"
    return f"padding top {top}, bottom {bottom}, left {left}, right {right}{mode_text}"


def _transpose_data(image: Array, kernel: Array, bias: float | None, geo: TransposeGeometry) -> dict[str, Any]:
    import numpy as np

    from .. import functional as F
    from ..functional.geometry import conv_settings
    from ..lesson.explain import explain_all

    biases = None if bias is None else np.array([bias], dtype=image.dtype)
    s, p, op, d = geo.stride, geo.padding, geo.output_padding, geo.dilation
    output = F.conv_transpose2d(
        image[None, None], kernel[None, None], biases, stride=s, padding=p, output_padding=op, dilation=d
    )[0, 0]
    H, W = image.shape
    kh, kw = kernel.shape
    spans = (d[0] * (kh - 1), d[1] * (kw - 1))
    before = (spans[0] - p[0], spans[1] - p[1])  # may be negative: then the zero-inserted input is cropped
    size = (output.shape[0] + spans[0], output.shape[1] + spans[1])
    grid = np.zeros(size, dtype=image.dtype)
    kinds_1d: list[list[str]] = []
    for axis, length in enumerate((H, W)):
        last = before[axis] + (length - 1) * s[axis]  # where the last input row/col lands
        axis_kinds = []
        for index in range(size[axis]):
            offset = index - before[axis]
            if index < before[axis]:
                axis_kinds.append("padding")
            elif index > last:  # past the input: padding, and last of all the rows output_padding adds
                axis_kinds.append("output_padding" if index >= size[axis] - op[axis] else "padding")
            elif offset % s[axis] == 0:
                axis_kinds.append("input")
            else:
                axis_kinds.append("zero")
        kinds_1d.append(axis_kinds)
    order = ("output_padding", "padding", "zero", "input")
    kinds = tuple(
        tuple(min(row_kind, col_kind, key=order.index) for col_kind in kinds_1d[1]) for row_kind in kinds_1d[0]
    )
    input_cells = {}
    for a in range(H):
        for b in range(W):
            r, c = before[0] + a * s[0], before[1] + b * s[1]
            if 0 <= r < size[0] and 0 <= c < size[1]:
                grid[r, c] = image[a, b]
                input_cells[(a, b)] = (r, c)
    flipped = np.ascontiguousarray(kernel[::-1, ::-1])
    traces = explain_all(grid, flipped, biases, settings=conv_settings("window", (kh, kw), dilation=d))
    gathered = traces[0].output
    scale = float(np.abs(grid).max() * np.abs(flipped).sum() + abs(bias or 0.0)) or 1.0
    if gathered.shape != output.shape or not np.allclose(gathered, output, rtol=0, atol=1e-5 * scale):
        raise AssertionError("the zero-inserted picture disagrees with conv_transpose2d")  # a convlab bug
    pad_text = f"padding {_pair(p)}" + (f", output_padding {_pair(op)}" if op != (0, 0) else "")
    title = (
        f"conv_transpose2d: input {H}x{W}, kernel {kh}x{kw}, stride {_pair(s)}, {pad_text}, "
        f"dilation {_pair(d)} -> output {output.shape[0]}x{output.shape[1]}"
    )
    notes = [
        f"drawn as computed: {_pair((s[0] - 1, s[1] - 1))} zero(s) inserted between input cells (stride "
        f"{_pair(s)}), padded by dilation*(kernel-1) - padding = {_pair(before)} on each side"
        + (f" plus output_padding {_pair(op)} at the bottom/right" if op != (0, 0) else ""),
        "the flipped kernel slides with stride 1: the same sums as each input value stamping value*kernel "
        "into the output",
    ]
    return {
        "operation": "conv_transpose2d",
        "title": title,
        "notes": tuple(notes),
        "grid": grid,
        "kinds": kinds,
        "input_cells": input_cells,
        "kernel": flipped,
        "output": output,
        "frames": _frames(traces, output, None),
    }


def window(
    input: object,
    weight: object,
    bias: float | None = None,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    padding_mode: str = "zeros",
    transposed: bool = False,
    output_padding: object = 0,
    out: str | Path | None = None,
    strip: str | Path | None = None,
    frame_ms: int = 700,
) -> WindowAnimation:
    """Draw the kernel sliding over ``input``, one frame per output value.

    Args:
        input: a 2-D (H, W) image (or (1, 1, H, W)).
        weight: a 2-D (kH, kW) kernel.
        bias: a number added to every output value, or None.
        stride, padding, dilation, padding_mode: as in :func:`convlab.functional.conv2d`; padding may also be
            explicit ``((top, bottom), (left, right))``, applied as ``F.pad`` would.
        transposed: draw ``conv_transpose2d`` instead (padding is then its crop, and ``output_padding`` applies).
        out: write the animated GIF here. strip: write a PNG of four frames here.
        frame_ms: how long each frame shows in the GIF.

    Raises:
        ConvlabError: for any configuration the engine refuses, such as one whose output would be empty.
    """
    image, kernel = _two_d(input, "input"), _two_d(weight, "weight")
    if image.dtype != kernel.dtype:  # a picture need not refuse float32 beside float64: draw both in float32
        image, kernel = image.astype("float32"), kernel.astype("float32")
    # the settings are normalised (and warned about) once, here, and carried down
    if transposed:
        if padding_mode != "zeros":
            from ..errors import ArgumentError

            raise ArgumentError(
                f"conv_transpose2d has no padding_mode (got {padding_mode!r}): its padding crops the output",
                fix="leave padding_mode at zeros",
            )
        from ..functional.geometry import TransposeArgs, conv_transpose2d_geometry

        args = TransposeArgs(stride, padding, output_padding, 1, dilation)
        geo = conv_transpose2d_geometry("conv_transpose2d", (1, 1, *image.shape), (1, 1, *kernel.shape), args)
        _check_frames(geo.output_size)
        data = _transpose_data(image, kernel, bias, geo)
    else:
        slid_over, settings, pads = _conv2d_settings(image, kernel, stride, padding, dilation, padding_mode)
        _check_frames(_conv2d_output_size(slid_over.shape, settings))
        data = _conv2d_data(image, slid_over, kernel, bias, settings, pads)
    data["images"], data["layout"] = _render(data)
    animation = WindowAnimation(**data)
    if out is not None:
        animation.save_gif(out, frame_ms)
    if strip is not None:
        animation.save_strip(strip)
    return animation


MAX_FRAMES = 900  # one frame per output value: a 30x30 output at most


def _conv2d_output_size(size: tuple[int, ...], settings: ConvSettings) -> Pair:
    """The output size the settings give ``size`` (not checked: an empty output is refused when it runs)."""
    from ..functional.geometry import output_length

    (top, bottom), (left, right) = settings.padding
    padding = (top + bottom, left + right)
    return output_length((size[0], size[1]), settings.kernel_size, settings.stride, padding, settings.dilation)


def _check_frames(out: Pair) -> None:
    """Refuse a picture of more frames than anyone will watch, before drawing any."""
    from ..errors import ArgumentError

    if min(out) > 0 and out[0] * out[1] > MAX_FRAMES:
        raise ArgumentError(
            f"window draws one frame per output value: a {out[0]}x{out[1]} output is {out[0] * out[1]} frames, "
            f"more than {MAX_FRAMES}",
            fix="crop the image (a 10x10 patch is plenty to watch), or use a larger stride",
        )


def _cell_size(rows: int, cols: int) -> int:
    return max(18, min(44, 400 // max(rows, cols, 1)))


def _render(data: dict[str, Any]) -> tuple[tuple[Image.Image, ...], dict[str, tuple[int, int, int]]]:
    """Every frame: the static picture drawn once, then per frame the window, the output cell and the sum."""
    from PIL import ImageDraw

    grid_values, kinds, kernel = data["grid"], data["kinds"], data["kernel"]
    frames: tuple[Frame, ...] = data["frames"]
    output = data["output"]
    cell = _cell_size(*grid_values.shape)
    transposed = data["operation"] == "conv_transpose2d"
    kernel_title = "kernel, flipped" if transposed else "kernel"
    padded = any(kind != "input" for row in kinds for kind in row)
    input_label = "input: zero-inserted and padded" if transposed else "input, padded" if padded else "input"
    labels = (input_label, kernel_title, "output")
    columns = [
        max(n * cell, text_width(label, style.TEXT, bold=True) + 8)
        for n, label in zip((grid_values.shape[1], kernel.shape[1], output.shape[1]), labels)
    ]
    panels_width = sum(columns) + 2 * GAP
    width = max(panels_width, 620) + 2 * MARGIN
    inner = width - 2 * MARGIN
    title_lines = wrap(data["title"], inner, style.TITLE - 2, separator=", ", bold=True)
    title_lines = [line if k == len(title_lines) - 1 else f"{line}," for k, line in enumerate(title_lines)]
    note_lines = [line for note in data["notes"] for line in wrap(note, inner, style.SMALL + 1)]
    equation_lines = max(sum(len(wrap(line, inner, style.TEXT, " + ")) for line in f.equation) for f in frames)
    used_kinds = {kind for row in kinds for kind in row}
    legend_kinds = [kind for kind in ("input", "padding", "zero", "output_padding") if kind in used_kinds]
    legend_kinds += ["window", "done", "current", "pending"]
    legend_height = measure_legend(legend_kinds, inner)

    y = MARGIN
    title_y = y
    y += len(title_lines) * (style.TITLE + 4) + 2
    notes_y = y
    y += len(note_lines) * (style.SMALL + 5) + 8
    label_y = y
    y += style.TEXT + 8
    panels_y = y
    panels_height = max(grid_values.shape[0], output.shape[0], kernel.shape[0]) * cell
    step_y = panels_y + panels_height + 14
    equation_y = step_y + style.TEXT + 8
    legend_y = equation_y + equation_lines * (style.TEXT + 6) + 10
    height = legend_y + legend_height + MARGIN

    base, draw = new_canvas(width, height)
    for index, line in enumerate(title_lines):
        text(draw, (MARGIN, title_y + index * (style.TITLE + 4)), line, style.TITLE - 2, bold=True)
    for index, line in enumerate(note_lines):
        text(draw, (MARGIN, notes_y + index * (style.SMALL + 5)), line, style.SMALL + 1, fill=style.MUTED)

    x0 = MARGIN + (inner - panels_width) // 2
    (rows, cols), (kh, kw), (Ho, Wo) = grid_values.shape, kernel.shape, output.shape
    source = Grid(x0, panels_y, rows, cols, cell)
    kernel_grid = Grid(x0 + columns[0] + GAP, panels_y, kh, kw, cell)
    target = Grid(kernel_grid.x + columns[1] + GAP, panels_y, Ho, Wo, cell)
    for grid, label in zip((source, kernel_grid, target), labels):
        text(draw, (grid.x, label_y), label, style.TEXT, bold=True)
    corners = {cell_: f"{a},{b}" for (a, b), cell_ in data["input_cells"].items()} if transposed else {}
    for r in range(source.rows):
        for c in range(source.cols):
            draw_cell(
                draw, source.box(r, c), kinds[r][c], cell_value(grid_values[r, c]), corner=corners.get((r, c))
            )
    for r in range(kernel_grid.rows):
        for c in range(kernel_grid.cols):
            draw_cell(draw, kernel_grid.box(r, c), "kernel", cell_value(kernel[r, c]))
    for r in range(target.rows):
        for c in range(target.cols):
            draw_cell(draw, target.box(r, c), "pending", "·")
    # a bracket-free multiplication sign and arrow between the panels
    mid = panels_y + min(kernel_grid.height, source.height) // 2
    text(draw, (kernel_grid.x - GAP // 2, mid), "×", style.TITLE + 4, anchor="mm")
    text(draw, (target.x - GAP // 2, mid), "→", style.TITLE + 4, anchor="mm")
    legend(draw, MARGIN, legend_y, legend_kinds, inner)

    running, running_draw = base, draw
    images = []
    show_notes = kernel.size <= 25
    for step, frame in enumerate(frames, start=1):
        image = running.copy()
        draw = ImageDraw.Draw(image)
        for index, (r, c) in enumerate(frame.cells):
            weight = kernel.flat[index]
            draw_cell(
                draw,
                source.box(r, c),
                "window",
                cell_value(grid_values[r, c]),
                note=f"×{number(weight, digits=3)}" if show_notes else None,
                corner=corners.get((r, c)),
                pattern=style.CELL_STYLES[kinds[r][c]].hatch,
            )
        for r, c in frame.cells:
            draw.rectangle(source.box(r, c), outline=style.WINDOW_EDGE, width=3)
        if len(frame.cells) > 1:
            draw.rectangle(source.span(frame.cells), outline=style.WINDOW_EDGE, width=1)
        i, j = frame.position
        draw_cell(draw, target.box(i, j), "current", frame.text, border=3, bold=True)
        text(draw, (MARGIN, step_y), f"step {step}/{len(frames)}: {frame.where}", bold=True)
        line_y = equation_y
        for line in frame.equation:
            for part in wrap(line, inner, style.TEXT, " + "):
                text(draw, (MARGIN, line_y), part, style.TEXT)
                line_y += style.TEXT + 6
        images.append(image)
        draw_cell(running_draw, target.box(i, j), "done", frame.text)  # computed from now on
    layout = {
        name: (grid.x, grid.y, grid.cell)
        for name, grid in (("input", source), ("kernel", kernel_grid), ("output", target))
    }
    return tuple(images), layout
