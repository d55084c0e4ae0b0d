"""Dilated 3x3 stride-1 convolutions as Winograd on the input's polyphase sub-images.

With dilation d and stride 1, output (y, x) reads input cells (y + d*a, x + d*b): every
one of them has the same row remainder y mod d and column remainder x mod d. So the
outputs whose row is r mod d and column c mod d (phase (r, c)) read only the
sub-image ``padded[:, :, r::d, c::d]``, and there they are an ordinary undilated 3x3
convolution of it:

    out[:, :, r::d, c::d] = conv3x3(padded[:, :, r::d, c::d])

A dilated 3x3 convolution is therefore d_h * d_w undilated ones on images d times
smaller each way, which :mod:`.winograd` computes as one batch of d_h * d_w * N images.
Both gradients split the same way: the input gradient of each phase is Winograd's
input gradient of that sub-image, and the weight gradient, summed over the batch, is
summed over the phases for free.

Phases differ by one row or column when d does not divide the padded size; each is
taken in the longest phase's size with zeros after its end (those cells only reach
outputs past the phase's own, which are dropped, and get no gradient).

Large calls never copy a phase: Winograd's compiled gathers read each phase's cells
straight from the input (and the output gradient), and its output transform writes
them straight into the result (:class:`.winograd.Placement`). Small calls split the
phases into one array and merge them back in NumPy, which needs no compilation.

NaN and Inf spread as in Winograd: over a 6x6 tile of a phase, which is a 6d x 6d
stretch of the input (``auto`` gives way to im2col when a value is not finite).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from ..._args import Array, Pad2d, Pair
from . import parallel, winograd, workspace

__all__ = [
    "forward",
    "forward_zero_padded",
    "input_grad",
    "input_grad_zero_padded",
    "phase_count",
    "supports",
    "weight_grad",
    "weight_grad_zero_padded",
]

_NO_PADDING: Pad2d = ((0, 0), (0, 0))
_ONE: Pair = (1, 1)


def supports(kernel_size: Pair, stride: Pair, dilation: Pair) -> bool:
    """3x3 kernels with stride 1 and a dilation above 1 (dilation 1 is Winograd itself)."""
    return kernel_size == (3, 3) and stride == (1, 1) and dilation != (1, 1)


def phase_count(padded_length: int, dilation: int) -> int:
    """The length of the longest phase: cells r, r + d, ... of a padded side, for r = 0."""
    return math.ceil(padded_length / dilation)


def _cells(phase: int, dilation: int, before: int, length: int, longest: int) -> tuple[slice, slice]:
    """Which cells of a phase lie on the unpadded input, and which input cells they are.

    Phase cell i is padded cell ``phase + d*i``, input cell ``phase + d*i - before``; the input holds
    ``length`` cells. Returns (phase cells, input cells), equally long (possibly empty).
    """
    first = max(0, -((phase - before) // dilation))  # the first i with phase + d*i >= before
    stop = min(longest, -((phase - before - length) // dilation))  # the first i past the input's end
    stop = max(first, stop)
    start = phase + dilation * first - before
    return slice(first, stop), slice(start, start + dilation * (stop - first), dilation)


def _pairs(
    dilation: Pair, padding: Pad2d, size: Pair, longest: Pair
) -> Iterator[tuple[int, int, tuple[slice, slice], tuple[slice, slice]]]:
    """For every phase (r, c): its rows and columns that are input cells, and those input cells."""
    for r in range(dilation[0]):
        rows = _cells(r, dilation[0], padding[0][0], size[0], longest[0])
        for c in range(dilation[1]):
            columns = _cells(c, dilation[1], padding[1][0], size[1], longest[1])
            yield r, c, (rows[0], columns[0]), (rows[1], columns[1])


@contextmanager
def _split(input: Array, padding: Pad2d, dilation: Pair) -> Iterator[Array]:
    """The zero-padded input's phases, one batch of sub-images, in a borrowed workspace.

    Shape:
        input (N, C, H, W) -> (d_h * d_w * N, C, ceil(H_pad / d_h), ceil(W_pad / d_w)), phase (r, c) of
        image n at index (r * d_w + c) * N + n
    """
    N, C, H, W = input.shape
    padded = (padding[0][0] + H + padding[0][1], padding[1][0] + W + padding[1][1])
    longest = (phase_count(padded[0], dilation[0]), phase_count(padded[1], dilation[1]))
    with workspace.borrow((dilation[0], dilation[1], N, C, *longest), input.dtype) as phases:
        for r, c, (rows, columns), (in_rows, in_columns) in _pairs(dilation, padding, (H, W), longest):
            phase = phases[r, c]
            # zeros only in the frame around the input's cells (the padding and the tail of a short phase)
            phase[:, :, : rows.start] = 0
            phase[:, :, rows.stop :] = 0
            phase[:, :, rows, : columns.start] = 0
            phase[:, :, rows, columns.stop :] = 0
            parallel.copy(phase[:, :, rows, columns], input[:, :, in_rows, in_columns], axis=1)
        yield phases.reshape(dilation[0] * dilation[1] * N, C, *longest)


def _input_span(before: int, length: int, dilation: int) -> tuple[int, int]:
    """The phase cells from the first to the last that any phase has on the unpadded input (the padding
    around them needs no gradient): (first, stop), the same for every phase of this side."""
    longest = phase_count(before + length + dilation, dilation)  # long enough for every phase
    spans = [_cells(phase, dilation, before, length, longest)[0] for phase in range(dilation)]
    return min(span.start for span in spans), max(span.stop for span in spans)


def _merge(phases: Array, size: Pair, padding: Pad2d, dilation: Pair) -> Array:
    """Every phase's cells put back where they came from, in a new array of ``size``: the inverse of
    :func:`_split` for an array of that size with that padding (each of its cells lies in one phase).

    Shape:
        (d_h * d_w * N, C, h, w) -> (N, C, *size)
    """
    N = phases.shape[0] // (dilation[0] * dilation[1])
    by_phase = phases.reshape(dilation[0], dilation[1], N, *phases.shape[1:])
    out = np.empty((N, phases.shape[1], *size), dtype=phases.dtype)
    for r, c, cells, out_cells in _pairs(dilation, padding, size, phases.shape[2:]):
        parallel.copy(out[:, :, out_cells[0], out_cells[1]], by_phase[r, c][:, :, cells[0], cells[1]], axis=1)
    return out


def forward_zero_padded(
    input: Array, weight: Array, bias: Array | None, padding: Pad2d, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """Winograd on every phase of the zero-padded input, each phase's outputs written to their places.

    The compiled kernels read each phase straight from the input and write its outputs straight into the
    result; small calls split and merge copies in NumPy.

    Shape:
        input (N, C, H, W), weight (O, C/groups, 3, 3), bias (O,) -> (N, O, H_pad - 2 d_h, W_pad - 2 d_w)
    """
    N, C, H, W = input.shape
    Ho = padding[0][0] + H + padding[0][1] - 2 * dilation[0]
    Wo = padding[1][0] + W + padding[1][1] - 2 * dilation[1]
    longest = (phase_count(Ho, dilation[0]), phase_count(Wo, dilation[1]))  # each phase's outputs
    if not _compiled(N, C, longest, dilation):
        with _split(input, padding, dilation) as phases:
            outputs = winograd.forward(phases, weight, bias, _ONE, _ONE, groups)
        return _merge(outputs, (Ho, Wo), _NO_PADDING, dilation)
    out = np.empty((N, weight.shape[0], Ho, Wo), dtype=weight.dtype)
    read = winograd.Placement(dilation, (padding[0][0], padding[1][0]))
    U = winograd.transformed(weight, groups)
    return winograd.convolve(input, U, bias, out, longest, read, winograd.Placement(dilation))


def _compiled(N: int, C: int, outputs: Pair, dilation: Pair) -> bool:
    """Whether the batch of phases, each with ``outputs`` outputs and C channels, runs Winograd's compiled
    kernels: the size of the phases' padded inputs against Winograd's threshold."""
    values = N * dilation[0] * dilation[1] * C * (outputs[0] + 2) * (outputs[1] + 2)
    return values >= winograd.COMPILED_MIN_VALUES


def input_grad_zero_padded(
    weight: Array, grad_output: Array, input_size: Pair, padding: Pad2d, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """Winograd's input gradient of every phase, each phase's cells of the input put back in place.

    Shape:
        weight (O, C/groups, 3, 3), grad_output (N, O, H_out, W_out) -> (N, C, H, W)
    """
    (dh, dw), (N, O, Ho, Wo) = dilation, grad_output.shape
    rows, columns = (_input_span(padding[a][0], input_size[a], dilation[a]) for a in range(2))
    # Phase cell k's gradient is the full correlation of the phase's grad_output rows k - 2 .. k: the phase
    # grad_output placed 2 - first cells in, in zeros 2 longer than the span, gives cells first .. stop - 1
    span = (rows[1] - rows[0], columns[1] - columns[0])
    top, left = (2 - rows[0]) * dh, (2 - columns[0]) * dw
    # the span starts at phase cell first: the input starts that many phase cells (d each) less far in
    spanned = (padding[0][0] - dh * rows[0], padding[1][0] - dw * columns[0])
    if not _compiled(N, O, span, dilation):
        placing = ((top, dh * (span[0] + 2) - top - Ho), (left, dw * (span[1] + 2) - left - Wo))
        with _split(grad_output, placing, dilation) as placed:
            phase_grads = winograd.adjoint_forward(placed, weight, groups)
        return _merge(phase_grads, input_size, ((spanned[0], 0), (spanned[1], 0)), dilation)
    out = np.empty((N, weight.shape[1] * groups, *input_size), dtype=weight.dtype)
    U = winograd.transformed(weight, groups, flipped=True)
    read, write = winograd.Placement(dilation, (top, left)), winograd.Placement(dilation, spanned)
    return winograd.convolve(grad_output, U, None, out, span, read, write)


def weight_grad_zero_padded(
    input: Array, grad_output: Array, kernel_size: Pair, padding: Pad2d, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """Winograd's weight gradient on the batch of phases: each output phase is the undilated convolution of
    its input phase, and the sum over the batch is the sum over the phases.

    Shape:
        input (N, C, H, W), grad_output (N, O, H_out, W_out) -> (O, C/groups, 3, 3)
    """
    (dh, dw), (N, C), (Ho, Wo) = dilation, input.shape[:2], grad_output.shape[2:]
    # each output phase as long as the longest, zeros after a short one's end (they multiply zeros too)
    longest = (phase_count(Ho, dh), phase_count(Wo, dw))
    phases = N * dh * dw
    if winograd.worth_weight_grad(phases * C * (longest[0] + 2) * (longest[1] + 2), phases, longest):
        read = winograd.Placement(dilation, (padding[0][0], padding[1][0]))
        return winograd.weight_grad_placed(input, grad_output, groups, longest, read, winograd.Placement(dilation))
    trailing = ((0, dh * longest[0] - Ho), (0, dw * longest[1] - Wo))
    with _split(input, padding, dilation) as phases_in, _split(grad_output, trailing, dilation) as grads:
        return winograd.weight_grad(phases_in, grads, kernel_size, _ONE, _ONE, groups)


def forward(padded: Array, weight: Array, bias: Array | None, stride: Pair, dilation: Pair, groups: int) -> Array:
    """:func:`forward_zero_padded` on an input padded already (any padding mode).

    Shape:
        padded (N, C, H_pad, W_pad), weight (O, C/groups, 3, 3), bias (O,) -> (N, O, H_pad - 2 d_h, W_pad - 2 d_w)
    """
    return forward_zero_padded(padded, weight, bias, _NO_PADDING, stride, dilation, groups)


def input_grad(
    weight: Array, grad_output: Array, padded_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """The gradient for every cell of the padded input.

    Shape:
        weight (O, C/groups, 3, 3), grad_output (N, O, H_out, W_out) -> (N, C, H_pad, W_pad)
    """
    return input_grad_zero_padded(weight, grad_output, padded_size, _NO_PADDING, stride, dilation, groups)


def weight_grad(
    padded: Array, grad_output: Array, kernel_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """The weight gradient from an input padded already.

    Shape:
        padded (N, C, H_pad, W_pad), grad_output (N, O, H_out, W_out) -> (O, C/groups, 3, 3)
    """
    return weight_grad_zero_padded(padded, grad_output, kernel_size, _NO_PADDING, stride, dilation, groups)
