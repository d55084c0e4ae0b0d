"""The algorithms behind conv2d: each one file, each with the same three functions.

Every algorithm works on an input that is already padded (padding modes are
handled once, in :mod:`convlab.functional.padding`) and provides::

    forward(padded, weight, bias, stride, dilation, groups)                  -> (N, O, H_out, W_out)
    input_grad(weight, grad_output, padded_size, stride, dilation, groups)   -> (N, C, H_pad, W_pad)
    weight_grad(padded, grad_output, kernel_size, stride, dilation, groups)  -> (O, C/groups, kH, kW)

``algorithm="auto"`` picks one by :func:`choose`; any name in :data:`ALGORITHMS`
can be asked for directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..._args import Array, Pair
from ...errors import ArgumentError
from .. import reference
from ..geometry import ConvGeometry
from . import im2col

__all__ = ["ALGORITHMS", "Algorithm", "choose"]


@dataclass(frozen=True)
class Algorithm:
    """One way of computing a convolution and its two gradients."""

    name: str
    forward: Callable[[Array, Array, Array | None, Pair, Pair, int], Array]
    input_grad: Callable[[Array, Array, Pair, Pair, Pair, int], Array]
    weight_grad: Callable[[Array, Array, Pair, Pair, Pair, int], Array]


ALGORITHMS = {
    "im2col": Algorithm("im2col", im2col.forward, im2col.input_grad, im2col.weight_grad),
    "reference": Algorithm(
        "reference", reference.correlate, reference.correlate_input_grad, reference.correlate_weight_grad
    ),
}


def choose(algorithm: object, geometry: ConvGeometry | None = None) -> Algorithm:
    """The algorithm to run: the one asked for, or for ``"auto"`` the fastest for this geometry.

    The rule today: im2col + GEMM for every geometry (the only fast algorithm so
    far), so ``geometry`` is not consulted yet.
    """
    if algorithm == "auto":
        return ALGORITHMS["im2col"]
    if isinstance(algorithm, str) and algorithm in ALGORITHMS:
        return ALGORITHMS[algorithm]
    raise ArgumentError(
        f"algorithm must be 'auto' or one of {', '.join(map(repr, ALGORITHMS))}, got {algorithm!r}",
        fix="leave algorithm='auto' to let convlab choose",
    )
