"""The confusion matrix: for each true class, how often the model answered each class.

The diagonal holds the right answers; a bright cell off it is a pair of classes the model mixes up.

Example:
    >>> figure = confusion_figure([0, 1, 1], [0, 1, 0], ("a", "b"))
    >>> figure.axes[0].get_xlabel()
    'predicted class'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import atomic_path
from . import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["confusion_figure", "confusion_matrix"]


def confusion_matrix(labels: Any, predicted: Any, classes: int) -> Any:
    """(classes, classes) counts: row = the true class, column = the predicted class."""
    import numpy as np

    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predicted)), 1)
    return matrix


def confusion_figure(
    labels: Any, predicted: Any, class_names: Sequence[str], *, out: str | Path | None = None
) -> Figure:
    """The confusion matrix with every count written in its cell, and the accuracy in the title."""
    import numpy as np
    from matplotlib import rc_context

    from .shown_figure import ShownFigure as Figure

    matrix = confusion_matrix(labels, predicted, len(class_names))
    accuracy = np.trace(matrix) / max(1, matrix.sum())
    side = 1.0 + 0.55 * len(class_names)
    with rc_context(style.mpl_font_sizes()):
        figure = Figure(figsize=(side + 1.6, side + 0.6), dpi=100, layout="constrained")
        axes = figure.subplots()
        drawn = axes.imshow(matrix, cmap="Blues")
        for (row, column), count in np.ndenumerate(matrix):
            if count:
                dark = count > 0.6 * matrix.max()
                axes.text(
                    column,
                    row,
                    str(count),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else style.INK,
                )
        ticks = range(len(class_names))
        axes.set_xticks(
            ticks,
            class_names,
            rotation=45 if max(map(len, class_names)) > 2 else 0,
            ha="right" if max(map(len, class_names)) > 2 else "center",
        )
        axes.set_yticks(ticks, class_names)
        axes.set_xlabel("predicted class")
        axes.set_ylabel("true class")
        figure.colorbar(drawn, ax=axes, fraction=0.046, pad=0.03, label="images")
        axes.set_title(f"Confusion on {matrix.sum()} test images: {100 * accuracy:.1f}% right", fontsize=11)
    if out is not None:
        with atomic_path(out) as temporary:
            figure.savefig(temporary)
    return figure
