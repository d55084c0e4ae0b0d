"""FFT convolution: large kernels cost the same as small ones.

In the frequency domain a convolution is an element-wise product, so the cost
no longer grows with the kernel: k x k multiply-adds per output become a few FFTs
of the image. Cross-correlation (what conv2d computes) is convolution with the
kernel turned 180 degrees; with an FFT at least as long as the padded input, the
valid outputs are untouched by the FFT's wrap-around, so no extra padding is
needed. Channels are summed in the frequency domain as one matrix product per
frequency. Images larger than a few hundred pixels are cut into tiles that
overlap by the kernel's span (overlap-save), which keeps the FFTs short and the
workspace bounded.

Uses ``scipy.fft`` (real transforms on all cores) when SciPy is installed, and
``numpy.fft`` otherwise.

NaN and Inf: every frequency mixes every cell of the image (or of its tile), so
one NaN or Inf in the input, the weight or the gradient makes every output of
that image or tile NaN, where PyTorch marks only the outputs whose window holds
it. ``algorithm="auto"`` therefore never picks the FFT for such values; asked
for by name, it spreads them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..._args import Array, Pair
from . import parallel, threads, workspace
from .adjoint import input_grad_by_forward

__all__ = ["TILE", "TILE_LENGTHS", "forward", "input_grad", "weight_grad"]

TILE = 736
"""The most output rows/columns one overlap-save tile makes; :func:`_plan` picks the tile within it."""
CHUNK_BYTES = 64 * 2**20
"""Upper bound for one chunk of spectra (images are taken whole until it is reached)."""


def _fft(workers: int = -1) -> tuple[Callable[..., Array], Callable[..., Array], Callable[[int], int]]:
    """(rfft2, irfft2, next_fast_len), from SciPy on ``workers`` threads (-1: all cores) when it is there."""
    try:
        import scipy.fft as sp
    except ImportError:  # numpy.fft is single-threaded and slower, but always there

        def next_fast_len(n: int) -> int:
            return 1 << (n - 1).bit_length() if n > 64 else n

        return np.fft.rfft2, np.fft.irfft2, next_fast_len

    def rfft2(x: Array, s: Pair) -> Array:
        return sp.rfft2(x, s=s, workers=workers)  # type: ignore[no-any-return]

    def irfft2(x: Array, s: Pair) -> Array:
        return sp.irfft2(x, s=s, workers=workers)  # type: ignore[no-any-return]

    return rfft2, irfft2, lambda n: int(sp.next_fast_len(n, real=True))


TILE_LENGTHS = (256, 288, 320, 384, 432, 480, 576, 640, 768)
"""FFT lengths an overlap-save tile may take: products of 2, 3 and 5 that ran at 6.3-7.7 ns per output
pixel (forward and inverse real FFT, one thread) on the 2-core AVX2 machine, against 8.6 for 750 and
9-12 for 960-1536, where the transforms stop fitting the caches (docs/performance.md)."""


def _plan(full: int, span: int, fast: Callable[[int], int]) -> tuple[int, int]:
    """(outputs per tile, FFT length) along one axis of ``full`` outputs: the tiling that transforms the
    fewest cells (tiles x length x log length), the whole axis at once where it fits in one short FFT.

    Example:
        >>> _plan(2048, 15, lambda n: n)  # 9 tiles of 242 outputs, FFTs of 256
        (242, 256)
    """
    options = [(min(length - span + 1, TILE), length) for length in TILE_LENGTHS if length - span + 1 >= span]
    if full <= TILE:
        options.append((full, fast(full + span - 1)))

    def cost(option: tuple[int, int]) -> float:
        tile = min(option[0], full)
        length = fast(tile + span - 1)
        return -(-full // tile) * length * math.log2(length)

    tile = min(min(options, key=cost)[0], full)
    return tile, fast(tile + span - 1)


def _dilated(weight: Array, dilation: Pair) -> Array:
    """Kernels with dilation-1 zeros between their cells: (O, C/g, span_h, span_w)."""
    if dilation == (1, 1):
        return weight
    O, C_g, kh, kw = weight.shape
    spread = np.zeros((O, C_g, dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1), dtype=weight.dtype)
    spread[:, :, :: dilation[0], :: dilation[1]] = weight
    return spread


def _mix(spectra: Array, kernels: Array, groups: int) -> Array:
    """Sum over input channels at every frequency: (n, C, *F) with (O, C/g, *F) -> (n, O, *F)."""
    n = spectra.shape[0]
    O, C_g = kernels.shape[:2]
    frequencies = spectra.shape[2:]
    if C_g == 1 and groups == O:  # one input channel per output channel: an element-wise product
        product: Array = spectra * kernels[None, :, 0]
        return product
    x = spectra.reshape(n, groups, C_g, -1).transpose(3, 1, 0, 2)  # (F, g, n, C/g)
    k = kernels.reshape(groups, O // groups, C_g, -1).transpose(3, 0, 2, 1)  # (F, g, C/g, O/g)
    mixed = np.matmul(x, k)  # (F, g, n, O/g)
    result: Array = mixed.transpose(2, 1, 3, 0).reshape(n, O, *frequencies)
    return result


def forward(padded: Array, weight: Array, bias: Array | None, stride: Pair, dilation: Pair, groups: int) -> Array:
    """Convolve an already padded input by FFT, in overlap-save tiles on convlab's threads.

    Shape:
        padded (N, C, H_pad, W_pad), weight (O, C/groups, kH, kW), bias (O,) -> (N, O, H_out, W_out)
    """
    _, _, fast = _fft()
    N, C, Hp, Wp = padded.shape
    O = weight.shape[0]
    kernel = _dilated(weight, dilation)
    span_h, span_w = kernel.shape[2:]
    full_h, full_w = Hp - span_h + 1, Wp - span_w + 1  # outputs at stride 1
    (tile_h, fh), (tile_w, fw) = _plan(full_h, span_h, fast), _plan(full_w, span_w, fast)
    spectra_k = _fft()[0](np.ascontiguousarray(kernel[:, :, ::-1, ::-1]), s=(fh, fw)).astype(_complex(weight))
    full = np.empty((N, O, full_h, full_w), dtype=weight.dtype)
    per_image = (C + O) * fh * (fw // 2 + 1) * 2 * weight.itemsize
    pieces = [
        (chunk, top, left)
        for chunk in workspace.chunks(N, per_image, CHUNK_BYTES // threads.get_num_threads())
        for top in range(0, full_h, tile_h)
        for left in range(0, full_w, tile_w)
    ]
    # several tiles: one per thread, each transform on one core (no hand-off inside it); one tile: all cores
    rfft2, irfft2, _ = _fft(1 if len(pieces) > 1 else threads.get_num_threads())

    def convolve(piece: tuple[slice, int, int]) -> None:
        chunk, top, left = piece
        rows, cols = min(tile_h, full_h - top), min(tile_w, full_w - left)
        cells = padded[chunk, :, top : top + rows + span_h - 1, left : left + cols + span_w - 1]
        spectra = rfft2(cells, s=(fh, fw)).astype(_complex(weight), copy=False)
        result = irfft2(_mix(spectra, spectra_k, groups), s=(fh, fw))
        full[chunk, :, top : top + rows, left : left + cols] = result[
            :, :, span_h - 1 : span_h - 1 + rows, span_w - 1 : span_w - 1 + cols
        ]

    threads.apply_to_blas()  # the channel mixing's products then run one per thread
    parallel.run(convolve, pieces)
    out = full if stride == (1, 1) else np.ascontiguousarray(full[:, :, :: stride[0], :: stride[1]])
    if bias is not None:
        out += bias[:, None, None]
    return out


def _complex(like: Array) -> Any:
    return np.complex64 if like.dtype == np.float32 else np.complex128


def input_grad(
    weight: Array, grad_output: Array, padded_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """The adjoint convolution (flipped kernels), by FFT too. Shape: -> (N, C, H_pad, W_pad)."""
    return input_grad_by_forward(forward, weight, grad_output, padded_size, stride, dilation, groups)


def weight_grad(
    padded: Array, grad_output: Array, kernel_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """Correlate every input channel with every output gradient at the kernel's lags, by FFT.

    ``dW[o, c, a, b] = sum over images and positions of grad[o, i, j] * x[c, i*s + a*d, j*s + b*d]``:
    the correlation of the input with the gradient spread to the stride grid, read
    at lags ``(a*d, b*d)``.

    Shape:
        padded (N, C, H_pad, W_pad), grad_output (N, O, H_out, W_out) -> (O, C/groups, kH, kW)
    """
    rfft2, irfft2, fast = _fft()
    N, C, Hp, Wp = padded.shape
    _, O, Ho, Wo = grad_output.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    spread = np.zeros((N, O, (Ho - 1) * sh + 1, (Wo - 1) * sw + 1), dtype=grad_output.dtype)
    spread[:, :, ::sh, ::sw] = grad_output
    fh, fw = fast(Hp), fast(Wp)
    C_g, O_g = C // groups, O // groups
    total = np.zeros((groups, O_g, C_g, fh, fw // 2 + 1), dtype=_complex(padded))
    per_image = (C + O) * fh * (fw // 2 + 1) * 2 * padded.itemsize
    for chunk in workspace.chunks(N, per_image, 4 * CHUNK_BYTES):
        x = rfft2(padded[chunk], s=(fh, fw)).astype(_complex(padded))
        g = np.conj(rfft2(spread[chunk], s=(fh, fw))).astype(_complex(padded))
        n = x.shape[0]
        xs = x.reshape(n, groups, C_g, -1).transpose(3, 1, 0, 2)  # (F, g, n, C/g)
        gs = g.reshape(n, groups, O_g, -1).transpose(3, 1, 2, 0)  # (F, g, O/g, n)
        total += np.matmul(gs, xs).transpose(1, 2, 3, 0).reshape(groups, O_g, C_g, fh, fw // 2 + 1)
    lags = irfft2(total, s=(fh, fw))[..., : dh * (kh - 1) + 1 : dh, : dw * (kw - 1) + 1 : dw]
    grad: Array = np.ascontiguousarray(lags.reshape(O, C_g, kh, kw).astype(padded.dtype))
    return grad
