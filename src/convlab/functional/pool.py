"""Max and average pooling and, right beside them, their gradients.

Pooling slides a window like convolution but has no weights: it keeps the
largest value (max) or the mean (avg) of each window. The fast path loops over
the kH * kW kernel offsets, never over output pixels: at offset (a, b) the
window cells of all outputs form one strided plane of the padded input.

Above a size threshold the same results come from compiled loops
(:mod:`.pool_kernels`) that visit each window once on all cores and never
build the padded input; small calls stay on the NumPy path, which needs no
compilation.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import numpy as np

from .._args import Array, Pair, flag
from ..errors import ArgumentError, ArgumentTypeError, ShapeError
from . import reference
from .calls import avg_pool_options, grad_call, pool2d_call, unbatch
from .geometry import PoolGeometry, pool2d_geometry
from .padding import pool_pad

__all__ = ["avg_pool2d", "avg_pool2d_grad", "max_pool2d", "max_pool2d_grad"]

COMPILED_MIN_WORK = 1 << 18  # window cells visited, from which the compiled loops pay for their first call


def _by_loop(algorithm: object) -> bool:
    """Whether the call asked for the lesson's loop (:mod:`.reference`) instead of the fast path."""
    if algorithm not in ("auto", "reference"):
        raise ArgumentError(
            f"algorithm must be 'auto' or 'reference' for pooling, got {algorithm!r}",
            fix="leave algorithm='auto', or pass algorithm='reference' for the lesson's loop",
        )
    return algorithm == "reference"


def _compiled(geo: PoolGeometry) -> bool:
    return (
        geo.batch
        * geo.channels
        * geo.output_size[0]
        * geo.output_size[1]
        * geo.kernel_size[0]
        * geo.kernel_size[1]
        >= COMPILED_MIN_WORK
    )


def _window(geo: PoolGeometry, dilated: bool) -> Array:
    """(kH, kW, sH, sW, pH, pW), and (dH, dW) after them for max pooling, as the kernels take them."""
    numbers = (*geo.kernel_size, *geo.stride, *geo.padding, *(geo.dilation if dilated else ()))
    return np.array(numbers, dtype=np.int64)


def _compiled_argmax(x: Array, geo: PoolGeometry) -> tuple[Array, Array]:
    """Each window's maximum and its index into the H_in * W_in plane, from the compiled loop."""
    from . import pool_kernels

    out = np.empty(geo.output_shape, dtype=x.dtype)
    where = np.empty(geo.output_shape, dtype=np.int64)
    pool_kernels.max_forward(np.ascontiguousarray(x), out, where, _window(geo, dilated=True))
    return out, where


def _offsets(geo: PoolGeometry) -> Iterator[tuple[slice, slice]]:
    """For each kernel offset (a, b), the padded-input plane its window cells form, in row-major order."""
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = geo.kernel_size, geo.stride, geo.dilation, geo.output_size
    for a in range(kh):
        for b in range(kw):
            yield (slice(a * dh, a * dh + sh * (Ho - 1) + 1, sh), slice(b * dw, b * dw + sw * (Wo - 1) + 1, sw))


def _crop(padded: Array, geo: PoolGeometry) -> Array:
    (ph, pw), (H, W) = geo.padding, geo.input_size
    return padded[:, :, ph : ph + H, pw : pw + W]


@lru_cache(maxsize=128)  # a layer pools the same geometry at every step
def _window_cells(
    input_size: Pair, kernel_size: Pair, stride: Pair, padding: Pair, dilation: Pair, output_size: Pair
) -> tuple[Array, Array, Array]:
    """Where each window's cells lie in the unpadded H * W plane, for the winners' indices.

    Returns ``cells`` (kH * kW, H_out, W_out): each kernel offset's cell, in row-major order (only
    meaningful where the cell is inside the input); ``first`` (H_out, W_out): the window's first cell
    inside the input, the index an all -inf window reports (as PyTorch and the compiled loop do), or its
    first cell at all where no cell is inside; ``empty`` (H_out, W_out): windows wholly in the padding,
    whose gradient reaches no input cell.
    """
    (H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw) = input_size, kernel_size, stride, padding, dilation
    Ho, Wo = output_size
    rows = np.arange(Ho)[None, :] * sh + np.arange(kh)[:, None] * dh - ph  # (kH, H_out): each offset's row
    cols = np.arange(Wo)[None, :] * sw + np.arange(kw)[:, None] * dw - pw  # (kW, W_out)
    cells = (rows[:, None, :, None] * W + cols[None, :, None, :]).reshape(kh * kw, Ho, Wo)
    row_inside: Array = (rows >= 0) & (rows < H)
    col_inside: Array = (cols >= 0) & (cols < W)
    some_row: Array = np.any(row_inside, axis=0)  # (H_out,): windows with a row inside the input
    some_col: Array = np.any(col_inside, axis=0)
    first_row = rows[row_inside.argmax(axis=0), np.arange(Ho)]  # the first inside, where there is one
    first_col = cols[col_inside.argmax(axis=0), np.arange(Wo)]
    empty: Array = ~(some_row[:, None] & some_col[None, :])
    first = np.where(empty, rows[0][:, None] * W + cols[0][None, :], first_row[:, None] * W + first_col[None, :])
    tables = (cells.astype(np.int64), first.astype(np.int64), empty)
    for table in tables:
        table.flags.writeable = False  # shared by every call with this geometry
    return tables


def _cells_of(geo: PoolGeometry) -> tuple[Array, Array, Array]:
    return _window_cells(geo.input_size, geo.kernel_size, geo.stride, geo.padding, geo.dilation, geo.output_size)


def _planes(padded: Array, geo: PoolGeometry) -> list[Array]:
    """Each kernel offset's plane of window cells (views of the padded input), in row-major order."""
    return [padded[:, :, rows, cols] for rows, cols in _offsets(geo)]


def _maximum(planes: list[Array]) -> Array:
    """The cell-wise largest of the planes; NaN propagates, as in PyTorch."""
    best: Array = planes[0].copy()
    for plane in planes[1:]:
        np.maximum(best, plane, out=best)
    return best


def _argmax(padded: Array, geo: PoolGeometry) -> tuple[Array, Array]:
    """Each window's maximum and its index into the unpadded H_in * W_in plane.

    The first largest cell in row-major order wins, a NaN beats everything (the last NaN of a window
    wins), and an all -inf window reports its first cell inside the input: the compiled loop's rules,
    which are PyTorch's.
    """
    cells, first, _ = _cells_of(geo)
    planes = _planes(padded, geo)
    best = _maximum(planes)
    if np.isnan(best).any():
        return _argmax_with_nan(planes, cells, first)
    where = np.empty(best.shape, dtype=np.int64)
    for index in reversed(range(len(planes))):  # the first offset holding the maximum is written last
        np.copyto(where, cells[index], where=planes[index] == best)
    if padded.shape[2:] != geo.input_size:  # an all -inf window matched the padding too
        np.copyto(where, first, where=np.isneginf(best))
    return best, where


def _argmax_with_nan(planes: list[Array], cells: Array, first: Array) -> tuple[Array, Array]:
    """:func:`_argmax` cell by cell, for windows that hold a NaN."""
    best = np.full(planes[0].shape, -np.inf, dtype=planes[0].dtype)
    where = np.empty(best.shape, dtype=np.int64)
    where[...] = first
    for index, candidate in enumerate(planes):
        better = (candidate > best) | np.isnan(candidate)
        np.copyto(best, candidate, where=better)
        np.copyto(where, cells[index], where=better)
    return best, where


def _scatter(grad: Array, where: Array, geo: PoolGeometry) -> Array:
    """The input's gradient: each window's gradient added to the cell that won it (``where``, checked).

    Shape:
        grad, where (N, C, H_out, W_out) -> (N, C, H_in, W_in)
    """
    (H, W), planes = geo.input_size, geo.batch * geo.channels
    empty = _cells_of(geo)[2]
    if empty.any():  # a window wholly in the padding gives nothing to the input
        grad, where = np.where(empty, 0, grad).astype(grad.dtype), np.where(empty, 0, where)
    if _compiled(geo):
        from . import pool_kernels

        grad_input = np.empty((geo.batch, geo.channels, H, W), dtype=grad.dtype)
        pool_kernels.max_backward(np.ascontiguousarray(grad), np.ascontiguousarray(where), grad_input)
        return grad_input
    offsets = np.arange(planes, dtype=np.int64)[:, None] * (H * W)  # each (image, channel) plane's start
    flat = (where.reshape(planes, -1) + offsets).ravel()
    summed = np.bincount(flat, weights=grad.ravel(), minlength=planes * H * W)  # in float64, then rounded once
    return summed.astype(grad.dtype, copy=False).reshape(geo.batch, geo.channels, H, W)


def max_pool2d(
    input: object,
    kernel_size: object,
    stride: object = None,
    padding: object = 0,
    dilation: object = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
    *,
    algorithm: str = "auto",
) -> Array | tuple[Array, Array]:
    """2-D max pooling with the meaning of ``torch.nn.functional.max_pool2d``.

    Args:
        input: array of shape (N, C, H, W) or (C, H, W).
        kernel_size: window size, int or (kH, kW).
        stride: window step. Default: kernel_size.
        padding: implicit -inf border on every side, at most half the kernel. Default: 0.
        dilation: spacing between window cells. Default: 1.
        ceil_mode: round the output size up, letting a last window hang over the
            bottom/right if it starts inside the input or left padding. Default: False.
        return_indices: also return where each maximum came from, as an index
            into the flattened H_in * W_in plane (as PyTorch does). Default: False.
        algorithm: "auto", or "reference" for the lesson's loop. Default: "auto".

    Shape:
        (N, C, H_in, W_in) -> (N, C, H_out, W_out), where
        ``H_out = floor_or_ceil((H_in + 2 * pH - dH * (kH - 1) - 1) / sH) + 1``.

    Example:
        >>> max_pool2d([[[1.0, 2.0], [4.0, 3.0]]], 2)
        array([[[4.]]], dtype=float32)
    """
    call = pool2d_call("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    indices = flag(return_indices, "return_indices")
    if _by_loop(algorithm):
        geo = call.geometry
        out, won_row, won_col = reference.max_pool(pool_pad(call.input, geo, -np.inf), geo)
        flat = (won_row - geo.padding[0]) * geo.input_size[1] + won_col - geo.padding[1]
        out = unbatch(out, call.unbatched)
        return (out, unbatch(flat, call.unbatched)) if indices else out
    if _compiled(call.geometry):
        out, where = _compiled_argmax(call.input, call.geometry)
        out = unbatch(out, call.unbatched)
        return (out, unbatch(where, call.unbatched)) if indices else out
    padded = pool_pad(call.input, call.geometry, -np.inf)
    if indices:
        out, where = _argmax(padded, call.geometry)
        return unbatch(out, call.unbatched), unbatch(where, call.unbatched)
    return unbatch(_maximum(_planes(padded, call.geometry)), call.unbatched)


def max_pool2d_grad(
    input: object,
    grad_output: object,
    kernel_size: object,
    stride: object = None,
    padding: object = 0,
    dilation: object = 1,
    ceil_mode: bool = False,
    *,
    indices: object = None,
    algorithm: str = "auto",
) -> Array:
    """Gradient of :func:`max_pool2d` with respect to its input.

    Only the cell that won each window receives that window's gradient; a cell
    that wins several overlapping windows receives the sum. ``indices``, the ones
    ``max_pool2d(..., return_indices=True)`` gave for this input, say which cells
    won, so the maxima are not searched again (a layer keeps them from forward).

    Shape:
        input (N, C, H_in, W_in), grad_output and indices (N, C, H_out, W_out) -> (N, C, H_in, W_in)

    Example:
        >>> max_pool2d_grad([[[1.0, 2.0], [4.0, 3.0]]], [[[1.0]]], 2)
        array([[[0., 0.],
                [1., 0.]]], dtype=float32)
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
    if _by_loop(algorithm):
        grad_padded = reference.max_pool_grad(pool_pad(call.given, geo, -np.inf), grad, geo)
        return unbatch(np.ascontiguousarray(_crop(grad_padded, geo)), call.unbatched)
    if indices is not None:
        where = _checked_indices(indices, grad.shape, geo, call.unbatched)
    elif _compiled(geo):
        where = _compiled_argmax(call.given, geo)[1]
    else:
        where = _argmax(pool_pad(call.given, geo, -np.inf), geo)[1]
    return unbatch(_scatter(grad, where, geo), call.unbatched)


def _checked_indices(indices: object, shape: tuple[int, ...], geo: PoolGeometry, unbatched: bool) -> Array:
    """``indices`` as max_pool2d returned them: integers of the gradient's shape, each a cell of the plane."""
    where = np.asarray(indices)
    if where.dtype.kind not in "iu":
        raise ArgumentTypeError(
            f"max_pool2d_grad: indices must be integers, got dtype {where.dtype}",
            fix="pass the indices max_pool2d(..., return_indices=True) returned for this input",
        )
    if unbatched:
        where = where[None]
    if where.shape != shape:
        raise ShapeError(
            f"max_pool2d_grad: indices of shape {where.shape[unbatched:]} do not match grad_output of shape "
            f"{shape[unbatched:]}",
            fix="pass the indices max_pool2d(..., return_indices=True) gave with the output grad_output is for",
        )
    cells = geo.input_size[0] * geo.input_size[1]
    empty = _cells_of(geo)[2]
    inside = where[:, :, ~empty] if empty.any() else where  # a window wholly in the padding may hold any index
    if inside.size and (inside.min() < 0 or inside.max() >= cells):
        bad = int(inside.min()) if inside.min() < 0 else int(inside.max())
        raise ArgumentError(
            f"max_pool2d_grad: indices hold {bad}, outside the {geo.input_size[0]}x{geo.input_size[1]} "
            f"input plane (0..{cells - 1})",
            fix="pass the indices max_pool2d(..., return_indices=True) returned for this input",
        )
    return where.astype(np.int64, copy=False)


def _avg_divisor(
    geo: PoolGeometry, count_include_pad: bool, divisor_override: int | None, dtype: np.dtype[Any]
) -> Array:
    """How many cells each window averages over, shape (H_out, W_out).

    With ``count_include_pad`` a window counts its cells inside the padded input,
    otherwise only those inside the input; cells a ceil-mode window hangs past
    the padding never count (PyTorch's rule).
    """
    if divisor_override is not None:
        return np.full(geo.output_size, divisor_override, dtype=dtype)
    counts = []
    for size, k, s, p, length in zip(geo.input_size, geo.kernel_size, geo.stride, geo.padding, geo.output_size):
        start = np.arange(length) * s - p  # window start in unpadded coordinates
        stop = np.minimum(start + k, size + p)
        if not count_include_pad:
            start, stop = np.maximum(start, 0), np.minimum(stop, size)
        counts.append(stop - start)
    divisor: Array = np.outer(counts[0], counts[1]).astype(dtype)
    return divisor


def avg_pool2d(
    input: object,
    kernel_size: object,
    stride: object = None,
    padding: object = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
    *,
    algorithm: str = "auto",
) -> Array:
    """2-D average pooling with the meaning of ``torch.nn.functional.avg_pool2d``.

    Args:
        input: array of shape (N, C, H, W) or (C, H, W).
        kernel_size: window size, int or (kH, kW).
        stride: window step. Default: kernel_size.
        padding: implicit zero border on every side, at most half the kernel. Default: 0.
        ceil_mode: round the output size up (see :func:`max_pool2d`). Default: False.
        count_include_pad: count padding cells in the divisor. Default: True.
        divisor_override: divide every window's sum by this instead. Default: None.
        algorithm: "auto", or "reference" for the lesson's loop. Default: "auto".

    Shape:
        (N, C, H_in, W_in) -> (N, C, H_out, W_out), ``H_out`` as in :func:`max_pool2d` with dilation 1.

    Example:
        >>> avg_pool2d([[[1.0, 2.0], [4.0, 3.0]]], 2)
        array([[[2.5]]], dtype=float32)
    """
    call = pool2d_call("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    include_pad, override = avg_pool_options(count_include_pad, divisor_override)
    if _by_loop(algorithm):
        padded = pool_pad(call.input, call.geometry, 0.0)
        return unbatch(reference.avg_pool(padded, call.geometry, include_pad, override), call.unbatched)
    if _compiled(call.geometry):
        from . import pool_kernels

        out = np.empty(call.geometry.output_shape, dtype=call.input.dtype)
        divisor = _avg_divisor(call.geometry, include_pad, override, out.dtype)
        pool_kernels.avg_forward(
            np.ascontiguousarray(call.input), out, _window(call.geometry, dilated=False), divisor
        )
        return unbatch(out, call.unbatched)
    padded = pool_pad(call.input, call.geometry, 0.0)
    total = np.zeros(call.geometry.output_shape, dtype=call.input.dtype)
    for rows, cols in _offsets(call.geometry):
        total += padded[:, :, rows, cols]
    total /= _avg_divisor(call.geometry, include_pad, override, total.dtype)
    return unbatch(total, call.unbatched)


def avg_pool2d_grad(
    input_shape: tuple[int, ...],
    grad_output: object,
    kernel_size: object,
    stride: object = None,
    padding: object = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
    *,
    algorithm: str = "auto",
) -> Array:
    """Gradient of :func:`avg_pool2d` with respect to its input.

    Each window's gradient is shared equally, ``grad / divisor``, by its cells.

    Shape:
        grad_output (N, C, H_out, W_out) -> (N, C, H_in, W_in)

    Example:
        >>> avg_pool2d_grad((1, 2, 2), [[[1.0]]], 2)
        array([[[0.25, 0.25],
                [0.25, 0.25]]], dtype=float32)
    """
    call = grad_call(
        "avg_pool2d_grad",
        grad_output,
        lambda x_shape, _: pool2d_geometry("avg_pool2d_grad", x_shape, kernel_size, stride, padding, 1, ceil_mode),
        input_shape=input_shape,
    )
    grad = call.grad_output
    include_pad, override = avg_pool_options(count_include_pad, divisor_override)
    geo = call.geometry
    if _by_loop(algorithm):
        grad_padded = reference.avg_pool_grad(grad, geo, include_pad, override)
        return unbatch(np.ascontiguousarray(_crop(grad_padded, geo)), call.unbatched)
    if _compiled(geo):
        from . import pool_kernels

        grad_input = np.empty((geo.batch, geo.channels, *geo.input_size), dtype=grad.dtype)
        divisor = _avg_divisor(geo, include_pad, override, grad.dtype)
        pool_kernels.avg_backward(np.ascontiguousarray(grad), grad_input, _window(geo, dilated=False), divisor)
        return unbatch(grad_input, call.unbatched)
    share = grad / _avg_divisor(geo, include_pad, override, grad.dtype)
    grad_padded = np.zeros((geo.batch, geo.channels, *geo.padded_size), dtype=grad.dtype)
    for rows, cols in _offsets(geo):
        grad_padded[:, :, rows, cols] += share
    return unbatch(np.ascontiguousarray(_crop(grad_padded, geo)), call.unbatched)
