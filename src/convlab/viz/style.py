"""Shared colours, hatches and fonts of every picture, so that one kind of cell looks the same everywhere.

Colours come from the Okabe-Ito palette (safe for the common colour-vision
deficiencies) and never carry a meaning alone: every kind of cell also has its
own lightness and, where two kinds could be confused, a hatch or a border, so
the pictures read in greyscale too.

Fonts are DejaVu Sans, the TrueType font matplotlib ships (found without
importing matplotlib), at fixed pixel sizes chosen to read at the saved
resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

__all__ = [
    "CELL_STYLES",
    "DIVERGING_CMAP",
    "INK",
    "MUTED",
    "OKABE_ITO",
    "SEQUENTIAL_CMAP",
    "WINDOW_EDGE",
    "CellStyle",
    "colour_stops",
    "font",
    "hatch",
    "mpl_font_sizes",
]

OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}

INK = "#1A1A1A"  # text and grid lines
MUTED = "#6B6B6B"  # secondary text
WINDOW_EDGE = "#B34700"  # the kernel's footprint and the output cell it writes: a dark orange border
DIVERGING_CMAP = "PuOr_r"  # purple (negative) - white (zero) - orange (positive): no red/green
SEQUENTIAL_CMAP = "gray"  # values that are never negative: black (0) to white, so a blurred image looks like one


def colour_stops(name: str, count: int = 11) -> list[str]:
    """``count`` evenly spaced colours of a matplotlib colour map as "#rrggbb", low to high: the page draws
    its maps and legends from these, so they match the PNGs."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps[name]
    return [to_hex(cmap(k / (count - 1))) for k in range(count)]


@dataclass(frozen=True)
class CellStyle:
    """How one kind of cell is drawn: fill, hatch (PIL pattern name and matplotlib hatch), and its label."""

    fill: str
    hatch: str | None  # "diagonal", "dots", "cross" or None
    mpl_hatch: str | None
    label: str
    text: str = INK


CELL_STYLES: dict[str, CellStyle] = {
    # the input's own cells: light blue, plain
    "input": CellStyle("#D4E8F7", None, None, "input"),
    # padding: grey, diagonal lines
    "padding": CellStyle("#DCDCDC", "diagonal", "///", "padding", MUTED),
    # zeros a transposed convolution's stride inserts between input cells: white, dotted
    "zero": CellStyle("#FFFFFF", "dots", "..", "zero inserted (stride)", MUTED),
    # output_padding's extra rows/columns: grey, crossed
    "output_padding": CellStyle("#DCDCDC", "cross", "xx", "output_padding", MUTED),
    # the kernel's footprint on the input: orange, with a thick dark-orange border
    "window": CellStyle("#F6C26B", None, None, "kernel window"),
    # the kernel itself
    "kernel": CellStyle("#F6C26B", None, None, "kernel"),
    # the products patch * kernel, cell by cell
    "product": CellStyle("#FBE7C2", None, None, "products"),
    # output values already computed: light purple, plain
    "done": CellStyle("#E4D4EC", None, None, "output, computed"),
    # the output value being computed now: orange like the window, thick border
    "current": CellStyle("#F6C26B", None, None, "output, this step"),
    # output values not computed yet: white, a dot
    "pending": CellStyle("#FFFFFF", None, None, "output, to come"),
    # rows/columns a stride never reads
    "dropped": CellStyle("#8A8A8A", "cross", "xx", "never read"),
}

HATCH_INK = "#8C8C8C"


@cache
def _font_path() -> str | None:
    """DejaVu Sans from matplotlib's data folder, located without importing matplotlib."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
    return str(path) if path.is_file() else None


@cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A TrueType font at ``size`` pixels (PIL's own scalable default if DejaVu Sans is missing)."""
    from PIL import ImageFont

    path = _font_path()
    if path is not None:
        if bold:
            bold_path = path.replace("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
            try:
                return ImageFont.truetype(bold_path, size)
            except OSError:
                pass
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


# Fixed sizes, in pixels at the saved resolution.
TITLE = 17
TEXT = 14
VALUE = 15
SMALL = 11


def hatch(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], pattern: str, spacing: int = 7) -> None:
    """Fill a box with a hatch pattern, clipped exactly to the box (lines are computed, not masked)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if pattern in ("diagonal", "cross"):
        for t in range(spacing // 2, w + h, spacing):  # "/" lines: x + y = t, relative to the top-left corner
            xa, yb = min(t, w), min(t, h)
            draw.line([(x0 + xa, y0 + t - xa), (x0 + t - yb, y0 + yb)], fill=HATCH_INK, width=1)
    if pattern == "cross":
        for t in range(spacing // 2, w + h, spacing):  # "\" lines: (w - x) + y = t
            xa, yb = min(t, w), min(t, h)
            draw.line([(x1 - xa, y0 + t - xa), (x1 - t + yb, y0 + yb)], fill=HATCH_INK, width=1)
    if pattern == "dots":
        for y in range(y0 + spacing // 2, y1, spacing):
            for x in range(x0 + spacing // 2, x1, spacing):
                draw.rectangle([x, y, x + 1, y + 1], fill=HATCH_INK)


def mpl_font_sizes() -> dict[Any, Any]:
    """matplotlib rc settings: the same readable sizes for every chart."""
    return {
        "font.size": 10.0,
        "axes.titlesize": 11.0,
        "axes.labelsize": 10.0,
        "xtick.labelsize": 9.0,
        "ytick.labelsize": 9.0,
        "legend.fontsize": 9.0,
        "figure.titlesize": 13.0,
    }
