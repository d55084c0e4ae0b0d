"""Element-wise nonlinearities between convolutions: ReLU, Sigmoid, Tanh."""

from __future__ import annotations

import numpy as np

from .._args import Array
from .._arrays import float_arrays
from .module import Module

__all__ = ["ReLU", "Sigmoid", "Tanh"]


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
        return np.where(x > 0, np.asarray(grad_output, dtype=x.dtype), x.dtype.type(0))


class Sigmoid(Module):
    """The logistic function ``1 / (1 + exp(-x))`` element-wise, like ``torch.nn.Sigmoid`` (LeNet-5's).

    Shape:
        any shape -> the same shape

    Example:
        >>> Sigmoid()(np.array([0.0]))
        array([0.5])
    """

    torch_name = "Sigmoid"
    torch_arguments = ()

    def __init__(self) -> None:
        self._output: Array | None = None

    def forward(self, input: object) -> Array:
        x = float_arrays({"input": input})["input"]
        small = np.exp(-np.abs(x))  # never overflows: exp of a value <= 0
        output: Array = np.where(x >= 0, 1 / (1 + small), small / (1 + small)).astype(x.dtype)
        self._output = output
        return output

    def backward(self, grad_output: object) -> Array:
        """The slope is y (1 - y): at most 1/4, and near 0 far from the middle (where gradients vanish)."""
        y: Array = self._saved("_output")
        grad: Array = (np.asarray(grad_output, dtype=y.dtype) * y * (1 - y)).astype(y.dtype)
        return grad


class Tanh(Module):
    """Hyperbolic tangent element-wise, like ``torch.nn.Tanh``: a sigmoid centred on 0, from -1 to 1.

    Shape:
        any shape -> the same shape

    Example:
        >>> Tanh()(np.array([0.0]))
        array([0.])
    """

    torch_name = "Tanh"
    torch_arguments = ()

    def __init__(self) -> None:
        self._output: Array | None = None

    def forward(self, input: object) -> Array:
        output: Array = np.tanh(float_arrays({"input": input})["input"])
        self._output = output
        return output

    def backward(self, grad_output: object) -> Array:
        """The slope is 1 - y^2."""
        y: Array = self._saved("_output")
        grad: Array = (np.asarray(grad_output, dtype=y.dtype) * (1 - y * y)).astype(y.dtype)
        return grad
