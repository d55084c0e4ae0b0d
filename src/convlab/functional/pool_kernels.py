"""Max and average pooling and their gradients as compiled loops, one (image, channel) plane per worker.

Each window is visited once, cell by cell, with the padding skipped instead of
built: PyTorch's own loop, so ties, NaN, all -inf windows, ceil-mode overhang
and the average's divisor come out as PyTorch has them:

* max: the first largest cell in row-major order wins; a NaN beats everything
  and the last NaN of a window wins; a window whose cells are all -inf reports
  its first cell inside the input.
* average: the window is cut to the padded input for ``count_include_pad``'s
  divisor and to the input for the sum and for the other divisor.

The gradients scatter into the plane the worker owns, so no two workers write
the same cell. This module imports Numba; :mod:`.pool` imports it only for calls
large enough to be worth compiling.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .algorithms.compiled import kernel, prange

Array = Any  # Numba's arrays: plain NumPy arrays here, typed by Numba when compiled


@kernel(parallel=True)
def max_forward(x: Array, out: Array, where: Array, window: Array) -> None:
    """out[n, c, i, j] = the largest cell of window (i, j); where[n, c, i, j] = its index in the H * W plane.

    ``window`` = (kH, kW, sH, sW, pH, pW, dH, dW). Shape: x (N, C, H, W);
    out (N, C, H_out, W_out), where (same, int64), both filled here.
    """
    N, C, H, W = x.shape
    Ho, Wo = out.shape[2], out.shape[3]
    kh, kw, sh, sw, ph, pw, dh, dw = window
    for job in prange(N * C):
        n, c = job // C, job % C
        plane = x[n, c]
        for i in range(Ho):
            top = i * sh - ph
            bottom = min(top + (kh - 1) * dh + 1, H)
            while top < 0:
                top += dh
            for j in range(Wo):
                left = j * sw - pw
                right = min(left + (kw - 1) * dw + 1, W)
                while left < 0:
                    left += dw
                best = -np.inf
                index = top * W + left
                for r in range(top, bottom, dh):
                    for s in range(left, right, dw):
                        value = plane[r, s]
                        if value > best or np.isnan(value):
                            best = value
                            index = r * W + s
                out[n, c, i, j] = best
                where[n, c, i, j] = index


@kernel(parallel=True)
def max_backward(grad: Array, where: Array, grad_x: Array) -> None:
    """grad_x[n, c] = each window's gradient added at the cell that won it.

    Shape: grad and where (N, C, H_out, W_out); grad_x (N, C, H, W), filled here.
    """
    N, C, H, W = grad_x.shape
    Ho, Wo = grad.shape[2], grad.shape[3]
    for job in prange(N * C):
        n, c = job // C, job % C
        flat = grad_x[n, c].reshape(H * W)
        flat[:] = 0
        for i in range(Ho):
            for j in range(Wo):
                flat[where[n, c, i, j]] += grad[n, c, i, j]


@kernel(parallel=True)
def avg_forward(x: Array, out: Array, window: Array, divisor: Array) -> None:
    """out[n, c, i, j] = the sum of window (i, j)'s cells inside the input / divisor[i, j].

    ``window`` = (kH, kW, sH, sW, pH, pW). Shape: x (N, C, H, W);
    out (N, C, H_out, W_out), filled here; divisor (H_out, W_out).
    """
    N, C, H, W = x.shape
    Ho, Wo = out.shape[2], out.shape[3]
    kh, kw, sh, sw, ph, pw = window
    for job in prange(N * C):
        n, c = job // C, job % C
        plane = x[n, c]
        for i in range(Ho):
            top, bottom = max(i * sh - ph, 0), min(i * sh - ph + kh, H)
            for j in range(Wo):
                left, right = max(j * sw - pw, 0), min(j * sw - pw + kw, W)
                total = plane[0, 0] * 0  # zero of the input's dtype
                for r in range(top, bottom):
                    for s in range(left, right):
                        total += plane[r, s]
                out[n, c, i, j] = total / divisor[i, j]


@kernel(parallel=True)
def avg_backward(grad: Array, grad_x: Array, window: Array, divisor: Array) -> None:
    """grad_x[n, c] = each window's gradient / divisor, added to every cell of the window inside the input.

    ``window`` = (kH, kW, sH, sW, pH, pW). Shape: grad (N, C, H_out, W_out);
    grad_x (N, C, H, W), filled here; divisor (H_out, W_out).
    """
    N, C, H, W = grad_x.shape
    Ho, Wo = grad.shape[2], grad.shape[3]
    kh, kw, sh, sw, ph, pw = window
    for job in prange(N * C):
        n, c = job // C, job % C
        plane = grad_x[n, c]
        plane[:, :] = 0
        for i in range(Ho):
            top, bottom = max(i * sh - ph, 0), min(i * sh - ph + kh, H)
            for j in range(Wo):
                left, right = max(j * sw - pw, 0), min(j * sw - pw + kw, W)
                share = grad[n, c, i, j] / divisor[i, j]
                for r in range(top, bottom):
                    for s in range(left, right):
                        plane[r, s] += share
