"""im2col + GEMM: copy every window into a column, then one matrix product does all the sums.

The lesson's loop computes ``sum(patch * kernel)`` once per output position.
Laying each patch out as a column of a matrix turns all those sums into one
matrix product, which BLAS runs at close to the machine's peak::

    columns: (C/groups * kH * kW, H_out * W_out)   one column per output position
    weight:  (O/groups, C/groups * kH * kW)         one row per output channel
    output = weight @ columns: (O/groups, H_out * W_out), already in NCHW order

The windows are first taken as a zero-copy strided view of the padded input;
only the copy into columns touches memory, a few images at a time so the
workspace stays bounded. Large calls pack the columns (and, for the input
gradient, add them back onto their windows) with compiled loops on all cores,
into workspaces reused from call to call; small ones use NumPy's strided copy,
which needs no compiling.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..._args import Array, Pair
from ..geometry import output_length
from . import parallel, threads, workspace
from .compiled import kernel, prange

__all__ = ["Forward", "forward", "input_grad", "weight_grad", "windows"]

Forward = Callable[[Array, Array, "Array | None", Pair, Pair, int], Array]
"""The signature every algorithm's forward shares."""

WORKSPACE_BYTES = 16 * 2**20
"""Upper bound for one chunk of columns; whole images are taken until it is reached. A quarter of the workspace
cache's default limit, so the two or three workspaces of one call (and of its gradients) stay cached from call
to call instead of being allocated, and faulted in, afresh: a per-image GEMM runs no slower on fewer images."""


def windows(padded: Array, kernel_size: Pair, stride: Pair, dilation: Pair, output_size: Pair) -> Array:
    """Every window of ``padded`` as a read-only view, without copying.

    ``view[n, c, a, b, i, j]`` is ``padded[n, c, i * sh + a * dh, j * sw + b * dw]``:
    kernel offset (a, b) of the window that produces output (i, j).

    Shape:
        (N, C, H_pad, W_pad) -> (N, C, kH, kW, H_out, W_out)
    """
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel_size, stride, dilation, output_size
    n_stride, c_stride, h_stride, w_stride = padded.strides
    shape = (padded.shape[0], padded.shape[1], kh, kw, Ho, Wo)
    strides = (n_stride, c_stride, h_stride * dh, w_stride * dw, h_stride * sh, w_stride * sw)
    if not padded.flags.c_contiguous:
        return as_strided(padded, shape=shape, strides=strides, writeable=False)
    # a contiguous array is its own buffer: a view on it costs a third of as_strided, which matters on small calls
    # (NumPy still checks that every window lies inside the buffer)
    view: Array = np.ndarray(shape, padded.dtype, buffer=padded, strides=strides)
    view.flags.writeable = False
    return view


TINY_CELLS = 1 << 12
"""Column values per image up to which the columns are one ``take`` of remembered cell numbers (a call's time
there is nearly all fixed costs: a strided view and its copy take twice as long)."""


@lru_cache(maxsize=64)  # at most 64 x 32 KB of cell numbers
def _window_cells(
    image: tuple[int, int, int], kernel_size: Pair, stride: Pair, dilation: Pair, output_size: Pair
) -> Array:
    """Where each column value of one image comes from: the flat index into the padded image (C, H_pad, W_pad).

    Shape:
        -> (C * kH * kW, H_out * W_out), read-only
    """
    numbers = np.arange(math.prod(image)).reshape(1, *image)
    cells = np.ascontiguousarray(windows(numbers, kernel_size, stride, dilation, output_size))
    cells = cells.reshape(image[0] * kernel_size[0] * kernel_size[1], output_size[0] * output_size[1])
    cells.flags.writeable = False
    return cells


COMPILED_MIN_VALUES = 1 << 16
"""Column values from which the compiled packing loops run; smaller calls use NumPy (no compiling)."""


@kernel(parallel=True)
def _pack(padded: Array, first: int, stride: Pair, dilation: Pair, wide: bool, columns: Array) -> None:
    """Copy every window of images ``first, first + 1, ...`` into columns.

    ``columns[image, c, a, b, i, j]`` (or ``[c, a, b, image, i, j]`` when ``wide``) is
    ``padded[first + image, c, i * sh + a * dh, j * sw + b * dw]``.

    Shape:
        padded (N, C, H_pad, W_pad), columns (n, C, kH, kW, H_out, W_out) or (C, kH, kW, n, H_out, W_out)
    """
    if wide:
        C, kh, kw, n, Ho, Wo = columns.shape
    else:
        n, C, kh, kw, Ho, Wo = columns.shape
    sh, sw = stride
    dh, dw = dilation
    for job in prange(n * C * kh):
        image, c, a = job // (C * kh), (job // kh) % C, job % kh
        for b in range(kw):
            for i in range(Ho):
                row = i * sh + a * dh
                if wide:
                    for j in range(Wo):
                        columns[c, a, b, image, i, j] = padded[first + image, c, row, j * sw + b * dw]
                else:
                    for j in range(Wo):
                        columns[image, c, a, b, i, j] = padded[first + image, c, row, j * sw + b * dw]


@kernel(parallel=True)
def _unpack_add(columns: Array, first: int, stride: Pair, dilation: Pair, grad_padded: Array) -> None:
    """col2im: add every column value back onto the input cell its window read (windows overlap, so cells add).

    Each (image, channel) plane is one job: no two threads write the same cell.

    Shape:
        columns (n, C, kH, kW, H_out, W_out), grad_padded (N, C, H_pad, W_pad)
    """
    n, C, kh, kw, Ho, Wo = columns.shape
    sh, sw = stride
    dh, dw = dilation
    for job in prange(n * C):
        image, c = job // C, job % C
        for a in range(kh):
            for b in range(kw):
                for i in range(Ho):
                    row = i * sh + a * dh
                    for j in range(Wo):
                        grad_padded[first + image, c, row, j * sw + b * dw] += columns[image, c, a, b, i, j]


WIDE_BELOW = 1024
"""Output positions per image below which images are laid side by side in one wide GEMM: per-image
products of (out x in*k*k) @ (in*k*k x positions) are too narrow for BLAS to run at speed."""


def _columns(view: Array, wide: bool, columns: Array | None = None) -> Array:
    """The one copy: windows into contiguous columns (into ``columns`` when given), on all cores.

    Shape:
        view (n, C, kH, kW, H_out, W_out) -> (n, C, kH, kW, H_out, W_out), or with ``wide``
        (C, kH, kW, n, H_out, W_out): every image's columns side by side
    """
    source = view.transpose(1, 2, 3, 0, 4, 5) if wide else view
    if columns is None:
        columns = np.empty(source.shape, dtype=view.dtype)
    parallel.copy(columns, source, axis=0 if wide else 1)
    return columns


@contextmanager
def _packed(padded: Array, view: Array, chunk: slice, stride: Pair, dilation: Pair, wide: bool) -> Iterator[Array]:
    """The chunk's columns in a borrowed workspace: packed by the compiled loop when large, by NumPy when small.

    Shape:
        view (N, C, kH, kW, H_out, W_out) -> (n, C, kH, kW, H_out, W_out), or (C, kH, kW, n, H_out, W_out) if wide
    """
    n, (_, C, kh, kw, Ho, Wo) = chunk.stop - chunk.start, view.shape
    shape = (C, kh, kw, n, Ho, Wo) if wide else (n, C, kh, kw, Ho, Wo)
    if math.prod(shape) < COMPILED_MIN_VALUES:  # small: a plain array costs less than the cache's bookkeeping
        yield _columns(view[chunk], wide)
        return
    with workspace.borrow(shape, padded.dtype) as columns:
        _pack(padded, chunk.start, stride, dilation, wide, columns)
        yield columns


def forward(padded: Array, weight: Array, bias: Array | None, stride: Pair, dilation: Pair, groups: int) -> Array:
    """Convolve an already padded input.

    Shape:
        padded (N, C, H_pad, W_pad), weight (O, C/groups, kH, kW), bias (O,) -> (N, O, H_out, W_out)
    """
    N, C = padded.shape[:2]
    O, C_g, kh, kw = weight.shape
    Ho, Wo = output_length((padded.shape[2], padded.shape[3]), (kh, kw), stride, (0, 0), dilation)
    K, L = C_g * kh * kw, Ho * Wo
    w = weight.reshape(groups, O // groups, K)
    if C * kh * kw * L <= TINY_CELLS:  # a lesson-sized image: the columns by one take of the cells they copy
        cells = _window_cells((C, *padded.shape[2:]), (kh, kw), stride, dilation, (Ho, Wo))
        columns = np.ascontiguousarray(padded).reshape(N, math.prod(padded.shape[1:])).take(cells, axis=1)
        product = np.matmul(w, columns.reshape(N, groups, K, L))
        return _add_bias(product.reshape(N, O, Ho, Wo), bias)
    view = windows(padded, (kh, kw), stride, dilation, (Ho, Wo))
    out = np.empty((N, O, Ho, Wo), dtype=weight.dtype)
    if N * C * kh * kw * L < COMPILED_MIN_VALUES:  # small: one copy and one batched product, no bookkeeping
        np.matmul(
            w, np.ascontiguousarray(view).reshape(N, groups, K, L), out=out.reshape(N, groups, O // groups, L)
        )
        return _add_bias(out, bias)
    wide = L < WIDE_BELOW
    for chunk in workspace.chunks(N, C * kh * kw * L * padded.itemsize, WORKSPACE_BYTES):
        n = chunk.stop - chunk.start
        with _packed(padded, view, chunk, stride, dilation, wide) as columns:
            if wide:  # one GEMM for all images of the chunk, then back to (n, O, H_out, W_out)
                with workspace.borrow((groups, O // groups, n * L), padded.dtype) as result:
                    parallel.matmul(w, columns.reshape(groups, K, n * L), result)
                    parallel.copy(out[chunk].reshape(n, O, L), result.reshape(O, n, L).transpose(1, 0, 2), axis=1)
            else:  # a GEMM per image, straight into NCHW
                parallel.matmul(w, columns.reshape(n, groups, K, L), out[chunk].reshape(n, groups, O // groups, L))
    return _add_bias(out, bias)


def _add_bias(out: Array, bias: Array | None) -> Array:
    """Add each output channel's bias to its whole plane, in place.

    Shape:
        out (N, O, H_out, W_out), bias (O,) or None
    """
    if bias is not None:
        out += bias[:, None, None]
    return out


def input_grad(
    weight: Array, grad_output: Array, padded_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """Gradient with respect to the padded input: columns = weight.T @ grad, then each column back to its window.

    Shape:
        weight (O, C/groups, kH, kW), grad_output (N, O, H_out, W_out) -> (N, C, H_pad, W_pad)
    """
    N, O, Ho, Wo = grad_output.shape
    _, C_g, kh, kw = weight.shape
    C, (dh, dw), (sh, sw) = C_g * groups, dilation, stride
    w_t = weight.reshape(groups, O // groups, C_g * kh * kw).transpose(0, 2, 1)
    grad_padded = parallel.zeros((N, C, *padded_size), dtype=weight.dtype)
    for chunk in workspace.chunks(N, C * kh * kw * Ho * Wo * weight.itemsize, WORKSPACE_BYTES):
        n = chunk.stop - chunk.start
        grad = grad_output[chunk].reshape(n, groups, O // groups, Ho * Wo)
        if n * C * kh * kw * Ho * Wo >= COMPILED_MIN_VALUES:
            with workspace.borrow((n, C, kh, kw, Ho, Wo), weight.dtype) as columns:
                parallel.matmul(w_t, grad, columns.reshape(n, groups, C_g * kh * kw, Ho * Wo))
                _unpack_add(columns, chunk.start, stride, dilation, grad_padded)
            continue
        columns = np.matmul(w_t, grad).reshape(-1, C, kh, kw, Ho, Wo)
        target = grad_padded[chunk]
        for a in range(kh):  # a Python loop over kernel offsets only; each step adds a whole strided plane
            for b in range(kw):
                rows = slice(a * dh, a * dh + sh * (Ho - 1) + 1, sh)
                cols = slice(b * dw, b * dw + sw * (Wo - 1) + 1, sw)
                target[:, :, rows, cols] += columns[:, :, a, b]
    return grad_padded


BY_ROWS_FROM = 512
"""Output positions per image from which the stride-1 weight gradient runs over row runs (no columns): at 3x3
128@28 (784 positions, batch 8, one thread, CPU time) 25.6 ms against the packed columns' 28.9; at 256@14
(196) the two are even (26.4 against 25.8), and fewer positions make the per-image GEMMs too short."""


class _Sum:
    """A sum of matrix products: the first goes straight into the result, the others through a borrowed workspace
    (a weight gradient summed over images then needs no second array of its size when one product makes it)."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
        self._sum = np.empty(shape, dtype=dtype)  # the first product fills it on all cores (zeros cost a pass)
        self._started = False

    def add(self, a: Array, b: Array) -> None:
        """Add ``a @ b``."""
        if not self._started:
            parallel.matmul(a, b, self._sum)
            self._started = True
            return
        with workspace.borrow(self._sum.shape, self._sum.dtype) as part:
            parallel.matmul(a, b, part)
            self._sum += part

    def total(self) -> Array:
        """The sum; zeros when nothing was added (an empty batch)."""
        if not self._started:
            self._sum.fill(0)
        total: Array = self._sum
        return total


def weight_grad(
    padded: Array, grad_output: Array, kernel_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """Gradient with respect to the weight: grad @ columns.T, summed over the batch.

    Shape:
        padded (N, C, H_pad, W_pad), grad_output (N, O, H_out, W_out) -> (O, C/groups, kH, kW)
    """
    N, C = padded.shape[:2]
    _, O, Ho, Wo = grad_output.shape
    (kh, kw), C_g = kernel_size, C // groups
    K, L = C_g * kh * kw, Ho * Wo
    if (
        stride == (1, 1)
        and L >= BY_ROWS_FROM
        and N * C * K * L >= COMPILED_MIN_VALUES
        and _edges_finite(padded, Wo)
    ):
        return _weight_grad_by_rows(padded, grad_output, kernel_size, dilation, groups)
    view = windows(padded, kernel_size, stride, dilation, (Ho, Wo))
    grad_weight = _Sum((groups, O // groups, K), padded.dtype)
    wide = L < WIDE_BELOW
    for chunk in workspace.chunks(N, (C * kh * kw + O) * L * padded.itemsize, WORKSPACE_BYTES):
        n = chunk.stop - chunk.start
        with _packed(padded, view, chunk, stride, dilation, wide) as columns:
            if wide:  # one GEMM over every position of every image: (out, positions) @ (positions, in*k*k)
                side_by_side = columns.reshape(groups, K, n * L)
                with workspace.borrow((O, n, L), grad_output.dtype) as grad:
                    parallel.copy(grad, grad_output[chunk].reshape(n, O, L).transpose(1, 0, 2), axis=0)
                    grad_weight.add(grad.reshape(groups, O // groups, n * L), side_by_side.transpose(0, 2, 1))
                continue
            per_image_columns = columns.reshape(n, groups, K, L)
            per_image = grad_output[chunk].reshape(n, groups, O // groups, L)
            for image in range(n):  # long enough rows: a GEMM per image runs at full speed
                grad_weight.add(per_image[image], per_image_columns[image].transpose(0, 2, 1))
    return grad_weight.total().reshape(O, C_g, kh, kw)


def _edges_finite(padded: Array, width: int) -> bool:
    """Whether the columns :func:`_weight_grad_by_rows` multiplies by its zero columns are all finite (0 * Inf is
    NaN, which would reach weights whose windows never saw the Inf): the first and last ``W_pad - width``."""
    edge = padded.shape[3] - width
    with np.errstate(over="ignore", invalid="ignore"):
        return all(math.isfinite(float(np.sum(part))) for part in (padded[..., :edge], padded[..., width:]))


def _weight_grad_by_rows(
    padded: Array, grad_output: Array, kernel_size: Pair, dilation: Pair, groups: int
) -> Array:
    """The stride-1 weight gradient without copying any window: one GEMM per kernel offset and image.

    Flattened, the padded image's rows follow each other, so the cells kernel offset (a, b) reads for every
    output are one contiguous run of ``flat = padded.reshape(N, C, H_pad * W_pad)``, starting at
    ``a * dh * W_pad + b * dw``, if each output row is taken W_pad long: the gradient, widened to W_pad columns
    with zeros, multiplies the extra cells by 0. So ``dW[:, :, a, b] = sum_n grad_wide[n] @ flat[n, :, run].T``,
    with no im2col columns at all. The images are split over the threads, each summing its own.

    Shape:
        padded (N, C, H_pad, W_pad), grad_output (N, O, H_out, W_out) -> (O, C/groups, kH, kW)
    """
    N, C, Hp, Wp = padded.shape
    _, O, Ho, Wo = grad_output.shape
    (kh, kw), (dh, dw), C_g, O_g = kernel_size, dilation, C // groups, O // groups
    run = (Ho - 1) * Wp + Wo  # the last row needs only its W_out cells: the run then ends inside the image
    flat = np.ascontiguousarray(padded).reshape(N, groups, C_g, Hp * Wp)
    parts = min(threads.get_num_threads(), N)
    sums = np.zeros((parts, kh, kw, groups, O_g, C_g), dtype=padded.dtype)
    with workspace.borrow((N, O, Ho, Wp), grad_output.dtype) as wide:
        wide[..., Wo:] = 0
        parallel.copy(wide[..., :Wo], grad_output, axis=1)
        by_row = wide.reshape(N, groups, O_g, Ho * Wp)[..., :run]

        def images(part: int) -> None:
            with workspace.borrow((groups, O_g, C_g), padded.dtype) as product:
                for n in range(part, N, parts):
                    for a in range(kh):
                        for b in range(kw):
                            start = a * dh * Wp + b * dw
                            np.matmul(
                                by_row[n], flat[n, :, :, start : start + run].transpose(0, 2, 1), out=product
                            )
                            sums[part, a, b] += product

        threads.apply_to_blas()
        parallel.run(images, range(parts))
    total = sums.sum(axis=0) if parts > 1 else sums[0]  # (kH, kW, groups, O/groups, C/groups)
    return np.ascontiguousarray(total.transpose(2, 3, 4, 0, 1)).reshape(O, C_g, kh, kw)
