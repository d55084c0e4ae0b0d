"""Turn one public call's raw arguments into checked arrays and geometry.

Every public function starts here, whichever algorithm then runs (the reference loop
included), so they accept, convert and refuse exactly the same inputs. A ``*Call`` holds the arrays in batched
form (N, C, H, W) and remembers whether the user gave an unbatched (C, H, W)
input, so results come back in the rank they came in.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from .._args import Array, as_int, flag
from .._arrays import float_arrays
from .._memory import check_fits
from ..errors import ArgumentTypeError, ShapeError
from .geometry import (
    ConvArgs,
    ConvGeometry,
    PoolGeometry,
    TransposeArgs,
    TransposeGeometry,
    conv2d_geometry,
    conv_transpose2d_geometry,
    pool2d_geometry,
    with_batch_axis,
)

__all__ = [
    "ConvCall",
    "GradCall",
    "PoolCall",
    "TransposeCall",
    "avg_pool_options",
    "conv2d_call",
    "conv2d_geometry_of",
    "conv_transpose2d_call",
    "conv_transpose2d_geometry_of",
    "grad_call",
    "pool2d_call",
    "unbatch",
]


G = TypeVar("G", ConvGeometry, TransposeGeometry, PoolGeometry)


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
        lambda: (
            f"{op}: the padded input ({layout.batch}, {layout.in_channels}, {height}, {width}) and the output "
            f"{output} in {dtype}"
        ),
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


def _operands(
    op: str, input: object, weight: object, bias: object
) -> tuple[Array, Array, Array | None, bool, tuple[int, ...]]:
    """A convolution's arrays in one dtype, the input batched: input, weight, bias, whether the input came
    unbatched, and its shape as given."""
    arrays = float_arrays({"input": input, "weight": weight, "bias": bias})
    x, unbatched = with_batch_axis(arrays["input"], "input", op)
    return x, arrays["weight"], arrays.get("bias"), unbatched, arrays["input"].shape


@dataclass(frozen=True)
class ConvCall:
    """Checked arrays of a conv2d call: input (N, C, H, W), weight (O, C/groups, kH, kW), bias (O,) or None."""

    input: Array
    weight: Array
    bias: Array | None
    geometry: ConvGeometry
    unbatched: bool


def conv2d_call(op: str, input: object, weight: object, bias: object, args: ConvArgs) -> ConvCall:
    x, w, b, unbatched, given_shape = _operands(op, input, weight, bias)
    geometry = conv2d_geometry(op, x.shape, w.shape, args, None if b is None else b.shape, given_shape)
    check_memory(op, geometry, x.dtype)
    return ConvCall(x, w, b, geometry, unbatched)


@dataclass(frozen=True)
class GradCall(Generic[G]):
    """Checked arrays of a gradient call, batched: the array it was given (the input, or the weight) and
    grad_output, with the forward call's geometry and whether the input came unbatched."""

    given: Array
    grad_output: Array
    geometry: G
    unbatched: bool


POOLING: Any = object()
"""grad_call's ``weight`` when the operation has none (pooling), as opposed to a weight of None."""


def grad_call(
    op: str,
    grad_output: object,
    geometry_of: Callable[[tuple[int, ...], tuple[int, ...]], G],
    *,
    input: object = None,
    input_shape: object = None,
    weight: object = POOLING,
    weight_shape: object = None,
) -> GradCall[G]:
    """Check any gradient call: the input comes as an array or as ``input_shape``, and a convolution's
    weight as an array or as ``weight_shape``; ``geometry_of(input shape, weight shape)`` is the forward's.

    ``given`` is the input when it came as an array, else the weight (or, for pooling, nothing to read:
    an empty array of the input's shape). Pooling passes no ``weight`` at all.
    """
    named = {"grad_output": grad_output}
    if input_shape is None:
        named["input"] = input  # None here is refused by name
    if weight is not POOLING and weight_shape is None:
        named["weight"] = weight
    arrays = float_arrays(named)
    g = arrays["grad_output"]
    if input_shape is None:
        given, unbatched = with_batch_axis(arrays["input"], "input", op)
        x_shape, described = given.shape, f"input {arrays['input'].shape}"
    else:
        shape: tuple[int, ...] = shape_argument(input_shape, "input_shape", (3, 4))
        unbatched = len(shape) == 3
        x_shape, described = ((1, *shape) if unbatched else shape), f"input_shape {shape}"
        given = arrays["weight"] if "weight" in arrays else np.empty(x_shape, dtype=g.dtype)
    if "weight" in arrays:
        w_shape = arrays["weight"].shape
    elif weight_shape is not None:
        w_shape = shape_argument(weight_shape, "weight_shape", (4,))
        described += f" with weight_shape {w_shape}"
    else:
        w_shape = ()
    geometry = geometry_of(x_shape, w_shape)
    if isinstance(geometry, PoolGeometry):
        check_pool_memory(op, geometry, g.dtype)
    else:
        check_memory(op, geometry, g.dtype)
    forward = op.removesuffix("_input_grad").removesuffix("_weight_grad").removesuffix("_grad")
    _check_grad_output(g, geometry.output_shape[unbatched:], op, f"{forward} on {described}")
    return GradCall(given, g[None] if unbatched else g, geometry, unbatched)


def conv2d_geometry_of(op: str, args: ConvArgs) -> Callable[[tuple[int, ...], tuple[int, ...]], ConvGeometry]:
    """A conv2d gradient's forward geometry, for :func:`grad_call`."""
    return lambda x_shape, w_shape: conv2d_geometry(op, x_shape, w_shape, args)


def conv_transpose2d_geometry_of(
    op: str, args: TransposeArgs
) -> Callable[[tuple[int, ...], tuple[int, ...]], TransposeGeometry]:
    """A conv_transpose2d gradient's forward geometry, for :func:`grad_call`."""
    return lambda x_shape, w_shape: conv_transpose2d_geometry(op, x_shape, w_shape, args)


@dataclass(frozen=True)
class TransposeCall:
    """Checked arrays of a conv_transpose2d call: input (N, C_in, H, W), weight (C_in, C_out/groups, kH, kW)."""

    input: Array
    weight: Array
    bias: Array | None
    geometry: TransposeGeometry
    unbatched: bool


def conv_transpose2d_call(
    op: str, input: object, weight: object, bias: object, args: TransposeArgs
) -> TransposeCall:
    x, w, b, unbatched, _ = _operands(op, input, weight, bias)
    geometry = conv_transpose2d_geometry(op, x.shape, w.shape, args, None if b is None else b.shape)
    check_memory(op, geometry, x.dtype)
    return TransposeCall(x, w, b, geometry, unbatched)


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
    check_pool_memory(op, geometry, x.dtype)
    return PoolCall(x, geometry, unbatched)


def check_pool_memory(op: str, geometry: PoolGeometry, dtype: np.dtype[Any]) -> None:
    """Refuse pooling whose padded input and output alone would not fit in memory, before allocating them."""
    height, width = geometry.padded_size
    padded = (geometry.batch, geometry.channels, height, width)
    check_fits(
        lambda: f"{op}: the padded input {padded} and the output {geometry.output_shape} in {dtype}",
        (math.prod(padded) + math.prod(geometry.output_shape)) * dtype.itemsize,
        fix="use a smaller kernel_size and padding, or a smaller input",
    )


def avg_pool_options(count_include_pad: object, divisor_override: object) -> tuple[bool, int | None]:
    """Check average pooling's own options."""
    divisor = None if divisor_override is None else as_int(divisor_override, "divisor_override", minimum=1)
    return flag(count_include_pad, "count_include_pad"), divisor
