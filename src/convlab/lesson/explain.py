"""Where one output value came from: the window, the kernel, the products and the sum, as data.

A :class:`Trace` holds everything the lesson works through by hand for one
output value: the padded input, which rows and columns the window took (through
stride and dilation), each input channel's patch and kernel, and the bias. The
interfaces (the ``convlab explain`` command, the web page) render it, in the words
of :mod:`convlab.lesson.explain_text`; the value is checked against the engine's
own output, so explanation and result cannot disagree.

Example:
    >>> trace = explain([[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]], [[1, 0], [0, -1]], at=(1, 0))
    >>> trace.terms[0].patch.tolist(), trace.value
    ([[5.0, 3.0], [2.0, 1.0]], 4.0)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .._args import Array, Pad2d, Pair, as_int
from ..errors import ArgumentError
from ..functional.calls import conv2d_call
from ..functional.geometry import ConvArgs, ConvSettings
from ..functional.padding import pad2d
from ..functional.reference import window
from .explain_text import trace_html, trace_line

__all__ = ["ChannelTerm", "Trace", "explain", "explain_all"]


@dataclass(frozen=True)
class ChannelTerm:
    """One input channel's share of an output value: ``sum(patch * kernel)``."""

    channel: int
    patch: Array  # (kH, kW), cells of the padded input under the kernel
    kernel: Array  # (kH, kW)

    @property
    def products(self) -> Array:
        return self.patch * self.kernel

    @property
    def total(self) -> float:
        return float(self.products.sum())


@dataclass(frozen=True)
class Trace:
    """Everything that produced ``output[image, out_channel, i, j]``."""

    position: Pair  # (i, j) in the output
    out_channel: int
    image: int  # index in the batch
    padded: Array  # (C, H_pad, W_pad) the padded input of this image
    padding: Pad2d  # ((top, bottom), (left, right))
    padding_mode: str
    rows: tuple[int, ...]  # rows of the padded input the window read
    cols: tuple[int, ...]
    stride: Pair
    dilation: Pair
    terms: tuple[ChannelTerm, ...]  # one per input channel the output channel sees
    bias: float | None
    value: float  # the engine's output value at this position
    output: Array  # (H_out, W_out) the engine's whole output map for this channel

    @property
    def input_rows(self) -> tuple[int, ...]:
        """The window's rows in the unpadded input's coordinates (negative or past the end: padding)."""
        return tuple(row - self.padding[0][0] for row in self.rows)

    @property
    def input_cols(self) -> tuple[int, ...]:
        return tuple(col - self.padding[1][0] for col in self.cols)

    @property
    def total(self) -> float:
        """Sum over channels plus bias: recomputed from the terms, equal to ``value``."""
        return sum(term.total for term in self.terms) + (self.bias or 0.0)

    def __repr__(self) -> str:
        """One line a terminal can show: where the value is and its arithmetic (the arrays stay attributes)."""
        return trace_line(self)

    def _repr_html_(self) -> str:
        """Each channel's padded input with the window highlighted (padding hatched), its patch and kernel,
        the arithmetic line, then the sum with the bias and the value."""
        return trace_html(self)


def _as_batch(array: object, name: str) -> object:
    """Let a learner pass a bare 2-D image or kernel, as the lesson writes them."""
    values = np.asarray(array) if not hasattr(array, "detach") else array
    if isinstance(values, np.ndarray) and values.ndim == 2:
        return values[None, None] if name == "weight" else values[None]
    return array


def explain(
    input: object,
    weight: object,
    bias: object = None,
    at: Pair = (0, 0),
    *,
    out_channel: int = 0,
    image: int = 0,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    padding_mode: str = "zeros",
    settings: ConvSettings | None = None,
) -> Trace:
    """Trace one output value of ``conv2d(input, weight, bias, ...)``.

    Args:
        input: (N, C, H, W), (C, H, W), or a 2-D (H, W) image.
        weight: (C_out, C_in / groups, kH, kW), or a 2-D (kH, kW) kernel.
        bias: (C_out,) or None.
        at: (i, j), the output position.
        out_channel: which output channel. Default: 0.
        image: which image of the batch. Default: 0.
        stride, padding, dilation, groups, padding_mode, settings: as in :func:`convlab.functional.conv2d`
            (settings made once by a caller replace the five before them).

    Example:
        >>> trace = explain([[1, 2], [3, 4]], [[1, 1], [1, 1]], at=(0, 0))
        >>> trace.value, trace.rows, trace.cols
        (10.0, (0, 1), (0, 1))
    """
    args = ConvArgs(stride, padding, dilation, groups, padding_mode, settings)
    return next(_traces(input, weight, bias, [at], out_channel, image, args))


def explain_all(
    input: object,
    weight: object,
    bias: object = None,
    *,
    out_channel: int = 0,
    image: int = 0,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    padding_mode: str = "zeros",
    settings: ConvSettings | None = None,
) -> list[Trace]:
    """Trace every output value of one channel, in the order the window slides (row by row)."""
    args = ConvArgs(stride, padding, dilation, groups, padding_mode, settings)
    return list(_traces(input, weight, bias, None, out_channel, image, args))


def _traces(
    input: object,
    weight: object,
    bias: object,
    positions: list[Pair] | None,
    out_channel: int,
    image: int,
    args: ConvArgs,
) -> Iterator[Trace]:
    from ..functional import conv2d

    call = conv2d_call("explain", _as_batch(input, "input"), _as_batch(weight, "weight"), bias, args)
    geo = call.geometry
    o = as_int(out_channel, "out_channel", minimum=0)
    n = as_int(image, "image", minimum=0)
    if o >= geo.out_channels:
        raise ArgumentError(
            f"explain: out_channel {o} does not exist; the output has {geo.out_channels} channels "
            f"(0..{geo.out_channels - 1})",
            fix=f"out_channel={geo.out_channels - 1}",
        )
    if n >= geo.batch:
        raise ArgumentError(f"explain: image {n} does not exist; the batch has {geo.batch}", fix="use image=0")
    output = conv2d(call.input, call.weight, call.bias, settings=geo.settings)[n, o]  # checked and warned above
    padded = pad2d(call.input[n], geo.padding, geo.padding_mode)
    Ho, Wo = geo.output_size
    per_group_in, per_group_out = geo.in_channels // geo.groups, geo.out_channels // geo.groups
    first_channel = (o // per_group_out) * per_group_in
    for i, j in positions if positions is not None else [(i, j) for i in range(Ho) for j in range(Wo)]:
        if not (0 <= i < Ho and 0 <= j < Wo):
            raise ArgumentError(
                f"explain: position ({i}, {j}) is outside the {Ho}x{Wo} output "
                f"(rows 0..{Ho - 1}, cols 0..{Wo - 1})",
                fix=f"at=({min(max(i, 0), Ho - 1)}, {min(max(j, 0), Wo - 1)})",
            )
        rows, cols = window(i, j, geo.kernel_size, geo.stride, geo.dilation)
        terms = tuple(
            ChannelTerm(first_channel + c, padded[first_channel + c, rows, cols], call.weight[o, c])
            for c in range(per_group_in)
        )
        yield Trace(
            position=(i, j),
            out_channel=o,
            image=n,
            padded=padded,
            padding=geo.padding,
            padding_mode=geo.padding_mode,
            rows=tuple(range(rows.start, rows.stop, rows.step)),
            cols=tuple(range(cols.start, cols.stop, cols.step)),
            stride=geo.stride,
            dilation=geo.dilation,
            terms=terms,
            bias=None if call.bias is None else float(call.bias[o]),
            value=float(output[i, j]),
            output=output,
        )
