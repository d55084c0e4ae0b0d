"""Output sizes and their derivation in the lesson's notation.

The lesson's formula for one spatial dimension::

    output = floor((input + 2*padding - kernel_size) / stride) + 1

With dilation the kernel spans ``dilation*(kernel_size-1)+1`` input cells, and
that effective size takes the kernel's place in the formula.

Example:
    >>> conv2d_output_size(6, kernel_size=3, stride=2, padding=1)
    3
    >>> print(output_size_derivation(6, kernel_size=3, stride=2, padding=1))
    H_out = floor((6 + 2*1 - 3) / 2) + 1 = floor(5 / 2) + 1 = 3
"""

from __future__ import annotations

from ._args import Pair, as_int, conv_padding, pair

__all__ = ["conv2d_output_size", "output_size_derivation"]


def conv2d_output_size(
    input_size: int | Pair,
    kernel_size: int | Pair,
    stride: int | Pair = 1,
    padding: int | Pair | str = 0,
    dilation: int | Pair = 1,
) -> int | Pair:
    """Output size of a convolution: an int for an int ``input_size``, an (h, w) pair for a pair.

    Args:
        input_size: H, or (H, W).
        kernel_size, stride, padding, dilation: as in :func:`convlab.functional.conv2d`.

    Example:
        >>> conv2d_output_size((32, 32), 3, padding="same")
        (32, 32)
    """
    sizes = pair(input_size, "input_size", minimum=1)
    kernel, stride_, dilation_ = (
        pair(kernel_size, "kernel_size", minimum=1),
        pair(stride, "stride", minimum=1),
        pair(dilation, "dilation", minimum=1),
    )
    pads = conv_padding(padding, kernel_size=kernel, stride=stride_, dilation=dilation_)
    from .functional.geometry import output_length

    out = tuple(
        output_length(n, k, s, sum(p), d) for n, k, s, p, d in zip(sizes, kernel, stride_, pads, dilation_)
    )
    return out[0] if isinstance(input_size, int) else (out[0], out[1])


def output_size_derivation(
    input_size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int | Pair = 0,
    dilation: int = 1,
    name: str = "H",
) -> str:
    """The output-size formula for one dimension, with the user's numbers, step by step.

    Args:
        input_size, kernel_size, stride, dilation: ints for this dimension.
        padding: the same on both sides (int), or (before, after) when they differ.
        name: "H" or "W".

    Example:
        >>> output_size_derivation(6, 3, dilation=2, padding=(1, 1))
        'H_out = floor((6 + 2*1 - (2*(3-1)+1)) / 1) + 1 = floor(3 / 1) + 1 = 4'
    """
    n = as_int(input_size, "input_size", minimum=1)
    k = as_int(kernel_size, "kernel_size", minimum=1)
    s = as_int(stride, "stride", minimum=1)
    d = as_int(dilation, "dilation", minimum=1)
    before, after = (padding, padding) if isinstance(padding, int) else padding
    padding_text = f"2*{before}" if before == after else f"{before} + {after}"
    kernel_text = str(k) if d == 1 else f"({d}*({k}-1)+1)"
    span = d * (k - 1) + 1
    numerator = n + before + after - span
    result = numerator // s + 1
    return (
        f"{name}_out = floor(({n} + {padding_text} - {kernel_text}) / {s}) + 1"
        f" = floor({numerator} / {s}) + 1 = {result}"
    )
