"""ReLU: max(0, x), the nonlinearity between convolutions."""

from __future__ import annotations

import numpy as np

from .._args import Array
from .._arrays import float_arrays
from .module import Module

__all__ = ["ReLU"]


class ReLU(Module):
    """Rectified linear unit, ``max(0, x)`` element-wise, like ``torch.nn.ReLU``.

    Shape:
        any shape -> the same shape

    Example:
        >>> ReLU()(np.array([-1.0, 2.0]))
        array([0., 2.])
    """

    torch_name = "ReLU"
    torch_arguments = ()

    def __init__(self) -> None:
        self._input: Array | None = None

    def forward(self, input: object) -> Array:
        self._input = float_arrays({"input": input})["input"]
        return np.maximum(self._input, 0)

    def backward(self, grad_output: object) -> Array:
        """The gradient passes where the input was positive and stops elsewhere (also at exactly 0)."""
        x = self._saved()
        return np.where(x > 0, np.asarray(grad_output, dtype=x.dtype), 0).astype(x.dtype)
