"""Learn the lesson's edge kernel from data: the kernel is not written by hand, gradient descent finds it.

The data is the lesson's Lab 2: its 5x5 image and the edge map its ``[-1, 1]`` kernel makes. A 1x2
convolution starts from random weights; each step computes its output, the mean squared error
against the edge map, the gradient of that error for the kernel, and moves the kernel against it.
The image has three kinds of neighbouring pairs, (0, 0) -> 0, (0, 1) -> 1 and (1, 1) -> 0, so only
``[-1, 1]`` makes the error zero: ``w1 = 1`` from the second, ``w0 + w1 = 0`` from the third.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._args import Array, as_int
from ..lesson.labs import value_lab
from ..nn import Conv2d, MSELoss
from ..optim import SGD
from .fit import diverged

__all__ = ["KernelRun", "learn_edge_kernel"]


@dataclass(frozen=True)
class KernelRun:
    """A run of :func:`learn_edge_kernel`.

    Shape:
        image (5, 5), target (5, 4): Lab 2's image and edge map;
        kernels (steps + 1, 2): the kernel [w0, w1] before each step and after the last;
        losses (steps,): the mean squared error at each step, before its update.
    """

    image: Array
    target: Array
    kernels: Array
    losses: Array
    lr: float

    @property
    def kernel(self) -> Array:
        """The learned kernel, shaped (1, 2) like the lesson's ``[[-1, 1]]``."""
        kernel: Array = self.kernels[-1].reshape(1, 2)
        return kernel

    def __str__(self) -> str:
        w0, w1 = self.kernels[-1].tolist()
        loss = self.losses[-1]
        return f"after {len(self.losses)} steps (lr {self.lr:g}): kernel [[{w0:.4f}, {w1:.4f}]], loss {loss:.3g}"

    def _repr_png_(self) -> bytes:
        """The loss and the two kernel weights, step by step."""
        from .._display.plot import line_plot_png

        w0, w1 = self.kernels[:-1].T.tolist()
        panels = {"loss": {"loss": self.losses.tolist()}, "kernel": {"w0 (-> -1)": w0, "w1 (-> 1)": w1}}
        return line_plot_png(panels, xlabel="step", title=str(self))


def learn_edge_kernel(steps: int = 30, lr: float = 1.0, seed: int = 0) -> KernelRun:
    """Learn a 1x2 kernel from Lab 2's image and edge map by plain gradient descent (float64).

    Args:
        steps: gradient steps. Default: 30.
        lr: the learning rate; above about 1.46 the steps overshoot and the loss grows. Default: 1.0.
        seed: draws the starting kernel (PyTorch's initialisation for a 1x2 kernel). Default: 0.

    Raises:
        ArgumentError: lr <= 0 or NaN; a loss that becomes infinite (names the step, suggests a smaller lr).

    Example:
        >>> run = learn_edge_kernel(steps=60)
        >>> np.round(run.kernel, 3) + 0
        array([[-1.,  1.]])
    """
    count = as_int(steps, "steps", minimum=1)
    lab = value_lab("edge")
    image = np.asarray(lab.image, dtype=np.float64)
    target = np.asarray(lab.output, dtype=np.float64)
    conv = Conv2d(1, 1, (1, 2), bias=False, dtype=np.float64, seed=as_int(seed, "seed", minimum=0))
    optimizer = SGD(conv.parameters(), lr=lr)
    criterion = MSELoss()
    kernels, losses = [conv.weight.reshape(2).copy()], []
    for step in range(1, count + 1):
        optimizer.zero_grad()
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is stopped below, by name
            loss = float(criterion(conv(image[None, None]), target[None, None]))
            if not np.isfinite(loss):
                raise diverged(loss, step, optimizer)
            conv.backward_parameters(criterion.backward())
            optimizer.step()
        losses.append(loss)
        kernels.append(conv.weight.reshape(2).copy())
    return KernelRun(image, target, np.array(kernels), np.array(losses), optimizer.lr)
