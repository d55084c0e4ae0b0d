"""Output sizes, their derivation in the lesson's notation, uncovered pixels, and a padding solver.

The lesson's formula for one spatial dimension::

    output = floor((input + 2*padding - kernel_size) / stride) + 1

With dilation the kernel spans ``dilation*(kernel_size-1)+1`` input cells, and
that effective size takes the kernel's place. A transposed convolution runs the
formula backwards::

    output = (input - 1)*stride - 2*padding + dilation*(kernel_size-1) + output_padding + 1

Every function takes an int (one dimension) and returns an int, or takes an
(h, w) pair and returns a pair. Arguments are checked by the engine's own
normaliser, so sizes here and shapes from :mod:`convlab.functional` always agree.

Example:
    >>> conv2d_output_size(6, kernel_size=3, stride=2, padding=1)
    3
    >>> print(conv2d_derivation(6, kernel_size=3, stride=2, padding=1))
    H_out = floor((6 + 2*1 - 3) / 2) + 1 = floor(5 / 2) + 1 = 3
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar, overload

from .._args import Pair, as_int, conv_padding, flag, pair
from ..errors import ArgumentError
from ..functional.geometry import (
    TransposeArgs,
    checked_output_length,
    conv_transpose2d_geometry,
    output_length,
    pool2d_geometry,
)

__all__ = [
    "PaddingSolution",
    "conv2d_derivation",
    "conv2d_output_size",
    "conv_transpose2d_derivation",
    "conv_transpose2d_output_size",
    "pool2d_derivation",
    "pool2d_output_size",
    "solve_padding",
    "uncovered",
]


def _sizes(input_size: object) -> Pair:
    return pair(input_size, "input_size", minimum=1)


Size = TypeVar("Size", int, Pair)  # an output size is what the input size was: an int, or an (H, W) pair


@overload
def _shaped(input_size: int, values: list[int]) -> int: ...
@overload
def _shaped(input_size: Pair, values: list[int]) -> Pair: ...
def _shaped(input_size: int | Pair, values: list[int]) -> int | Pair:
    """An int for an int input, a pair for a pair."""
    return values[0] if isinstance(input_size, int) else (values[0], values[1])


def conv2d_output_size(
    input_size: Size,
    kernel_size: int | Pair,
    stride: int | Pair = 1,
    padding: int | Pair | str = 0,
    dilation: int | Pair = 1,
) -> Size:
    """Output size of a convolution, as :func:`convlab.functional.conv2d` computes it.

    Args:
        input_size: H, or (H, W).
        kernel_size, stride, padding, dilation: as in :func:`convlab.functional.conv2d`
            (padding may be "same" or "valid").

    Raises:
        ShapeError: when the kernel overshoots the padded input (output 0 or less),
            naming the dimension and by how much.

    Example:
        >>> conv2d_output_size((32, 32), 3, padding="same")
        (32, 32)
    """
    sizes = _sizes(input_size)
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    stride_ = pair(stride, "stride", minimum=1)
    dilation_ = pair(dilation, "dilation", minimum=1)
    pads = conv_padding(padding, kernel_size=kernel, stride=stride_, dilation=dilation_)
    out = [
        checked_output_length("conv2d", "HW"[a], sizes[a], kernel[a], stride_[a], pads[a], dilation_[a])
        for a in range(2)
    ]
    return _shaped(input_size, out)


def conv_transpose2d_output_size(
    input_size: Size,
    kernel_size: int | Pair,
    stride: int | Pair = 1,
    padding: int | Pair = 0,
    output_padding: int | Pair = 0,
    dilation: int | Pair = 1,
) -> Size:
    """Output size of a transposed convolution, as :func:`convlab.functional.conv_transpose2d` computes it.

    Example:
        >>> conv_transpose2d_output_size(3, kernel_size=3, stride=2, padding=1, output_padding=1)
        6
    """
    h, w = _sizes(input_size)
    kh, kw = pair(kernel_size, "kernel_size", minimum=1)
    args = TransposeArgs(stride, padding, output_padding, 1, dilation)
    geometry = conv_transpose2d_geometry("conv_transpose2d", (1, 1, h, w), (1, 1, kh, kw), args)
    return _shaped(input_size, list(geometry.output_size))


def pool2d_output_size(
    input_size: Size,
    kernel_size: int | Pair,
    stride: int | Pair | None = None,
    padding: int | Pair = 0,
    dilation: int | Pair = 1,
    ceil_mode: bool = False,
) -> Size:
    """Output size of max or average pooling, with PyTorch's ceil_mode rule.

    With ``ceil_mode`` the size is rounded up, but a last window that would start
    in the bottom/right padding is dropped: it must start inside the input or the
    top/left padding.

    Example:
        >>> pool2d_output_size(6, 3, stride=2, ceil_mode=True), pool2d_output_size(6, 3, stride=2)
        (3, 2)
    """
    h, w = _sizes(input_size)
    geometry = pool2d_geometry("pool2d", (1, 1, h, w), kernel_size, stride, padding, dilation, ceil_mode)
    return _shaped(input_size, list(geometry.output_size))


def _padding_text(before: int, after: int) -> str:
    return f"2*{before}" if before == after else f"{before} + {after}"


def _kernel_text(kernel: int, dilation: int) -> str:
    return str(kernel) if dilation == 1 else f"({dilation}*({kernel}-1)+1)"


def conv2d_derivation(
    input_size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int | Pair = 0,
    dilation: int = 1,
    name: str = "H",
) -> str:
    """The convolution output-size formula for one dimension, with the user's numbers.

    Args:
        input_size, kernel_size, stride, dilation: ints for this dimension.
        padding: the same on both sides (int), or (before, after) when they differ.
        name: "H" or "W".

    Example:
        >>> conv2d_derivation(6, 3, dilation=2, padding=1)
        'H_out = floor((6 + 2*1 - (2*(3-1)+1)) / 1) + 1 = floor(3 / 1) + 1 = 4'
    """
    n = as_int(input_size, "input_size", minimum=1)
    k = as_int(kernel_size, "kernel_size", minimum=1)
    s = as_int(stride, "stride", minimum=1)
    d = as_int(dilation, "dilation", minimum=1)
    before, after = pair(padding, "padding", minimum=0)
    result = checked_output_length("conv2d", name, n, k, s, (before, after), d)
    numerator = n + before + after - (d * (k - 1) + 1)
    return (
        f"{name}_out = floor(({n} + {_padding_text(before, after)} - {_kernel_text(k, d)}) / {s}) + 1"
        f" = floor({numerator} / {s}) + 1 = {result}"
    )


def conv_transpose2d_derivation(
    input_size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
    name: str = "H",
) -> str:
    """The transposed convolution's output-size formula for one dimension, with the user's numbers.

    Example:
        >>> conv_transpose2d_derivation(3, 3, stride=2, padding=1, output_padding=1)
        'H_out = (3 - 1)*2 - 2*1 + 1*(3-1) + 1 + 1 = 6'
    """
    result = conv_transpose2d_output_size(input_size, kernel_size, stride, padding, output_padding, dilation)
    return (
        f"{name}_out = ({input_size} - 1)*{stride} - 2*{padding} + {dilation}*({kernel_size}-1)"
        f" + {output_padding} + 1 = {result}"
    )


def pool2d_derivation(
    input_size: int,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
    name: str = "H",
) -> str:
    """The pooling output-size formula for one dimension, floor or ceil, with PyTorch's last-window rule.

    Example:
        >>> text = pool2d_derivation(5, 2, stride=2, padding=1, ceil_mode=True)
        >>> text.split(", minus")[0]
        'H_out = ceil((5 + 2*1 - 2) / 2) + 1 = ceil(5 / 2) + 1 = 4'
        >>> text.split(": ")[1]
        'window 3 would start at 6, in the right padding'
    """
    result = pool2d_output_size(input_size, kernel_size, stride, padding, dilation, ceil_mode)
    s = kernel_size if stride is None else stride
    numerator = input_size + 2 * padding - (dilation * (kernel_size - 1) + 1)
    rounding = "ceil" if flag(ceil_mode, "ceil_mode") else "floor"
    rounded = -(-numerator // s) if ceil_mode else numerator // s
    text = (
        f"{name}_out = {rounding}(({input_size} + 2*{padding} - {_kernel_text(kernel_size, dilation)}) / {s}) + 1"
        f" = {rounding}({numerator} / {s}) + 1 = {rounded + 1}"
    )
    if rounded + 1 != result:
        text += f", minus 1: window {rounded} would start at {rounded * s}, in the right padding"
    return text


@dataclass(frozen=True)
class Uncovered:
    """Input rows and columns that no window reads: they never affect the output and get zero gradient."""

    rows: tuple[int, ...]
    cols: tuple[int, ...]


def _uncovered_1d(size: int, kernel: int, stride: int, padding: Pair, dilation: int) -> tuple[int, ...]:
    import numpy as np

    from .._memory import check_fits

    length = checked_output_length("conv2d", "H", size, kernel, stride, padding, dilation)
    check_fits(f"marking which of {size} input rows a window reads", size, fix="use a smaller input size")
    if dilation == 1 and kernel >= stride:  # the windows overlap or touch: one unbroken run of rows is read
        last = (length - 1) * stride + kernel - 1 - padding[0]
        return tuple(range(max(0, last + 1), size))  # only a stride that overshoots leaves the last rows
    read = np.zeros(size, dtype=bool)  # one flag per row: a set of every (window, tap) pair could be huge
    for tap in range(kernel):
        first = tap * dilation - padding[0]  # the row window 0 reads with this tap; window i adds i * stride
        if first >= size:
            break
        skipped = max(0, -(first // stride))  # windows whose tap lands in the top padding
        start = first + skipped * stride
        stop = min(size, first + (length - 1) * stride + 1)
        if start < stop:
            read[start:stop:stride] = True
    return tuple(int(index) for index in np.flatnonzero(~read))


def uncovered(
    input_size: int | Pair,
    kernel_size: int | Pair,
    stride: int | Pair = 1,
    padding: int | Pair | str = 0,
    dilation: int | Pair = 1,
) -> Uncovered:
    """Which input rows and columns a convolution (or pooling) never reads.

    A stride that does not divide ``input + padding - kernel`` leaves the last
    rows/columns out; a stride larger than the (dilated) kernel skips cells in
    between.

    Example:
        >>> uncovered(7, kernel_size=2, stride=2)  # the last row and column are never read
        Uncovered(rows=(6,), cols=(6,))
    """
    sizes = _sizes(input_size)
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    stride_ = pair(stride, "stride", minimum=1)
    dilation_ = pair(dilation, "dilation", minimum=1)
    pads = conv_padding(padding, kernel_size=kernel, stride=stride_, dilation=dilation_)
    rows, cols = (_uncovered_1d(sizes[a], kernel[a], stride_[a], pads[a], dilation_[a]) for a in range(2))
    return Uncovered(rows, cols)


@dataclass(frozen=True)
class PaddingSolution:
    """Padding that gives the wanted output size.

    ``padding`` is ``(top, bottom, left, right)``. ``torch_padding`` is what to pass
    as ``padding=`` to ``nn.Conv2d`` when equal sides give the same size (one cell more
    than ``padding`` where its total is odd, which moves every window by that cell),
    else None: then ``padding="same"`` does it when ``torch_same``, and otherwise
    the input needs ``F.pad(x, (left, right, top, bottom))`` first.
    """

    padding: tuple[int, int, int, int]
    torch_padding: Pair | None
    output_size: Pair
    explanation: tuple[str, ...]
    torch_same: bool = False  # PyTorch's padding="same" gives exactly ``padding`` (stride 1, output = input)


def _solve_1d(
    size: int, kernel: int, stride: int, dilation: int, wanted: int, dim: str
) -> tuple[int, int, bool, str]:
    """(before, after, symmetric_possible, line) for one dimension; the smallest total, extra at the end."""
    span = dilation * (kernel - 1) + 1
    lowest = (wanted - 1) * stride + span - size  # the least total padding giving `wanted` outputs
    highest = lowest + stride - 1  # more padding than this adds an output
    if highest < 0:
        produced = output_length(size, kernel, stride, 0, dilation)
        raise ArgumentError(
            f"no padding gives {dim}_out = {wanted}: even without padding the output is {produced}",
            evidence=[f"{dim} = {size}, kernel {kernel}, stride {stride}, dilation {dilation}"],
            fix=f"crop the input, or use a stride of at least {math.ceil((size - span + 1) / max(wanted - 1, 1))}"
            if wanted > 1
            else "crop the input to the kernel's span",
        )
    total = max(lowest, 0)
    before, after = total // 2, total - total // 2
    symmetric = total % 2 == 0 or (total + 1 <= highest)
    line = f"{dim}: total padding {total} = {before} before + {after} after gives " + conv2d_derivation(
        size, kernel, stride, (before, after), dilation, name=dim
    )
    return before, after, symmetric, line


def solve_padding(
    input_size: int | Pair,
    kernel_size: int | Pair,
    stride: int | Pair = 1,
    dilation: int | Pair = 1,
    output_size: int | Pair | str = "same",
) -> PaddingSolution:
    """The padding that makes a convolution produce ``output_size``.

    ``"same"`` means ``ceil(input / stride)``, TensorFlow's definition, which works
    for any stride (PyTorch's ``padding="same"`` only allows stride 1). The total
    is the smallest that works, split with the extra cell at the bottom/right, as
    TensorFlow and PyTorch do.

    Raises:
        ArgumentError: when no padding can give that size (the output is already
            larger without any).

    Example:
        >>> solution = solve_padding(224, 7, stride=2)  # ResNet's stem: 112 outputs
        >>> solution.padding, solution.torch_padding
        ((2, 3, 2, 3), (3, 3))
    """
    sizes = _sizes(input_size)
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    stride_ = pair(stride, "stride", minimum=1)
    dilation_ = pair(dilation, "dilation", minimum=1)
    if output_size == "same":
        wanted = (math.ceil(sizes[0] / stride_[0]), math.ceil(sizes[1] / stride_[1]))
    else:
        wanted = pair(output_size, "output_size", minimum=1)
    solved = [_solve_1d(sizes[a], kernel[a], stride_[a], dilation_[a], wanted[a], "HW"[a]) for a in range(2)]
    (top, bottom, sym_h, line_h), (left, right, sym_w, line_w) = solved
    pads = (top, bottom, left, right)
    torch_padding = (max(top, bottom), max(left, right)) if sym_h and sym_w else None
    # PyTorch's padding="same" (stride 1 only) pads dilation*(kernel-1) in all, the odd cell bottom/right:
    # exactly the smallest total, split as above, whenever the wanted size is the input's.
    torch_same = stride_ == (1, 1) and wanted == sizes
    lines = [line_h, line_w, *_in_torch(sizes, kernel, stride_, dilation_, pads, torch_padding, torch_same)]
    return PaddingSolution(pads, torch_padding, wanted, tuple(lines), torch_same)


def _in_torch(
    sizes: Pair,
    kernel: Pair,
    stride: Pair,
    dilation: Pair,
    pads: tuple[int, int, int, int],
    torch_padding: Pair | None,
    torch_same: bool,
) -> list[str]:
    """How to get ``pads`` (top, bottom, left, right) in PyTorch, and what an equal-sided setting changes."""
    top, bottom, left, right = pads
    exact = f"F.pad(x, ({left}, {right}, {top}, {bottom})), then padding=0"
    if torch_padding is not None and (top, left) == torch_padding and (bottom, right) == torch_padding:
        return [f"in PyTorch: nn.Conv2d(..., padding={torch_padding})"]
    if torch_padding is not None:
        odd = [a for a in range(2) if pads[2 * a] != pads[2 * a + 1]]
        dims = " and ".join("HW"[a] for a in odd)
        ends = " and ".join(("the bottom row", "the right column")[a] for a in odd)
        lines = [
            f"in PyTorch: nn.Conv2d(..., padding={torch_padding}) gives the same size; padding= pads both sides "
            f"equally, so {dims} get one cell more than needed, and the stride never reaches {ends} of it:",
            *(
                "  "
                + conv2d_derivation(sizes[a], kernel[a], stride[a], torch_padding[a], dilation[a], name="HW"[a])
                for a in odd
            ),
            f"  what it changes: every window sits one cell {' and '.join(('up', 'left')[a] for a in odd)} "
            f"of where ({top}, {bottom}, {left}, {right}) puts it, as if the extra cell were on the top/left, "
            f"so the values differ; for ({top}, {bottom}, {left}, {right}) exactly (TensorFlow's 'SAME'): {exact}",
        ]
        if stride != (1, 1):
            lines.append('  (PyTorch\'s padding="same" is refused at a stride above 1)')
        return lines
    if torch_same:
        total = [dilation[a] * (kernel[a] - 1) for a in range(2)]
        a = 0 if total[0] % 2 else 1  # an axis with an odd total: no equal split gives it
        tried = (total[a] // 2, total[a] // 2 + 1)
        return [
            'in PyTorch: nn.Conv2d(..., padding="same") pads exactly this: at stride 1 it pads '
            f"dilation*(kernel-1) = {total[0]} x {total[1]} in all, half before and the odd cell after "
            "(bottom/right)",
            f"  padding= with numbers pads both sides equally and cannot give {'HW'[a]}_out = {sizes[a]}: "
            + " and ".join(
                f"padding={p} gives {output_length(sizes[a], kernel[a], 1, 2 * p, dilation[a])}" for p in tried
            ),
            f"  or pad first: {exact}",
        ]
    return [f"PyTorch's padding= pads both sides equally, which cannot give this: pad first with {exact}"]
