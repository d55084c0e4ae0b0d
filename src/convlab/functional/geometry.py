"""The geometry of one convolution: its normalised settings and the sizes they imply, checked once.

Every convolution entry point (forward, gradients, transposed, the reference loop)
builds one of these before touching data, so all of them accept and refuse exactly
the same things with the same messages.

The output size of one spatial dimension, as the lesson writes it (with dilation,
the kernel spans ``dilation * (kernel - 1) + 1`` input cells)::

    out = floor((in + pad_before + pad_after - dilation * (kernel - 1) - 1) / stride) + 1
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import cast, overload

from .._args import Array, Pad2d, Pair, conv_padding, flag, padding_mode, pair
from .._args import as_int as _as_int
from ..diagnose import (
    bias_length,
    channel_mismatch,
    groups_mismatch,
    kernel_too_large,
    quiet_traps,
    rank_mismatch,
    warn,
)
from ..errors import ArgumentError, ShapeError

__all__ = [
    "ConvArgs",
    "ConvGeometry",
    "ConvSettings",
    "Layout",
    "PoolGeometry",
    "TransposeArgs",
    "TransposeGeometry",
    "check_padding_fits",
    "checked_output_length",
    "conv2d_geometry",
    "conv_settings",
    "conv_transpose2d_geometry",
    "output_length",
    "pool2d_geometry",
    "pool_output_length",
    "transpose_settings",
    "with_batch_axis",
]


@overload
def output_length(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int: ...
@overload
def output_length(size: Pair, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> Pair: ...
def output_length(
    size: int | Pair, kernel: int | Pair, stride: int | Pair, padding: int | Pair, dilation: int | Pair
) -> int | Pair:
    """Output length of one spatial dimension, or of both given pairs; ``padding`` is the total of both sides.

    The one place convlab computes it; an empty output (0 or less) is the caller's to refuse.

    Example:
        >>> output_length(6, kernel=3, stride=2, padding=2, dilation=1)  # the lesson's size lab
        3
        >>> output_length((6, 5), kernel=(3, 3), stride=(2, 1), padding=(2, 0), dilation=(1, 1))
        (3, 3)
    """
    if isinstance(size, tuple):  # the overloads keep a pair's arguments all pairs
        pairs = cast("tuple[Pair, Pair, Pair, Pair, Pair]", (size, kernel, stride, padding, dilation))
        h, w = (_length(*axis) for axis in zip(*pairs))
        return (h, w)
    return _length(*cast("tuple[int, int, int, int, int]", (size, kernel, stride, padding, dilation)))


def _length(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    return (size + padding - dilation * (kernel - 1) - 1) // stride + 1


def checked_output_length(
    op: str, dim: str, size: int, kernel: int, stride: int, padding: Pair, dilation: int
) -> int:
    """:func:`output_length`, refusing an output of 0 or less with the dimension and the overshoot.

    Args:
        op: the caller's name, for the message.
        dim: "H" or "W".
        padding: (before, after) for this dimension.
    """
    padded = size + sum(padding)
    span = dilation * (kernel - 1) + 1
    if span > padded:
        raise kernel_too_large(op, dim, size, kernel, padding, dilation).error(ShapeError)
    return output_length(size, kernel, stride, sum(padding), dilation)


def with_batch_axis(array: Array, name: str, op: str) -> tuple[Array, bool]:
    """Return ``array`` as (N, C, H, W) and whether it came in unbatched as (C, H, W)."""
    if array.ndim == 4:
        return array, False
    if array.ndim == 3:
        return array[None], True
    raise rank_mismatch(op, name, tuple(array.shape)).error(ShapeError)


@dataclass(frozen=True)
class Layout:
    """What the choice of algorithm depends on: a convolution's sizes, not its values."""

    kernel_size: Pair
    stride: Pair
    dilation: Pair
    groups: int
    in_channels: int
    out_channels: int
    padded_size: Pair
    batch: int


@dataclass(frozen=True)
class ConvSettings:
    """A convolution's settings, normalised, checked and warned about once.

    Made by :func:`conv_settings` where the settings are first given (a layer's
    constructor, a lesson function); passed down as ``settings=``, no later call
    normalises, checks or warns about them again.
    """

    kernel_size: Pair
    stride: Pair
    padding: Pad2d  # ((top, bottom), (left, right))
    dilation: Pair
    groups: int
    padding_mode: str


def conv_settings(
    op: str,
    kernel_size: object,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    padding_mode_: object = "zeros",
) -> ConvSettings:
    """Normalise a convolution's settings once; the quiet traps they set are warned about here, once.

    Example:
        >>> conv_settings("conv2d", 3, padding="same").padding
        ((1, 1), (1, 1))
    """
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    stride_ = pair(stride, "stride", minimum=1)
    dilation_ = pair(dilation, "dilation", minimum=1)
    groups_ = _as_int(groups, "groups", minimum=1)
    pads = conv_padding(padding, kernel_size=kernel, stride=stride_, dilation=dilation_)
    mode = padding_mode(padding_mode_)
    _warn_quiet_traps(op, kernel, stride_, pads, dilation_)
    return ConvSettings(kernel, stride_, pads, dilation_, groups_, mode)


@dataclass(frozen=True)
class ConvArgs:
    """A convolution's settings as a public function received them: raw (stride, padding, dilation, groups,
    padding_mode, as in :func:`convlab.functional.conv2d`), or ``settings`` a caller normalised already.

    Every public convolution (conv2d and its gradients, explain, dask's conv2d) builds one from its
    signature and passes it down; :meth:`normalised` is the one place they become :class:`ConvSettings`.
    """

    stride: object = 1
    padding: object = 0
    dilation: object = 1
    groups: object = 1
    padding_mode: object = "zeros"
    settings: ConvSettings | None = None

    def normalised(self, op: str, kernel: Pair) -> ConvSettings:
        """The settings for a ``kernel``-sized weight: made (and warned about) now, or checked to fit it."""
        if self.settings is None:
            return conv_settings(
                op, kernel, self.stride, self.padding, self.dilation, self.groups, self.padding_mode
            )
        if self.settings.kernel_size != kernel:
            made = self.settings.kernel_size
            raise ShapeError(
                f"{op}: the settings were made for a {made} kernel, but the weight's is {kernel}",
                fix="make the settings with conv_settings(..., kernel_size=weight.shape[2:])",
            )
        return self.settings

    @property
    def plain(self) -> bool:
        """Whether these can key a cache: settings made already, or raw values that are exactly ints, strs or
        pairs of ints (True == 1 and 1.0 == 1 would otherwise find the entry of a valid 1, skipping their
        own errors)."""
        raw = (self.stride, self.padding, self.dilation, self.groups, self.padding_mode)
        return self.settings is not None or all(_plain(value) for value in raw)


@dataclass(frozen=True)
class ConvGeometry:
    """One checked 2-D convolution: input (N, C, H, W) * weight (O, C/groups, kH, kW) -> (N, O, H_out, W_out)."""

    batch: int
    in_channels: int
    out_channels: int
    groups: int
    input_size: Pair
    kernel_size: Pair
    stride: Pair
    padding: Pad2d  # ((top, bottom), (left, right))
    dilation: Pair
    padding_mode: str
    output_size: Pair

    @property
    def settings(self) -> ConvSettings:
        """The settings, to pass on to another call on the same arrays without checking them again."""
        return ConvSettings(
            self.kernel_size, self.stride, self.padding, self.dilation, self.groups, self.padding_mode
        )

    @cached_property
    def padded_size(self) -> Pair:
        """(H + top + bottom, W + left + right)."""
        (top, bottom), (left, right) = self.padding
        return (self.input_size[0] + top + bottom, self.input_size[1] + left + right)

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.in_channels, *self.input_size)

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.out_channels, *self.output_size)

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        return (self.out_channels, self.in_channels // self.groups, *self.kernel_size)

    @cached_property
    def layout(self) -> Layout:
        return Layout(
            self.kernel_size,
            self.stride,
            self.dilation,
            self.groups,
            self.in_channels,
            self.out_channels,
            self.padded_size,
            self.batch,
        )


def _check_out_channels_divisible(out_channels: int, groups: int, op: str, weight_shape: tuple[int, ...]) -> None:
    if out_channels % groups:
        raise groups_mismatch(op, out_channels, groups, weight_shape).error(ArgumentError)


def _check_bias(bias_shape: tuple[int, ...] | None, channels: int, op: str) -> None:
    if bias_shape is not None and bias_shape != (channels,):
        raise bias_length(op, bias_shape, channels).error(ShapeError)


def check_padding_fits(padding: Pad2d, size: Pair, mode: str, op: str) -> None:
    """Reflect needs pad < size (it never repeats the edge); circular wraps at most once: pad <= size."""
    if mode not in ("reflect", "circular"):
        return
    for axis, (before_after, length) in enumerate(zip(padding, size)):
        pad = max(before_after)
        too_big = pad >= length if mode == "reflect" else pad > length
        if too_big:
            dim = "HW"[axis]
            limit = f"less than {dim}={length}" if mode == "reflect" else f"at most {dim}={length}"
            raise ArgumentError(
                f"{op}: padding_mode={mode!r} needs padding {limit}, got padding {pad} on {dim}",
                evidence=[f"input size {size}, padding ((top, bottom), (left, right)) = {padding}"],
                fix="use padding_mode='replicate' or padding_mode='zeros', or pad less",
            )


def _warn_quiet_traps(op: str, kernel: Pair, stride: Pair, pads: Pad2d, dilation: Pair) -> None:
    for diagnosis in quiet_traps(op, kernel, stride, pads, dilation):
        warn(diagnosis.code, diagnosis.what, diagnosis.fix)


def _check_operands(
    op: str, input_shape: tuple[int, ...], weight_shape: tuple[int, ...], axes: str, fix: str | None = None
) -> None:
    """A 4-D weight (its ``axes`` named in the message), and no empty axis but the batch."""
    if len(weight_shape) != 4:
        raise ShapeError(
            f"{op}: weight must have 4 dims ({axes}), got shape {weight_shape} with {len(weight_shape)} dims",
            fix=fix or f"reshape the weight to ({axes})",
        )
    if min(input_shape[1:]) < 1 or min(weight_shape) < 1:
        raise ShapeError(
            f"{op}: input {input_shape} and weight {weight_shape} must have no empty axis except the batch",
            fix="check how the arrays were sliced or reshaped",
        )


def conv2d_geometry(
    op: str,
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    args: ConvArgs,
    bias_shape: tuple[int, ...] | None = None,
    original_shape: tuple[int, ...] | None = None,
) -> ConvGeometry:
    """Check one convolution's arguments against the array shapes and compute its sizes.

    Args:
        op: the calling function's name, used in messages.
        input_shape: (N, C, H, W).
        weight_shape: (O, C/groups, kH, kW).
        args: the settings as the public function received them.
        bias_shape: (O,) or None.
        original_shape: the input's shape as the user gave it (unbatched or not), for the diagnosis.
    """
    key = (input_shape, weight_shape, bias_shape, args) if args.plain else None
    cached = _GEOMETRIES.get(key) if key is not None else None
    if cached is not None:
        return cached
    geometry = _checked_conv2d_geometry(op, input_shape, weight_shape, args, bias_shape, original_shape)
    # Settings given as ConvSettings were warned about where they were made; raw ones are kept only when they warn
    # of nothing, so every call that should warn still does.
    if key is not None and (args.settings is not None or not _warns(geometry)):
        if len(_GEOMETRIES) >= GEOMETRY_CACHE_SIZE:
            _GEOMETRIES.clear()
        _GEOMETRIES[key] = geometry
    return geometry


GEOMETRY_CACHE_SIZE = 256
"""Geometries kept for calls that repeat their shapes and settings (a training loop, a layer called again)."""
_GEOMETRIES: dict[object, ConvGeometry] = {}


def _plain(value: object) -> bool:
    """An int, a str or a pair of ints, exactly: values that compare equal only to themselves."""
    if type(value) is int or type(value) is str:
        return True
    if type(value) is not tuple or len(value) != 2:
        return False
    return type(value[0]) is int and type(value[1]) is int


def _warns(geometry: ConvGeometry) -> bool:
    """Whether these settings, given raw, warn: a quiet trap, or 'same' padding split unevenly."""
    (top, bottom), (left, right) = geometry.padding
    traps = quiet_traps("", geometry.kernel_size, geometry.stride, geometry.padding, geometry.dilation)
    return bool(traps) or top != bottom or left != right


def _checked_conv2d_geometry(
    op: str,
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    args: ConvArgs,
    bias_shape: tuple[int, ...] | None,
    original_shape: tuple[int, ...] | None,
) -> ConvGeometry:
    axes = "out_channels, in_channels/groups, kH, kW"
    two_d = "a 2-D kernel needs out and in channel axes: weight = weight[None, None]"
    _check_operands(op, input_shape, weight_shape, axes, two_d if len(weight_shape) == 2 else None)
    N, C, H, W = input_shape
    O, C_per_group, kh, kw = weight_shape
    kernel = (kh, kw)
    settings = args.normalised(op, kernel)
    g = settings.groups
    if C_per_group * g != C:
        raise channel_mismatch(op, input_shape, weight_shape, g, original_shape).error(ShapeError)
    _check_out_channels_divisible(O, g, op, weight_shape)
    _check_bias(bias_shape, O, op)
    stride_, dilation_, pads, mode = settings.stride, settings.dilation, settings.padding, settings.padding_mode
    check_padding_fits(pads, (H, W), mode, op)
    output_size = [
        checked_output_length(
            op, "HW"[axis], (H, W)[axis], kernel[axis], stride_[axis], pads[axis], dilation_[axis]
        )
        for axis in range(2)
    ]
    return ConvGeometry(
        batch=N,
        in_channels=C,
        out_channels=O,
        groups=g,
        input_size=(H, W),
        kernel_size=kernel,
        stride=stride_,
        padding=pads,
        dilation=dilation_,
        padding_mode=mode,
        output_size=(output_size[0], output_size[1]),
    )


@dataclass(frozen=True)
class TransposeGeometry:
    """One checked transposed convolution: input (N, C_in, H, W) with weight (C_in, C_out/groups, kH, kW).

    Its output size per dimension is
    ``(in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1``.
    """

    batch: int
    in_channels: int
    out_channels: int
    groups: int
    input_size: Pair
    kernel_size: Pair
    stride: Pair
    padding: Pair
    output_padding: Pair
    dilation: Pair
    output_size: Pair

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.out_channels, *self.output_size)

    @property
    def layout(self) -> Layout:
        """The layout of the convolution this one transposes: from the output (uncropped) back to the input."""
        full = (self.output_size[0] + 2 * self.padding[0], self.output_size[1] + 2 * self.padding[1])
        return Layout(
            self.kernel_size,
            self.stride,
            self.dilation,
            self.groups,
            self.out_channels,
            self.in_channels,
            full,
            self.batch,
        )


@dataclass(frozen=True)
class TransposeArgs:
    """A transposed convolution's settings as a public function received them (stride, padding,
    output_padding, groups, dilation: as in :func:`convlab.functional.conv_transpose2d`), built once from its
    signature and passed down to :func:`conv_transpose2d_geometry`, which checks them."""

    stride: object = 1
    padding: object = 0
    output_padding: object = 0
    groups: object = 1
    dilation: object = 1


def transpose_settings(holder: object) -> dict[str, object]:
    """conv_transpose2d's settings as its keywords, read from anything holding them under torch's names (an nn
    layer, a network's layer kind)."""
    return {name: getattr(holder, name) for name in ("stride", "padding", "output_padding", "groups", "dilation")}


def conv_transpose2d_geometry(
    op: str,
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    args: TransposeArgs,
    bias_shape: tuple[int, ...] | None = None,
) -> TransposeGeometry:
    """Check a transposed convolution's arguments against the array shapes and compute its output size."""
    _check_operands(op, input_shape, weight_shape, "in_channels, out_channels/groups, kH, kW")
    N, C, H, W = input_shape
    C_w, O_per_group, kh, kw = weight_shape
    g = _as_int(args.groups, "groups", minimum=1)
    if C_w != C:
        raise ShapeError(
            f"{op}: input has {C} channels but the weight expects {C_w}",
            evidence=[
                f"input shape {input_shape} is (N, C_in, H, W)",
                f"a transposed convolution's weight {weight_shape} is (in_channels, out_channels/groups, kH, kW)",
            ],
            fix=f"make the layer's in_channels {C}, or feed an input with {C_w} channels",
        )
    if C % g:
        raise ArgumentError(
            f"{op}: groups={g} must divide the {C} input channels",
            fix=f"use a groups value that divides {C}, e.g. groups=1",
        )
    O = O_per_group * g
    _check_bias(bias_shape, O, op)
    stride_ = pair(args.stride, "stride", minimum=1)
    dilation_ = pair(args.dilation, "dilation", minimum=1)
    if isinstance(args.padding, str):
        raise ArgumentError(
            f"{op}: padding must be an int or a pair (h, w), got {args.padding!r}",
            evidence=["PyTorch's transposed convolution accepts no 'same' or 'valid'"],
            fix="pass padding as a number, e.g. padding=1",
        )
    padding_ = pair(args.padding, "padding", minimum=0)
    output_padding_ = pair(args.output_padding, "output_padding", minimum=0)
    for axis in range(2):
        if output_padding_[axis] >= max(stride_[axis], dilation_[axis]):
            raise ArgumentError(
                f"{op}: output_padding must be smaller than stride or dilation, got output_padding="
                f"{output_padding_} with stride={stride_} and dilation={dilation_}",
                evidence=["output_padding only picks one of the sizes a strided convolution could have come from"],
                fix=f"use output_padding={max(stride_[axis], dilation_[axis]) - 1} or less",
            )
    sizes = [
        (n - 1) * s - 2 * p + d * (k - 1) + o + 1
        for n, s, p, d, k, o in zip((H, W), stride_, padding_, dilation_, (kh, kw), output_padding_)
    ]
    for axis, size in enumerate(sizes):
        if size < 1:
            dim = "HW"[axis]
            raise ShapeError(
                f"{op}: the output {dim} would be {size}: padding {padding_[axis]} crops more than "
                f"the {size + 2 * padding_[axis]} cells the transposed convolution produces",
                fix=f"use padding={max(0, (size + 2 * padding_[axis] - 1) // 2)} or less",
            )
    return TransposeGeometry(
        batch=N,
        in_channels=C,
        out_channels=O,
        groups=g,
        input_size=(H, W),
        kernel_size=(kh, kw),
        stride=stride_,
        padding=padding_,
        output_padding=output_padding_,
        dilation=dilation_,
        output_size=(sizes[0], sizes[1]),
    )


@dataclass(frozen=True)
class PoolGeometry:
    """One checked 2-D pooling window: input (N, C, H, W) -> (N, C, H_out, W_out).

    The output length per dimension follows PyTorch::

        out = floor_or_ceil((in + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1

    and with ``ceil_mode`` the last window is dropped if it would start in the
    bottom/right padding (it must start inside the input or the top/left padding).
    """

    batch: int
    channels: int
    input_size: Pair
    kernel_size: Pair
    stride: Pair
    padding: Pair
    dilation: Pair
    ceil_mode: bool
    output_size: Pair

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.channels, *self.output_size)

    @property
    def padded_size(self) -> Pair:
        """Rows and columns of the padded input the windows need: the input plus padding on every
        side, and more at the bottom/right where a ceil-mode window hangs past it."""
        sizes = [
            max(n + 2 * p, (length - 1) * s + d * (k - 1) + 1)
            for n, p, length, s, d, k in zip(
                self.input_size, self.padding, self.output_size, self.stride, self.dilation, self.kernel_size
            )
        ]
        return (sizes[0], sizes[1])


def pool_output_length(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """Output length of one pooled dimension, PyTorch's rule; ``padding`` is per side.

    Example:
        >>> pool_output_length(6, kernel=3, stride=2, padding=1, dilation=1, ceil_mode=True)
        4
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    length = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (length - 1) * stride >= size + padding:
        length -= 1  # that window would start in the bottom/right padding
    return length


def pool2d_geometry(
    op: str,
    input_shape: tuple[int, ...],
    kernel_size: object,
    stride: object = None,
    padding: object = 0,
    dilation: object = 1,
    ceil_mode: object = False,
) -> PoolGeometry:
    """Check a pooling call's arguments against the input shape and compute its output size."""
    N, C, H, W = input_shape
    if min(C, H, W) < 1:
        raise ShapeError(
            f"{op}: input {input_shape} must have no empty axis except the batch",
            fix="check how the input was sliced or reshaped",
        )
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    no_stride = stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0)  # PyTorch: [] too
    stride_ = kernel if no_stride else pair(stride, "stride", minimum=1)
    padding_ = pair(padding, "padding", minimum=0)
    dilation_ = pair(dilation, "dilation", minimum=1)
    ceil = flag(ceil_mode, "ceil_mode")
    for axis in range(2):
        if padding_[axis] > kernel[axis] // 2:
            raise ArgumentError(
                f"{op}: padding must be at most half the kernel size, got padding={padding_} "
                f"with kernel_size={kernel}",
                evidence=["a window that lies wholly in the padding would pool nothing (PyTorch refuses it too)"],
                fix=f"use padding={kernel[axis] // 2} or less",
            )
    output_size = [
        pool_output_length(n, k, s, p, d, ceil)
        for n, k, s, p, d in zip((H, W), kernel, stride_, padding_, dilation_)
    ]
    for axis, length in enumerate(output_size):
        if length < 1:
            dim = "HW"[axis]
            span = dilation_[axis] * (kernel[axis] - 1) + 1
            padded = (H, W)[axis] + 2 * padding_[axis]
            raise ShapeError(
                f"{op}: the pooling window spans {span} cells along {dim} but the padded input has only "
                f"{padded}: it overshoots by {span - padded}",
                evidence=[f"input size {(H, W)}, kernel_size {kernel}, padding {padding_}, dilation {dilation_}"],
                fix="use a smaller kernel_size, or pool an earlier, larger feature map",
            )
    return PoolGeometry(
        batch=N,
        channels=C,
        input_size=(H, W),
        kernel_size=kernel,
        stride=stride_,
        padding=padding_,
        dilation=dilation_,
        ceil_mode=ceil,
        output_size=(output_size[0], output_size[1]),
    )
