"""Dropout: in training, zero each value with probability p and scale the rest by 1 / (1 - p)."""

from __future__ import annotations

import numpy as np

from .._args import Array
from .._arrays import float_arrays
from ..errors import ArgumentError
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Randomly zeroed values in training mode, nothing in eval mode, like ``torch.nn.Dropout``.

    Scaling the kept values by ``1 / (1 - p)`` keeps each value's expectation, so the network needs
    no change at inference. The random draws come from ``seed``, so a run can be repeated
    (PyTorch's own draws cannot be reproduced, so the two agree on the rule, not on the mask).

    Args:
        p: probability of zeroing each value, in [0, 1]. Default: 0.5.
        seed: seed of the masks. Default: None.

    Shape:
        any shape -> the same shape

    Example:
        >>> layer = Dropout(0.5, seed=0)
        >>> sorted(set(layer(np.ones(100)).tolist()))  # every value dropped or doubled
        [0.0, 2.0]
        >>> layer.eval()(np.ones(3))
        array([1., 1., 1.])
    """

    torch_name = "Dropout"
    torch_arguments = ("p",)

    def __init__(self, p: float = 0.5, *, seed: int | None = None) -> None:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ArgumentError(
                f"Dropout: p={p!r} must be a probability between 0 and 1", fix="use e.g. Dropout(0.5)"
            )
        self.p = float(p)
        self._random = np.random.default_rng(seed)
        self._mask: Array | None = None
        self._ran: bool | None = None  # set by forward: backward needs it to have run

    def forward(self, input: object) -> Array:
        x = float_arrays({"input": input})["input"]
        self._ran = True
        if not self.training or self.p == 0:
            self._mask = None
            return x
        keep = self._random.random(x.shape) >= self.p
        scale = 0.0 if self.p == 1 else 1 / (1 - self.p)  # p = 1 drops everything, as in PyTorch
        mask: Array = (keep * np.asarray(scale)).astype(x.dtype)
        self._mask = mask
        return x * mask

    def backward(self, grad_output: object) -> Array:
        """The gradient flows only through the kept values, scaled as they were."""
        self._saved("_ran")
        grad = np.asarray(grad_output)
        return grad if self._mask is None else grad * self._mask

    def extra_repr(self) -> str:
        return f"p={self.p}"
