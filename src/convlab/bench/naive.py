"""The floor: im2col in plain NumPy, the way a learner writes it after the lesson.

Every window as a zero-copy view (``sliding_window_view``), then one
``tensordot`` per group, which copies the whole batch's windows into one matrix
and hands it to BLAS. No chunking, no reuse of buffers, no special cases: the
simplest correct fast-ish code, so the benchmark shows what convlab's care
buys over it. Square stride, padding and dilation, zero padding only.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._args import Array

__all__ = ["conv2d", "conv2d_input_grad", "conv2d_weight_grad"]


def _windows(x: Array, kh: int, kw: int, stride: int, padding: int, dilation: int) -> Array:
    """(N, C, H, W) -> (N, C, H_out, W_out, kH, kW), a view of the padded input."""
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    span = (dilation * (kh - 1) + 1, dilation * (kw - 1) + 1)
    view = sliding_window_view(padded, span, axis=(2, 3))
    return view[:, :, ::stride, ::stride, ::dilation, ::dilation]


def conv2d(x: Array, w: Array, stride: int = 1, padding: int = 0, dilation: int = 1, groups: int = 1) -> Array:
    """Cross-correlation as ``torch.nn.functional.conv2d`` (no bias): (N, C, H, W) -> (N, O, H_out, W_out)."""
    O, C_g, kh, kw = w.shape
    O_g = O // groups
    windows = _windows(x, kh, kw, stride, padding, dilation)
    outs = [
        np.tensordot(windows[:, g * C_g : (g + 1) * C_g], w[g * O_g : (g + 1) * O_g], axes=([1, 4, 5], [1, 2, 3]))
        for g in range(groups)
    ]  # each (N, H_out, W_out, O_g)
    out: Array = np.concatenate(outs, axis=3).transpose(0, 3, 1, 2)
    return out


def conv2d_input_grad(
    input_shape: tuple[int, ...],
    w: Array,
    grad: Array,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    groups: int = 1,
) -> Array:
    """Gradient with respect to the input: each output's gradient spread back over its window (col2im)."""
    N, C, H, W = input_shape
    O, C_g, kh, kw = w.shape
    O_g = O // groups
    Ho, Wo = grad.shape[2:]
    grad_padded = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=grad.dtype)
    for g in range(groups):
        columns = np.tensordot(grad[:, g * O_g : (g + 1) * O_g], w[g * O_g : (g + 1) * O_g], axes=([1], [0]))
        # columns: (N, H_out, W_out, C_g, kH, kW); add each kernel offset's plane back where it was read
        for a in range(kh):
            for b in range(kw):
                rows = slice(a * dilation, a * dilation + stride * (Ho - 1) + 1, stride)
                cols = slice(b * dilation, b * dilation + stride * (Wo - 1) + 1, stride)
                grad_padded[:, g * C_g : (g + 1) * C_g, rows, cols] += columns[..., a, b].transpose(0, 3, 1, 2)
    return grad_padded[:, :, padding : padding + H, padding : padding + W]


def conv2d_weight_grad(
    x: Array,
    weight_shape: tuple[int, ...],
    grad: Array,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    groups: int = 1,
) -> Array:
    """Gradient with respect to the weight: every window weighted by its output's gradient, summed."""
    O, C_g, kh, kw = weight_shape
    O_g = O // groups
    windows = _windows(x, kh, kw, stride, padding, dilation)
    parts = [
        np.tensordot(
            grad[:, g * O_g : (g + 1) * O_g], windows[:, g * C_g : (g + 1) * C_g], axes=([0, 2, 3], [0, 2, 3])
        )
        for g in range(groups)
    ]  # each (O_g, C_g, kH, kW)
    return np.concatenate(parts, axis=0)
