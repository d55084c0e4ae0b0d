"""A model's forward pass on one band of a tile, each convolution on the algorithm measured fastest for it.

A tile runs the same few convolution shapes again and again (every band of every tile but the
edges), so each worker measures, once per shape, every algorithm that can compute it on the band
it is given (after a run on a corner of it that compiles its loops, twice each, the faster run
counting), keeps the fastest, and uses that measurement's output: the band is not computed again.
The engine's ``"auto"`` rule is tuned for whole images and batches; a band of a few hundred rows of
one image with 8 channels is where it guesses worst (Winograd and the FFT beat im2col there by 2-4x).

Every algorithm agrees with the others within the engine's documented tolerance, so the choice moves
results only within it. A band holding a NaN or an Inf takes ``"auto"``, which puts them where PyTorch
does. Nothing here keeps an input for a backward pass: a tile's layers never learn.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from .. import functional
from ..errors import ArgumentError
from ..functional.algorithms import all_finite
from ..functional.geometry import ConvSettings, conv_settings

__all__ = ["CANDIDATES", "forward", "measured_choices"]

CANDIDATES = ("winograd", "polyphase", "fft", "im2col", "gemm1x1", "depthwise")
"""The algorithms measured; the direct loop and the reference are left out (never faster at these sizes)."""

_CHOSEN: dict[tuple[Any, ...], str] = {}
_LOCK = threading.Lock()


def measured_choices() -> dict[tuple[Any, ...], str]:
    """This process's choices so far: (weight shape, settings, (N, C), dtype, log2 of the area) -> algorithm."""
    with _LOCK:
        return dict(_CHOSEN)


def _settings(layer: Any) -> ConvSettings:
    return conv_settings(
        "Conv2d", layer.kernel_size, layer.stride, layer.padding, layer.dilation, layer.groups, layer.padding_mode
    )


def _key(layer: Any, settings: ConvSettings, x: Any) -> tuple[Any, ...]:
    """What a choice depends on: the convolution, the channels and dtype, and the band's area within a factor 2."""
    return (
        layer.weight.shape,
        settings,
        x.shape[:2],
        x.dtype.str,
        round(math.log2(max(1, x.shape[2] * x.shape[3]))),
    )


def _measured(layer: Any, settings: ConvSettings, x: Any) -> tuple[str, Any]:
    """The fastest candidate on ``x`` and its output; each runs first on a small corner of ``x``, so that
    compiling its loops (Numba, on first use in a process) is not what is timed."""
    span = max(settings.dilation[i] * (layer.kernel_size[i] - 1) + 1 for i in range(2))
    corner = x[:, :, : 2 * span + 64, : 2 * span + 64]  # large enough for every loop that the band runs
    best: tuple[float, str, Any] | None = None
    for name in CANDIDATES:
        try:
            functional.conv2d(corner, layer.weight, layer.bias, settings=settings, algorithm=name)
        except ArgumentError:  # an algorithm that cannot compute this convolution says so before computing
            continue
        seconds = math.inf
        for _ in range(2):  # the faster of two: one run can be slowed by other work on the machine
            started = time.perf_counter()
            out = functional.conv2d(x, layer.weight, layer.bias, settings=settings, algorithm=name)
            seconds = min(seconds, time.perf_counter() - started)
        if best is None or seconds < best[0]:
            best = (seconds, name, out)
    assert best is not None, "im2col computes every convolution"
    return best[1], best[2]


def _convolve(layer: Any, x: Any) -> Any:
    settings = _settings(layer)
    if not all_finite([x]):
        return functional.conv2d(x, layer.weight, layer.bias, settings=settings)
    key = _key(layer, settings, x)
    with _LOCK:
        chosen = _CHOSEN.get(key)
    if chosen is not None:
        return functional.conv2d(x, layer.weight, layer.bias, settings=settings, algorithm=chosen)
    chosen, out = _measured(layer, settings, x)
    with _LOCK:
        _CHOSEN[key] = chosen
    return out


def forward(layer: Any, x: Any) -> Any:
    """``layer(x)`` for the layers a tile runs; convolutions on their measured algorithm, none saving its input.

    Shapes: (N, C, H, W) -> the layer's output (N, C', H', W').
    """
    from .. import nn

    if isinstance(layer, nn.Sequential):
        for part in layer:
            x = forward(part, x)
        return x
    if isinstance(layer, nn.Residual):
        out = forward(layer.body, x)
        skipped = x if layer.shortcut is None else forward(layer.shortcut, x)
        if out.shape != skipped.shape:  # the layer's own message and fix
            return layer(x)
        return out + skipped
    if isinstance(layer, nn.Conv2d):
        return _convolve(layer, x)
    return layer(x)
