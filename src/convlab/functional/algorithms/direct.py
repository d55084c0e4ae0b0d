"""Direct convolution: each output summed from its own window, compiled, with zero padding fused.

im2col copies every window into a matrix first: kH * kW copies of the input,
which for a 7x7 stride-2 first layer (three input channels, 224 x 224) is a
copy 12 times the input's size, written and read again for a matrix product
whose inner dimension is only 147. Here the compiled loop of
:mod:`.direct_kernels` reads the input in place, once per tap, and adds into
the output row for all output channels at once; with zero padding the padded
input is never built. It pays where the matrix product has little to do per
copied value: few input channels, a stride, a dilation.

The forward pass is direct; both gradients are im2col's (its matrix products
are large there: over the output positions). Below a size threshold the
forward runs im2col too, so small calls need no compilation.
"""

from __future__ import annotations

import numpy as np

from ..._args import Array, Pad2d, Pair
from ..geometry import output_length
from . import im2col, parallel

__all__ = [
    "forward",
    "forward_zero_padded",
    "input_grad",
    "input_grad_zero_padded",
    "weight_grad",
    "weight_grad_zero_padded",
]

COMPILED_MIN_WORK = 1 << 20  # multiply-adds from which the compiled loop pays for its first-call cost
NO_PADDING: Pad2d = ((0, 0), (0, 0))

input_grad = im2col.input_grad
weight_grad = im2col.weight_grad


def forward_zero_padded(
    input: Array, weight: Array, bias: Array | None, padding: Pad2d, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """conv2d of ``input`` bordered by ``padding`` zeros, without building the padded array.

    Shape: input (N, C, H, W), weight (O, C / groups, kH, kW) -> (N, O, H_out, W_out)
    """
    N, _, H, W = input.shape
    O, C_g, kh, kw = weight.shape
    Ho, Wo = output_length((H, W), (kh, kw), stride, (sum(padding[0]), sum(padding[1])), dilation)
    if groups != 1 or N * O * Ho * Wo * C_g * kh * kw < COMPILED_MIN_WORK:
        return im2col.forward(parallel.zero_padded(input, padding), weight, bias, stride, dilation, groups)
    from . import direct_kernels

    out = np.empty((N, O, Ho, Wo), dtype=weight.dtype)
    w_last = np.ascontiguousarray(weight.transpose(1, 2, 3, 0))
    rows = np.empty((Ho, Wo, O), dtype=weight.dtype)  # one image's scratch, reused: its pages stay mapped
    x = np.ascontiguousarray(input)
    for n in range(N):
        direct_kernels.forward(
            x[n : n + 1], w_last, out[n : n + 1], rows, padding[0][0], padding[1][0], *stride, *dilation
        )
    if bias is not None:
        out += bias[:, None, None]
    return out


def forward(padded: Array, weight: Array, bias: Array | None, stride: Pair, dilation: Pair, groups: int) -> Array:
    """Shape: padded (N, C, H_pad, W_pad), weight (O, C / groups, kH, kW) -> (N, O, H_out, W_out)."""
    return forward_zero_padded(padded, weight, bias, NO_PADDING, stride, dilation, groups)


def input_grad_zero_padded(
    weight: Array, grad_output: Array, input_size: Pair, padding: Pad2d, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """im2col's input gradient, cut to the unpadded input.

    Shape: grad_output (N, O, H_out, W_out) -> (N, C, H, W)
    """
    (top, bottom), (left, right) = padding
    padded_size = (input_size[0] + top + bottom, input_size[1] + left + right)
    grad = im2col.input_grad(weight, grad_output, padded_size, stride, dilation, groups)
    cut = np.empty((*grad.shape[:2], *input_size), dtype=grad.dtype)
    parallel.copy(cut, grad[:, :, top : top + input_size[0], left : left + input_size[1]], axis=1)
    return cut


def weight_grad_zero_padded(
    input: Array, grad_output: Array, kernel_size: Pair, padding: Pad2d, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """im2col's weight gradient of the zero-padded input. Shape: -> (O, C / groups, kH, kW)"""
    padded = parallel.zero_padded(input, padding)
    return im2col.weight_grad(padded, grad_output, kernel_size, stride, dilation, groups)
