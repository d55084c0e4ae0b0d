"""BatchNorm2d's compiled loops: each channel's statistics, normalisation and gradient sums in a few passes.

One channel of a batch (N blocks of H * W values) fits in a core's cache at the sizes a CNN trains at
(32 x 32 x 32 float32 is 128 KiB), so each kernel takes the channels in parallel and makes its passes over
one channel while it is cached: NumPy's version reads and writes the whole batch once per operation
(mean, centring, variance, scaling, shifting), several times over memory. Sums are kept in float64.

Every array is (N, C, H * W), C-contiguous; per-channel values are (C,) float64.

Small calls (a digit, a lesson's image: under :data:`COMPILED_MIN_VALUES`) take the same steps in NumPy, so
they never wait for the first compile.
"""

from __future__ import annotations

import numpy as np

from .._args import Array
from ..functional.algorithms.compiled import kernel, prange

__all__ = [
    "COMPILED_MIN_VALUES",
    "as_rows",
    "channels",
    "gradient_sums",
    "input_gradient",
    "normalise",
    "statistics",
]

COMPILED_MIN_VALUES = 1 << 14
"""Values in the input from which the compiled loops run (16 digits through a 16-channel layer); below it
NumPy, which takes 2-3 times as long at a training batch of digits but needs no compiling."""


@kernel()
def statistics_loop(x: Array, mean: Array, variance: Array) -> None:
    """Each channel's mean and biased variance, ``mean((x - mean)^2)`` (centred first, as exact as two passes).

    Each sum runs as four: one sum's additions wait on each other, four independent ones keep the adder busy
    (the compiler keeps the order of additions as written, so it would not split them itself)."""
    N, C, L = x.shape
    count = N * L
    tail = L - L % 4
    for c in prange(C):
        s0 = s1 = s2 = s3 = 0.0
        for n in range(N):
            row = x[n, c]
            for i in range(0, tail, 4):
                s0 += row[i]
                s1 += row[i + 1]
                s2 += row[i + 2]
                s3 += row[i + 3]
            for i in range(tail, L):
                s0 += row[i]
        centre = ((s0 + s1) + (s2 + s3)) / count
        s0 = s1 = s2 = s3 = 0.0
        for n in range(N):
            row = x[n, c]
            for i in range(0, tail, 4):
                d0, d1, d2, d3 = row[i] - centre, row[i + 1] - centre, row[i + 2] - centre, row[i + 3] - centre
                s0 += d0 * d0
                s1 += d1 * d1
                s2 += d2 * d2
                s3 += d3 * d3
            for i in range(tail, L):
                d = row[i] - centre
                s0 += d * d
        mean[c] = centre
        variance[c] = ((s0 + s1) + (s2 + s3)) / count


@kernel()
def normalise_loop(
    x: Array, mean: Array, inverse_std: Array, scale: Array, shift: Array, normalised: Array, out: Array
) -> None:
    """``normalised = (x - mean) * inverse_std`` and ``out = normalised * scale + shift``, in one pass."""
    N, C, L = x.shape
    for c in prange(C):
        centre, inverse, s, t = mean[c], inverse_std[c], scale[c], shift[c]
        for n in range(N):
            for i in range(L):
                value = (x[n, c, i] - centre) * inverse
                normalised[n, c, i] = value
                out[n, c, i] = value * s + t


@kernel()
def gradient_sums_loop(grad: Array, normalised: Array, per_scale: Array, per_shift: Array) -> None:
    """Each channel's ``sum(g * x_hat)`` and ``sum(g)``: the gradients of the scale and the shift."""
    N, C, L = grad.shape
    for c in prange(C):
        products = 0.0
        total = 0.0
        for n in range(N):
            g, x = grad[n, c], normalised[n, c]
            p0 = p1 = p2 = p3 = t0 = t1 = t2 = t3 = 0.0  # four running sums of each, as in statistics
            for i in range(0, L - L % 4, 4):
                p0 += g[i] * x[i]
                p1 += g[i + 1] * x[i + 1]
                p2 += g[i + 2] * x[i + 2]
                p3 += g[i + 3] * x[i + 3]
                t0 += g[i]
                t1 += g[i + 1]
                t2 += g[i + 2]
                t3 += g[i + 3]
            for i in range(L - L % 4, L):
                p0 += g[i] * x[i]
                t0 += g[i]
            products += (p0 + p1) + (p2 + p3)
            total += (t0 + t1) + (t2 + t3)
        per_scale[c] = products
        per_shift[c] = total


@kernel()
def input_gradient_loop(
    grad: Array, normalised: Array, mean_grad: Array, mean_product: Array, scale: Array, out: Array
) -> None:
    """``(g - mean(g) - x_hat * mean(g * x_hat)) * scale`` per channel: the gradient through batch statistics."""
    N, C, L = grad.shape
    for c in prange(C):
        m, p, s = mean_grad[c], mean_product[c], scale[c]
        for n in range(N):
            for i in range(L):
                out[n, c, i] = (grad[n, c, i] - m - normalised[n, c, i] * p) * s


def as_rows(array: Array) -> Array:
    """(N, C, H, W) as the (N, C, H * W) C-contiguous array the kernels read (a view when it already is one)."""
    N, C, H, W = array.shape
    return np.ascontiguousarray(array).reshape(N, C, H * W)


def channels(values: Array) -> Array:
    """Per-channel values as the float64 vector the kernels take."""
    return np.ascontiguousarray(values, dtype=np.float64)


def statistics(x: Array, mean: Array, variance: Array) -> None:
    """Each channel's mean and biased variance into ``mean`` and ``variance`` (C,) float64."""
    if x.size >= COMPILED_MIN_VALUES:
        statistics_loop(x, mean, variance)
        return
    mean[...] = x.mean(axis=(0, 2), dtype=np.float64)
    variance[...] = np.square(x - mean[:, None]).mean(axis=(0, 2))


def normalise(
    x: Array, mean: Array, inverse_std: Array, scale: Array, shift: Array, normalised: Array, out: Array
) -> None:
    """``normalised = (x - mean) * inverse_std`` and ``out = normalised * scale + shift``."""
    if x.size >= COMPILED_MIN_VALUES:
        normalise_loop(x, mean, inverse_std, scale, shift, normalised, out)
        return
    value = (x - mean[:, None]) * inverse_std[:, None]  # float64, as the loop computes it
    normalised[...] = value
    out[...] = value * scale[:, None] + shift[:, None]


def gradient_sums(grad: Array, normalised: Array, per_scale: Array, per_shift: Array) -> None:
    """Each channel's ``sum(g * x_hat)`` and ``sum(g)`` in float64."""
    if grad.size >= COMPILED_MIN_VALUES:
        gradient_sums_loop(grad, normalised, per_scale, per_shift)
        return
    per_scale[...] = np.multiply(grad, normalised, dtype=np.float64).sum(axis=(0, 2))
    per_shift[...] = grad.sum(axis=(0, 2), dtype=np.float64)


def input_gradient(
    grad: Array, normalised: Array, mean_grad: Array, mean_product: Array, scale: Array, out: Array
) -> None:
    """``(g - mean(g) - x_hat * mean(g * x_hat)) * scale`` per channel."""
    if grad.size >= COMPILED_MIN_VALUES:
        input_gradient_loop(grad, normalised, mean_grad, mean_product, scale, out)
        return
    out[...] = (grad - mean_grad[:, None] - normalised * mean_product[:, None]) * scale[:, None]
