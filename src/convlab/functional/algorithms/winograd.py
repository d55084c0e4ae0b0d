"""Winograd F(4x4, 3x3): 3x3 stride-1 convolutions with 2.25x fewer multiplications.

Direct convolution spends 9 multiplications per output per channel pair. Winograd
(Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016)
computes a 4x4 block of outputs from a 6x6 block of input with 36 instead of
144, by moving both into a transformed space where convolution becomes an
element-wise product:

    Y = A^T [ (G g G^T) * (B^T d B) ] A          (per 6x6 input tile d, 3x3 kernel g)

Summed over input channels, the element-wise product at each of the 36 positions
is a matrix product, so the work becomes 36 GEMMs of (out x in) @ (in x tiles).
Every transform is also a single GEMM, with the Kronecker product of the 1-D
matrix with itself, so nothing loops in Python except over chunks of images.

Accuracy: the transform points 0, +-1, +-2 amplify rounding, and each output
mixes rounding from its whole tile; in float32 the error stays below 5e-5 of the
largest summed magnitude max(conv2d(|x|, |w|)) (the tests check this bound; direct
convolution stays below 1e-5 of each output's own). float64 is exact to ~1e-13.

Transformed weights are not cached between calls: a safe cache must check that
the weight has not been changed in place, which costs as much as the transform
itself (36x9 @ 9 x out*in multiply-adds, a few percent of the convolution).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..._args import Array, Pair
from . import im2col, parallel
from .adjoint import input_grad_by_forward

__all__ = ["forward", "input_grad", "supports", "weight_grad"]

# F(4, 3) with interpolation points 0, 1, -1, 2, -2 and infinity (the matrices of Lavin and Gray).
_BT = np.array(
    [
        [4, 0, -5, 0, 1, 0],
        [0, -4, -4, 1, 1, 0],
        [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0],
        [0, 2, -1, -2, 1, 0],
        [0, 4, 0, -5, 0, 1],
    ],
    dtype=np.float64,
)
_G = np.array(
    [
        [1 / 4, 0, 0],
        [-1 / 6, -1 / 6, -1 / 6],
        [-1 / 6, 1 / 6, -1 / 6],
        [1 / 24, 1 / 12, 1 / 6],
        [1 / 24, -1 / 12, 1 / 6],
        [0, 0, 1],
    ],
    dtype=np.float64,
)
_AT = np.array(
    [
        [1, 1, 1, 1, 1, 0],
        [0, 1, -1, 2, -2, 0],
        [0, 1, 1, 4, 4, 0],
        [0, 1, -1, 8, -8, 1],
    ],
    dtype=np.float64,
)

# The 2-D transforms as single matrices on flattened tiles: vec(M d M^T) = kron(M, M) vec(d).
_INPUT = np.kron(_BT, _BT)  # (36, 36)
_KERNEL = np.kron(_G, _G)  # (36, 9)
_OUTPUT = np.kron(_AT, _AT)  # (16, 36)

TILE, OUT = 6, 4
WORKSPACE_BYTES = im2col.WORKSPACE_BYTES


def supports(kernel_size: Pair, stride: Pair, dilation: Pair) -> bool:
    """Winograd F(4, 3) applies to 3x3 kernels with stride 1 and dilation 1."""
    return kernel_size == (3, 3) and stride == (1, 1) and dilation == (1, 1)


def _transform_weight(weight: Array, groups: int) -> Array:
    """U = G g G^T for every kernel, as (36, groups, out/groups, in/groups)."""
    O, C_g = weight.shape[:2]
    kernels = weight.reshape(O * C_g, 9).T  # (9, O * C_g)
    U: Array = (_KERNEL.astype(weight.dtype) @ kernels).reshape(36, groups, O // groups, C_g)
    return U


def _tiles(padded: Array, tiles: Pair) -> Array:
    """Overlapping 6x6 input tiles, 4 apart, as a read-only view (n, C, tiles_h, tiles_w, 6, 6)."""
    n, c = padded.shape[:2]
    sn, sc, sh, sw = padded.strides
    return as_strided(
        padded,
        shape=(n, c, tiles[0], tiles[1], TILE, TILE),
        strides=(sn, sc, OUT * sh, OUT * sw, sh, sw),
        writeable=False,
    )


def forward(padded: Array, weight: Array, bias: Array | None, stride: Pair, dilation: Pair, groups: int) -> Array:
    """Convolve an already padded input with 3x3 kernels, stride 1.

    Shape:
        padded (N, C, H_pad, W_pad), weight (O, C/groups, 3, 3), bias (O,) -> (N, O, H_pad - 2, W_pad - 2)
    """
    N, C, Hp, Wp = padded.shape
    O, C_g = weight.shape[:2]
    Ho, Wo = Hp - 2, Wp - 2
    th, tw = math.ceil(Ho / OUT), math.ceil(Wo / OUT)
    T = th * tw
    U = _transform_weight(weight, groups)
    out = np.empty((N, O, Ho, Wo), dtype=weight.dtype)
    transform_in, transform_out = _INPUT.astype(weight.dtype), _OUTPUT.astype(weight.dtype)
    per_image = 36 * (C + O) * T * padded.itemsize
    for chunk in im2col._chunks(N, per_image, WORKSPACE_BYTES):
        n = chunk.stop - chunk.start
        source = _extended(padded[chunk], (OUT * th + 2, OUT * tw + 2))
        gathered = np.empty((TILE, TILE, C, n, th, tw), dtype=padded.dtype)
        parallel.copy(gathered, _tiles(source, (th, tw)).transpose(4, 5, 1, 0, 2, 3), axis=2)
        D = gathered.reshape(36, C * n * T)
        V = (transform_in @ D).reshape(36, groups, C_g, n * T)
        M = np.matmul(U, V).reshape(36, O * n * T)
        Y = (transform_out @ M).reshape(OUT, OUT, O, n, th, tw)
        blocks = Y.transpose(3, 2, 4, 0, 5, 1).reshape(n, O, OUT * th, OUT * tw)
        parallel.copy(out[chunk], blocks[:, :, :Ho, :Wo], axis=1)
    if bias is not None:
        out += bias[:, None, None]
    return out


def _extended(x: Array, size: Pair) -> Array:
    """Zero-extend the bottom/right so whole tiles fit (a copy only when needed)."""
    if x.shape[2:] == size:
        return x
    extended = np.zeros((*x.shape[:2], *size), dtype=x.dtype)
    extended[:, :, : x.shape[2], : x.shape[3]] = x
    return extended


def input_grad(
    weight: Array, grad_output: Array, padded_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """Gradient for the padded input: a full 3x3 correlation of grad_output with the flipped kernels,
    itself a 3x3 stride-1 convolution, so Winograd computes it too.

    Shape:
        weight (O, C/groups, 3, 3), grad_output (N, O, H_out, W_out) -> (N, C, H_pad, W_pad)
    """
    return input_grad_by_forward(forward, weight, grad_output, padded_size, stride, dilation, groups)


def weight_grad(
    padded: Array, grad_output: Array, kernel_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """The weight gradient is a GEMM over the windows, as in im2col (Winograd would not save work here)."""
    result: Array = im2col.weight_grad(padded, grad_output, kernel_size, stride, dilation, groups)
    return result
