"""Number grids drawn with PIL: the cells, values, hatches, borders and legends the window pictures share.

Drawing a grid cell by cell with PIL takes microseconds, so an animation can
redraw a frame's few changing cells instead of asking matplotlib for a figure
per frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ..lesson.grid_text import cell_text
from . import style

if TYPE_CHECKING:
    from PIL import Image, ImageDraw

__all__ = ["Grid", "cell_value", "draw_cell", "legend", "new_canvas", "text", "text_width", "wrap"]

Box = tuple[int, int, int, int]


def new_canvas(width: int, height: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), "white")
    return image, ImageDraw.Draw(image)


def cell_value(value: float) -> str:
    """A value short enough for a picture's cell: ``4``, ``-0.5``, ``0.333`` (text writes four digits)."""
    return cell_text(value, digits=3)


def text_width(words: str, size: int, bold: bool = False) -> int:
    return int(style.font(size, bold).getlength(words))


def text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    words: str,
    size: int = style.TEXT,
    *,
    bold: bool = False,
    fill: str = style.INK,
    anchor: str = "la",
) -> None:
    draw.text(xy, words, font=style.font(size, bold), fill=fill, anchor=anchor)


def wrap(words: str, width: int, size: int = style.TEXT, separator: str = " ", bold: bool = False) -> list[str]:
    """Break ``words`` into lines no wider than ``width`` pixels, at ``separator`` (kept at the line's end)."""
    parts = words.split(separator)
    lines: list[str] = []
    for part in parts:
        candidate = f"{lines[-1]}{separator}{part}" if lines else part
        if lines and text_width(candidate, size, bold) <= width:
            lines[-1] = candidate
        else:
            lines.append(part)
    return lines


def draw_cell(
    draw: ImageDraw.ImageDraw,
    box: Box,
    kind: str,
    value: str | None = None,
    *,
    note: str | None = None,
    corner: str | None = None,
    border: int = 0,
    bold: bool = False,
    pattern: str | None = None,
) -> None:
    """One cell: fill and hatch of its kind, a grid line, its value centred (smaller if it would not fit),
    an optional ``note`` at the bottom right (such as ``×(-1)``) and ``corner`` text at the top left;
    ``pattern`` keeps another kind's hatch (the window over padding stays hatched)."""
    cell_style = style.CELL_STYLES[kind]
    x0, y0, x1, y1 = box
    draw.rectangle(box, fill=cell_style.fill, outline=style.INK, width=1)
    hatch = pattern or cell_style.hatch
    if hatch:
        style.hatch(draw, (x0 + 1, y0 + 1, x1 - 1, y1 - 1), hatch)
    size = x1 - x0
    if value is not None:
        for font_size in (style.VALUE, style.SMALL):
            width = text_width(value, font_size, bold)
            if width <= size - 6 and font_size + 4 <= size:
                centre = ((x0 + x1) / 2, (y0 + y1) / 2 - (4 if note else 0))
                if hatch:  # a quiet patch behind the number so the hatch does not cross it
                    half_w, half_h = width / 2 + 2, font_size / 2 + 1
                    draw.rectangle(
                        [centre[0] - half_w, centre[1] - half_h, centre[0] + half_w, centre[1] + half_h],
                        fill=cell_style.fill,
                    )
                text(draw, centre, value, font_size, bold=bold, fill=cell_style.text, anchor="mm")
                break
    if note is not None and size >= 40 and text_width(note, style.SMALL) <= size - 4:
        text(draw, (x1 - 3, y1 - 2), note, style.SMALL, fill=style.INK, anchor="rd")
    if corner is not None and size >= 40:
        text(draw, (x0 + 3, y0 + 2), corner, style.SMALL - 2, fill=style.OKABE_ITO["blue"], anchor="la")
    if border:
        draw.rectangle(box, outline=style.WINDOW_EDGE, width=border)


class Grid:
    """Where a grid of ``rows`` x ``cols`` cells of ``cell`` pixels sits on a canvas."""

    def __init__(self, x: int, y: int, rows: int, cols: int, cell: int) -> None:
        self.x, self.y, self.rows, self.cols, self.cell = x, y, rows, cols, cell

    @property
    def width(self) -> int:
        return self.cols * self.cell

    @property
    def height(self) -> int:
        return self.rows * self.cell

    def box(self, r: int, c: int) -> Box:
        x0, y0 = self.x + c * self.cell, self.y + r * self.cell
        return (x0, y0, x0 + self.cell, y0 + self.cell)

    def span(self, cells: Iterable[tuple[int, int]]) -> Box:
        """The box around some cells (the kernel's whole span, dilation gaps included)."""
        listed = list(cells)
        rows = [r for r, _ in listed]
        cols = [c for _, c in listed]
        x0, y0, _, _ = self.box(min(rows), min(cols))
        _, _, x1, y1 = self.box(max(rows), max(cols))
        return (x0, y0, x1, y1)


def legend(draw: ImageDraw.ImageDraw, x: int, y: int, kinds: Sequence[str], width: int) -> int:
    """Swatches with labels, wrapped to ``width``; returns the height used."""
    swatch, gap, line = 18, 14, 24
    cx, cy = x, y
    for kind in kinds:
        label = style.CELL_STYLES[kind].label
        needed = swatch + 6 + text_width(label, style.SMALL + 1) + gap
        if cx > x and cx + needed > x + width:
            cx, cy = x, cy + line
        border = 3 if kind in ("window", "current") else 0
        draw_cell(draw, (cx, cy, cx + swatch, cy + swatch), kind, border=border)
        text(draw, (cx + swatch + 6, cy + swatch / 2), label, style.SMALL + 1, anchor="lm")
        cx += needed
    return cy + line - y


def measure_legend(kinds: Sequence[str], width: int) -> int:
    """The height :func:`legend` will use, without drawing."""
    swatch, gap, line = 18, 14, 24
    cx, rows = 0, 1
    for kind in kinds:
        needed = swatch + 6 + text_width(style.CELL_STYLES[kind].label, style.SMALL + 1) + gap
        if cx > 0 and cx + needed > width:
            cx, rows = 0, rows + 1
        cx += needed
    return rows * line
