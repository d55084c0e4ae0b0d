"""The eight classic cases of the conv_arithmetic guide (Dumoulin and Visin, "A guide to convolution
arithmetic for deep learning"), drawn by :func:`convlab.viz.window` with numbers in every cell.

Each case is a GIF of its own, labelled with its sizes, and ``gallery.png`` is a
contact sheet with one frame of each.

Example:
    >>> [case.slug for case in CASES][:3]
    ['no_padding_no_strides', 'arbitrary_padding', 'same_padding']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import atomic_path, make_folder
from . import style
from .cells import new_canvas, text, wrap

if TYPE_CHECKING:
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
    from ..errors import ArgumentError

    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ArgumentError(
            f"{folder} exists and is not a folder", fix='pass another name, e.g. out="convlab-gallery"'
        )
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise ArgumentError(
            f"{folder}/ exists and is not empty; the gallery will not overwrite it",
            fix='force=True to write into it, or another folder, e.g. out="convlab-gallery-2"',
        )
    make_folder(folder)
    written = []
    animations = []
    for number, case in enumerate(CASES, start=1):
        animation = draw_case(case)
        animations.append((number, case, animation))
        written.append(animation.save_gif(folder / f"{case.slug}.gif", frame_ms))
    written.append(_sheet(animations, folder / "gallery.png"))
    return written


def _sheet(animations: list[tuple[int, Case, WindowAnimation]], path: Path) -> Path:
    """One frame of each case at half size, under a label big enough to read."""
    from PIL import Image

    scale, columns, gap, label_height = 0.5, 4, 18, 46
    thumbs = []
    for number, case, animation in animations:
        frame = animation.images[len(animation.images) // 2]
        thumb = frame.resize((round(frame.width * scale), round(frame.height * scale)), Image.Resampling.LANCZOS)
        Ho, Wo = animation.output.shape
        kh, kw = animation.kernel.shape
        label = f"{number}. {case.title}: {case.input_size}x{case.input_size} input, {kh}x{kw} kernel -> {Ho}x{Wo}"
        thumbs.append((label, thumb))
    cell_w = max(thumb.width for _, thumb in thumbs)
    cell_h = max(thumb.height for _, thumb in thumbs) + label_height
    rows = -(-len(thumbs) // columns)
    sheet, draw = new_canvas(columns * cell_w + (columns + 1) * gap, rows * cell_h + (rows + 1) * gap + 40)
    text(draw, (gap, gap - 4), "The conv_arithmetic cases, drawn by convlab draw gallery", style.TITLE, bold=True)
    for index, (label, thumb) in enumerate(thumbs):
        r, c = divmod(index, columns)
        x, y = gap + c * (cell_w + gap), 40 + gap + r * (cell_h + gap)
        for line_number, line in enumerate(wrap(label, cell_w, style.TEXT - 1, bold=True)[:2]):
            text(draw, (x, y + line_number * (style.TEXT + 3)), line, style.TEXT - 1, bold=line_number == 0)
        sheet.paste(thumb, (x, y + label_height))
    with atomic_path(path) as temporary:
        sheet.save(temporary)
    return path
