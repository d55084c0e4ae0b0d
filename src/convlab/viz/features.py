"""Feature maps on a real image: a bank of classic kernels (or your own) run through the engine's conv2d.

Each kernel is convolved with the image (grey, values 0..1) with
``padding="same"`` and reflected borders, so every map has the image's size and
no dark frame. Maps are drawn with a diverging colour map centred on zero
(purple below, white at zero, orange above: no red/green), each on its own
symmetric scale with a colour bar, beside the kernel's own numbers.

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

__all__ = ["KERNELS", "FeatureMap", "feature_maps", "features_figure", "kernel_named"]

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
    from matplotlib import rc_context
    from matplotlib.figure import Figure

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
            limit = _limit(feature.output)
            drawn = map_axes.imshow(feature.output, cmap=style.DIVERGING_CMAP, vmin=-limit, vmax=limit)
            panel.suptitle(feature.name, fontweight="bold")
            map_axes.set_xlabel(feature.description, fontsize=8.5)
            map_axes.set_xticks([])
            map_axes.set_yticks([])
            above, below = float(feature.output.max()) > limit, float(feature.output.min()) < -limit
            extend = "both" if above and below else "max" if above else "min" if below else "neither"
            panel.colorbar(drawn, ax=map_axes, fraction=0.05, pad=0.02, shrink=0.8, extend=extend)
        figure.suptitle(
            "Feature maps: each kernel slid over the image by convlab's conv2d (padding 'same', "
            f"{padding_mode} borders)\npurple < 0 < orange, white = 0; colours up to the 99.5th percentile "
            "of |value| (arrows: values beyond)",
            fontsize=12,
        )
    if out is not None:
        with atomic_path(out) as temporary:
            figure.savefig(temporary)
    return figure


PANEL = "#F3F3F3"  # behind each kernel-and-map pair, so the two read as one


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
    size = 10 if max(kh, kw) <= 3 else 7
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
