"""Loss and accuracy per epoch, on the training and the test set: is the model still learning, or overfitting?

Example:
    >>> from convlab.train import History
    >>> history = History([1.0, 0.5], [0.6, 0.8], [0.9, 0.6], [0.7, 0.75], [1.0, 1.0], [1.0, 1.0])
    >>> [axes.get_ylabel() for axes in curves_figure(history).axes]
    ['loss', 'accuracy (%)']
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import atomic_path
from . import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..train.history import History

__all__ = ["curves_figure"]


def curves_figure(history: History, *, out: str | Path | None = None) -> Figure:
    """Two panels: the mean loss per epoch and the accuracy per epoch, training (solid) and test (dashed)."""
    from matplotlib import rc_context

    from .shown_figure import ShownFigure as Figure

    epochs = list(range(1, history.epochs + 1))
    colours = {"train": style.OKABE_ITO["blue"], "test": style.OKABE_ITO["orange"]}
    with rc_context(style.mpl_font_sizes()):
        figure = Figure(figsize=(10, 4), dpi=100, layout="constrained")
        loss_axes, accuracy_axes = figure.subplots(1, 2)
        series: dict[Any, tuple[list[Any], list[Any], float]] = {
            loss_axes: (history.train_loss, history.test_loss, 1.0),
            accuracy_axes: (history.train_accuracy, history.test_accuracy, 100.0),
        }
        for axes, (train, test, scale) in series.items():
            for name, values, line in (("train", train, "-o"), ("test", test, "--s")):
                points = [(e, v * scale) for e, v in zip(epochs, values) if v is not None]
                if points:
                    xs, ys = zip(*points)
                    axes.plot(xs, ys, line, color=colours[name], label=name, markersize=4)
            axes.set_xlabel("epoch")
            axes.grid(alpha=0.3)
            axes.legend()
        loss_axes.set_ylabel("loss")
        loss_axes.set_yscale("log")
        accuracy_axes.set_ylabel("accuracy (%)")
        last = history.test_accuracy[-1] if history.test_accuracy else None
        shown = "" if last is None else f": test accuracy {100 * last:.1f}% after {history.epochs} epochs"
        figure.suptitle(f"Training curves{shown}", fontsize=12)
    if out is not None:
        with atomic_path(out) as temporary:
            figure.savefig(temporary)
    return figure
