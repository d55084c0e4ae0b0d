"""Depthwise convolution (groups = channels): one small kernel per channel, no matrix product to speak of.

With one input channel per group, im2col would run thousands of 1 x 9 matrix
products. Here the kernel slides instead: for each kernel offset (a, b) every
channel's shifted plane is scaled by its own weight and added, kH * kW vectorised
passes. The planes are processed in blocks small enough to stay in cache, on all
cores (NumPy releases the GIL inside these loops).

Large calls run compiled loops instead (:mod:`.depthwise_kernels`): one pass
per output, on all cores, and with zero padding the padded input is never
built (the ``*_zero_padded`` entry points take the unpadded input and the pads).
Small calls stay on the NumPy path, which needs no compilation.
"""

from __future__ import annotations

import numpy as np

from ..._args import Array, Pad2d, Pair
from ..geometry import output_length
from ..padding import pad2d
from . import im2col
from .parallel import run

__all__ = [
    "forward",
    "forward_zero_padded",
    "input_grad",
    "input_grad_zero_padded",
    "supports",
    "weight_grad",
    "weight_grad_zero_padded",
]

BLOCK_BYTES = 1024 * 1024  # output bytes per block: large enough that NumPy, not the GIL, sets the pace
COMPILED_MIN_WORK = 1 << 18  # multiply-adds from which the compiled loops pay for their first-call cost
NO_PADDING: Pad2d = ((0, 0), (0, 0))


def supports(in_channels_per_group: int, groups: int) -> bool:
    """One input channel per group, more than one group."""
    return in_channels_per_group == 1 and groups > 1


def _blocks(N: int, C: int, plane_bytes: int) -> list[tuple[int, slice]]:
    """(image, channel slice) blocks of about BLOCK_BYTES of output each."""
    per = max(1, BLOCK_BYTES // max(1, plane_bytes))
    return [(n, slice(c, min(c + per, C))) for n in range(N) for c in range(0, C, per)]


def _plane(x: Array, a: int, b: int, stride: Pair, dilation: Pair, size: Pair) -> Array:
    """The input cells kernel offset (a, b) meets, for every output position: (..., H_out, W_out)."""
    (sh, sw), (dh, dw), (Ho, Wo) = stride, dilation, size
    return x[..., a * dh : a * dh + sh * (Ho - 1) + 1 : sh, b * dw : b * dw + sw * (Wo - 1) + 1 : sw]


def _forward_numpy(padded: Array, weight: Array, bias: Array | None, stride: Pair, dilation: Pair) -> Array:
    """The NumPy path. Shape: padded (N, C, H_pad, W_pad), weight (C * m, 1, kH, kW) -> (N, C * m, H_out, W_out)"""
    N, C, Hp, Wp = padded.shape
    O, _, kh, kw = weight.shape
    m = O // C  # outputs per input channel
    Ho, Wo = output_length((Hp, Wp), (kh, kw), stride, (0, 0), dilation)
    out = np.empty((N, C, m, Ho, Wo), dtype=weight.dtype)
    kernels = weight.reshape(C, m, kh, kw)

    def work(block: tuple[int, slice]) -> None:
        n, channels = block
        x = padded[n, channels, None]  # (c, 1, H_pad, W_pad)
        target = out[n, channels]  # (c, m, H_out, W_out)
        scratch = np.empty_like(target)
        for a in range(kh):
            for b in range(kw):
                scale = kernels[channels, :, a, b][:, :, None, None]
                plane = _plane(x, a, b, stride, dilation, (Ho, Wo))
                if a == 0 and b == 0:
                    np.multiply(plane, scale, out=target)
                else:
                    np.multiply(plane, scale, out=scratch)
                    target += scratch

    run(work, _blocks(N, C, m * Ho * Wo * weight.itemsize))
    result = out.reshape(N, O, Ho, Wo)
    if bias is not None:
        result += bias[:, None, None]
    return result


def _weight_grad_numpy(
    padded: Array, grad_output: Array, kernel_size: Pair, stride: Pair, dilation: Pair
) -> Array:
    """The NumPy path: dW[o, 0, a, b] = sum over images and positions of grad[o] * (input plane at offset (a, b)).

    Shape: padded (N, C, H_pad, W_pad), grad_output (N, C * m, H_out, W_out) -> (C * m, 1, kH, kW)
    """
    N, C = padded.shape[:2]
    _, O, Ho, Wo = grad_output.shape
    kh, kw = kernel_size
    m = O // C
    grad = grad_output.reshape(N, C, m, Ho, Wo)
    partial = np.zeros((N, C, m, kh, kw), dtype=padded.dtype)

    def work(block: tuple[int, slice]) -> None:
        n, channels = block
        x = padded[n, channels, None]
        g = grad[n, channels]
        for a in range(kh):
            for b in range(kw):
                plane = _plane(x, a, b, stride, dilation, (Ho, Wo))
                partial[n, channels, :, a, b] = np.einsum("cmij,cmij->cm", np.broadcast_to(plane, g.shape), g)

    run(work, _blocks(N, C, m * Ho * Wo * padded.itemsize))
    grad_weight: Array = partial.sum(axis=0).reshape(O, 1, kh, kw)
    return grad_weight


def _compiled(work: int) -> bool:
    return work >= COMPILED_MIN_WORK


def forward_zero_padded(
    input: Array, weight: Array, bias: Array | None, padding: Pad2d, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """Depthwise convolution of ``input`` bordered by ``padding`` zeros, without building the padded array.

    Shape: input (N, C, H, W), weight (C * m, 1, kH, kW) -> (N, C * m, H_out, W_out)
    """
    N, _, H, W = input.shape
    O, _, kh, kw = weight.shape
    Ho, Wo = output_length((H, W), (kh, kw), stride, (sum(padding[0]), sum(padding[1])), dilation)
    if not _compiled(N * O * Ho * Wo * kh * kw):
        return _forward_numpy(pad2d(input, padding), weight, bias, stride, dilation)
    from . import depthwise_kernels

    out = np.empty((N, O, Ho, Wo), dtype=weight.dtype)
    x, w = np.ascontiguousarray(input), np.ascontiguousarray(weight)
    depthwise_kernels.forward(x, w, out, padding[0][0], padding[1][0], *stride, *dilation)
    if bias is not None:
        out += bias[:, None, None]
    return out


def input_grad_zero_padded(
    weight: Array, grad_output: Array, input_size: Pair, padding: Pad2d, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """Gradient for the unpadded input: each output's gradient spread back through its kernel.

    Shape: weight (C * m, 1, kH, kW), grad_output (N, C * m, H_out, W_out) -> (N, C, H, W)
    """
    N, O, Ho, Wo = grad_output.shape
    kh, kw = weight.shape[2:]
    if not _compiled(N * O * Ho * Wo * kh * kw):
        (top, bottom), (left, right) = padding
        padded_size = (input_size[0] + top + bottom, input_size[1] + left + right)
        grad_padded = _input_grad_numpy(weight, grad_output, padded_size, stride, dilation, groups)
        return np.ascontiguousarray(grad_padded[:, :, top : top + input_size[0], left : left + input_size[1]])
    from . import depthwise_kernels

    grad_x = np.empty((N, groups, *input_size), dtype=grad_output.dtype)
    w, g = np.ascontiguousarray(weight), np.ascontiguousarray(grad_output)
    depthwise_kernels.input_grad(w, g, grad_x, padding[0][0], padding[1][0], *stride, *dilation)
    return grad_x


def weight_grad_zero_padded(
    input: Array, grad_output: Array, kernel_size: Pair, padding: Pad2d, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """dW[o, 0, a, b] = sum over images and positions of grad[o] * (zero-padded input plane at offset (a, b)).

    Shape: input (N, C, H, W), grad_output (N, C * m, H_out, W_out) -> (C * m, 1, kH, kW)
    """
    N, O, Ho, Wo = grad_output.shape
    kh, kw = kernel_size
    if not _compiled(N * O * Ho * Wo * kh * kw):
        return _weight_grad_numpy(pad2d(input, padding), grad_output, kernel_size, stride, dilation)
    from . import depthwise_kernels

    partial = np.empty((N, O, kh, kw), dtype=grad_output.dtype)
    buffers = np.empty((N * O, Wo), dtype=grad_output.dtype)
    x, g = np.ascontiguousarray(input), np.ascontiguousarray(grad_output)
    depthwise_kernels.weight_grad(x, g, partial, buffers, padding[0][0], padding[1][0], *stride, *dilation)
    grad_weight: Array = partial.sum(axis=0).reshape(O, 1, kh, kw)
    return grad_weight


def forward(padded: Array, weight: Array, bias: Array | None, stride: Pair, dilation: Pair, groups: int) -> Array:
    """Shape: padded (N, C, H_pad, W_pad), weight (C * m, 1, kH, kW) -> (N, C * m, H_out, W_out)."""
    return forward_zero_padded(padded, weight, bias, NO_PADDING, stride, dilation, groups)


def _input_grad_numpy(
    weight: Array, grad_output: Array, padded_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """The path for small calls: im2col's scatter of each window's gradient, which (unlike the adjoint
    convolution, whose zero-spread gradient meets every weight) multiplies only what the forward multiplied,
    so a NaN or Inf weight reaches exactly the inputs PyTorch's gradient has it in."""
    return im2col.input_grad(weight, grad_output, padded_size, stride, dilation, groups)


def input_grad(
    weight: Array, grad_output: Array, padded_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """Gradient for the padded input. Shape: grad_output (N, C * m, H_out, W_out) -> (N, C, H_pad, W_pad)."""
    return input_grad_zero_padded(weight, grad_output, padded_size, NO_PADDING, stride, dilation, groups)


def weight_grad(
    padded: Array, grad_output: Array, kernel_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """Shape: padded (N, C, H_pad, W_pad), grad_output (N, C * m, H_out, W_out) -> (C * m, 1, kH, kW)."""
    return weight_grad_zero_padded(padded, grad_output, kernel_size, NO_PADDING, stride, dilation, groups)
