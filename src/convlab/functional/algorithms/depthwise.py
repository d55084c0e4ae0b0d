"""Depthwise convolution (groups = channels): one small kernel per channel, no matrix product to speak of.

With one input channel per group, im2col would run thousands of 1 x 9 matrix
products. Here the kernel slides instead: for each kernel offset (a, b) every
channel's shifted plane is scaled by its own weight and added, kH * kW vectorised
passes. The planes are processed in blocks small enough to stay in cache, on all
cores (NumPy releases the GIL inside these loops).
"""

from __future__ import annotations

import numpy as np

from ..._args import Array, Pair
from . import im2col
from .adjoint import input_grad_by_forward
from .parallel import run

__all__ = ["forward", "input_grad", "supports", "weight_grad"]

BLOCK_BYTES = 1024 * 1024  # output bytes per block: large enough that NumPy, not the GIL, sets the pace


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


def forward(padded: Array, weight: Array, bias: Array | None, stride: Pair, dilation: Pair, groups: int) -> Array:
    """Shape: padded (N, C, H_pad, W_pad), weight (C * m, 1, kH, kW) -> (N, C * m, H_out, W_out)."""
    N, C, Hp, Wp = padded.shape
    O, _, kh, kw = weight.shape
    m = O // C  # outputs per input channel
    Ho = (Hp - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    Wo = (Wp - dilation[1] * (kw - 1) - 1) // stride[1] + 1
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


def input_grad(
    weight: Array, grad_output: Array, padded_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """The adjoint convolution: depthwise again when each channel has one kernel, else by im2col."""
    single = weight.shape[0] == groups
    return input_grad_by_forward(
        forward if single else im2col.forward, weight, grad_output, padded_size, stride, dilation, groups
    )


def weight_grad(
    padded: Array, grad_output: Array, kernel_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """dW[o, 0, a, b] = sum over images and positions of grad[o] * (input plane at offset (a, b)).

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
