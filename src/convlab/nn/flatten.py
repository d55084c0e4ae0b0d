"""Flatten: turn feature maps into one vector per image, the bridge from convolutions to Linear."""

from __future__ import annotations

import math

import numpy as np

from .._args import Array, as_int
from ..errors import ArgumentError
from .module import Module

__all__ = ["Flatten"]


class Flatten(Module):
    """Flatten axes ``start_dim`` .. ``end_dim`` into one, like ``torch.nn.Flatten``.

    Args:
        start_dim: first axis to flatten. Default: 1 (keep the batch axis).
        end_dim: last axis to flatten. Default: -1.

    Shape:
        (N, C, H, W) -> (N, C * H * W) with the defaults.

    Example:
        >>> Flatten()(np.zeros((2, 8, 4, 4))).shape
        (2, 128)
    """

    torch_name = "Flatten"
    torch_arguments = ("start_dim", "end_dim")

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim = as_int(start_dim, "start_dim", minimum=-(2**31))
        self.end_dim = as_int(end_dim, "end_dim", minimum=-(2**31))
        self._input_shape: tuple[int, ...] | None = None

    def forward(self, input: object) -> Array:
        x = np.asarray(input)
        start, end = (dim + x.ndim if dim < 0 else dim for dim in (self.start_dim, self.end_dim))
        if not 0 <= start <= end < max(x.ndim, 1):
            raise ArgumentError(
                f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}) does not fit an input "
                f"of shape {x.shape} with {x.ndim} dims",
                fix="use start_dim <= end_dim, both inside the input's dims",
            )
        self._input_shape = x.shape
        return x.reshape(*x.shape[:start], math.prod(x.shape[start : end + 1]), *x.shape[end + 1 :])

    def backward(self, grad_output: object) -> Array:
        """Flattening only moves values, so the gradient is reshaped back."""
        grad: Array = np.asarray(grad_output).reshape(self._saved("_input_shape"))
        return grad

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
