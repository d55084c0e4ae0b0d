"""The eight classic cases of the conv_arithmetic guide (Dumoulin and Visin, "A guide to convolution
arithmetic for deep learning"), drawn by :func:`convlab.viz.window` with numbers in every cell.

Each case is a GIF of its own, labelled with its sizes, and ``gallery.png`` is a
contact sheet with one frame of each, at the frame's own size so it reads as it is.

Example:
    >>> [case.slug for case in CASES][:3]
    ['no_padding_no_strides', 'arbitrary_padding', 'same_padding']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import atomic_path, output_folder
from . import style
from .cells import new_canvas, text, wrap

if TYPE_CHECKING:
    from PIL import Image

    from .window import WindowAnimation

__all__ = ["CASES", "Case", "gallery"]


@dataclass(frozen=True)
class Case:
    slug: str
    title: str
    input_size: int
    kernel_size: int
    options: dict[str, Any] = field(default_factory=dict)


CASES = (
    Case("no_padding_no_strides", "No padding, no strides", 4, 3),
    Case("arbitrary_padding", "Arbitrary padding, no strides", 5, 4, {"padding": 2}),
    Case("same_padding", "Half (same) padding, no strides", 5, 3, {"padding": "same"}),
    Case("full_padding", "Full padding, no strides", 5, 3, {"padding": 2}),
    Case("no_padding_strides", "No padding, strides", 5, 3, {"stride": 2}),
    Case("padding_strides", "Padding, strides", 5, 3, {"stride": 2, "padding": 1}),
    Case("dilation", "Dilation, no padding, no strides", 7, 3, {"dilation": 2}),
    Case(
        "transposed_padding_strides",
        "Transposed: padding, strides, output_padding",
        3,
        3,
        {"transposed": True, "stride": 2, "padding": 1, "output_padding": 1},
    ),
)

GUIDE_KERNEL = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]  # the guide's own example kernel


def _values(case: Case) -> tuple[Any, Any]:
    import numpy as np

    n, k = case.input_size, case.kernel_size
    image = (np.arange(n * n).reshape(n, n) * 7 + 3) % 4  # small integers 0..3, as in the guide's figures
    kernel = np.array(GUIDE_KERNEL) if k == 3 else (np.arange(k * k).reshape(k, k) * 5 + 1) % 3
    return image.astype(np.float32), kernel.astype(np.float32)


def draw_case(case: Case) -> WindowAnimation:
    from .window import window

    image, kernel = _values(case)
    return window(image, kernel, **case.options)


def gallery(out: str | Path, *, force: bool = False, frame_ms: int = 600) -> list[Path]:
    """Write ``<slug>.gif`` for every case and ``gallery.png`` into the folder ``out``.

    Raises:
        ArgumentError: ``out`` exists and is not an empty folder, unless ``force``.
    """
    folder = output_folder(out, force, "the gallery")
    written = []
    animations = []
    for number, case in enumerate(CASES, start=1):
        animation = draw_case(case)
        animations.append((number, case, animation))
        written.append(animation.save_gif(folder / f"{case.slug}.gif", frame_ms))
    written.append(_sheet(animations, folder / "gallery.png"))
    return written


# The sheet shows each frame at its own size, cropped to what is drawn: half size made its numbers 6 pixels tall.
SHEET_COLUMNS = 2
SHEET_GAP = 24
LABEL_HEIGHT = 44
HEADER_HEIGHT = 44


def _cropped(frame: Image.Image) -> Image.Image:
    """The frame without its white margin (a few pixels kept), at full size."""
    from PIL import Image, ImageChops

    rgb = frame.convert("RGB")
    box = ImageChops.difference(rgb, Image.new("RGB", rgb.size, "white")).getbbox() or (0, 0, *rgb.size)
    keep = 4
    return rgb.crop(
        (
            max(0, box[0] - keep),
            max(0, box[1] - keep),
            min(rgb.width, box[2] + keep),
            min(rgb.height, box[3] + keep),
        )
    )


def sheet_layout(sizes: list[tuple[int, int]], columns: int = SHEET_COLUMNS) -> list[tuple[int, int]]:
    """Where each (width, height) frame goes on the sheet: the top-left corner of the frame, under its label.

    Columns are as wide as their widest frame and rows as tall as their tallest, so nothing is scaled.
    """
    widths = [max(w for w, _ in sizes[c::columns]) for c in range(min(columns, len(sizes)))]
    rows = [sizes[r : r + columns] for r in range(0, len(sizes), columns)]
    placements, y = [], HEADER_HEIGHT + SHEET_GAP
    for row in rows:
        x = SHEET_GAP
        for column, _ in enumerate(row):
            placements.append((x, y + LABEL_HEIGHT))
            x += widths[column] + SHEET_GAP
        y += LABEL_HEIGHT + max(h for _, h in row) + SHEET_GAP
    return placements


def _sheet(animations: list[tuple[int, Case, WindowAnimation]], path: Path) -> Path:
    """One frame of each case at its own size, under a label."""
    thumbs = []
    for number, case, animation in animations:
        Ho, Wo = animation.output.shape
        kh, kw = animation.kernel.shape
        label = f"{number}. {case.title}: {case.input_size}x{case.input_size} input, {kh}x{kw} kernel -> {Ho}x{Wo}"
        thumbs.append((label, _cropped(animation.images[len(animation.images) // 2])))
    placements = sheet_layout([thumb.size for _, thumb in thumbs])
    width = max(x + thumb.width for (x, _), (_, thumb) in zip(placements, thumbs)) + SHEET_GAP
    height = max(y + thumb.height for (_, y), (_, thumb) in zip(placements, thumbs)) + SHEET_GAP
    sheet, draw = new_canvas(width, height)
    text(
        draw,
        (SHEET_GAP, SHEET_GAP - 4),
        "The conv_arithmetic cases, drawn by convlab draw gallery",
        style.TITLE,
        bold=True,
    )
    for (x, y), (label, thumb) in zip(placements, thumbs):
        for line_number, line in enumerate(wrap(label, thumb.width, style.TEXT, bold=True)[:2]):
            top = y - LABEL_HEIGHT + line_number * (style.TEXT + 4)
            text(draw, (x, top), line, style.TEXT, bold=line_number == 0)
        sheet.paste(thumb, (x, y))
    with atomic_path(path) as temporary:
        sheet.save(temporary)
    return path
