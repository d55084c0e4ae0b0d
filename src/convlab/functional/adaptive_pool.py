"""Adaptive average pooling: average windows chosen so that the output has a fixed size, whatever the input's.

Output cell i along an axis of length ``size`` averages input cells ``floor(i * size / out)`` up to
``ceil((i + 1) * size / out)``, PyTorch's split: windows of nearly equal size that cover the input,
overlapping by one cell where ``out`` does not divide ``size``. ``output_size=(1, 1)`` is global
average pooling, the usual bridge from feature maps to a classifier.
"""

from __future__ import annotations

import numpy as np

from .._args import Array, Pair

__all__ = ["adaptive_avg_pool2d", "adaptive_avg_pool2d_grad", "adaptive_windows"]


def adaptive_windows(size: int, out: int) -> list[tuple[int, int]]:
    """The [start, end) input cells averaged into each of ``out`` output cells, as PyTorch splits them."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def adaptive_avg_pool2d(input: Array, output_size: Pair) -> Array:
    """(N, C, H, W) -> (N, C, *output_size): the mean of each adaptive window."""
    out = np.empty((*input.shape[:2], *output_size), dtype=input.dtype)
    for i, (top, bottom) in enumerate(adaptive_windows(input.shape[2], output_size[0])):
        for j, (left, right) in enumerate(adaptive_windows(input.shape[3], output_size[1])):
            out[:, :, i, j] = input[:, :, top:bottom, left:right].mean(axis=(2, 3))
    return out


def adaptive_avg_pool2d_grad(input_shape: tuple[int, ...], grad_output: Array, output_size: Pair) -> Array:
    """The gradient for the (N, C, H, W) input: each window's gradient shared equally by its cells."""
    grad_input = np.zeros(input_shape, dtype=grad_output.dtype)
    for i, (top, bottom) in enumerate(adaptive_windows(input_shape[2], output_size[0])):
        for j, (left, right) in enumerate(adaptive_windows(input_shape[3], output_size[1])):
            area = (bottom - top) * (right - left)
            grad_input[:, :, top:bottom, left:right] += grad_output[:, :, i : i + 1, j : j + 1] / area
    return grad_input
