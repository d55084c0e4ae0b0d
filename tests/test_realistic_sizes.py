"""Every algorithm against PyTorch at the sizes where its fast paths run: chunks, blocks, tiles and threads.

The small drawn configurations elsewhere never leave an algorithm's first chunk or tile. Here each case is
sized from the engine's own constants (imported by name, so the cases follow them when they change) to
cross every boundary with a ragged remainder: several im2col/Winograd workspace chunks, several FFT tiles,
several depthwise blocks, and batches that do not divide evenly among the copy threads. Forward, input
gradient and weight gradient, for conv2d and conv_transpose2d, in float32 and float64, all through the one
oracle (tests/oracle.py). These take minutes on two cores: ``pytest -m "not slow"`` skips them; CI runs them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from convlab.functional.algorithms import depthwise, fft, im2col, parallel, threads, winograd
from tests.oracle import assert_conv2d_matches_torch, assert_conv_transpose2d_matches_torch, count
from tests.strategies import ConvConfig, TransposeConfig

pytestmark = pytest.mark.slow

DTYPES = [np.float32, np.float64]
THREADS = threads.get_num_threads()
COPY_PARTS = 2 * THREADS  # parallel.copy splits a large copy into twice as many slices as threads


def _crossing(budget: int, bytes_per_image: int) -> int:
    """A batch that fills two whole chunks of ``budget`` bytes and starts a third, ragged one."""
    return 2 * max(1, budget // bytes_per_image) + 1


def _ragged(n: int, parts: int) -> int:
    """n, or the next number that does not divide evenly into ``parts`` slices."""
    return n + 1 if parts > 1 and n % parts == 0 else n


def _conv(batch: int, channels: tuple[int, int], size: int, kernel: int, **settings: Any) -> ConvConfig:
    return ConvConfig(
        batch=batch,
        in_channels=channels[0],
        out_channels=channels[1],
        groups=settings.get("groups", 1),
        size=(size, size + 3),  # never square: rows and columns cannot be swapped unnoticed
        kernel_size=(kernel, kernel),
        stride=settings.get("stride", (1, 1)),
        dilation=settings.get("dilation", (1, 1)),
        padding=settings.get("padding", kernel // 2),
        padding_mode=settings.get("padding_mode", "zeros"),
        bias=True,
        seed=settings.get("seed", 7),
    )


def conv_cases(dtype: Any) -> dict[str, ConvConfig]:
    """One configuration per algorithm, each crossing that algorithm's boundaries in ``dtype``."""
    item = np.dtype(dtype).itemsize
    # im2col, wide path (many small images) and tall path (few large ones), each over several workspace chunks
    wide_side = int(math.sqrt(im2col.WIDE_BELOW)) // 2  # output plane well under WIDE_BELOW cells
    wide = _crossing(im2col.WORKSPACE_BYTES, 64 * 9 * wide_side * (wide_side + 3) * item)
    tall_side = int(math.sqrt(im2col.WIDE_BELOW)) * 3
    tall = _crossing(im2col.WORKSPACE_BYTES, 16 * 9 * tall_side * (tall_side + 3) * item)
    # Winograd: 6x6 tiles of 16+16 channels; a side that leaves a ragged last tile
    side = 4 * winograd.OUT * 4 - 2
    tiles = math.ceil(side / winograd.OUT) * math.ceil((side + 3) / winograd.OUT)
    wino = _crossing(winograd.WORKSPACE_BYTES, winograd.TILE**2 * 32 * tiles * item)
    # depthwise: output planes of a quarter block, and a channel count that leaves a ragged last block
    plane = int(math.sqrt(depthwise.BLOCK_BYTES / 4 / item))
    per_block = max(1, depthwise.BLOCK_BYTES // (plane * (plane + 3) * item))
    return {
        "im2col wide": _conv(_ragged(wide, COPY_PARTS), (64, 32), wide_side, 3, stride=(1, 1)),
        "im2col tall": _conv(_ragged(tall, COPY_PARTS), (16, 24), tall_side, 3, stride=(2, 1), padding=2),
        "gemm1x1": _conv(_ragged(THREADS + 1, COPY_PARTS), (96, 80), tall_side, 1, stride=(2, 2), padding=0),
        "winograd": _conv(_ragged(wino, COPY_PARTS), (16, 16), side, 3),
        # the same work as d x d phases of odd lengths (side + 1 + 4 padded rows, side + 4 + 4 columns)
        "polyphase": _conv(_ragged(wino, COPY_PARTS), (16, 16), side + 1, 3, dilation=(2, 2), padding=2),
        "fft": _conv(2, (2, 3), fft.TILE + 9, 11, padding=5),  # a second, narrow tile in each axis
        "depthwise": _conv(
            THREADS + 1, (2 * per_block + 1,) * 2, plane, 3, groups=2 * per_block + 1, padding_mode="reflect"
        ),
    }


ALGORITHM_OF = {"im2col wide": "im2col", "im2col tall": "im2col"}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize(
    "case", ["im2col wide", "im2col tall", "gemm1x1", "winograd", "polyphase", "fft", "depthwise"]
)
def test_conv2d_at_realistic_sizes_matches_torch(case: str, dtype: Any) -> None:
    count("conv2d at realistic sizes")
    assert_conv2d_matches_torch(conv_cases(dtype)[case], dtype, ALGORITHM_OF.get(case, case))


def _transpose(batch: int, channels: tuple[int, int], size: int, kernel: int, stride: int) -> TransposeConfig:
    return TransposeConfig(
        batch=batch,
        in_channels=channels[0],
        out_channels=channels[1],
        groups=1,
        size=(size, size + 3),
        kernel_size=(kernel, kernel),
        stride=(stride, stride),
        padding=(kernel // 2, kernel // 2),
        output_padding=(stride - 1, 0),
        dilation=(1, 1),
        bias=True,
        seed=11,
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("algorithm", ["im2col", "gemm1x1", "winograd", "fft"])
def test_conv_transpose2d_at_realistic_sizes_matches_torch(algorithm: str, dtype: Any) -> None:
    """conv_transpose2d runs the algorithms' gradients as its forward, and their forward as its input gradient."""
    count("conv_transpose2d at realistic sizes")
    item = np.dtype(dtype).itemsize
    if algorithm == "fft":
        cfg = _transpose(2, (3, 2), fft.TILE - 2, 11, 1)  # its full output spans a second tile
    elif algorithm == "gemm1x1":  # no workspace: copies over SMALL_BYTES, split among the threads
        side = int(math.sqrt(parallel.SMALL_BYTES / item / 32)) + 5
        cfg = _transpose(_ragged(THREADS + 1, COPY_PARTS), (32, 48), side, 1, 1)
    else:
        kernel = {"winograd": 3, "im2col": 4}[algorithm]
        stride = 2 if algorithm == "im2col" else 1
        side = 30
        batch = _crossing(im2col.WORKSPACE_BYTES, 32 * kernel**2 * (stride * side) ** 2 * item)
        cfg = _transpose(_ragged(batch, COPY_PARTS), (32, 32), side, kernel, stride)
    assert_conv_transpose2d_matches_torch(cfg, dtype, algorithm)
