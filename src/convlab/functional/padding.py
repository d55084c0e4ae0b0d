"""Padding the border of an image, in PyTorch's four modes, and the gradient of that padding.

Every mode is a lookup: each cell of the padded image copies one cell of the
input (or is zero). For one axis of length 4 padded by 2 on both sides::

    padded position   -2 -1 | 0  1  2  3 | 4  5
    reflect            2  1 | 0  1  2  3 | 2  1     (mirror, edge not repeated)
    replicate          0  0 | 0  1  2  3 | 3  3     (repeat the edge)
    circular           2  3 | 0  1  2  3 | 0  1     (wrap around)

Because padding copies, its gradient adds: the gradient of an input cell is
the sum of the gradients of every padded cell that copied it.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .._args import Pad2d, as_int
from .._arrays import float_arrays
from .._memory import check_fits
from ..errors import ArgumentError, ArgumentTypeError
from .geometry import PoolGeometry, check_padding_fits, with_batch_axis

__all__ = ["pad", "pad2d", "pad2d_grad", "pool_pad", "source_index"]

Array = np.ndarray[Any, Any]


def source_index(length: int, before: int, after: int, mode: str) -> Array:
    """For each padded position along one axis, the input position it copies.

    Args:
        length: the input's length along the axis.
        before, after: cells added on each side.
        mode: "reflect", "replicate" or "circular".

    Example:
        >>> source_index(4, 2, 2, "reflect").tolist()
        [2, 1, 0, 1, 2, 3, 2, 1]
    """
    position = np.arange(-before, length + after)
    if mode == "reflect":
        position = np.abs(position)  # the top/left border mirrors around index 0
        return np.where(position >= length, 2 * (length - 1) - position, position)
    if mode == "replicate":
        return np.clip(position, 0, length - 1)
    if mode == "circular":
        return position % length
    raise ArgumentError(f"unknown padding mode {mode!r}", fix="use 'reflect', 'replicate' or 'circular'")


def pad2d(x: Array, padding: Pad2d, mode: str = "zeros") -> Array:
    """Pad the last two axes of ``x``.

    Args:
        x: array of shape (..., H, W).
        padding: ((top, bottom), (left, right)), already checked.
        mode: "zeros", "reflect", "replicate" or "circular".

    Shape:
        (..., H, W) -> (..., H + top + bottom, W + left + right)
    """
    (top, bottom), (left, right) = padding
    if top == bottom == left == right == 0:
        return x
    H, W = x.shape[-2:]
    if mode == "zeros":
        padded = np.zeros((*x.shape[:-2], H + top + bottom, W + left + right), dtype=x.dtype)
        padded[..., top : top + H, left : left + W] = x
        return padded
    rows = source_index(H, top, bottom, mode)
    cols = source_index(W, left, right, mode)
    return x[..., rows[:, None], cols[None, :]]


def pool_pad(x: Array, geo: PoolGeometry, fill: float) -> Array:
    """Pad for pooling with ``fill`` up to ``geo.padded_size`` (ceil-mode overhang included).

    Shape:
        (N, C, H, W) -> (N, C, *geo.padded_size)
    """
    (ph, pw), (H, W) = geo.padding, geo.input_size
    if geo.padded_size == (H, W):
        return x
    padded = np.full((*x.shape[:2], *geo.padded_size), fill, dtype=x.dtype)
    padded[:, :, ph : ph + H, pw : pw + W] = x
    return padded


def _fold(grad: Array, index: Array, before: int, length: int, axis: int) -> Array:
    """Sum the gradient of each padded cell along ``axis`` into the input cell it copied."""
    moved = np.moveaxis(grad, axis, 0)
    folded = moved[before : before + length].copy()
    for position in (*range(before), *range(before + length, len(index))):  # the border cells only
        folded[index[position]] += moved[position]
    return np.moveaxis(folded, 0, axis)


def pad2d_grad(grad_padded: Array, padding: Pad2d, mode: str = "zeros") -> Array:
    """Gradient of :func:`pad2d` with respect to its input.

    Shape:
        (..., H + top + bottom, W + left + right) -> (..., H, W)
    """
    (top, bottom), (left, right) = padding
    H = grad_padded.shape[-2] - top - bottom
    W = grad_padded.shape[-1] - left - right
    if mode == "zeros":
        return grad_padded[..., top : top + H, left : left + W]
    grad = _fold(grad_padded, source_index(H, top, bottom, mode), top, H, axis=-2)
    return _fold(grad, source_index(W, left, right, mode), left, W, axis=-1)


_PAD_MODES = {"constant": "zeros", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def pad(input: object, pad: tuple[int, ...], mode: str = "constant", value: float = 0.0) -> Array:
    """Pad an image's height and width, with the meaning of ``torch.nn.functional.pad``.

    Use it for padding a convolution's ``padding=`` cannot express, such as more
    on one side than the other.

    Args:
        input: array of shape (N, C, H, W) or (C, H, W).
        pad: ``(left, right)`` or ``(left, right, top, bottom)``, last axis first as in PyTorch.
        mode: "constant", "reflect", "replicate" or "circular". Default: "constant".
        value: the fill value for "constant". Default: 0.0.

    Shape:
        (N, C, H, W) -> (N, C, H + top + bottom, W + left + right)

    Example:
        >>> pad(np.ones((1, 2, 2)), (1, 0, 0, 1)).shape
        (1, 3, 3)
    """
    x = float_arrays({"input": input})["input"]
    batched, unbatched = with_batch_axis(x, "input", "pad")
    if not isinstance(pad, (tuple, list)) or len(pad) not in (2, 4):
        raise ArgumentError(
            f"pad: pad must be (left, right) or (left, right, top, bottom), got {pad!r}",
            fix="pass e.g. pad=(1, 1, 1, 1)",
        )
    left, right, top, bottom = (as_int(p, "pad", minimum=0) for p in (*pad, 0, 0)[:4])
    if mode not in _PAD_MODES:
        raise ArgumentError(
            f"pad: mode must be one of {', '.join(map(repr, _PAD_MODES))}, got {mode!r}",
            fix="use mode='constant' to pad with a value",
        )
    fill: object = value  # typed float, but callers pass anything
    if isinstance(fill, bool) or not isinstance(fill, numbers.Real):
        raise ArgumentTypeError(f"pad: value must be a number, got {value!r}", fix="pass e.g. value=0.0")
    padding = ((top, bottom), (left, right))
    check_padding_fits(padding, batched.shape[-2:], _PAD_MODES[mode], "pad")
    height, width = batched.shape[-2] + top + bottom, batched.shape[-1] + left + right
    check_fits(
        f"pad: the padded array {(*batched.shape[:-2], height, width)} in {batched.dtype}",
        math.prod(batched.shape[:-2]) * height * width * batched.dtype.itemsize,
        fix="pad by fewer cells",
    )
    padded = pad2d(batched, padding, _PAD_MODES[mode])
    padded = padded.copy() if padded is batched else padded  # a new array every time, as in PyTorch
    if mode == "constant" and value != 0:
        mask = np.ones(padded.shape[-2:], dtype=bool)
        mask[top : top + batched.shape[-2], left : left + batched.shape[-1]] = False
        padded[..., mask] = value
    return padded[0] if unbatched else padded
