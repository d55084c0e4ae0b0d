"""The lesson's loop: patch * kernel -> sum, one output value at a time.

This is convolution written the way the lesson computes it by hand::

    for each output position (i, j):
        patch = the window of the (padded) input under the kernel
        out[i, j] = sum(patch * kernel) + bias

It is slow on purpose and obviously right. It is the code to read when learning,
and the oracle every fast algorithm in convlab is tested against. Every public
function here takes the same arguments as its fast twin in
:mod:`convlab.functional` and returns the same result.

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
from .calls import (
    avg_pool_options,
    conv2d_call,
    conv2d_geometry_of,
    conv_transpose2d_call,
    conv_transpose2d_geometry_of,
    grad_call,
    pool2d_call,
    unbatch,
)
from .geometry import PoolGeometry, output_length, pool2d_geometry
from .padding import pad2d, pad2d_grad, pool_pad

__all__ = [
    "avg_pool2d",
    "avg_pool2d_grad",
    "conv2d",
    "conv2d_input_grad",
    "conv2d_weight_grad",
    "conv_transpose2d",
    "conv_transpose2d_input_grad",
    "conv_transpose2d_weight_grad",
    "correlate",
    "correlate_input_grad",
    "correlate_weight_grad",
    "max_pool2d",
    "max_pool2d_grad",
    "window",
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
    output_size = (
        output_length(Hp, kh, stride[0], 0, dilation[0]),
        output_length(Wp, kw, stride[1], 0, dilation[1]),
    )
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


def conv2d(
    input: object,
    weight: object,
    bias: object = None,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    padding_mode: object = "zeros",
) -> Array:
    """2-D convolution (cross-correlation, as in PyTorch) by the lesson's loop.

    Same arguments, shapes and result as :func:`convlab.functional.conv2d`.

    Example:
        >>> image = [[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]
        >>> conv2d([image], [[[[1, 0], [0, -1]]]])[0]  # Lab 1
        array([[-2.,  2., -4.],
               [ 4.,  0., -1.],
               [ 0.,  0.,  1.]], dtype=float32)
    """
    call = conv2d_call("conv2d", input, weight, bias, stride, padding, dilation, groups, padding_mode)
    geo = call.geometry
    padded = pad2d(call.input, geo.padding, geo.padding_mode)
    out = correlate(padded, call.weight, call.bias, geo.stride, geo.dilation, geo.groups)
    return unbatch(out, call.unbatched)


def conv2d_input_grad(
    input_shape: object,
    weight: object,
    grad_output: object,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    padding_mode: object = "zeros",
) -> Array:
    """Gradient of conv2d with respect to its input, by the loop (then through the padding)."""
    call = grad_call(
        "conv2d_input_grad",
        grad_output,
        conv2d_geometry_of("conv2d_input_grad", stride, padding, dilation, groups, padding_mode),
        input_shape=input_shape,
        weight=weight,
    )
    weight_, grad, geo, unbatched = call.given, call.grad_output, call.geometry, call.unbatched
    grad_padded = correlate_input_grad(weight_, grad, geo.padded_size, geo.stride, geo.dilation, geo.groups)
    return unbatch(pad2d_grad(grad_padded, geo.padding, geo.padding_mode), unbatched)


def conv2d_weight_grad(
    input: object,
    weight_shape: object,
    grad_output: object,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    padding_mode: object = "zeros",
) -> Array:
    """Gradient of conv2d with respect to its weight, by the loop."""
    call = grad_call(
        "conv2d_weight_grad",
        grad_output,
        conv2d_geometry_of("conv2d_weight_grad", stride, padding, dilation, groups, padding_mode),
        input=input,
        weight_shape=weight_shape,
    )
    x, grad, geo = call.given, call.grad_output, call.geometry
    padded = pad2d(x, geo.padding, geo.padding_mode)
    return correlate_weight_grad(padded, grad, geo.kernel_size, geo.stride, geo.dilation, geo.groups)


def conv_transpose2d(
    input: object,
    weight: object,
    bias: object = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: object = 1,
    dilation: object = 1,
) -> Array:
    """Transposed convolution by the loop: every input value stamps a scaled copy of the kernel.

    Where conv2d gathers a window into one value, the transposed convolution
    scatters one value into a window: input value ``x[i, j]`` adds
    ``x[i, j] * kernel`` into the output window that conv2d's output ``(i, j)``
    would have read. That is exactly the loop of :func:`correlate_input_grad`,
    the transposed convolution *is* conv2d's input gradient. ``padding`` then
    crops that many cells from each border and ``output_padding`` keeps extra
    rows/columns at the bottom/right.

    Same arguments, shapes and result as :func:`convlab.functional.conv_transpose2d`.
    """
    call = conv_transpose2d_call(
        "conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    geo = call.geometry
    (ph, pw), (Ho, Wo) = geo.padding, geo.output_size
    full = correlate_input_grad(
        call.weight, call.input, (Ho + 2 * ph, Wo + 2 * pw), geo.stride, geo.dilation, geo.groups
    )
    out = full[:, :, ph : ph + Ho, pw : pw + Wo]
    if call.bias is not None:
        out = out + call.bias[:, None, None]
    return unbatch(np.ascontiguousarray(out), call.unbatched)


def conv_transpose2d_input_grad(
    input_shape: tuple[int, ...],
    weight: object,
    grad_output: object,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: object = 1,
    dilation: object = 1,
) -> Array:
    """Gradient of the transposed convolution with respect to its input, by the loop.

    Input value ``x[i, j]`` stamped ``x[i, j] * kernel`` into one window of the
    uncropped output, so its gradient is that window of the (uncropped, so
    zero-bordered) output gradient times the kernel, summed: the lesson's
    ``sum(patch * kernel)`` of :func:`correlate`. Same arguments, shapes and
    result as :func:`convlab.functional.conv_transpose2d_input_grad`.
    """
    call = grad_call(
        "conv_transpose2d_input_grad",
        grad_output,
        conv_transpose2d_geometry_of(
            "conv_transpose2d_input_grad", stride, padding, output_padding, groups, dilation
        ),
        input_shape=input_shape,
        weight=weight,
    )
    w, grad, geo, unbatched = call.given, call.grad_output, call.geometry, call.unbatched
    (ph, pw), (H, W) = geo.padding, geo.input_size
    uncropped = np.pad(grad, ((0, 0), (0, 0), (ph, ph), (pw, pw)))  # the cropped border had gradient 0
    out = correlate(uncropped, w, None, geo.stride, geo.dilation, geo.groups)
    return unbatch(np.ascontiguousarray(out[:, :, :H, :W]), unbatched)  # output_padding can add a window


def conv_transpose2d_weight_grad(
    input: object,
    weight_shape: tuple[int, ...],
    grad_output: object,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: object = 1,
    dilation: object = 1,
) -> Array:
    """Gradient of the transposed convolution with respect to its weight, by the loop.

    The kernel was stamped once per input value, scaled by it, so its gradient is
    the sum over input values of ``x[i, j] * (the window of the output gradient
    it was stamped into)``: :func:`correlate_weight_grad` with the output
    gradient as the input and ``x`` as the weights of each window. Same
    arguments, shapes and result as :func:`convlab.functional.conv_transpose2d_weight_grad`.
    """
    call = grad_call(
        "conv_transpose2d_weight_grad",
        grad_output,
        conv_transpose2d_geometry_of(
            "conv_transpose2d_weight_grad", stride, padding, output_padding, groups, dilation
        ),
        input=input,
        weight_shape=weight_shape,
    )
    x, grad, geo = call.given, call.grad_output, call.geometry
    (ph, pw) = geo.padding
    uncropped = np.pad(grad, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return correlate_weight_grad(uncropped, x, geo.kernel_size, geo.stride, geo.dilation, geo.groups)


def _pool_windows(geo: PoolGeometry) -> list[tuple[int, int, slice, slice]]:
    """Every output position with the rows and columns of its window in the padded input."""
    return [
        (i, j, *window(i, j, geo.kernel_size, geo.stride, geo.dilation))
        for i in range(geo.output_size[0])
        for j in range(geo.output_size[1])
    ]


def max_pool2d(
    input: object,
    kernel_size: object,
    stride: object = None,
    padding: object = 0,
    dilation: object = 1,
    ceil_mode: bool = False,
) -> Array:
    """Max pooling by the loop: each output value is the largest value in its window.

    Padding never wins: padded cells are -inf. Same arguments, shapes and result
    as :func:`convlab.functional.max_pool2d`.
    """
    call = pool2d_call("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    geo = call.geometry
    padded = pool_pad(call.input, geo, -np.inf)
    out = np.empty(geo.output_shape, dtype=call.input.dtype)
    for i, j, rows, cols in _pool_windows(geo):
        out[:, :, i, j] = padded[:, :, rows, cols].max(axis=(-2, -1))
    return unbatch(out, call.unbatched)


def avg_pool2d(
    input: object,
    kernel_size: object,
    stride: object = None,
    padding: object = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Array:
    """Average pooling by the loop: each output value is its window's sum over a divisor.

    The divisor is the number of cells the window covers inside the padded input
    (``count_include_pad=True``) or inside the input itself (``False``); a window
    that ceil_mode lets hang past the padding does not count the overhang.
    """
    call = pool2d_call("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    count_include_pad, divisor_override = avg_pool_options(count_include_pad, divisor_override)
    geo = call.geometry
    padded = pool_pad(call.input, geo, 0.0)
    out = np.empty(geo.output_shape, dtype=call.input.dtype)
    for i, j, rows, cols in _pool_windows(geo):
        total = padded[:, :, rows, cols].sum(axis=(-2, -1))
        out[:, :, i, j] = total / _divisor(geo, rows, cols, count_include_pad, divisor_override)
    return unbatch(out, call.unbatched)


def _divisor(geo: PoolGeometry, rows: slice, cols: slice, count_include_pad: bool, override: int | None) -> int:
    """How many cells the window at ``rows, cols`` of the padded input averages over."""
    if override is not None:
        return override
    (H, W), (ph, pw) = geo.input_size, geo.padding
    top, left = rows.start - ph, cols.start - pw  # window corner in unpadded coordinates
    bottom, right = top + geo.kernel_size[0], left + geo.kernel_size[1]
    if count_include_pad:
        return int((min(bottom, H + ph) - top) * (min(right, W + pw) - left))
    return int((min(bottom, H) - max(top, 0)) * (min(right, W) - max(left, 0)))


def _unpadded(grad_padded: Array, geo: PoolGeometry) -> Array:
    """The gradient of the input cells: the padded gradient without its border (padding has no input)."""
    (ph, pw), (H, W) = geo.padding, geo.input_size
    return np.ascontiguousarray(grad_padded[:, :, ph : ph + H, pw : pw + W])


def max_pool2d_grad(
    input: object,
    grad_output: object,
    kernel_size: object,
    stride: object = None,
    padding: object = 0,
    dilation: object = 1,
    ceil_mode: bool = False,
) -> Array:
    """Gradient of max pooling by the loop: each window's gradient goes to the cell that won it.

    The winner is the window's first largest cell (a NaN wins, as in the forward
    pass). A window that lies wholly in the padding wins a padding cell, so its
    gradient reaches no input. Same arguments, shapes and result as
    :func:`convlab.functional.max_pool2d_grad`.
    """
    call = grad_call(
        "max_pool2d_grad",
        grad_output,
        lambda x_shape, _: pool2d_geometry(
            "max_pool2d_grad", x_shape, kernel_size, stride, padding, dilation, ceil_mode
        ),
        input=input,
    )
    grad, geo = call.grad_output, call.geometry
    (N, C), (dh, dw) = call.given.shape[:2], geo.dilation
    padded = pool_pad(call.given, geo, -np.inf)
    grad_padded = np.zeros(padded.shape, dtype=grad.dtype)
    for i, j, rows, cols in _pool_windows(geo):
        for n in range(N):
            for c in range(C):
                patch = padded[n, c, rows, cols]
                a, b = np.unravel_index(np.argmax(patch), patch.shape)  # argmax: first max, NaN first of all
                grad_padded[n, c, rows.start + a * dh, cols.start + b * dw] += grad[n, c, i, j]
    return unbatch(_unpadded(grad_padded, geo), call.unbatched)


def avg_pool2d_grad(
    input_shape: tuple[int, ...],
    grad_output: object,
    kernel_size: object,
    stride: object = None,
    padding: object = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Array:
    """Gradient of average pooling by the loop: each window shares its gradient equally among its cells.

    Every cell of a window gets ``grad / divisor``, the divisor the forward pass
    divided by; the shares that land on padding reach no input. Same arguments,
    shapes and result as :func:`convlab.functional.avg_pool2d_grad`.
    """
    call = grad_call(
        "avg_pool2d_grad",
        grad_output,
        lambda x_shape, _: pool2d_geometry("avg_pool2d_grad", x_shape, kernel_size, stride, padding, 1, ceil_mode),
        input_shape=input_shape,
    )
    grad = call.grad_output
    count_include_pad, divisor_override = avg_pool_options(count_include_pad, divisor_override)
    geo = call.geometry
    grad_padded = np.zeros((geo.batch, geo.channels, *geo.padded_size), dtype=grad.dtype)
    for i, j, rows, cols in _pool_windows(geo):
        share = grad[:, :, i, j] / _divisor(geo, rows, cols, count_include_pad, divisor_override)
        grad_padded[:, :, rows, cols] += share[:, :, None, None]
    return unbatch(_unpadded(grad_padded, geo), call.unbatched)
