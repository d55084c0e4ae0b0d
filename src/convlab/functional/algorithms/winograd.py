"""Winograd F(4x4, 3x3): 3x3 stride-1 convolutions with 2.25x fewer multiplications.

Direct convolution spends 9 multiplications per output per channel pair. Winograd
(Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016)
computes a 4x4 block of outputs from a 6x6 block of input with 36 instead of
144, by moving both into a transformed space where convolution becomes an
element-wise product:

    Y = A^T [ (G g G^T) * (B^T d B) ] A          (per 6x6 input tile d, 3x3 kernel g)

Summed over input channels, the element-wise product at each of the 36 positions
is a matrix product, so the work becomes 36 GEMMs of (out x in) @ (in x tiles).
Every transform is also a single GEMM, with the Kronecker product of the 1-D
matrix with itself, so nothing loops in Python except over chunks of images.

Accuracy: the transform points 0, +-1, +-2 amplify rounding, and each output
mixes rounding from its whole tile; in float32 the error stays below 5e-5 of the
largest summed magnitude max(conv2d(|x|, |w|)) (the tests check this bound; direct
convolution stays below 1e-5 of each output's own). float64 is exact to ~1e-13.

Large calls run three compiled kernels around one batched GEMM: the input
transform reads each 6x6 tile straight from the unpadded input (the padding read as
zeros, never written) and writes it in the GEMM's layout (36, C, tiles); the 36
products go through BLAS into a reused workspace; the output transform adds the bias
and writes the 4x4 blocks into the result. Both transforms loop along the tiles
innermost, so the compiler vectorises them. The weight gradient runs in the same
space: the output gradient's 4x4 blocks are transformed too, and 36 products sum
them against the input's tiles (:func:`weight_grad`). Small calls keep the NumPy
path below (im2col's for the weight gradient), which needs no compilation.

Transformed weights are kept for the next call with a weight in the same memory: a
stored copy of the weight is compared first (half the memory traffic of the
transform, and no new array), so a weight changed in place is transformed again,
never used stale.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..._args import Array, Pad2d, Pair
from . import im2col, parallel, workspace
from .adjoint import flipped_weight
from .cells import inside_columns
from .compiled import kernel, prange

__all__ = [
    "PLAIN",
    "Placement",
    "adjoint_forward",
    "convolve",
    "forward",
    "forward_zero_padded",
    "input_grad",
    "input_grad_zero_padded",
    "supports",
    "transformed",
    "weight_grad",
    "weight_grad_placed",
    "weight_grad_zero_padded",
    "worth_weight_grad",
]

# F(4, 3) with interpolation points 0, 1, -1, 2, -2 and infinity (the matrices of Lavin and Gray).
_BT = np.array(
    [
        [4, 0, -5, 0, 1, 0],
        [0, -4, -4, 1, 1, 0],
        [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0],
        [0, 2, -1, -2, 1, 0],
        [0, 4, 0, -5, 0, 1],
    ],
    dtype=np.float64,
)
_G = np.array(
    [
        [1 / 4, 0, 0],
        [-1 / 6, -1 / 6, -1 / 6],
        [-1 / 6, 1 / 6, -1 / 6],
        [1 / 24, 1 / 12, 1 / 6],
        [1 / 24, -1 / 12, 1 / 6],
        [0, 0, 1],
    ],
    dtype=np.float64,
)
_AT = np.array(
    [
        [1, 1, 1, 1, 1, 0],
        [0, 1, -1, 2, -2, 0],
        [0, 1, 1, 4, 4, 0],
        [0, 1, -1, 8, -8, 1],
    ],
    dtype=np.float64,
)

# The 2-D transforms as single matrices on flattened tiles: vec(M d M^T) = kron(M, M) vec(d).
_INPUT = np.kron(_BT, _BT)  # (36, 36)
_KERNEL = np.kron(_G, _G)  # (36, 9)
_OUTPUT = np.kron(_AT, _AT)  # (16, 36)

TILE, OUT = 6, 4
WORKSPACE_BYTES = im2col.WORKSPACE_BYTES


def supports(kernel_size: Pair, stride: Pair, dilation: Pair) -> bool:
    """Winograd F(4, 3) applies to 3x3 kernels with stride 1 and dilation 1."""
    return kernel_size == (3, 3) and stride == (1, 1) and dilation == (1, 1)


COMPILED_MIN_VALUES = 1 << 15
"""Padded input values from which the compiled kernels run; smaller calls take the NumPy path (no compiling)."""

WEIGHT_GRAD_MIN_TILES = 128
"""4x4 output tiles in the batch from which the weight gradient runs in Winograd's space. On a 2-core AVX2
machine, batch 8, median of 25 alternating rounds: 256 channels at 14x14 (128 tiles) 15.6 -> 12.8 ms, but
512 at 7x7 (32 tiles) 15.1 -> 22.3 ms, where writing and transforming the 36 (512 x 512) sums costs more
than the products save; 64 channels at 56x56 (1,568 tiles) 15.8 -> 12.9 ms."""


def _transform_weight(weight: Array, groups: int) -> Array:
    """U = G g G^T for every kernel, as one GEMM over all (out, in) pairs: (36, groups, out/groups, in/groups)."""
    O, C_g = weight.shape[:2]
    kernels = weight.reshape(O * C_g, 9).T  # (9, O * C_g)
    U: Array = (_KERNEL.astype(weight.dtype) @ kernels).reshape(36, groups, O // groups, C_g)
    return U


@kernel(parallel=True)
def _transform_kernels(weight: Array, flipped: bool, G: Array, U: Array) -> None:
    """U[6k + l, grp, p, q] = (G g G^T)[k, l] for the 3x3 kernel g from input q to output p of group grp.

    With ``flipped``, g is the adjoint's kernel: ``weight[grp * Q + q, p]`` turned 180 degrees (the forward's
    output channels are the adjoint's inputs). Both passes run along q innermost, so the second, which
    writes U's contiguous rows, is vectorised by the compiler.

    Shape:
        weight (O, C/groups, 3, 3), G (6, 3), U (36, groups, O/groups, C/groups);
        flipped, U (36, groups, C/groups, O/groups)
    """
    groups, P, Q = U.shape[1], U.shape[2], U.shape[3]
    for job in prange(groups * P):
        grp, p = job // P, job % P
        g = np.empty((3, 3, Q), dtype=U.dtype)  # the kernels of every input q, q innermost
        for q in range(Q):
            for a in range(3):
                for b in range(3):
                    if flipped:
                        g[a, b, q] = weight[grp * Q + q, p, 2 - a, 2 - b]
                    else:
                        g[a, b, q] = weight[grp * P + p, q, a, b]
        half = np.empty((6, 3, Q), dtype=U.dtype)  # G g: 6 rows of 3
        for k in range(6):
            for b in range(3):
                for q in range(Q):
                    half[k, b, q] = G[k, 0] * g[0, b, q] + G[k, 1] * g[1, b, q] + G[k, 2] * g[2, b, q]
        for k in range(6):
            for l in range(6):
                for q in range(Q):
                    U[6 * k + l, grp, p, q] = (
                        G[l, 0] * half[k, 0, q] + G[l, 1] * half[k, 1, q] + G[l, 2] * half[k, 2, q]
                    )


class _TransformedWeights:
    """The last few weights' transforms, each with a copy of the weight it was made from.

    ``flipped`` asks for the transform of the adjoint's kernels (turned 180 degrees, in and out swapped),
    which the input gradient multiplies with; it is kept under the weight it came from, so a training loop
    that passes the same weight array to the forward and to the input gradient keeps both.
    """

    ENTRIES = 8

    def __init__(self) -> None:
        self.entries: OrderedDict[tuple[object, ...], tuple[Array, Array]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, weight: Array, groups: int, flipped: bool = False) -> Array:
        """The transform of ``weight``: reused when this array holds exactly what it held last time."""
        # where the values live (callers may pass a fresh view of the same memory each time), not the object
        where = weight.__array_interface__["data"][0]
        key = (where, weight.shape, weight.strides, weight.dtype.str, groups, flipped)
        with self.lock:
            entry = self.entries.pop(key, None)  # out of the cache while checked: no two threads refill one entry
        if entry is not None and parallel.equal(entry[0], weight):
            self._keep(key, entry)
            return entry[1]
        if 5 * weight.nbytes > workspace.get_workspace_limit():  # the copy and U, 4x the weight: not kept
            return _transformed(weight, groups, flipped)
        if entry is None:
            entry = (weight.copy(), _transformed(weight, groups, flipped))
        else:  # the same array, changed in place (an optimizer step): refill the kept arrays
            parallel.copy(entry[0], weight)
            _transformed(weight, groups, flipped, out=entry[1])
        self._keep(key, entry)
        return entry[1]

    def _keep(self, key: tuple[object, ...], entry: tuple[Array, Array]) -> None:
        with self.lock:
            self.entries[key] = entry
            while len(self.entries) > self.ENTRIES:
                self.entries.popitem(last=False)


def _transformed(weight: Array, groups: int, flipped: bool, out: Array | None = None) -> Array:
    """The compiled transform of ``weight`` (or of its adjoint's kernels) into ``out`` or a new array.

    Shape:
        weight (O, C/groups, 3, 3) -> (36, groups, O/groups, C/groups), flipped (36, groups, C/groups, O/groups)
    """
    O, C_g = weight.shape[:2]
    pairs = (C_g, O // groups) if flipped else (O // groups, C_g)
    if out is None:
        out = np.empty((36, groups, *pairs), dtype=weight.dtype)
    _transform_kernels(np.ascontiguousarray(weight), flipped, _G.astype(weight.dtype), out)
    return out


_TRANSFORMED = _TransformedWeights()


@dataclass(frozen=True)
class Placement:
    """Where each image of the batch a Winograd pass works on lies in the array it is read from or written to.

    Batch image b is phase ``(r, c) = divmod(b % P, d_w)`` of the array's image ``b // P`` (P = d_h * d_w
    phases), and its cell (i, j) is the array's cell ``(d_h * i + r - top, d_w * j + c - left)``; cells off
    the array read as zeros and are never written. Plain Winograd has one phase, and ``(top, left)`` is the
    zero padding (or where grad_output sits in the input gradient's correlation), so no padded copy is made;
    a dilated 3x3 (:mod:`.polyphase`) has d_h * d_w phases, read straight from the input and written straight
    to the output.
    """

    dilation: Pair = (1, 1)
    offset: Pair = (0, 0)

    @property
    def phases(self) -> int:
        return self.dilation[0] * self.dilation[1]

    def numbers(self) -> Array:
        """[d_h, d_w, top, left], as the compiled kernels take it."""
        return np.array([*self.dilation, *self.offset], dtype=np.int64)


PLAIN = Placement()
"""The array holds the batch itself: one phase, no offset."""


def _whole_images(step: int, placement: Placement) -> int:
    """A chunk of ``step`` batch images (at least one), rounded to whole images of the array: all the phases
    of an image in one chunk, which the compiled kernels handle one after another (they share its planes)."""
    return max(placement.phases, step - step % placement.phases)


def _tiles(padded: Array, tiles: Pair) -> Array:
    """Overlapping 6x6 input tiles, 4 apart, as a read-only view (n, C, tiles_h, tiles_w, 6, 6)."""
    n, c = padded.shape[:2]
    sn, sc, sh, sw = padded.strides
    return as_strided(
        padded,
        shape=(n, c, tiles[0], tiles[1], TILE, TILE),
        strides=(sn, sc, OUT * sh, OUT * sw, sh, sw),
        writeable=False,
    )


@kernel(parallel=False)
def _place(job: int, planes: int, first: int, where: Array, width: int, columns: int) -> tuple[int, ...]:
    """Which plane and which cells job ``job`` of a transform works on, its kernel's loop running over
    (batch image in the chunk, plane) pairs, ``planes`` planes (channels) per image.

    Consecutive jobs take the d_h * d_w phases of one plane of the array one after another, so the plane is
    still in cache when the next phase reads (or writes) the cells between the last one's.

    Returns:
        (local, plane, image, row_shift, column_shift, x_first, x_stop): the chunk's batch image ``local``
        reads plane ``plane`` of the array's image ``image``, its cell (i, j) the array's
        (d_h * i + row_shift, d_w * j + column_shift); its columns x_first <= j < x_stop (of the first
        ``columns``) lie on the array's ``width`` columns, the others in the padding
    """
    dh, dw, top, left = where[0], where[1], where[2], where[3]
    phases = dh * dw
    group, rest = job // (planes * phases), job % (planes * phases)
    plane, local = rest // phases, group * phases + rest % phases
    image, phase = (first + local) // phases, (first + local) % phases
    row_shift, column_shift = phase // dw - top, phase % dw - left
    x_first, x_stop = inside_columns(column_shift, dw, width, columns)
    return local, plane, image, row_shift, column_shift, x_first, x_stop


@kernel(parallel=True)
def _gather_transformed(
    source: Array, where: Array, first: int, tiles_h: int, tiles_w: int, numbers: Array, V: Array
) -> None:
    """V[6k + l, c, tile] = (B^T d B)[k, l] for the 6x6 input tile d of every batch image from ``first`` on,
    each read from ``source`` where :class:`Placement` ``where`` puts it (zeros outside: the padding).

    For each strip of tiles the 6 rows are read with column x at ``rows[r, x % 4, x // 4]``:
    tile t's column s then sits at ``[s % 4, t + s // 4]``, so both passes (B^T down the
    columns, then B along each tile's rows) loop over consecutive tiles innermost, which the
    compiler vectorises.

    Shape:
        source (N, C, H, W), where [d_h, d_w, top, left], V (36, C, n * tiles_h * tiles_w)
    """
    two, four, five = numbers[0], numbers[1], numbers[2]
    C, H, W = source.shape[1], source.shape[2], source.shape[3]
    tiles = tiles_h * tiles_w
    n = V.shape[2] // tiles
    dh, dw = where[0], where[1]
    for job in prange(n * C):
        local, c, image, row_shift, column_shift, x_first, x_stop = _place(
            job, C, first, where, W, 4 * tiles_w + 4
        )
        rows = np.zeros((6, 4, tiles_w + 1), dtype=V.dtype)  # the strip's 6 input rows, split by column % 4
        mixed = np.empty((6, 4, tiles_w + 1), dtype=V.dtype)  # B^T applied down each column of the strip
        for ty in range(tiles_h):
            for r in range(6):
                row = (4 * ty + r) * dh + row_shift
                inside = 0 <= row < H  # columns off the source stay zero from the start
                for x in range(x_first, x_stop):
                    rows[r, x % 4, x // 4] = source[image, c, row, x * dw + column_shift] if inside else 0
            for p in range(4):
                for q in range(tiles_w + 1):
                    d0, d1, d2 = rows[0, p, q], rows[1, p, q], rows[2, p, q]
                    d3, d4, d5 = rows[3, p, q], rows[4, p, q], rows[5, p, q]
                    mixed[0, p, q] = four * d0 - five * d2 + d4
                    mixed[1, p, q] = -four * (d1 + d2) + d3 + d4
                    mixed[2, p, q] = four * (d1 - d2) - d3 + d4
                    mixed[3, p, q] = two * (d3 - d1) - d2 + d4
                    mixed[4, p, q] = two * (d1 - d3) - d2 + d4
                    mixed[5, p, q] = four * d1 - five * d3 + d5
            start = local * tiles + ty * tiles_w
            for k in range(6):
                for t in range(tiles_w):
                    e0, e1, e2 = mixed[k, 0, t], mixed[k, 1, t], mixed[k, 2, t]
                    e3, e4, e5 = mixed[k, 3, t], mixed[k, 0, t + 1], mixed[k, 1, t + 1]
                    V[6 * k, c, start + t] = four * e0 - five * e2 + e4
                    V[6 * k + 1, c, start + t] = -four * (e1 + e2) + e3 + e4
                    V[6 * k + 2, c, start + t] = four * (e1 - e2) - e3 + e4
                    V[6 * k + 3, c, start + t] = two * (e3 - e1) - e2 + e4
                    V[6 * k + 4, c, start + t] = two * (e1 - e3) - e2 + e4
                    V[6 * k + 5, c, start + t] = four * e1 - five * e3 + e5


@kernel(parallel=True)
def _scatter_transformed(
    M: Array, bias: Array, first: int, tiles_h: int, tiles_w: int, numbers: Array, where: Array, out: Array
) -> None:
    """A^T m A + bias[o] for every 4x4 block of every batch image from ``first`` on, written to ``out``
    where :class:`Placement` ``where`` puts it (cells that fall outside ``out`` are dropped).

    A^T goes down each tile's 6 rows first, for consecutive tiles at once; then A
    along the 4 remaining rows writes 4 columns per tile, which fill whole stretches of
    an output row.

    Shape:
        M (36, O, n * tiles_h * tiles_w), bias (O,), where [d_h, d_w, top, left], out (N, O, H_out, W_out)
    """
    two, four, eight = numbers[0], numbers[1], numbers[3]
    O, Ho, Wo = out.shape[1], out.shape[2], out.shape[3]
    tiles = tiles_h * tiles_w
    n = M.shape[2] // tiles
    dh, dw = where[0], where[1]
    for job in prange(n * O):
        local, o, image, row_shift, column_shift, x_first, x_stop = _place(job, O, first, where, Wo, 4 * tiles_w)
        half = np.empty((4, 6, tiles_w), dtype=out.dtype)  # A^T m: 4 rows of 6 columns, for every tile
        block = np.empty((4, 4 * tiles_w), dtype=out.dtype)  # the strip's 4 output rows
        shift = bias[o]
        for ty in range(tiles_h):
            start = local * tiles + ty * tiles_w
            for l in range(6):
                for t in range(tiles_w):
                    m0, m1, m2 = M[l, o, start + t], M[6 + l, o, start + t], M[12 + l, o, start + t]
                    m3, m4, m5 = M[18 + l, o, start + t], M[24 + l, o, start + t], M[30 + l, o, start + t]
                    half[0, l, t] = m0 + m1 + m2 + m3 + m4
                    half[1, l, t] = m1 - m2 + two * (m3 - m4)
                    half[2, l, t] = m1 + m2 + four * (m3 + m4)
                    half[3, l, t] = m1 - m2 + eight * (m3 - m4) + m5
            for i in range(4):
                for t in range(tiles_w):
                    t0, t1, t2 = half[i, 0, t], half[i, 1, t], half[i, 2, t]
                    t3, t4, t5 = half[i, 3, t], half[i, 4, t], half[i, 5, t]
                    block[i, 4 * t] = t0 + t1 + t2 + t3 + t4 + shift
                    block[i, 4 * t + 1] = t1 - t2 + two * (t3 - t4) + shift
                    block[i, 4 * t + 2] = t1 + t2 + four * (t3 + t4) + shift
                    block[i, 4 * t + 3] = t1 - t2 + eight * (t3 - t4) + t5 + shift
            for i in range(4):
                row = (4 * ty + i) * dh + row_shift
                if 0 <= row < Ho:
                    for x in range(x_first, x_stop):
                        out[image, o, row, x * dw + column_shift] = block[i, x]


def forward(padded: Array, weight: Array, bias: Array | None, stride: Pair, dilation: Pair, groups: int) -> Array:
    """Convolve an already padded input with 3x3 kernels, stride 1.

    Shape:
        padded (N, C, H_pad, W_pad), weight (O, C/groups, 3, 3), bias (O,) -> (N, O, H_pad - 2, W_pad - 2)
    """
    if padded.size < COMPILED_MIN_VALUES:
        return _forward_numpy(padded, weight, bias, groups)
    N, _, Hp, Wp = padded.shape
    out = np.empty((N, weight.shape[0], Hp - 2, Wp - 2), dtype=weight.dtype)
    return convolve(padded, transformed(weight, groups), bias, out, out.shape[2:], PLAIN, PLAIN)


def transformed(weight: Array, groups: int, flipped: bool = False) -> Array:
    """U = G g G^T for every kernel (with ``flipped``, of the adjoint's kernels), kept for the next call.

    Shape:
        weight (O, C/groups, 3, 3) -> (36, groups, O/groups, C/groups), flipped (36, groups, C/groups, O/groups)
    """
    return _TRANSFORMED.get(weight, groups, flipped)


def convolve(
    source: Array, U: Array, bias: Array | None, out: Array, size: Pair, read: Placement, write: Placement
) -> Array:
    """The compiled transforms around one batched GEMM per chunk of batch images: each batch image is read
    from ``source`` as ``read`` places it, convolved with the transformed weights ``U``, and its ``size``
    outputs written into ``out`` as ``write`` places them.

    Shape:
        source (N, C, H, W), U (36, groups, O/groups, C/groups), bias (O,), out (N, O, H_out, W_out)
    """
    N, C = source.shape[:2]
    _, groups, O_g, C_g = U.shape
    O = groups * O_g
    batch = N * read.phases
    th, tw = math.ceil(size[0] / OUT), math.ceil(size[1] / OUT)
    T = th * tw
    numbers = np.array([2, 4, 5, 8], dtype=U.dtype)  # the transforms' constants, in the data's precision
    shift = np.zeros(O, dtype=U.dtype) if bias is None else np.ascontiguousarray(bias)
    step = _whole_images(workspace.chunks(batch, 36 * (C + O) * T * U.itemsize, WORKSPACE_BYTES)[0].stop, read)
    for first in range(0, batch, step):
        n = min(step, batch - first)
        with (
            workspace.borrow((36, C, n * T), U.dtype) as V,
            workspace.borrow((36, O, n * T), U.dtype) as M,
        ):
            _gather_transformed(source, read.numbers(), first, th, tw, numbers, V)
            parallel.matmul(U, V.reshape(36, groups, C_g, n * T), M.reshape(36, groups, O_g, n * T))
            _scatter_transformed(M, shift, first, th, tw, numbers, write.numbers(), out)
    return out


def _forward_numpy(padded: Array, weight: Array, bias: Array | None, groups: int) -> Array:
    """The same computation in NumPy calls: every transform one GEMM with a Kronecker matrix."""
    N, C, Hp, Wp = padded.shape
    O, C_g = weight.shape[:2]
    Ho, Wo = Hp - 2, Wp - 2
    th, tw = math.ceil(Ho / OUT), math.ceil(Wo / OUT)
    T = th * tw
    U = _transform_weight(weight, groups)
    out = np.empty((N, O, Ho, Wo), dtype=weight.dtype)
    transform_in, transform_out = _INPUT.astype(weight.dtype), _OUTPUT.astype(weight.dtype)
    per_image = 36 * (C + O) * T * padded.itemsize
    for chunk in workspace.chunks(N, per_image, WORKSPACE_BYTES):
        n = chunk.stop - chunk.start
        source = _extended(padded[chunk], (OUT * th + 2, OUT * tw + 2))
        gathered = np.empty((TILE, TILE, C, n, th, tw), dtype=padded.dtype)
        parallel.copy(gathered, _tiles(source, (th, tw)).transpose(4, 5, 1, 0, 2, 3), axis=2)
        D = gathered.reshape(36, C * n * T)
        V = (transform_in @ D).reshape(36, groups, C_g, n * T)
        M = np.matmul(U, V).reshape(36, O * n * T)
        Y = (transform_out @ M).reshape(OUT, OUT, O, n, th, tw)
        blocks = Y.transpose(3, 2, 4, 0, 5, 1).reshape(n, O, OUT * th, OUT * tw)
        parallel.copy(out[chunk], blocks[:, :, :Ho, :Wo], axis=1)
    if bias is not None:
        out += bias[:, None, None]
    return out


def _extended(x: Array, size: Pair) -> Array:
    """Zero-extend the bottom/right so whole tiles fit (a copy only when needed)."""
    if x.shape[2:] == size:
        return x
    extended = np.zeros((*x.shape[:2], *size), dtype=x.dtype)
    extended[:, :, : x.shape[2], : x.shape[3]] = x
    return extended


def input_grad(
    weight: Array, grad_output: Array, padded_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """Gradient for the padded input: a full 3x3 correlation of grad_output with the flipped kernels,
    itself a 3x3 stride-1 convolution, so Winograd computes it too (:func:`input_grad_zero_padded` for an
    input without padding: every cell of the padded input is one of its own).

    Shape:
        weight (O, C/groups, 3, 3), grad_output (N, O, H_out, W_out) -> (N, C, H_pad, W_pad)
    """
    return input_grad_zero_padded(weight, grad_output, padded_size, ((0, 0), (0, 0)), stride, dilation, groups)


@contextmanager
def _placed(array: Array, offset: Pair, size: Pair) -> Iterator[Array]:
    """``array`` moved down by ``offset[0]`` rows and right by ``offset[1]`` columns inside zeros of ``size``
    (a negative offset cuts rows or columns off the top or left), in a borrowed workspace.

    Shape:
        (N, C, H, W) -> (N, C, *size)
    """
    N, C, H, W = array.shape
    with workspace.borrow((N, C, *size), array.dtype) as target:
        r0, r1 = max(0, offset[0]), min(size[0], offset[0] + H)
        c0, c1 = max(0, offset[1]), min(size[1], offset[1] + W)
        target[:, :, :r0] = 0  # only the frame around the copy needs zeros
        target[:, :, r1:] = 0
        target[:, :, r0:r1, :c0] = 0
        target[:, :, r0:r1, c1:] = 0
        source = array[:, :, r0 - offset[0] : r1 - offset[0], c0 - offset[1] : c1 - offset[1]]
        parallel.copy(target[:, :, r0:r1, c0:c1], source, axis=1)
        yield target


def forward_zero_padded(
    input: Array, weight: Array, bias: Array | None, padding: Pad2d, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """:func:`forward` with the zero padding read as zeros by the compiled gather (small calls write it into a
    reused workspace).

    Shape:
        input (N, C, H, W), weight (O, C/groups, 3, 3), bias (O,) -> (N, O, H_pad - 2, W_pad - 2)
    """
    (top, bottom), (left, right) = padding
    N, C, H, W = input.shape
    padded_size = (top + H + bottom, left + W + right)
    if N * C * padded_size[0] * padded_size[1] < COMPILED_MIN_VALUES:
        with _placed(input, (top, left), padded_size) as padded:
            return _forward_numpy(padded, weight, bias, groups)
    out = np.empty((N, weight.shape[0], padded_size[0] - 2, padded_size[1] - 2), dtype=weight.dtype)
    read = Placement(offset=(top, left))
    return convolve(input, transformed(weight, groups), bias, out, out.shape[2:], read, PLAIN)


def input_grad_zero_padded(
    weight: Array, grad_output: Array, input_size: Pair, padding: Pad2d, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """Gradient for the input's own cells only: a 3x3 stride-1 correlation of grad_output with the flipped
    kernels, so the same Winograd forward computes it, with the flipped kernels' transform kept like the
    forward's.

    Input cell y was read by output ``y + top - a`` through kernel row a, so grad_output placed ``2 - top`` rows
    down (and ``2 - left`` columns right) in zeros of H + 2 rows, correlated with the kernel turned 180 degrees,
    gives every input cell's gradient and nothing for the padding, which has none to keep.

    Shape:
        weight (O, C/groups, 3, 3), grad_output (N, O, H_out, W_out) -> (N, C, H, W)
    """
    (top, _), (left, _) = padding
    H, W = input_size
    N, O = grad_output.shape[:2]
    if N * O * (H + 2) * (W + 2) < COMPILED_MIN_VALUES:
        with _placed(grad_output, (2 - top, 2 - left), (H + 2, W + 2)) as placed:
            return adjoint_forward(placed, weight, groups)
    out = np.empty((N, weight.shape[1] * groups, H, W), dtype=weight.dtype)
    U = transformed(weight, groups, flipped=True)
    return convolve(grad_output, U, None, out, (H, W), Placement(offset=(2 - top, 2 - left)), PLAIN)


def adjoint_forward(placed: Array, weight: Array, groups: int) -> Array:
    """The 3x3 stride-1 convolution of ``placed`` with the adjoint's kernels (``weight`` turned 180 degrees,
    in and out swapped), whose transform is kept like the forward's.

    Shape:
        placed (N, O, H_pad, W_pad), weight (O, C/groups, 3, 3) -> (N, C, H_pad - 2, W_pad - 2)
    """
    if placed.size < COMPILED_MIN_VALUES:
        return _forward_numpy(placed, flipped_weight(weight, groups), None, groups)
    N, _, Hp, Wp = placed.shape
    out = np.empty((N, weight.shape[1] * groups, Hp - 2, Wp - 2), dtype=weight.dtype)
    return convolve(placed, transformed(weight, groups, flipped=True), None, out, out.shape[2:], PLAIN, PLAIN)


@kernel(parallel=True)
def _gather_grad_transformed(
    grad_output: Array, where: Array, first: int, tiles_h: int, tiles_w: int, numbers: Array, Z: Array
) -> None:
    """Z[6k + l, o, tile] = (A y A^T)[k, l] for the 4x4 block y of the output gradient at every tile of every
    batch image from ``first`` on, read where :class:`Placement` ``where`` puts it (zeros past the edge):
    the transpose of the output transform.

    As in :func:`_gather_transformed`, the strip's 4 rows are read with column x at ``rows[r, x % 4, x // 4]``,
    so both passes (A down the columns, then along each tile's rows) run over consecutive tiles innermost.

    Shape:
        grad_output (N, O, H_out, W_out), where [d_h, d_w, top, left], Z (36, O, n * tiles_h * tiles_w)
    """
    two, four, eight = numbers[0], numbers[1], numbers[3]
    O, Ho, Wo = grad_output.shape[1], grad_output.shape[2], grad_output.shape[3]
    tiles = tiles_h * tiles_w
    n = Z.shape[2] // tiles
    dh, dw = where[0], where[1]
    for job in prange(n * O):
        local, o, image, row_shift, column_shift, x_first, x_stop = _place(job, O, first, where, Wo, 4 * tiles_w)
        rows = np.zeros((4, 4, tiles_w), dtype=Z.dtype)  # the strip's 4 output rows, split by column % 4
        mixed = np.empty((6, 4, tiles_w), dtype=Z.dtype)  # A applied down each column of the strip
        for ty in range(tiles_h):
            for r in range(4):
                row = (4 * ty + r) * dh + row_shift
                inside = 0 <= row < Ho
                for x in range(x_first, x_stop):
                    rows[r, x % 4, x // 4] = grad_output[image, o, row, x * dw + column_shift] if inside else 0
            for p in range(4):
                for t in range(tiles_w):
                    y0, y1, y2, y3 = rows[0, p, t], rows[1, p, t], rows[2, p, t], rows[3, p, t]
                    mixed[0, p, t] = y0
                    mixed[1, p, t] = y0 + y1 + y2 + y3
                    mixed[2, p, t] = y0 - y1 + y2 - y3
                    mixed[3, p, t] = y0 + two * y1 + four * y2 + eight * y3
                    mixed[4, p, t] = y0 - two * y1 + four * y2 - eight * y3
                    mixed[5, p, t] = y3
            start = local * tiles + ty * tiles_w
            for k in range(6):
                for t in range(tiles_w):
                    e0, e1, e2, e3 = mixed[k, 0, t], mixed[k, 1, t], mixed[k, 2, t], mixed[k, 3, t]
                    Z[6 * k, o, start + t] = e0
                    Z[6 * k + 1, o, start + t] = e0 + e1 + e2 + e3
                    Z[6 * k + 2, o, start + t] = e0 - e1 + e2 - e3
                    Z[6 * k + 3, o, start + t] = e0 + two * e1 + four * e2 + eight * e3
                    Z[6 * k + 4, o, start + t] = e0 - two * e1 + four * e2 - eight * e3
                    Z[6 * k + 5, o, start + t] = e3


def weight_grad(
    padded: Array, grad_output: Array, kernel_size: Pair, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """The weight gradient in Winograd's space, where each tile's 36 products are element-wise.

    The forward is ``y = A^T [sum_c U[o, c] * V[c]] A`` per tile with ``U = G g G^T``, so the gradient of
    ``U[o, c]`` is ``Z[o] * V[c]`` summed over the tiles, with ``Z = A dy A^T`` the output gradient's
    tile moved into the same space, and ``dg = G^T dU G``. Summed over the tiles, the element-wise product
    at each of the 36 positions is a matrix product (out x tiles) @ (tiles x in): 36 products of 4x fewer
    multiplications than im2col's (2.25x fewer per output, and a 4x4 block of outputs per tile instead of 9
    shifted copies of every output).

    Small calls take im2col's path, which needs no compilation, and so do batches with few tiles: the 36
    (out x in) sums are then as costly as the multiplications they save (:data:`WEIGHT_GRAD_MIN_TILES`).

    Shape:
        padded (N, C, H_pad, W_pad), grad_output (N, O, H_pad - 2, W_pad - 2) -> (O, C/groups, 3, 3)
    """
    if not worth_weight_grad(padded.size, padded.shape[0], grad_output.shape[2:]):
        result: Array = im2col.weight_grad(padded, grad_output, kernel_size, stride, dilation, groups)
        return result
    return weight_grad_placed(padded, grad_output, groups, grad_output.shape[2:], PLAIN, PLAIN)


def worth_weight_grad(padded_values: int, batch: int, size: Pair) -> bool:
    """Whether the weight gradient of a batch of images with ``size`` outputs each pays in Winograd's space."""
    tiles = batch * math.ceil(size[0] / OUT) * math.ceil(size[1] / OUT)
    return padded_values >= COMPILED_MIN_VALUES and tiles >= WEIGHT_GRAD_MIN_TILES


def weight_grad_placed(
    source: Array, grad_output: Array, groups: int, size: Pair, read: Placement, read_grad: Placement
) -> Array:
    """Both gathers into Winograd's space, the 36 products summed over chunks of batch images, then G^T dU G.
    Each batch image's input is read from ``source`` as ``read`` places it, its ``size`` output gradients
    from ``grad_output`` as ``read_grad`` does.

    Shape:
        source (N, C, H, W), grad_output (N, O, H_out, W_out) -> (O, C/groups, 3, 3)
    """
    N, C = source.shape[:2]
    O = grad_output.shape[1]
    C_g, O_g = C // groups, O // groups
    batch = N * read.phases
    th, tw = math.ceil(size[0] / OUT), math.ceil(size[1] / OUT)
    T = th * tw
    dtype = np.result_type(source, grad_output)
    numbers = np.array([2, 4, 5, 8], dtype=dtype)
    step = _whole_images(workspace.chunks(batch, 36 * (C + O) * T * dtype.itemsize, WORKSPACE_BYTES)[0].stop, read)
    # the 36 sums (as large as 4 weights) and their transform are scratch too: only the result is new
    with (
        workspace.borrow((36, groups, O_g, C_g), dtype) as dU,
        workspace.borrow((9, O * C_g), dtype) as kernels,
    ):
        for first in range(0, batch, step):
            n = min(step, batch - first)
            with workspace.borrow((36, C, n * T), dtype) as V, workspace.borrow((36, O, n * T), dtype) as Z:
                _gather_transformed(source, read.numbers(), first, th, tw, numbers, V)
                _gather_grad_transformed(grad_output, read_grad.numbers(), first, th, tw, numbers, Z)
                by_tile = V.reshape(36, groups, C_g, n * T).transpose(0, 1, 3, 2)
                if first == 0:
                    parallel.matmul(Z.reshape(36, groups, O_g, n * T), by_tile, dU)
                    continue
                with workspace.borrow((36, groups, O_g, C_g), dtype) as part:  # a later chunk's sums, added
                    parallel.matmul(Z.reshape(36, groups, O_g, n * T), by_tile, part)
                    dU += part
        parallel.matmul(_KERNEL.T.astype(dtype), dU.reshape(36, O * C_g), kernels)  # G^T dU G for each pair
        result = np.empty((O, C_g, 3, 3), dtype)
        parallel.copy(result.reshape(O * C_g, 9), kernels.T)  # result[o, c, i, j] = kernels[3i + j, o * C_g + c]
        return result


def weight_grad_zero_padded(
    input: Array, grad_output: Array, kernel_size: Pair, padding: Pad2d, stride: Pair, dilation: Pair, groups: int
) -> Array:
    """:func:`weight_grad` with the zero padding read as zeros by the compiled gather (im2col's calls write it
    into a reused workspace).

    Shape:
        input (N, C, H, W), grad_output (N, O, H_out, W_out) -> (O, C/groups, 3, 3)
    """
    (top, bottom), (left, right) = padding
    N, C, H, W = input.shape
    padded_size = (top + H + bottom, left + W + right)
    if worth_weight_grad(N * C * padded_size[0] * padded_size[1], N, grad_output.shape[2:]):
        read = Placement(offset=(top, left))
        return weight_grad_placed(input, grad_output, groups, grad_output.shape[2:], read, PLAIN)
    with _placed(input, (top, left), padded_size) as padded:
        result: Array = im2col.weight_grad(padded, grad_output, kernel_size, stride, dilation, groups)
        return result
