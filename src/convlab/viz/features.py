"""Feature maps on a real image: a bank of classic kernels (or your own) run through the engine's conv2d.

Each kernel is convolved with the image (grey, values 0..1) with
``padding="same"`` and reflected borders, so every map has the image's size and
no dark frame. A map with negative values is drawn with a diverging colour map
centred on zero (purple below, white at zero, orange above: no red/green) on its
own symmetric scale; a map with none (identity, blur, gaussian) in grey from 0,
so it looks like the image. Each has a colour bar and sits beside the kernel's
own numbers; :func:`colour_scale` is the rule, and the web page uses it too.

Example:
    >>> maps = feature_maps("camera", ["sobel_x", "1 0; 0 -1"])
    >>> [(m.name, m.output.shape) for m in maps]
    [('sobel_x', (224, 224)), ('[[1, 0], [0, -1]]', (224, 224))]
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

__all__ = [
    "KERNELS",
    "ColourScale",
    "FeatureMap",
    "colour_scale",
    "feature_maps",
    "features_figure",
    "kernel_named",
]

# name: (rows, divisor, what it does)
KERNELS: dict[str, tuple[list[list[float]], float, str]] = {
    "identity": ([[0, 0, 0], [0, 1, 0], [0, 0, 0]], 1, "the image itself"),
    "box_blur": ([[1, 1, 1], [1, 1, 1], [1, 1, 1]], 9, "the mean of a 3x3 window"),
    "gaussian": ([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 16, "a weighted mean: centre counts most"),
    "sharpen": ([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], 1, "the image plus its edges"),
    "sobel_x": ([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], 1, "change left to right: vertical edges"),
    "sobel_y": ([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], 1, "change top to bottom: horizontal edges"),
    "laplacian": ([[0, 1, 0], [1, -4, 1], [0, 1, 0]], 1, "centre against neighbours: edges in any direction"),
    "lesson_edge": ([[-1, 1]], 1, "the lesson's Lab 2 kernel [-1, 1]: vertical edges"),
    "emboss": ([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], 1, "light from the bottom right: relief"),
}


@dataclass(frozen=True)
class FeatureMap:
    name: str
    description: str
    kernel: Array  # (kH, kW)
    output: Array  # (H, W), conv2d of the grey image with the kernel, padding "same" (reflect)


@dataclass(frozen=True)
class ColourScale:
    """How one map's values become colours: a matplotlib colour map from ``low`` to ``high``.

    Values beyond the limits take the end colours; ``above``/``below`` say whether any do.
    """

    cmap: str
    low: float
    high: float
    above: bool
    below: bool


def colour_scale(values: Array) -> ColourScale:
    """The colours of a feature map: grey from 0 when no value is negative (0..1 when the values stay in the
    image's own range, so identity and blur look like the image), otherwise diverging and symmetric about 0."""
    import numpy as np

    low_value, high_value = float(np.min(values)), float(np.max(values))
    if low_value >= 0:
        high = 1.0 if high_value <= 1 else _limit(values)
        return ColourScale(style.SEQUENTIAL_CMAP, 0.0, high, high_value > high, False)
    limit = _limit(values)
    return ColourScale(style.DIVERGING_CMAP, -limit, limit, high_value > limit, low_value < -limit)


def kernel_named(name: str) -> tuple[Array, str]:
    """A kernel from the bank by name, with what it does.

    Raises:
        ArgumentError: an unknown name, with the closest names and the list.
    """
    import difflib

    import numpy as np

    from ..errors import ArgumentError

    if name not in KERNELS:
        close = difflib.get_close_matches(name, list(KERNELS), n=1)
        raise ArgumentError(
            f"unknown kernel {name!r}; the bank has {', '.join(KERNELS)}",
            fix=f'kernels=["{close[0]}"]' if close else "pick one of those names, or give a 2-D kernel instead",
        )
    rows, divisor, description = KERNELS[name]
    return np.array(rows, dtype=np.float32) / np.float32(divisor), description


def _kernel(spec: object) -> tuple[str, Array, str]:
    """A name from the bank, a typed matrix such as "1 0; 0 -1", or an array."""
    import numpy as np

    from ..errors import ArgumentError
    from ..lesson.textmatrix import parse_matrix

    if isinstance(spec, str):
        if spec not in KERNELS and any(ch.isdigit() for ch in spec):
            kernel = parse_matrix(spec, "kernel")
            return _matrix_name(kernel), kernel, "your kernel"
        kernel, description = kernel_named(spec)
        return spec, kernel, description
    kernel = np.asarray(spec, dtype=np.float32)
    if kernel.ndim != 2 or kernel.size == 0:
        raise ArgumentError(
            f"a kernel must be a 2-D matrix, got shape {kernel.shape}", fix="pass e.g. [[1, 0], [0, -1]]"
        )
    return _matrix_name(kernel), kernel, "your kernel"


def _matrix_name(kernel: Array) -> str:
    from .cells import cell_value

    return "[" + ", ".join("[" + ", ".join(cell_value(v) for v in row) + "]" for row in kernel) + "]"


def feature_maps(
    image: str | Array = "camera", kernels: Sequence[object] | None = None, padding_mode: str = "reflect"
) -> list[FeatureMap]:
    """Convolve a grey image (a bundled name, a file, or an array) with each kernel: the maps, as data."""
    import warnings

    import numpy as np

    from .. import functional as F
    from ..errors import ConvlabWarning

    grey = _grey(image)
    maps = []
    for spec in KERNELS if kernels is None else kernels:
        name, kernel, description = _kernel(spec)
        with warnings.catch_warnings():  # an even kernel pads one more cell bottom/right: expected here
            warnings.simplefilter("ignore", ConvlabWarning)
            output = F.conv2d(grey[None, None], kernel[None, None], padding="same", padding_mode=padding_mode)
        maps.append(FeatureMap(name, description, kernel, np.asarray(output[0, 0])))
    return maps


def _grey(image: str | Array) -> Array:
    """Grey values 0..1 as float32 from a bundled name, an image file, or an array (0..255 or 0..1)."""
    import numpy as np

    from ..data import read_image
    from ..errors import ShapeError

    array = read_image(image, grey=True) if isinstance(image, str) else np.asarray(image)
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        array = array[..., :3] @ np.array([0.299, 0.587, 0.114])
    if array.ndim != 2:
        raise ShapeError(f"the image must be (H, W) or (H, W, 3), got shape {array.shape}", fix="pass one image")
    values = np.asarray(array, dtype=np.float32)
    return values / np.float32(255) if values.max(initial=0) > 1 else values


def _image_name(image: str | Array) -> str:
    if isinstance(image, str):
        return Path(image).name
    return "your image"


def features_figure(
    image: str | Array = "camera",
    kernels: Sequence[object] | None = None,
    *,
    columns: int = 4,
    padding_mode: str = "reflect",
    out: str | Path | None = None,
) -> Figure:
    """A grid: the input image, then for each kernel its numbers beside its feature map.

    Args:
        image: a bundled image ("camera", "astronaut", "cat"), a PNG/JPEG path, or an array.
        kernels: names from :data:`KERNELS`, typed matrices such as "1 0; 0 -1", or 2-D arrays;
            default: the whole bank.
        columns: panels per row.
        out: also write the figure to this PNG.
    """
    import textwrap

    from matplotlib import rc_context

    from .shown_figure import ShownFigure as Figure

    maps = feature_maps(image, kernels, padding_mode)
    grey = _grey(image)
    panels = len(maps) + 1
    columns = max(1, min(columns, panels))
    rows = -(-panels // columns)
    with rc_context(style.mpl_font_sizes()):
        figure = Figure(figsize=(4.4 * columns, 3.4 * rows + 0.5), dpi=100, layout="constrained")
        panels_ = figure.subfigures(rows, columns, wspace=0.03, hspace=0.03, squeeze=False)
        for index, panel in enumerate(panels_.ravel()):
            panel.set_facecolor(PANEL if index < len(maps) + 1 else "white")
        first = panels_[0, 0].add_subplot()
        first.imshow(grey, cmap="gray", vmin=0, vmax=1)
        panels_[0, 0].suptitle(f"input: {_image_name(image)}", fontweight="bold")
        first.set_xlabel(f"{grey.shape[0]}x{grey.shape[1]}, grey 0..1", fontsize=8.5)
        first.set_xticks([])
        first.set_yticks([])
        for index, feature in enumerate(maps, start=1):
            panel = panels_.ravel()[index]
            kernel_axes, map_axes = panel.subplots(1, 2, width_ratios=[1, 2.4])
            _draw_kernel(kernel_axes, feature.kernel)
            scale = colour_scale(feature.output)
            drawn = map_axes.imshow(feature.output, cmap=scale.cmap, vmin=scale.low, vmax=scale.high)
            panel.suptitle(_fit(feature.name, TITLE_CHARACTERS), fontweight="bold")
            map_axes.set_xlabel(_fit(feature.description, NOTE_CHARACTERS), fontsize=8.5)
            map_axes.set_xticks([])
            map_axes.set_yticks([])
            extend = {(True, True): "both", (True, False): "max", (False, True): "min"}.get(
                (scale.above, scale.below), "neither"
            )
            panel.colorbar(drawn, ax=map_axes, fraction=0.05, pad=0.02, shrink=0.8, extend=extend)
        lines = [
            f"Feature maps: each kernel slid over the image by convlab's conv2d (padding 'same', {padding_mode} "
            "borders)",
            "maps with negative values: purple < 0 < orange, white = 0; maps without: grey from 0, like the image",
            "arrows on a colour bar: values beyond its colours (99.5th percentile of |value|)",
        ]
        wrapped = [part for line in lines for part in textwrap.wrap(line, SUPTITLE_CHARACTERS * columns)]
        figure.suptitle("\n".join(wrapped), fontsize=12)
    if out is not None:
        with atomic_path(out) as temporary:
            figure.savefig(temporary)
    return figure


PANEL = "#F3F3F3"  # behind each kernel-and-map pair, so the two read as one
# Characters a panel's title (11 pt bold) and note (8.5 pt) hold within the panel's 4.4 inches, with room spare.
TITLE_CHARACTERS = 34
NOTE_CHARACTERS = 52
SUPTITLE_CHARACTERS = 44  # per column, at 12 pt


def _fit(text: str, width: int) -> str:
    """``text`` in at most two lines of ``width`` characters, cut with "..." beyond: a long name, such as a
    typed 5x5 kernel's, stays inside its own panel."""
    import textwrap

    lines = textwrap.wrap(text, width, max_lines=2, placeholder=" ...", break_on_hyphens=False)
    return "\n".join(lines) or text


def _limit(values: Array) -> float:
    """A symmetric colour limit: the 99.5th percentile of |value|, so a few extreme pixels do not wash out
    the map (the colour bar then shows arrows)."""
    import numpy as np

    magnitude = np.abs(values)
    limit = float(np.percentile(magnitude, 99.5))
    return limit if limit > 0 else float(magnitude.max()) or 1.0


def _draw_kernel(axes: Axes, kernel: Array) -> None:
    """The kernel as a small matrix of numbers on the same diverging colours."""
    import numpy as np

    from .cells import cell_value

    limit = float(np.abs(kernel).max()) or 1.0
    axes.imshow(kernel, cmap=style.DIVERGING_CMAP, vmin=-limit, vmax=limit)
    kh, kw = kernel.shape
    fractions = kernel.size > 1 and not np.allclose(kernel, np.round(kernel))
    if fractions:  # show the common divisor instead of 0.111...
        divisor = 1 / float(np.abs(kernel[kernel != 0]).min())
        shown = kernel * divisor
        axes.set_xlabel(f"× 1/{divisor:.3g}", fontsize=9)
    else:
        shown = kernel
    widest = max(len(cell_value(v)) for v in shown.ravel())
    size = 10 if max(kh, kw) <= 3 else 7 if widest <= 2 else 5  # wide numbers in a big kernel: smaller, apart
    for r in range(kh):
        for c in range(kw):
            dark = abs(float(kernel[r, c])) > 0.55 * limit  # white on the dark ends of the colour map
            axes.text(
                c,
                r,
                cell_value(shown[r, c]),
                ha="center",
                va="center",
                fontsize=size,
                color="white" if dark else style.INK,
                fontweight="bold",
            )
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_title("kernel", fontsize=9)
