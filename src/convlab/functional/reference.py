"""The lesson's loop: patch * kernel -> sum, one output value at a time.

This is convolution written the way the lesson computes it by hand::

    for each output position (i, j):
        patch = the window of the (padded) input under the kernel
        out[i, j] = sum(patch * kernel) + bias

It is slow on purpose and obviously right. It is the code to read when learning,
and the oracle every fast algorithm in convlab is tested against. This file holds
only the loops, on arrays already checked and padded; the public functions check
their arguments once and run these loops when asked for ``algorithm="reference"``::

    convlab.functional.conv2d(x, w, stride=2, algorithm="reference")

(and likewise conv2d's gradients, conv_transpose2d and its gradients, and the
four pooling functions).

Conventions shared by all loops below:

* ``s`` is the stride, ``d`` the dilation, ``k`` the kernel size, per axis;
* the window of output row ``i`` starts at padded-input row ``i * s`` and takes
  every ``d``-th row until it has ``k`` of them:
  ``rows = slice(i * s, i * s + d * (k - 1) + 1, d)``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .._args import Array, Pair
from .geometry import PoolGeometry, output_length

__all__ = [
    "avg_pool",
    "avg_pool_grad",
    "correlate",
    "correlate_input_grad",
    "correlate_weight_grad",
    "max_pool",
    "max_pool_grad",
    "pool_windows",
    "window",
    "window_divisor",
]


def window(i: int, j: int, kernel_size: Pair, stride: Pair, dilation: Pair) -> tuple[slice, slice]:
    """The rows and columns of the padded input that output position (i, j) looks at.

    Example:
        >>> window(1, 0, kernel_size=(2, 2), stride=(1, 1), dilation=(1, 1))  # Lab 1's out[1, 0]
        (slice(1, 3, 1), slice(0, 2, 1))
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    return (
        slice(i * sh, i * sh + dh * (kh - 1) + 1, dh),
        slice(j * sw, j * sw + dw * (kw - 1) + 1, dw),
    )


def _every_window(
    batch: int,
    out_channels: int,
    in_channels: int,
    groups: int,
    output_size: Pair,
    kernel_size: Pair,
    stride: Pair,
    dilation: Pair,
) -> Iterator[tuple[int, int, slice, int, int, slice, slice]]:
    """Walk every (image, output channel, output position) with the input channels and window it reads.

    Output channel ``o`` belongs to group ``o // (O / groups)`` and sees only that
    group's ``C / groups`` input channels; with ``groups=1`` that is all of them.
    """
    out_per_group, in_per_group = out_channels // groups, in_channels // groups
    for n in range(batch):
        for o in range(out_channels):
            group = o // out_per_group
            channels = slice(group * in_per_group, (group + 1) * in_per_group)
            for i in range(output_size[0]):
                for j in range(output_size[1]):
                    yield (n, o, channels, i, j, *window(i, j, kernel_size, stride, dilation))


def correlate(
    padded: Array, weight: Array, bias: Array | None, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """The lesson's loop on an already padded input: ``out[n, o, i, j] = sum(patch * kernel) + bias[o]``.

    Shape:
        padded (N, C, H_pad, W_pad), weight (O, C/groups, kH, kW), bias (O,) -> (N, O, H_out, W_out)
    """
    (N, C, Hp, Wp), (O, _, kh, kw) = padded.shape, weight.shape
    output_size = output_length((Hp, Wp), (kh, kw), stride, (0, 0), dilation)
    out = np.zeros((N, O, *output_size), dtype=weight.dtype)
    for n, o, channels, i, j, rows, cols in _every_window(
        N, O, C, groups, output_size, (kh, kw), stride, dilation
    ):
        patch = padded[n, channels, rows, cols]
        kernel = weight[o]
        out[n, o, i, j] = np.sum(patch * kernel) + (0.0 if bias is None else bias[o])
    return out


def correlate_input_grad(
    weight: Array, grad_output: Array, padded_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """Gradient of :func:`correlate` with respect to its padded input.

    Each output value was ``sum(patch * kernel)``, so its gradient flows back into
    its patch as ``grad_output[n, o, i, j] * kernel``; overlapping patches add up.

    The same loop is the transposed convolution: where conv2d gathers a window into
    one value, conv_transpose2d scatters one value into a window, each input value
    ``x[i, j]`` adding ``x[i, j] * kernel`` into the window conv2d's output ``(i, j)``
    would have read (then ``padding`` crops the border).

    Shape:
        weight (O, C/groups, kH, kW), grad_output (N, O, H_out, W_out) -> (N, C, H_pad, W_pad)
    """
    (N, O, Ho, Wo), (_, C_g, kh, kw) = grad_output.shape, weight.shape
    grad_padded = np.zeros((N, C_g * groups, *padded_size), dtype=weight.dtype)
    for n, o, channels, i, j, rows, cols in _every_window(
        N, O, C_g * groups, groups, (Ho, Wo), (kh, kw), stride, dilation
    ):
        grad_padded[n, channels, rows, cols] += grad_output[n, o, i, j] * weight[o]
    return grad_padded


def correlate_weight_grad(
    padded: Array, grad_output: Array, kernel_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """Gradient of :func:`correlate` with respect to its weight.

    The kernel touched every patch, so its gradient is the sum of
    ``grad_output[n, o, i, j] * patch`` over all positions and images.

    Shape:
        padded (N, C, H_pad, W_pad), grad_output (N, O, H_out, W_out) -> (O, C/groups, kH, kW)
    """
    (N, C, _, _), (_, O, Ho, Wo) = padded.shape, grad_output.shape
    grad_weight = np.zeros((O, C // groups, *kernel_size), dtype=padded.dtype)
    for n, o, channels, i, j, rows, cols in _every_window(
        N, O, C, groups, (Ho, Wo), kernel_size, stride, dilation
    ):
        grad_weight[o] += grad_output[n, o, i, j] * padded[n, channels, rows, cols]
    return grad_weight


def pool_windows(geo: PoolGeometry) -> list[tuple[int, int, slice, slice]]:
    """Every output position with the rows and columns of its window in the padded input."""
    return [
        (i, j, *window(i, j, geo.kernel_size, geo.stride, geo.dilation))
        for i in range(geo.output_size[0])
        for j in range(geo.output_size[1])
    ]


def max_pool(padded: Array, geo: PoolGeometry) -> tuple[Array, Array, Array]:
    """Max pooling on an input padded with -inf: each output value is the largest value in its window.

    Also returns where each winner sits in the padded input (its row and its column), which the
    gradient and ``return_indices`` need. The winner is the window's first largest cell, and a NaN
    wins, as in PyTorch.

    Shape:
        padded (N, C, H_pad, W_pad) -> out, rows, cols each (N, C, H_out, W_out)
    """
    (N, C), (dh, dw) = padded.shape[:2], geo.dilation
    out = np.empty(geo.output_shape, dtype=padded.dtype)
    won_row = np.empty(geo.output_shape, dtype=np.int64)
    won_col = np.empty(geo.output_shape, dtype=np.int64)
    for i, j, rows, cols in pool_windows(geo):
        for n in range(N):
            for c in range(C):
                patch = padded[n, c, rows, cols]
                a, b = np.unravel_index(np.argmax(patch), patch.shape)  # argmax: first max, NaN first of all
                out[n, c, i, j] = patch[a, b]
                won_row[n, c, i, j], won_col[n, c, i, j] = rows.start + a * dh, cols.start + b * dw
    return out, won_row, won_col


def max_pool_grad(padded: Array, grad_output: Array, geo: PoolGeometry) -> Array:
    """Gradient of :func:`max_pool` with respect to its padded input: each window's gradient goes
    to the cell that won it (a cell that wins several windows collects them all).

    Shape:
        padded (N, C, H_pad, W_pad), grad_output (N, C, H_out, W_out) -> (N, C, H_pad, W_pad)
    """
    _, won_row, won_col = max_pool(padded, geo)
    grad_padded = np.zeros(padded.shape, dtype=grad_output.dtype)
    for n, c, i, j in np.ndindex(*grad_output.shape):
        grad_padded[n, c, won_row[n, c, i, j], won_col[n, c, i, j]] += grad_output[n, c, i, j]
    return grad_padded


def avg_pool(padded: Array, geo: PoolGeometry, count_include_pad: bool, divisor_override: int | None) -> Array:
    """Average pooling on a zero-padded input: each output value is its window's sum over a divisor.

    The divisor is the number of cells the window covers inside the padded input
    (``count_include_pad``) or inside the input itself; a window that ceil_mode lets
    hang past the padding does not count the overhang.

    Shape:
        padded (N, C, H_pad, W_pad) -> (N, C, H_out, W_out)
    """
    out = np.empty(geo.output_shape, dtype=padded.dtype)
    for i, j, rows, cols in pool_windows(geo):
        total = padded[:, :, rows, cols].sum(axis=(-2, -1))
        out[:, :, i, j] = total / window_divisor(geo, rows, cols, count_include_pad, divisor_override)
    return out


def avg_pool_grad(
    grad_output: Array, geo: PoolGeometry, count_include_pad: bool, divisor_override: int | None
) -> Array:
    """Gradient of :func:`avg_pool` with respect to its padded input: each window shares its
    gradient equally, ``grad / divisor``, among its cells.

    Shape:
        grad_output (N, C, H_out, W_out) -> (N, C, H_pad, W_pad)
    """
    grad_padded = np.zeros((geo.batch, geo.channels, *geo.padded_size), dtype=grad_output.dtype)
    for i, j, rows, cols in pool_windows(geo):
        share = grad_output[:, :, i, j] / window_divisor(geo, rows, cols, count_include_pad, divisor_override)
        grad_padded[:, :, rows, cols] += share[:, :, None, None]
    return grad_padded


def window_divisor(
    geo: PoolGeometry, rows: slice, cols: slice, count_include_pad: bool, divisor_override: int | None
) -> int:
    """How many cells the window at ``rows, cols`` of the padded input averages over."""
    if divisor_override is not None:
        return divisor_override
    (H, W), (ph, pw) = geo.input_size, geo.padding
    top, left = rows.start - ph, cols.start - pw  # window corner in unpadded coordinates
    bottom, right = top + geo.kernel_size[0], left + geo.kernel_size[1]
    if count_include_pad:
        return int((min(bottom, H + ph) - top) * (min(right, W + pw) - left))
    return int((min(bottom, H) - max(top, 0)) * (min(right, W) - max(left, 0)))
