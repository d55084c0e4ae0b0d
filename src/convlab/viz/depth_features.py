"""One image through a trained CNN: its feature maps at each depth, and the probability of each class.

Example:
    >>> from convlab.data import digits, trained_digits_model
    >>> images, labels = digits("test")
    >>> figure = depth_features_figure(trained_digits_model(), images[0], [str(d) for d in range(10)])
    >>> figure.get_suptitle().startswith("One image")
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import atomic_path
from . import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["depth_features_figure"]


def depth_features_figure(
    model: Any,
    image: Any,
    class_names: Sequence[str],
    *,
    label: int | None = None,
    columns: int = 16,
    out: str | Path | None = None,
) -> Figure:
    """The input and the class probabilities on top, then one row of feature maps per depth.

    A depth is the output of each convolution block (after its activation). Maps of one depth share
    a colour scale (dark = 0), so the channels the image excites stand out.

    Shape:
        image (C, H, W) -> rows of C_k maps (H_k, W_k), one row per depth k, and K probabilities.
    """
    import numpy as np
    from matplotlib import rc_context

    from ..train.activations import activations, depths, probabilities
    from .shown_figure import ShownFigure as Figure

    outputs = activations(model, image)
    shown = depths(outputs)
    chances = probabilities(outputs)
    rows = [math.ceil(len(item.output) / columns) for item in shown]
    with rc_context(style.mpl_font_sizes()):
        figure = Figure(
            figsize=(1.0 * columns + 0.5, 2.6 + 1.15 * sum(rows) + 0.5 * len(rows)), dpi=100, layout="constrained"
        )
        parts: Any = figure.subfigures(
            1 + len(shown), 1, height_ratios=[2.4] + [0.5 + r for r in rows], hspace=0.02
        )
        top = np.atleast_1d(parts)[0]
        picture, bars = top.subplots(1, 2, width_ratios=[1, 3])
        grey = np.asarray(image)[0]
        picture.imshow(grey, cmap="gray")
        picture.set_xticks([])
        picture.set_yticks([])
        truth = "" if label is None else f", true class {class_names[label]}"
        picture.set_title(f"input {'x'.join(map(str, np.shape(image)))}{truth}", fontsize=9)
        best = int(chances.argmax())
        colours = [style.OKABE_ITO["orange"] if k == best else style.OKABE_ITO["sky"] for k in range(len(chances))]
        bars.bar(range(len(chances)), 100 * chances, color=colours)
        bars.set_xticks(range(len(chances)), class_names, fontsize=8)
        bars.set_ylabel("probability (%)")
        bars.set_ylim(0, 100)
        bars.set_title(f"class probabilities: {class_names[best]} at {100 * chances[best]:.1f}%", fontsize=9)
        for depth, (item, part) in enumerate(zip(shown, np.atleast_1d(parts)[1:]), start=1):
            maps = item.output
            limit = float(maps.max()) or 1.0
            low = min(0.0, float(maps.min()))
            grid = part.subplots(math.ceil(len(maps) / columns), columns, squeeze=False)
            for index, axes in enumerate(grid.ravel()):
                axes.set_xticks([])
                axes.set_yticks([])
                if index < len(maps):
                    axes.imshow(maps[index], cmap="magma", vmin=low, vmax=limit)
                else:
                    axes.set_axis_off()
            c, h, w = maps.shape
            part.suptitle(
                f"depth {depth}: {c} maps of {h}x{w} after layer {item.index} ({item.layer!r})", fontsize=9
            )
        figure.suptitle(
            "One image through the network: edges first, then combinations of them, then scores", fontsize=11
        )
    if out is not None:
        with atomic_path(out) as temporary:
            figure.savefig(temporary)
    return figure
