"""Depthwise convolution as compiled loops: one pass per output, zero padding never built.

Each (image, output channel) plane is one unit of work, spread over all cores
with ``prange``. Within a plane every output row is built from the kernel's
``kH * kW`` offsets: offset (a, b) adds ``w[a, b] * input row r`` to the output
row, where ``r = i * sH + a * dH - pad_top``. Rows and columns that fall in the
zero padding are skipped instead of multiplied, so the padded input is never
made. The innermost loop runs along a row, which the compiler turns into SIMD.

Importing this module does not import Numba (:mod:`.compiled`); :mod:`.depthwise`
calls it only for calls large enough to be worth compiling.
"""

from __future__ import annotations

from typing import Any

from .cells import unsigned_span
from .compiled import kernel, prange

Array = Any  # Numba's arrays: plain NumPy arrays here, typed by Numba when compiled


@kernel(parallel=True)
def forward(
    x: Array, w: Array, out: Array, pad_top: int, pad_left: int, sh: int, sw: int, dh: int, dw: int
) -> None:
    """out[n, o] = sum over (a, b) of w[o, 0, a, b] * (zero-padded x[n, o // m]) at offset (a, b).

    Shape: x (N, C, H, W), w (C * m, 1, kH, kW), out (N, C * m, H_out, W_out), filled here.
    """
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    Ho, Wo = out.shape[2], out.shape[3]
    m = O // C
    for job in prange(N * O):
        n, o = job // O, job % O
        plane = x[n, o // m]
        for i in range(Ho):
            row = out[n, o, i]
            row[:] = 0
            for a in range(kh):
                r = i * sh + a * dh - pad_top
                if r < 0 or r >= H:
                    continue  # a padding row: adds zero
                source = plane[r]
                for b in range(kw):
                    offset = b * dw - pad_left
                    column, cell, step, count = unsigned_span(offset, sw, W, Wo)
                    weight = w[o, 0, a, b]
                    for j in range(count):  # unsigned indices: the loop becomes SIMD
                        row[column + j] += weight * source[cell + j * step]


@kernel(parallel=True)
def input_grad(
    w: Array, grad: Array, grad_x: Array, pad_top: int, pad_left: int, sh: int, sw: int, dh: int, dw: int
) -> None:
    """grad_x[n, c] = the sum, over the channel's m outputs, of each output's gradient spread back by its kernel.

    Each (image, input channel) plane is written by one worker only, so the
    scatter needs no locks. Shape: w (C * m, 1, kH, kW), grad (N, C * m, H_out, W_out),
    grad_x (N, C, H, W), filled here.
    """
    N, C, H, W = grad_x.shape
    O, _, kh, kw = w.shape
    Ho, Wo = grad.shape[2], grad.shape[3]
    m = O // C
    for job in prange(N * C):
        n, c = job // C, job % C
        plane = grad_x[n, c]
        plane[:, :] = 0
        for o in range(c * m, (c + 1) * m):
            for i in range(Ho):
                source = grad[n, o, i]
                for a in range(kh):
                    r = i * sh + a * dh - pad_top
                    if r < 0 or r >= H:
                        continue
                    target = plane[r]
                    for b in range(kw):
                        offset = b * dw - pad_left
                        column, cell, step, count = unsigned_span(offset, sw, W, Wo)
                        weight = w[o, 0, a, b]
                        for j in range(count):
                            target[cell + j * step] += weight * source[column + j]


@kernel(parallel=True)
def weight_grad(
    x: Array,
    grad: Array,
    partial: Array,
    buffers: Array,
    pad_top: int,
    pad_left: int,
    sh: int,
    sw: int,
    dh: int,
    dw: int,
) -> None:
    """partial[n, o, a, b] = sum over positions of grad[n, o] * (zero-padded x[n, o // m]) at offset (a, b).

    The caller sums ``partial`` over images. Each column's products are first
    summed down the rows in a row-long buffer (a SIMD loop, no reduction
    dependency), then the buffer is summed. Shape: x (N, C, H, W),
    grad (N, C * m, H_out, W_out), partial (N, C * m, kH, kW), filled here;
    buffers (N * C * m, W_out), scratch (one row per worker item, made by the
    caller: an array made inside a ``prange`` loop may be shared by the workers).
    """
    N, C, H, W = x.shape
    O, kh, kw = partial.shape[1], partial.shape[2], partial.shape[3]
    Ho, Wo = grad.shape[2], grad.shape[3]
    m = O // C
    for job in prange(N * O):
        n, o = job // O, job % O
        plane = x[n, o // m]
        columns = buffers[job]
        for a in range(kh):
            for b in range(kw):
                offset = b * dw - pad_left
                column, cell, step, count = unsigned_span(offset, sw, W, Wo)
                columns[:] = 0
                for i in range(Ho):
                    r = i * sh + a * dh - pad_top
                    if r < 0 or r >= H:
                        continue
                    g, source = grad[n, o, i], plane[r]
                    for j in range(count):
                        columns[column + j] += g[column + j] * source[cell + j * step]
                partial[n, o, a, b] = columns.sum()
