"""Gradient descent finding the lesson's edge kernel: the kernel's path over the loss, and the loss per step.

Example:
    >>> from convlab.train.kernel import learn_edge_kernel
    >>> figure = kernel_descent_figure(learn_edge_kernel(steps=20))
    >>> [axes.get_xlabel() for axes in figure.axes[:2]]
    ['w0 (left weight)', 'step']
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .._files import atomic_path
from . import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..train.kernel import KernelRun

__all__ = ["kernel_descent_figure"]


def kernel_descent_figure(run: KernelRun, *, out: str | Path | None = None) -> Figure:
    """Left: the loss over every kernel [w0, w1] (contours), and the path the steps took to [-1, 1].
    Right: the loss at each step, on a log scale (a straight line: the error shrinks by a constant factor)."""
    import numpy as np
    from matplotlib import rc_context

    from .shown_figure import ShownFigure as Figure

    path = run.kernels
    # The loss of any kernel, from the image's neighbouring pairs (left, right) and the edge map.
    left, right, target = run.image[:, :-1].ravel(), run.image[:, 1:].ravel(), run.target.ravel()
    reach = max(1.6, float(np.abs(path).max()) + 0.3)
    w0, w1 = np.meshgrid(np.linspace(-reach, reach, 201), np.linspace(-reach, reach, 201))
    outputs = w0[..., None] * left + w1[..., None] * right
    surface = np.mean((outputs - target) ** 2, axis=-1)
    with rc_context(style.mpl_font_sizes()):
        figure = Figure(figsize=(11, 4.8), dpi=100, layout="constrained")
        plane, curve = figure.subplots(1, 2, width_ratios=[1, 1.15])
        levels = np.geomspace(max(float(surface.min()), 1e-4), float(surface.max()), 14)
        plane.contour(w0, w1, surface, levels=levels, colors=style.MUTED, linewidths=0.6)
        plane.plot(
            path[:, 0], path[:, 1], "-o", color=style.OKABE_ITO["blue"], markersize=3, label="kernel at each step"
        )
        plane.plot(*path[0], "s", color=style.OKABE_ITO["vermillion"], markersize=9, label="random start")
        plane.plot(
            -1,
            1,
            "*",
            color=style.OKABE_ITO["orange"],
            markersize=16,
            markeredgecolor=style.INK,
            label="the lesson's [-1, 1]",
        )
        plane.set_xlabel("w0 (left weight)")
        plane.set_ylabel("w1 (right weight)")
        plane.set_aspect("equal")
        plane.legend(loc="lower left", fontsize=8)
        plane.set_title("the kernel's path over the loss (contours)", fontsize=10)
        curve.semilogy(range(1, len(run.losses) + 1), run.losses, "-", color=style.OKABE_ITO["blue"])
        curve.set_xlabel("step")
        curve.set_ylabel("mean squared error")
        curve.grid(alpha=0.3)
        curve.set_title(f"loss per step (lr={run.lr:g})", fontsize=10)
        learned = run.kernel[0]
        figure.suptitle(
            f"Learning Lab 2's edge kernel from its image and edge map: [{learned[0]:+.3f}, {learned[1]:+.3f}] "
            f"after {len(run.losses)} steps",
            fontsize=12,
        )
    if out is not None:
        with atomic_path(out) as temporary:
            figure.savefig(temporary)
    return figure
