"""The input gradient of a convolution is itself a convolution: run it through any algorithm's forward.

Input cell y was read by output i through kernel cell a when ``y = i*s + a*d``.
Spread grad_output back to the stride grid (zeros between, the "dilated"
gradient), pad it by ``d*(k-1)`` on every side, and correlate it with the kernel
turned 180 degrees, in and out channels swapped: that is the gradient for every
cell of the padded input, computed by the same fast forward as the convolution.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..._args import Array, Pair

__all__ = ["flipped_weight", "input_grad_by_forward"]

Forward = Callable[[Array, Array, Array | None, Pair, Pair, int], Array]


def flipped_weight(weight: Array, groups: int) -> Array:
    """(O, C/g, kh, kw) -> (C, O/g, kh, kw), rotated 180 degrees: the kernels of the adjoint convolution."""
    O, C_g, kh, kw = weight.shape
    grouped = weight.reshape(groups, O // groups, C_g, kh, kw)
    swapped = grouped.transpose(0, 2, 1, 3, 4).reshape(groups * C_g, O // groups, kh, kw)
    flipped: Array = np.ascontiguousarray(swapped[:, :, ::-1, ::-1])
    return flipped


def input_grad_by_forward(
    forward: Forward,
    weight: Array,
    grad_output: Array,
    padded_size: Pair,
    stride: Pair,
    dilation: Pair,
    groups: int,
) -> Array:
    """Gradient for the padded input, as a stride-1 convolution of the spread, padded gradient.

    Shape:
        weight (O, C/groups, kH, kW), grad_output (N, O, H_out, W_out) -> (N, C, H_pad, W_pad)
    """
    N, O, Ho, Wo = grad_output.shape
    (kh, kw), (sh, sw), (dh, dw) = weight.shape[2:], stride, dilation
    reach_h, reach_w = dh * (kh - 1), dw * (kw - 1)
    spread_h, spread_w = (Ho - 1) * sh + 1, (Wo - 1) * sw + 1
    spread = np.zeros((N, O, spread_h + 2 * reach_h, spread_w + 2 * reach_w), dtype=grad_output.dtype)
    spread[:, :, reach_h : reach_h + spread_h : sh, reach_w : reach_w + spread_w : sw] = grad_output
    grad = forward(spread, flipped_weight(weight, groups), None, (1, 1), (dh, dw), groups)
    if grad.shape[2:] == tuple(padded_size):
        return grad
    full = np.zeros((N, grad.shape[1], *padded_size), dtype=grad.dtype)  # rows no window reached stay zero
    full[:, :, : grad.shape[2], : grad.shape[3]] = grad
    return full
