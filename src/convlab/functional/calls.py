"""Turn one public call's raw arguments into checked arrays and geometry.

The fast engine and the reference loop both start here, so they accept, convert
and refuse exactly the same inputs. A ``*Call`` holds the arrays in batched
form (N, C, H, W) and remembers whether the user gave an unbatched (C, H, W)
input, so results come back in the rank they came in.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from .._args import Array, as_int, flag
from .._arrays import float_arrays
from .._memory import check_fits
from ..errors import ArgumentTypeError, ShapeError
from .geometry import (
    ConvGeometry,
    PoolGeometry,
    TransposeGeometry,
    conv2d_geometry,
    conv_transpose2d_geometry,
    pool2d_geometry,
    with_batch_axis,
)

__all__ = [
    "ConvCall",
    "PoolCall",
    "TransposeCall",
    "avg_pool_options",
    "conv2d_call",
    "conv2d_input_grad_call",
    "conv2d_weight_grad_call",
    "conv_transpose2d_call",
    "conv_transpose2d_input_grad_call",
    "conv_transpose2d_weight_grad_call",
    "pool2d_call",
    "pool2d_grad_call",
    "unbatch",
]


G = TypeVar("G", ConvGeometry, TransposeGeometry)


def unbatch(array: Array, unbatched: bool) -> Array:
    """Drop the batch axis again if the caller gave an unbatched (C, H, W) input."""
    return array[0] if unbatched else array


def shape_argument(value: object, name: str, ndims: tuple[int, ...]) -> tuple[int, ...]:
    """Check a shape given as a tuple of ints, e.g. ``input_shape=(1, 3, 8, 8)``."""
    if not isinstance(value, (tuple, list)) or len(value) not in ndims:
        wanted = " or ".join(str(n) for n in ndims)
        shown = f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else repr(value)
        raise ArgumentTypeError(
            f"{name} must be a tuple of {wanted} ints, got {shown}",
            fix=f"pass the shape itself, e.g. {name}=x.shape",
        )
    return tuple(as_int(n, name, minimum=0) for n in value)


def check_memory(op: str, geometry: ConvGeometry | TransposeGeometry, dtype: np.dtype[Any]) -> None:
    """Refuse a call whose padded input and output alone would not fit in memory, before allocating them."""
    layout, output = geometry.layout, geometry.output_shape
    height, width = layout.padded_size
    cells = layout.batch * layout.in_channels * height * width + math.prod(output)
    check_fits(
        f"{op}: the padded input ({layout.batch}, {layout.in_channels}, {height}, {width}) and the output "
        f"{output} in {dtype}",
        cells * dtype.itemsize,
        fix="use less padding or dilation, or a smaller input",
    )


def _check_grad_output(grad_output: Array, expected: tuple[int, ...], op: str, produced_by: str) -> None:
    if grad_output.shape != expected:
        raise ShapeError(
            f"{op}: grad_output must have shape {expected}, got {grad_output.shape}",
            evidence=[f"{expected} is the shape of the output {produced_by} produces"],
            fix="pass the gradient of that output, with the same settings as the forward call",
        )


@dataclass(frozen=True)
class ConvCall:
    """Checked arrays of a conv2d call: input (N, C, H, W), weight (O, C/groups, kH, kW), bias (O,) or None."""

    input: Array
    weight: Array
    bias: Array | None
    geometry: ConvGeometry
    unbatched: bool


def conv2d_call(
    op: str,
    input: object,
    weight: object,
    bias: object,
    stride: object,
    padding: object,
    dilation: object,
    groups: object,
    padding_mode: object,
) -> ConvCall:
    arrays = float_arrays({"input": input, "weight": weight, "bias": bias})
    x, unbatched = with_batch_axis(arrays["input"], "input", op)
    w, b = arrays["weight"], arrays.get("bias")
    geometry = conv2d_geometry(
        op,
        x.shape,
        w.shape,
        stride,
        padding,
        dilation,
        groups,
        padding_mode,
        None if b is None else b.shape,
        original_shape=arrays["input"].shape,
    )
    check_memory(op, geometry, x.dtype)
    return ConvCall(x, w, b, geometry, unbatched)


def conv2d_input_grad_call(
    op: str,
    input_shape: object,
    weight: object,
    grad_output: object,
    stride: object,
    padding: object,
    dilation: object,
    groups: object,
    padding_mode: object,
) -> tuple[Array, Array, ConvGeometry, bool]:
    """Check a conv2d_input_grad call: (weight, batched grad_output, geometry, unbatched)."""
    return _input_grad_call(
        op,
        "conv2d",
        input_shape,
        weight,
        grad_output,
        lambda x_shape, w_shape: conv2d_geometry(
            op, x_shape, w_shape, stride, padding, dilation, groups, padding_mode
        ),
    )


def conv2d_weight_grad_call(
    op: str,
    input: object,
    weight_shape: object,
    grad_output: object,
    stride: object,
    padding: object,
    dilation: object,
    groups: object,
    padding_mode: object,
) -> tuple[Array, Array, ConvGeometry]:
    """Check a conv2d_weight_grad call: (batched input, batched grad_output, geometry)."""
    return _weight_grad_call(
        op,
        "conv2d",
        input,
        weight_shape,
        grad_output,
        lambda x_shape, w_shape: conv2d_geometry(
            op, x_shape, w_shape, stride, padding, dilation, groups, padding_mode
        ),
    )


def _input_grad_call(
    op: str,
    forward: str,
    input_shape: object,
    weight: object,
    grad_output: object,
    geometry_of: Callable[[tuple[int, ...], tuple[int, ...]], G],
) -> tuple[Array, Array, G, bool]:
    """The input gradient's checks, shared by conv2d and conv_transpose2d."""
    shape: tuple[int, ...] = shape_argument(input_shape, "input_shape", (3, 4))
    arrays = float_arrays({"weight": weight, "grad_output": grad_output})
    w, g = arrays["weight"], arrays["grad_output"]
    unbatched = len(shape) == 3
    geometry = geometry_of((1, *shape) if unbatched else shape, w.shape)
    check_memory(op, geometry, w.dtype)
    _check_grad_output(g, geometry.output_shape[unbatched:], op, f"{forward} on input_shape {shape}")
    return w, (g[None] if unbatched else g), geometry, unbatched


def _weight_grad_call(
    op: str,
    forward: str,
    input: object,
    weight_shape: object,
    grad_output: object,
    geometry_of: Callable[[tuple[int, ...], tuple[int, ...]], G],
) -> tuple[Array, Array, G]:
    """The weight gradient's checks, shared by conv2d and conv_transpose2d."""
    shape: tuple[int, ...] = shape_argument(weight_shape, "weight_shape", (4,))
    arrays = float_arrays({"input": input, "grad_output": grad_output})
    x, unbatched = with_batch_axis(arrays["input"], "input", op)
    g = arrays["grad_output"]
    geometry = geometry_of(x.shape, shape)
    check_memory(op, geometry, x.dtype)
    _check_grad_output(
        g,
        geometry.output_shape[unbatched:],
        op,
        f"{forward} on input {arrays['input'].shape} with weight_shape {shape}",
    )
    return x, (g[None] if unbatched else g), geometry


@dataclass(frozen=True)
class TransposeCall:
    """Checked arrays of a conv_transpose2d call: input (N, C_in, H, W), weight (C_in, C_out/groups, kH, kW)."""

    input: Array
    weight: Array
    bias: Array | None
    geometry: TransposeGeometry
    unbatched: bool


def conv_transpose2d_call(
    op: str,
    input: object,
    weight: object,
    bias: object,
    stride: object,
    padding: object,
    output_padding: object,
    groups: object,
    dilation: object,
) -> TransposeCall:
    arrays = float_arrays({"input": input, "weight": weight, "bias": bias})
    x, unbatched = with_batch_axis(arrays["input"], "input", op)
    w, b = arrays["weight"], arrays.get("bias")
    geometry = conv_transpose2d_geometry(
        op, x.shape, w.shape, stride, padding, output_padding, groups, dilation, None if b is None else b.shape
    )
    check_memory(op, geometry, x.dtype)
    return TransposeCall(x, w, b, geometry, unbatched)


def conv_transpose2d_input_grad_call(
    op: str,
    input_shape: object,
    weight: object,
    grad_output: object,
    stride: object,
    padding: object,
    output_padding: object,
    groups: object,
    dilation: object,
) -> tuple[Array, Array, TransposeGeometry, bool]:
    """Check a conv_transpose2d_input_grad call: (weight, batched grad_output, geometry, unbatched)."""
    return _input_grad_call(
        op,
        "conv_transpose2d",
        input_shape,
        weight,
        grad_output,
        lambda x_shape, w_shape: conv_transpose2d_geometry(
            op, x_shape, w_shape, stride, padding, output_padding, groups, dilation
        ),
    )


def conv_transpose2d_weight_grad_call(
    op: str,
    input: object,
    weight_shape: object,
    grad_output: object,
    stride: object,
    padding: object,
    output_padding: object,
    groups: object,
    dilation: object,
) -> tuple[Array, Array, TransposeGeometry]:
    """Check a conv_transpose2d_weight_grad call: (batched input, batched grad_output, geometry)."""
    return _weight_grad_call(
        op,
        "conv_transpose2d",
        input,
        weight_shape,
        grad_output,
        lambda x_shape, w_shape: conv_transpose2d_geometry(
            op, x_shape, w_shape, stride, padding, output_padding, groups, dilation
        ),
    )


@dataclass(frozen=True)
class PoolCall:
    """Checked input (N, C, H, W) of a pooling call and its geometry."""

    input: Array
    geometry: PoolGeometry
    unbatched: bool


def pool2d_call(
    op: str,
    input: object,
    kernel_size: object,
    stride: object,
    padding: object,
    dilation: object,
    ceil_mode: object,
) -> PoolCall:
    x, unbatched = with_batch_axis(float_arrays({"input": input})["input"], "input", op)
    geometry = pool2d_geometry(op, x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    _check_pool_memory(op, geometry, x.dtype)
    return PoolCall(x, geometry, unbatched)


def _check_pool_memory(op: str, geometry: PoolGeometry, dtype: np.dtype[Any]) -> None:
    """Refuse pooling whose padded input and output alone would not fit in memory, before allocating them."""
    height, width = geometry.padded_size
    padded = (geometry.batch, geometry.channels, height, width)
    check_fits(
        f"{op}: the padded input {padded} and the output {geometry.output_shape} in {dtype}",
        (math.prod(padded) + math.prod(geometry.output_shape)) * dtype.itemsize,
        fix="use a smaller kernel_size and padding, or a smaller input",
    )


def pool2d_grad_call(
    op: str,
    input_or_shape: object,
    grad_output: object,
    kernel_size: object,
    stride: object,
    padding: object,
    dilation: object,
    ceil_mode: object,
    *,
    needs_values: bool,
) -> tuple[PoolCall, Array]:
    """Check a pooling gradient call: (the call, batched grad_output).

    ``input_or_shape`` is the input itself when ``needs_values`` (max pooling must
    find the maxima again) and only its shape otherwise (average pooling).
    """
    if needs_values:
        arrays = float_arrays({"input": input_or_shape, "grad_output": grad_output})
        x, unbatched = with_batch_axis(arrays["input"], "input", op)
    else:
        shape = shape_argument(input_or_shape, "input_shape", (3, 4))
        arrays = float_arrays({"grad_output": grad_output})
        unbatched = len(shape) == 3
        x = np.empty((1, *shape) if unbatched else shape, dtype=arrays["grad_output"].dtype)
    g = arrays["grad_output"]
    geometry = pool2d_geometry(op, x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    _check_pool_memory(op, geometry, g.dtype)
    _check_grad_output(
        g, geometry.output_shape[unbatched:], op, f"pooling an input of shape {x.shape[unbatched:]}"
    )
    return PoolCall(x, geometry, unbatched), (g[None] if unbatched else g)


def avg_pool_options(count_include_pad: object, divisor_override: object) -> tuple[bool, int | None]:
    """Check average pooling's own options."""
    divisor = None if divisor_override is None else as_int(divisor_override, "divisor_override", minimum=1)
    return flag(count_include_pad, "count_include_pad"), divisor
