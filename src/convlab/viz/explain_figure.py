"""One output value's picture: the window on the input, the kernel, the element-wise products and the sum.

It draws a :class:`convlab.lesson.explain.Trace`, and its words are the lines
``convlab explain`` prints for the same trace (taken from lesson.explain_text, not
written again), so the picture and the text always say the same thing.

Example:
    >>> image = [[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]
    >>> picture = explain_figure(image, [[1, 0], [0, -1]], at=(1, 0))
    >>> picture.lines[-1], picture.trace.value
    ('out[1, 0] = 4', 4.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .._files import atomic_path
from . import style
from .cells import Grid, cell_value, draw_cell, legend, new_canvas, text, wrap

if TYPE_CHECKING:
    from PIL import Image

    from ..lesson.explain import Trace

__all__ = ["ExplainPicture", "explain_figure"]

MARGIN, GAP = 16, 40


@dataclass(frozen=True)
class ExplainPicture:
    """The trace drawn, the text lines written on the picture (as ``convlab explain`` prints them), the image."""

    trace: Trace
    lines: tuple[str, ...]
    image: Image.Image = field(repr=False)
    path: Path | None = None

    def save(self, path: str | Path) -> Path:
        target = Path(path)
        with atomic_path(target) as temporary:
            self.image.save(temporary)
        return target

    def _repr_png_(self) -> bytes:
        """The picture, inline in a notebook."""
        import io

        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG")
        return buffer.getvalue()


def _text_lines(trace: Trace) -> tuple[str, ...]:
    """The lines of ``convlab explain``'s text that the picture writes: header, where, each channel's sum,
    the sum over channels with the bias, and the result."""
    from ..lesson.explain_text import equation, trace_text

    rendered = trace_text(trace)
    sums = {f"  {equation(term)}" for term in trace.terms}
    keep = [rendered[0], rendered[1]]
    keep += [line.strip() for line in rendered if line in sums]
    keep += [line for line in rendered if line.startswith(("sum: ", "sum over channels: "))]
    keep.append(rendered[-1])
    return tuple(keep)


def explain_figure(
    input: object,
    weight: object,
    bias: object = None,
    at: tuple[int, int] = (0, 0),
    *,
    out_channel: int = 0,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    padding_mode: str = "zeros",
    out: str | Path | None = None,
) -> ExplainPicture:
    """Draw how ``conv2d(input, weight, bias, ...)[out_channel, at]`` is computed; arguments as in
    :func:`convlab.lesson.explain.explain`. With ``out``, also write the PNG there."""
    from ..lesson.explain import explain

    trace = explain(
        input,
        weight,
        bias,
        at,
        out_channel=out_channel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        padding_mode=padding_mode,
    )
    lines = _text_lines(trace)
    image = _draw(trace, lines)
    path = None
    if out is not None:
        path = Path(out)
        with atomic_path(path) as temporary:
            image.save(temporary)
    return ExplainPicture(trace, lines, image, path)


def _cell(trace: Trace) -> int:
    rows, cols = int(trace.padded.shape[1]), int(trace.padded.shape[2])
    kw = int(trace.terms[0].kernel.shape[1])
    return max(20, min(44, 520 // max(cols + 3 * kw + int(trace.output.shape[1]), 1), 360 // max(rows, 1)))


def _draw(trace: Trace, lines: tuple[str, ...]) -> Image.Image:
    from ..lesson.explain_text import equation

    cell = _cell(trace)
    _, rows, cols = trace.padded.shape
    kh, kw = trace.terms[0].kernel.shape
    Ho, Wo = trace.output.shape
    window = {(r, c) for r in trace.rows for c in trace.cols}
    (top, bottom), (left, right) = trace.padding
    small_gap = 30
    row_width = cols * cell + GAP + 3 * kw * cell + 2 * small_gap + GAP + Wo * cell
    width = max(row_width, 640) + 2 * MARGIN
    inner = width - 2 * MARGIN
    header = [part for line in lines[:2] for part in wrap(line, inner, style.TEXT)]
    block = max(rows, Ho) * cell + style.TEXT + 10  # one channel: label row + grids
    equations = {equation(term): term for term in trace.terms}
    kinds = ["input", "padding"] if any((top, bottom, left, right)) else ["input"]
    legend_kinds = [*kinds, "window", "kernel", "product", "current", "done"]
    # drawn on a tall canvas, then cropped to what was used
    height = 400 + len(trace.terms) * (block + 200) + 40 * len(lines)
    image, draw = new_canvas(width, height)
    y = MARGIN
    text(draw, (MARGIN, y), lines[-1], style.TITLE + 3, bold=True)
    y += style.TITLE + 12
    for line in header:
        text(draw, (MARGIN, y), line, style.TEXT)
        y += style.TEXT + 6
    y += 8
    for term in trace.terms:
        label = "input, padded" if any((top, bottom, left, right)) else "input"
        if len(trace.terms) > 1:
            label = f"channel {term.channel}" + (", padded" if any((top, bottom, left, right)) else "")
        first = term is trace.terms[0]
        grids_y = y + style.TEXT + 8
        source = Grid(MARGIN, grids_y, rows, cols, cell)
        patch = Grid(source.x + source.width + GAP, grids_y, kh, kw, cell)
        kernel = Grid(patch.x + patch.width + small_gap, grids_y, kh, kw, cell)
        products = Grid(kernel.x + kernel.width + small_gap, grids_y, kh, kw, cell)
        target = Grid(products.x + products.width + GAP, grids_y, Ho, Wo, cell)
        for grid, words in (
            (source, label),
            (patch, "window"),
            (kernel, "kernel"),
            (products, "products"),
            (target, "output" if first else ""),
        ):
            text(draw, (grid.x, y), words, style.TEXT, bold=True)
        values = trace.padded[term.channel]
        for r in range(rows):
            for c in range(cols):
                inside = top <= r < rows - bottom and left <= c < cols - right
                kind = "input" if inside else "padding"
                if (r, c) in window:
                    draw_cell(
                        draw,
                        source.box(r, c),
                        "window",
                        cell_value(values[r, c]),
                        pattern=None if inside else "diagonal",
                    )
                else:
                    draw_cell(draw, source.box(r, c), kind, cell_value(values[r, c]))
        for r, c in window:
            draw.rectangle(source.box(r, c), outline=style.WINDOW_EDGE, width=3)
        for r in range(kh):
            for c in range(kw):
                draw_cell(draw, patch.box(r, c), "window", cell_value(term.patch[r, c]), border=3)
                draw_cell(draw, kernel.box(r, c), "kernel", cell_value(term.kernel[r, c]))
                draw_cell(draw, products.box(r, c), "product", cell_value(term.products[r, c]))
        middle = grids_y + kh * cell / 2
        text(draw, (patch.x + patch.width + small_gap / 2, middle), "×", style.TITLE + 4, anchor="mm")
        text(draw, (kernel.x + kernel.width + small_gap / 2, middle), "=", style.TITLE + 4, anchor="mm")
        if first:
            text(draw, (products.x + products.width + GAP / 2, middle), "→", style.TITLE + 4, anchor="mm")
        text(
            draw,
            (products.x, grids_y + kh * cell + 6),
            f"sum = {cell_value(term.total)}",
            style.TEXT,
            bold=True,
        )
        for r in range(Ho if first else 0):
            for c in range(Wo):
                current = (r, c) == trace.position
                draw_cell(
                    draw,
                    target.box(r, c),
                    "current" if current else "done",
                    cell_value(trace.output[r, c]),
                    border=3 if current else 0,
                    bold=current,
                )
        y = grids_y + max(rows, Ho if first else 0, kh + 1) * cell + 12
        for line in lines[2:-1]:
            if line in equations and equations[line] is term:
                for part in wrap(line, inner, style.TEXT, " + "):
                    text(draw, (MARGIN, y), part, style.TEXT)
                    y += style.TEXT + 6
        y += 12
    for line in lines[2:-1]:
        if line not in equations:
            text(draw, (MARGIN, y), line, style.TEXT, bold=True)
            y += style.TEXT + 6
    y += 6 + legend(draw, MARGIN, y + 6, legend_kinds, inner)
    return image.crop((0, 0, width, y + MARGIN))
