"""A small line plot as PNG bytes, for results that are series (a training run's loss and accuracy per epoch).

Drawn on matplotlib's Agg canvas, never pyplot, and imported only when a plot is asked for.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

__all__ = ["line_plot_png"]


def line_plot_png(
    panels: Mapping[str, Mapping[str, Sequence[float | None]]], *, xlabel: str, title: str = ""
) -> bytes:
    """One small panel per entry of ``panels`` (its y label -> named series); missing values (None) are skipped.

    Series are plotted against 1, 2, ... (epochs or steps).
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(3.2 * len(panels), 2.4), dpi=100, layout="constrained")
    axes_list = figure.subplots(1, len(panels), squeeze=False)[0]
    for axes, (ylabel, series) in zip(axes_list, panels.items()):
        for name, values in series.items():
            points = [(x, v) for x, v in enumerate(values, start=1) if v is not None]
            if points:
                xs, ys = zip(*points)
                axes.plot(xs, ys, "-o", markersize=3, label=name)
        axes.set_xlabel(xlabel, fontsize=9)
        axes.set_ylabel(ylabel, fontsize=9)
        axes.tick_params(labelsize=8)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs and steps are whole numbers
        axes.grid(alpha=0.3)
        if len(series) > 1:
            axes.legend(fontsize=8)
    if title:
        figure.suptitle(title, fontsize=10)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
