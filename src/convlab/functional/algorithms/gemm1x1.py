"""1x1 convolutions are plain matrix products: no windows, no copies (stride by slicing).

A 1x1 kernel mixes channels at each pixel independently, so over a whole image
it is ``weight (O, C) @ pixels (C, H*W)``: one GEMM per image straight into
the NCHW output, split over convlab's threads. A stride just picks every s-th
pixel first.

With a stride (ResNet's downsampling shortcut) the forward pass gives each thread
whole images: it gathers one image's picked pixels into its own reused
workspace and multiplies, the bias riding in the product; so the gather and the
bias run on all cores and nothing but the result is allocated.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from ..._args import Array, Pair
from . import parallel, threads, workspace

__all__ = ["forward", "input_grad", "supports", "weight_grad"]


def supports(kernel_size: Pair, stride: Pair, dilation: Pair) -> bool:
    return kernel_size == (1, 1)


def _picked(padded: Array, stride: Pair, size: Pair | None = None) -> Array:
    """The pixels a 1x1 kernel with this stride reads, for ``size`` outputs (all that fit by default)."""
    rows, cols = size if size is not None else (None, None)
    return padded[
        :,
        :,
        : None if rows is None else (rows - 1) * stride[0] + 1 : stride[0],
        : None if cols is None else (cols - 1) * stride[1] + 1 : stride[1],
    ]


def forward(padded: Array, weight: Array, bias: Array | None, stride: Pair, dilation: Pair, groups: int) -> Array:
    """Shape: padded (N, C, H_pad, W_pad), weight (O, C/groups, 1, 1) -> (N, O, H_out, W_out)."""
    pixels = _picked(padded, stride)
    N, C, Ho, Wo = pixels.shape
    O = weight.shape[0]
    out = np.empty((N, O, Ho, Wo), dtype=weight.dtype)
    w = weight.reshape(groups, O // groups, C // groups)
    seconds = out.size * (C // groups) / threads.MULTIPLY_ADDS_PER_SECOND
    split = threads.worth_splitting(seconds, threads.POOL_HAND_OFF_SECONDS)
    if stride != (1, 1) and (threads.get_num_threads() <= N or not split):  # enough images for every thread
        _forward_by_image(pixels, w, bias, out, min(N, threads.get_num_threads()) if split else 1)
        return out
    columns = pixels.reshape(N, groups, C // groups, Ho * Wo)  # a view for stride 1, one copy otherwise
    parallel.matmul(w, columns, out.reshape(N, groups, O // groups, Ho * Wo))
    if bias is not None:
        out += bias[:, None, None]
    return out


def _forward_by_image(pixels: Array, w: Array, bias: Array | None, out: Array, parts: int) -> None:
    """``parts`` threads each a run of whole images: gather one image's pixels, then one product writes its output.

    The bias rides in the product: a row of ones under the gathered pixels and the bias as an extra
    weight column, which costs one more multiply-add per output instead of a pass over it.

    Shape: pixels (N, C, H_out, W_out) (a strided view), w (groups, O/groups, C/groups), out (N, O, H_out, W_out)
    """
    N, _, Ho, Wo = pixels.shape
    groups, O_g, C_g = w.shape
    extra = 0 if bias is None else 1
    runs = np.array_split(np.arange(N), max(1, parts))
    if parts > 1:
        threads.apply_to_blas()  # each thread's products on its own core

    with workspace.borrow((groups, O_g, C_g + extra), w.dtype) as w_and_bias:
        w_and_bias[..., :C_g] = w
        if bias is not None:
            w_and_bias[..., C_g] = bias.reshape(groups, O_g)

        def images(run: Array) -> None:
            with workspace.borrow((groups, C_g + extra, Ho * Wo), pixels.dtype) as columns:
                columns[:, C_g:] = 1  # the bias row (none without a bias)
                picked = columns[:, :C_g].reshape(groups, C_g, Ho, Wo)
                for n in run.tolist():
                    np.copyto(picked, pixels[n].reshape(groups, C_g, Ho, Wo))
                    np.matmul(w_and_bias, columns, out=out[n].reshape(groups, O_g, Ho * Wo))

        parallel.run(images, runs)


def input_grad(
    weight: Array, grad_output: Array, padded_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """weight.T @ grad at the pixels that were read; every other pixel gets zero.

    Shape: weight (O, C/groups, 1, 1), grad_output (N, O, H_out, W_out) -> (N, C, H_pad, W_pad)
    """
    N, O, Ho, Wo = grad_output.shape
    C_g = weight.shape[1]
    w_t = weight.reshape(groups, O // groups, C_g).transpose(0, 2, 1)
    picked = np.empty((N, groups * C_g, Ho, Wo), dtype=weight.dtype)
    grad = grad_output.reshape(N, groups, O // groups, Ho * Wo)
    parallel.matmul(w_t, grad, picked.reshape(N, groups, C_g, Ho * Wo))
    if stride == (1, 1) and (Ho, Wo) == tuple(padded_size):
        return picked
    grad = np.empty((N, groups * C_g, *padded_size), dtype=picked.dtype)
    _spread(picked, stride, grad)
    return grad


def _spread(picked: Array, stride: Pair, grad: Array) -> None:
    """Fill ``grad`` with zeros but at the pixels a 1x1 kernel with ``stride`` read, which get ``picked``: in runs
    of (image, channel) planes over the threads (zeroing megabytes on one core would bound a many-core call).

    Shape: picked (N, C, H_out, W_out), grad (N, C, H_pad, W_pad)
    """
    Ho, Wo = picked.shape[2:]
    planes, values = grad.reshape(-1, *grad.shape[2:]), picked.reshape(-1, Ho, Wo)
    read = (
        slice(None),
        slice(None, (Ho - 1) * stride[0] + 1, stride[0]),
        slice(None, (Wo - 1) * stride[1] + 1, stride[1]),
    )

    def part(cells: slice) -> None:
        planes[cells] = 0
        planes[cells][read] = values[cells]

    parallel.run(part, parallel.slices(len(planes), grad.nbytes / threads.BYTES_COPIED_PER_SECOND))


def weight_grad(
    padded: Array, grad_output: Array, kernel_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """grad @ pixels.T for every image, summed: the products of a run of images at once, on all threads.

    With a stride, the picked pixels are first copied (on all threads) into a reused workspace; for stride 1
    they are the input itself.

    Shape:
        padded (N, C, H_pad, W_pad), grad_output (N, O, H_out, W_out) -> (O, C/groups, 1, 1)
    """
    pixels = _picked(padded, stride, grad_output.shape[2:])
    N, C, Ho, Wo = pixels.shape
    O = grad_output.shape[1]
    shape = (groups, O // groups, C // groups)
    grad_weight = np.zeros(shape, dtype=grad_output.dtype)
    image_bytes = (O * C // groups + (C * Ho * Wo if stride != (1, 1) else 0)) * grad_output.itemsize
    for run in workspace.chunks(N, image_bytes, WORKSPACE_BYTES):
        n = run.stop - run.start
        g = grad_output[run].reshape(n, groups, O // groups, Ho * Wo)
        with _contiguous(pixels[run]) as x, workspace.borrow((n, *shape), grad_output.dtype) as per_image:
            by_pixel = x.reshape(n, groups, C // groups, Ho * Wo).transpose(0, 1, 3, 2)
            parallel.matmul(g, by_pixel, per_image)
            grad_weight += per_image.sum(axis=0)
    return grad_weight.reshape(O, C // groups, 1, 1)


WORKSPACE_BYTES = 16 * 2**20
"""Scratch memory of one run of images in :func:`weight_grad` (their picked pixels and products)."""


@contextmanager
def _contiguous(pixels: Array) -> Iterator[Array]:
    """``pixels`` itself when contiguous (stride 1), else a copy made on all threads in a reused workspace."""
    if pixels.flags.c_contiguous:
        yield pixels
        return
    with workspace.borrow(pixels.shape, pixels.dtype) as copy:
        parallel.copy(copy, pixels, axis=1)
        yield copy
