"""The algorithms behind conv2d: each one file, each with the same three functions.

Every algorithm works on an input that is already padded (padding modes are
handled once, in :mod:`convlab.functional.padding`) and provides::

    forward(padded, weight, bias, stride, dilation, groups)                  -> (N, O, H_out, W_out)
    input_grad(weight, grad_output, padded_size, stride, dilation, groups)   -> (N, C, H_pad, W_pad)
    weight_grad(padded, grad_output, kernel_size, stride, dilation, groups)  -> (O, C/groups, kH, kW)

An algorithm may also provide :class:`ZeroPadded` entry points, which take the
unpadded input and the zero padding's widths and never build the padded array;
conv2d and its gradients use them when ``padding_mode="zeros"``.

``algorithm="auto"`` picks one by :func:`choose`; any name in :data:`ALGORITHMS`
can be asked for directly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..._args import Array, Pad2d, Pair
from ...errors import ArgumentError
from .. import reference
from ..geometry import Layout
from . import depthwise, direct, fft, gemm1x1, im2col, parallel, polyphase, winograd

__all__ = ["ALGORITHMS", "Algorithm", "Layout", "ZeroPadded", "choose"]


@dataclass(frozen=True)
class ZeroPadded:
    """The same three functions on the unpadded input, given the zeros padding ((top, bottom), (left, right))::

    forward(input, weight, bias, padding, stride, dilation, groups)                -> (N, O, H_out, W_out)
    input_grad(weight, grad_output, input_size, padding, stride, dilation, groups)  -> (N, C, H, W)
    weight_grad(input, grad_output, kernel_size, padding, stride, dilation, groups) -> (O, C/groups, kH, kW)
    """

    forward: Callable[[Array, Array, Array | None, Pad2d, Pair, Pair, int], Array]
    input_grad: Callable[[Array, Array, Pair, Pad2d, Pair, Pair, int], Array]
    weight_grad: Callable[[Array, Array, Pair, Pad2d, Pair, Pair, int], Array]


@dataclass(frozen=True)
class Algorithm:
    """One way of computing a convolution and its two gradients, and where it applies."""

    name: str
    forward: Callable[[Array, Array, Array | None, Pair, Pair, int], Array]
    input_grad: Callable[[Array, Array, Pair, Pair, Pair, int], Array]
    weight_grad: Callable[[Array, Array, Pair, Pair, Pair, int], Array]
    supports: Callable[[Layout], bool] = lambda layout: True
    zero_padded: ZeroPadded | None = None  # entry points that fuse zero padding, where the algorithm has them


ALGORITHMS = {
    "im2col": Algorithm("im2col", im2col.forward, im2col.input_grad, im2col.weight_grad),
    "gemm1x1": Algorithm(
        "gemm1x1",
        gemm1x1.forward,
        gemm1x1.input_grad,
        gemm1x1.weight_grad,
        lambda lay: gemm1x1.supports(lay.kernel_size, lay.stride, lay.dilation),
    ),
    "winograd": Algorithm(
        "winograd",
        winograd.forward,
        winograd.input_grad,
        winograd.weight_grad,
        lambda lay: winograd.supports(lay.kernel_size, lay.stride, lay.dilation),
        ZeroPadded(
            winograd.forward_zero_padded, winograd.input_grad_zero_padded, winograd.weight_grad_zero_padded
        ),
    ),
    "polyphase": Algorithm(
        "polyphase",
        polyphase.forward,
        polyphase.input_grad,
        polyphase.weight_grad,
        lambda lay: polyphase.supports(lay.kernel_size, lay.stride, lay.dilation),
        ZeroPadded(
            polyphase.forward_zero_padded, polyphase.input_grad_zero_padded, polyphase.weight_grad_zero_padded
        ),
    ),
    "fft": Algorithm("fft", fft.forward, fft.input_grad, fft.weight_grad),
    "depthwise": Algorithm(
        "depthwise",
        depthwise.forward,
        depthwise.input_grad,
        depthwise.weight_grad,
        lambda lay: depthwise.supports(lay.in_channels // lay.groups, lay.groups),
        ZeroPadded(
            depthwise.forward_zero_padded, depthwise.input_grad_zero_padded, depthwise.weight_grad_zero_padded
        ),
    ),
    "direct": Algorithm(
        "direct",
        direct.forward,
        direct.input_grad,
        direct.weight_grad,
        lambda lay: lay.groups == 1,
        ZeroPadded(direct.forward_zero_padded, direct.input_grad_zero_padded, direct.weight_grad_zero_padded),
    ),
    "reference": Algorithm(
        "reference", reference.correlate, reference.correlate_input_grad, reference.correlate_weight_grad
    ),
}

# Crossovers measured on a 2-core AVX-512 machine (docs/performance.md, "How auto chooses"):
WINOGRAD_MIN_CHANNELS = 16  # Winograd's transforms stop paying below about 16 channels per group
WINOGRAD_MIN_TILES = 32  # nor when the batch has few 4x4 output tiles: the kernel transform then dominates
FFT_MIN_KERNEL_AREA = 49  # from 7x7 on, the FFT beats im2col for images with few channels ...
FFT_FEW_CHANNELS = 4  # ... (at most this many per group), at any image size
FFT_ANY_CHANNELS_AREA = 121  # from 11x11 on it wins whatever the channels

# Each output of these mixes every input of its tile or image, so one NaN or Inf reaches outputs whose
# window never saw it; the others multiply and add exactly the window's cells, as PyTorch does.
SPREADS_NONFINITE = frozenset({"winograd", "polyphase", "fft"})


def all_finite(arrays: Sequence[Array]) -> bool:
    """Whether every value is finite, checked by sums on all cores (:func:`.parallel.finite`; a sum that
    overflows only costs the faster algorithm)."""
    return all(parallel.finite(np.asarray(array)) for array in arrays)


@lru_cache(maxsize=256)  # a layout's choice never changes; a training loop asks the same ones again
def _auto(layout: Layout) -> Algorithm:
    """The measured rule: depthwise, 1x1, Winograd for 3x3 stride 1 (on the phases when dilated), FFT for
    large kernels, else im2col."""
    in_per_group = layout.in_channels // layout.groups
    out_per_group = layout.out_channels // layout.groups
    for name in ("depthwise", "gemm1x1"):
        if ALGORITHMS[name].supports(layout):
            return ALGORITHMS[name]
    # a dilated 3x3 (polyphase) is Winograd on d_h * d_w sub-images each d times smaller: count their tiles
    (dh, dw), (hp, wp) = layout.dilation, layout.padded_size
    phase_h, phase_w = polyphase.phase_count(hp, dh), polyphase.phase_count(wp, dw)
    tiles = layout.batch * dh * dw * math.ceil((phase_h - 2) / 4) * math.ceil((phase_w - 2) / 4)
    for name in ("winograd", "polyphase"):
        if (
            ALGORITHMS[name].supports(layout)
            and min(in_per_group, out_per_group) >= WINOGRAD_MIN_CHANNELS
            and tiles >= WINOGRAD_MIN_TILES
        ):
            return ALGORITHMS[name]
    area = layout.kernel_size[0] * layout.kernel_size[1]
    few = min(in_per_group, out_per_group) <= FFT_FEW_CHANNELS
    # the FFT computes every stride-1 output, so a stride would waste most of it
    if layout.stride == (1, 1) and (area >= FFT_ANY_CHANNELS_AREA or (area >= FFT_MIN_KERNEL_AREA and few)):
        return ALGORITHMS["fft"]
    # The direct loop is never chosen: on an idle 2-core machine it took 2-3x im2col's time on the layers it
    # was written for (a first 7x7/2 layer, 3x3 with 4-16 channels, dilated 3x3; docs/performance.md).
    return ALGORITHMS["im2col"]


def choose(algorithm: object, layout: Layout | None = None, values: Sequence[Array] = ()) -> Algorithm:
    """The algorithm to run: the one asked for, or for ``"auto"`` the fastest for this layout.

    ``values`` are the arrays the call multiplies: under ``"auto"``, when one of them holds a NaN
    or an Inf, an algorithm that would spread it (:data:`SPREADS_NONFINITE`) gives way to im2col,
    so NaN and Inf land exactly where PyTorch puts them.

    Raises:
        ArgumentError: an unknown name, or an algorithm that cannot compute this convolution.
    """
    if algorithm == "auto":
        chosen = ALGORITHMS["im2col"] if layout is None else _auto(layout)
        if chosen.name in SPREADS_NONFINITE and not all_finite(values):
            return ALGORITHMS["im2col"]
        return chosen
    if isinstance(algorithm, str) and algorithm in ALGORITHMS:
        chosen = ALGORITHMS[algorithm]
        if layout is not None and not chosen.supports(layout):
            raise ArgumentError(
                f"algorithm={algorithm!r} cannot compute this convolution (kernel {layout.kernel_size}, "
                f"stride {layout.stride}, dilation {layout.dilation}, groups {layout.groups})",
                fix="leave algorithm='auto', or pick 'im2col', which computes every convolution",
            )
        return chosen
    raise ArgumentError(
        f"algorithm must be 'auto' or one of {', '.join(map(repr, ALGORITHMS))}, got {algorithm!r}",
        fix="leave algorithm='auto' to let convlab choose",
    )
