"""Element-wise nonlinearities between convolutions: ReLU, Sigmoid, Tanh."""

from __future__ import annotations

from typing import Any

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
        self._stops: Array | None = None  # where the input was <= 0: a byte per value, and the caller's array
        self._dtype: np.dtype[Any] | None = None  # may change after forward without changing the gradient

    def forward(self, input: object) -> Array:
        x = float_arrays({"input": input})["input"]
        self._stops, self._dtype = x <= 0, x.dtype
        return np.maximum(x, 0)

    def backward(self, grad_output: object) -> Array:
        """The gradient stops where the input was <= 0 (also at exactly 0) and passes elsewhere, as in torch:
        a NaN input is not <= 0, so its gradient passes."""
        stops = self._saved("_stops")
        return _zero_where(stops, np.asarray(grad_output, dtype=self._dtype))


def _zero_where(stops: Array, grad: Array) -> Array:
    """``grad`` with +0 where ``stops`` is true, every other value's bits kept (NaN, Inf, -0 included).

    One bitwise AND with a mask of all-ones or all-zeros words: ``np.where`` branches on each element,
    which on a mask as random as ReLU's signs takes about 6x longer (10 against 1.7 ms for 2M float32).
    """
    if grad.shape != stops.shape or grad.dtype.itemsize not in (4, 8):
        return np.where(stops, grad.dtype.type(0), grad)
    words = np.dtype(f"u{grad.itemsize}")
    keep = stops.astype(words)
    np.subtract(keep, 1, out=keep)  # stop (1) -> 0, pass (0) -> all ones
    out = np.empty(grad.shape, grad.dtype)
    np.bitwise_and(np.ascontiguousarray(grad).view(words), keep, out=out.view(words))
    return out


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
        self._output = output.copy()  # the caller gets ``output``: changing it must not change the gradient
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
        self._output = output.copy()  # the caller gets ``output``: changing it must not change the gradient
        return output

    def backward(self, grad_output: object) -> Array:
        """The slope is 1 - y^2."""
        y: Array = self._saved("_output")
        grad: Array = (np.asarray(grad_output, dtype=y.dtype) * (1 - y * y)).astype(y.dtype)
        return grad
