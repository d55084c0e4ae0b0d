"""Why not flatten first? A fully connected layer's weights on a flattened image against a convolution's.

The fully connected layer needs one weight per (input value, output) pair, so
its count grows with the image's area; the convolution's kernels are shared by
every position, so its count does not depend on the image at all. Drawn on a
log scale across image sizes, with the lesson's two examples marked. Every
number is :func:`convlab.lesson.flatten_cost.flatten_vs_conv`'s.

Example:
    >>> figure = params_figure(sizes=(32, 224))
    >>> [line.get_label() for line in figure.axes[0].lines][:2]
    ['Linear(H*W*1, 512), grey image', 'Linear(H*W*3, 512), RGB image']
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .._files import atomic_path
from . import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SIZES", "params_figure"]

SIZES = (8, 16, 28, 32, 64, 96, 128, 224, 256, 384, 512)


def _count(value: float, _: object = None) -> str:
    """1K, 2.5M, 77M, 1.2B: readable tick labels for a log axis."""
    for unit, name in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if value >= unit:
            return f"{value / unit:.3g}{name}"
    return f"{value:.3g}"


def params_figure(
    sizes: Sequence[int] = SIZES,
    *,
    outputs: int = 512,
    out_channels: int = 8,
    kernel_size: int = 3,
    out: str | Path | None = None,
) -> Figure:
    """Weights of ``Linear(H*W*C, outputs)`` and of ``Conv2d(C, out_channels, kernel_size)`` for square
    images of each size, grey (C=1) and RGB (C=3). With ``out``, also write the PNG."""
    from matplotlib import rc_context
    from matplotlib.ticker import FuncFormatter

    from ..lesson.flatten_cost import flatten_vs_conv
    from .shown_figure import ShownFigure as Figure

    sides = sorted({int(size) for size in sizes})
    with rc_context(style.mpl_font_sizes()):
        figure = Figure(figsize=(10, 6.2), dpi=100, layout="constrained")
        axes = figure.add_subplot()
        lines = (
            (1, "linear", "Linear(H*W*1, {o}), grey image", style.OKABE_ITO["vermillion"], "-", "o"),
            (3, "linear", "Linear(H*W*3, {o}), RGB image", style.OKABE_ITO["orange"], "--", "s"),
            (1, "conv", "Conv2d(1, {c}, {k}x{k}), grey image", style.OKABE_ITO["blue"], "-", "^"),
            (3, "conv", "Conv2d(3, {c}, {k}x{k}), RGB image", style.OKABE_ITO["sky"], "--", "v"),
        )
        for channels, kind, label, colour, linestyle, marker in lines:
            costs = [flatten_vs_conv(side, side, channels, outputs, kernel_size, out_channels) for side in sides]
            counts = [cost.linear_weights if kind == "linear" else cost.conv_weights for cost in costs]
            axes.plot(
                sides,
                counts,
                color=colour,
                linestyle=linestyle,
                marker=marker,
                linewidth=2,
                label=label.format(o=outputs, c=out_channels, k=kernel_size),
            )
        for side, channels in ((32, 1), (224, 3)):  # the lesson's two examples
            cost = flatten_vs_conv(side, side, channels, outputs, kernel_size, out_channels)
            axes.annotate(
                f"{side}x{side}x{channels}: {cost.inputs:,} * {outputs:,}\n= {cost.linear_weights:,} weights",
                (side, cost.linear_weights),
                textcoords="offset points",
                xytext=(-150 if side > 100 else 12, 14 if side > 100 else -34),
                arrowprops={"arrowstyle": "->", "color": style.INK},
                fontsize=9.5,
            )
            axes.annotate(
                f"{cost.conv_weights:,} weights at any size",
                (side, cost.conv_weights),
                textcoords="offset points",
                xytext=(8, 10),
                fontsize=9,
                color=style.INK,
            )
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xticks(sides, [str(side) for side in sides])
        axes.minorticks_off()
        axes.yaxis.set_major_formatter(FuncFormatter(_count))
        axes.set_xlabel("image side H = W (pixels)")
        axes.set_ylabel("weights (log scale)")
        axes.grid(True, which="major", alpha=0.3)
        axes.legend(loc="center right", frameon=True, framealpha=0.95)
        axes.set_title(
            "Why not flatten the image first? A fully connected layer's weights grow with the image's area;\n"
            "a convolution shares one small kernel per channel pair across every position",
        )
    if out is not None:
        with atomic_path(out) as temporary:
            figure.savefig(temporary)
    return figure
