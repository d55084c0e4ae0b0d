"""A trained model's first-layer kernels, every one: what the first convolution learned to look for.

Early layers of a CNN trained on images tend to learn edge detectors: kernels with a positive side
and a negative side, at some orientation (the lesson's ``[-1, 1]`` is the smallest of them).

Example:
    >>> from convlab.data import trained_digits_model
    >>> len(filters_figure(trained_digits_model()).axes)
    16
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import atomic_path
from ..errors import ArgumentError
from . import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["filters_figure", "first_conv"]


def first_conv(model: Any) -> Any:
    """The first Conv2d layer of a ``convlab.nn`` model (a Sequential or one layer)."""
    from ..nn import Conv2d

    for layer in list(model) if hasattr(model, "__iter__") else [model]:
        if isinstance(layer, Conv2d):
            return layer
    raise ArgumentError("the model has no Conv2d layer, so it has no kernels to draw", fix="pass a CNN")


def filters_figure(model: Any, *, columns: int = 8, out: str | Path | None = None) -> Figure:
    """Every kernel of the model's first convolution (one per output and input channel), in a grid.

    Each kernel has its own colour scale, symmetric about 0 (purple < 0 < orange, white = 0), so the
    pattern of each shows whatever its size; its largest |weight| is written under it.

    Shape:
        the first layer's weight (C_out, C_in, kH, kW) -> C_out * C_in panels.
    """
    import numpy as np
    from matplotlib import rc_context

    from .shown_figure import ShownFigure as Figure

    conv = first_conv(model)
    weight = np.asarray(conv.weight)
    kernels = weight.reshape(-1, *weight.shape[2:])
    columns = max(1, min(columns, len(kernels)))
    rows = math.ceil(len(kernels) / columns)
    with rc_context(style.mpl_font_sizes()):
        figure = Figure(figsize=(1.6 * columns + 0.4, 1.75 * rows + 0.9), dpi=100, layout="constrained")
        grid = figure.subplots(rows, columns, squeeze=False)
        for index, axes in enumerate(grid.ravel()):
            axes.set_xticks([])
            axes.set_yticks([])
            if index >= len(kernels):
                axes.set_axis_off()
                continue
            kernel = kernels[index]
            limit = float(np.abs(kernel).max()) or 1.0
            axes.imshow(kernel, cmap=style.DIVERGING_CMAP, vmin=-limit, vmax=limit)
            out_channel, in_channel = divmod(index, weight.shape[1])
            name = f"{out_channel}" if weight.shape[1] == 1 else f"{out_channel}.{in_channel}"
            axes.set_title(f"kernel {name}", fontsize=9)
            axes.set_xlabel(f"|w| ≤ {limit:.2f}", fontsize=8, color=style.MUTED)
        kh, kw = weight.shape[2:]
        figure.suptitle(
            f"First-layer kernels: {len(kernels)} learned {kh}x{kw} kernels\n"
            "purple < 0 < orange, white = 0, each on its own scale",
            fontsize=11,
        )
    if out is not None:
        with atomic_path(out) as temporary:
            figure.savefig(temporary)
    return figure
