"""Linear: the fully connected layer of a classifier head, y = x @ weight.T + bias."""

from __future__ import annotations

import math

import numpy as np

from .._args import Array, as_int, flag
from .._arrays import float_arrays
from ..diagnose import linear_mismatch
from ..errors import ShapeError
from .module import Module, Parameter, check_dtype

__all__ = ["Linear"]


class Linear(Module):
    """Fully connected layer with the meaning, initialisation and repr of ``torch.nn.Linear``.

    Every output is connected to every input: ``in_features * out_features``
    weights, which is why the lesson warns against flattening an image too early.

    Args:
        in_features: size of each input vector.
        out_features: size of each output vector.
        bias: learn a bias. Default: True.
        dtype: numpy.float32 or numpy.float64. Default: numpy.float32.
        seed: seed for the initial weights. Default: None.

    Attributes:
        weight: Parameter (out_features, in_features), uniform in ``±1/sqrt(in_features)``.
        bias: Parameter (out_features,), same bound, or None.

    Shape:
        (*, in_features) -> (*, out_features)

    Example:
        >>> Linear(1024, 512).weight.size  # the lesson's 32 x 32 image into 512 outputs
        524288
    """

    torch_name = "Linear"
    torch_arguments = ("in_features", "out_features", "bias")

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        dtype: object = np.float32,
        seed: int | None = None,
    ) -> None:
        self.in_features = as_int(in_features, "in_features", minimum=1)
        self.out_features = as_int(out_features, "out_features", minimum=1)
        resolved = check_dtype(dtype, "Linear")
        rng = np.random.default_rng(seed)
        bound = 1 / math.sqrt(self.in_features)
        self.weight = Parameter(rng.uniform(-bound, bound, (self.out_features, self.in_features)).astype(resolved))
        self.bias: Parameter | None = (
            Parameter(rng.uniform(-bound, bound, self.out_features).astype(resolved))
            if flag(bias, "bias")
            else None
        )
        self._input: Array | None = None

    def forward(self, input: object) -> Array:
        x = float_arrays({"input": input, "weight": self.weight})["input"]
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise linear_mismatch(self.in_features, self.out_features, tuple(x.shape)).error(ShapeError)
        self._input = x.copy()  # changing the caller's array later must not change the gradients
        out: Array = np.matmul(x, np.asarray(self.weight).T)
        if self.bias is not None:
            out += self.bias
        return out

    def backward(self, grad_output: object) -> Array:
        grad_input: Array = np.matmul(self._parameter_grads(grad_output), np.asarray(self.weight))
        return grad_input

    def backward_parameters(self, grad_output: object) -> None:
        """Add the weight and bias gradients to ``.grad``; the input's gradient is skipped."""
        self._parameter_grads(grad_output)

    def _parameter_grads(self, grad_output: object) -> Array:
        """Accumulate the weight and bias gradients; returns the output gradient as an array."""
        x = self._saved()
        grad = np.asarray(grad_output, dtype=x.dtype)
        rows, grad_rows = x.reshape(-1, self.in_features), grad.reshape(-1, self.out_features)
        self.weight.accumulate(grad_rows.T @ rows)
        if self.bias is not None:
            self.bias.accumulate(grad_rows.sum(axis=0))
        return grad

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
