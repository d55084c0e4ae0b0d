"""The compiled depthwise and direct loops, against PyTorch (float64 and float32) and the lesson's loop.

The configurations are drawn small, with the size threshold lowered to 0 so the
compiled loops run on every one of them; the zero padding is drawn uneven and
wider than the kernel, so rows and columns that lie wholly in the padding, and
windows that hang over both edges of a row, are reached.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import convlab.functional as F
from convlab.functional import reference
from convlab.functional.algorithms import depthwise, direct

TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}  # of the summed magnitudes, as in tests/oracle.py


@contextmanager
def compiled_always() -> Iterator[None]:
    """Run the compiled loops whatever the size of the call."""
    saved = depthwise.COMPILED_MIN_WORK, direct.COMPILED_MIN_WORK
    depthwise.COMPILED_MIN_WORK = direct.COMPILED_MIN_WORK = 0
    try:
        yield
    finally:
        depthwise.COMPILED_MIN_WORK, direct.COMPILED_MIN_WORK = saved


@dataclass(frozen=True)
class Depthwise:
    batch: int
    channels: int
    multiplier: int  # kernels per input channel
    size: tuple[int, int]
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))
    seed: int

    def arrays(self, dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Input, weight and a gradient for the output, in ``dtype``."""
        rng = np.random.default_rng(self.seed)
        x = rng.standard_normal((self.batch, self.channels, *self.size)).astype(dtype)
        w = rng.standard_normal((self.channels * self.multiplier, 1, *self.kernel_size)).astype(dtype)
        g = rng.standard_normal((self.batch, self.channels * self.multiplier, *self.output_size)).astype(dtype)
        return x, w, g

    @property
    def output_size(self) -> tuple[int, int]:
        sizes = [
            (n + sum(p) - d * (k - 1) - 1) // s + 1
            for n, p, k, s, d in zip(self.size, self.padding, self.kernel_size, self.stride, self.dilation)
        ]
        return (sizes[0], sizes[1])


@st.composite
def depthwise_configs(draw: st.DrawFn) -> Depthwise:
    kernel = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple((draw(st.integers(0, 6)), draw(st.integers(0, 6))) for _ in range(2))
    size = []
    for axis in range(2):
        span = dilation[axis] * (kernel[axis] - 1) + 1
        size.append(draw(st.integers(max(1, span - sum(padding[axis])), span + 20)))
    return Depthwise(
        batch=draw(st.integers(1, 3)),
        channels=draw(st.integers(1, 5)),
        multiplier=draw(st.integers(1, 3)),
        size=(size[0], size[1]),
        kernel_size=kernel,
        stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        dilation=dilation,
        padding=(padding[0], padding[1]),
        seed=draw(st.integers(0, 2**31)),
    )


def torch_depthwise(config: Depthwise, x: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    """PyTorch's forward, input gradient and weight gradient, computed in float64."""
    xt, wt = (torch.tensor(a.astype(np.float64), requires_grad=True) for a in (x, w))
    (top, bottom), (left, right) = config.padding
    padded = torch.nn.functional.pad(xt, (left, right, top, bottom))
    out = torch.nn.functional.conv2d(
        padded, wt, stride=config.stride, dilation=config.dilation, groups=config.channels
    )
    out.backward(torch.tensor(g.astype(np.float64)))
    assert xt.grad is not None
    assert wt.grad is not None
    return out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()


def expected_and_scale(config: Depthwise, dtype: Any) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """PyTorch's three results, and the same on absolute values: the size of what was summed, which bounds
    the rounding error."""
    arrays = config.arrays(dtype)
    return torch_depthwise(config, *arrays), torch_depthwise(config, *(np.abs(a) for a in arrays))


def assert_close(name: str, actual: np.ndarray, expected: np.ndarray, scale: np.ndarray, dtype: Any) -> None:
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == dtype, f"{name}: dtype {actual.dtype}"
    error = np.abs(actual.astype(np.float64) - expected)
    bound = TOLERANCE[dtype] * (scale + np.finfo(dtype).tiny)
    assert (error <= bound).all(), f"{name}: error {float((error / (scale + 1e-300)).max()):.3g} of the scale"


def check_three(actual: tuple[np.ndarray, ...], config: Depthwise, dtype: Any) -> None:
    expected, scale = expected_and_scale(config, dtype)
    for name, a, e, s in zip(("forward", "input_grad", "weight_grad"), actual, expected, scale):
        assert_close(name, a, e, s, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=60)
@given(config=depthwise_configs())
def test_compiled_depthwise_matches_torch(config: Depthwise, dtype: Any) -> None:
    x, w, g = config.arrays(dtype)
    args = (config.padding, config.stride, config.dilation, config.channels)
    with compiled_always():
        actual = (
            depthwise.forward_zero_padded(x, w, None, *args),
            depthwise.input_grad_zero_padded(w, g, config.size, *args),
            depthwise.weight_grad_zero_padded(x, g, config.kernel_size, *args),
        )
    check_three(actual, config, dtype)


@settings(max_examples=20)
@given(config=depthwise_configs())
def test_compiled_depthwise_matches_the_lessons_loop(config: Depthwise) -> None:
    x, w, g = config.arrays(np.float64)
    padded = np.pad(x, ((0, 0), (0, 0), *config.padding))
    geometry = (config.stride, config.dilation, config.channels)
    with compiled_always():
        out = depthwise.forward(padded, w, None, *geometry)
        grad_padded = depthwise.input_grad(w, g, padded.shape[2:], *geometry)
        grad_w = depthwise.weight_grad(padded, g, config.kernel_size, *geometry)
    scale = np.abs(padded).max() * np.abs(w).max() * w[0, 0].size + 1.0
    np.testing.assert_allclose(out, reference.correlate(padded, w, None, *geometry), rtol=0, atol=1e-12 * scale)
    expected_grad = reference.correlate_input_grad(w, g, padded.shape[2:], *geometry)
    np.testing.assert_allclose(grad_padded, expected_grad, rtol=0, atol=1e-12 * scale * g[0, 0].size)
    expected_w = reference.correlate_weight_grad(padded, g, config.kernel_size, *geometry)
    np.testing.assert_allclose(grad_w, expected_w, rtol=0, atol=1e-12 * np.abs(padded).max() * np.abs(g).sum())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_large_depthwise_layer_runs_compiled_through_conv2d_and_matches_torch(dtype: Any) -> None:
    """Above the threshold, conv2d and both gradients take the compiled loops with the padding fused."""
    config = Depthwise(2, 16, 1, (37, 41), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), seed=7)
    assert depthwise.COMPILED_MIN_WORK <= 2 * 16 * 37 * 41 * 9  # multiply-adds of this call
    x, w, g = config.arrays(dtype)
    out = F.conv2d(x, w, padding=1, groups=16)
    grad_x = F.conv2d_input_grad(x.shape, w, g, padding=1, groups=16)
    grad_w = F.conv2d_weight_grad(x, w.shape, g, padding=1, groups=16)
    check_three((out, grad_x, grad_w), config, dtype)


def test_non_zero_padding_modes_take_the_padded_path_and_match_torch() -> None:
    x, w, _ = Depthwise(2, 8, 2, (30, 33), (3, 3), (2, 1), (1, 2), ((2, 2), (2, 2)), seed=3).arrays(np.float64)
    with compiled_always():
        out = F.conv2d(x, w, padding=2, stride=(2, 1), dilation=(1, 2), groups=8, padding_mode="reflect")
    layer = torch.nn.Conv2d(
        8, 16, 3, stride=(2, 1), padding=2, dilation=(1, 2), groups=8, bias=False, padding_mode="reflect"
    )
    layer.weight.data = torch.tensor(w)
    expected = layer(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


@dataclass(frozen=True)
class Dense:
    """A groups=1 convolution for the direct loop."""

    batch: int
    in_channels: int
    out_channels: int
    size: tuple[int, int]
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[int, int]
    seed: int

    def arrays(self, dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        x = rng.standard_normal((self.batch, self.in_channels, *self.size)).astype(dtype)
        w = rng.standard_normal((self.out_channels, self.in_channels, *self.kernel_size)).astype(dtype)
        return x, w, rng.standard_normal(self.out_channels).astype(dtype)

    def torch_forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        args = (torch.tensor(a.astype(np.float64)) for a in (x, w, b))
        out = torch.nn.functional.conv2d(*args, stride=self.stride, padding=self.padding, dilation=self.dilation)
        return out.numpy()


@st.composite
def dense_configs(draw: st.DrawFn) -> Dense:
    kernel = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 4)), draw(st.integers(0, 4)))
    size = [
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), d * (k - 1) + 24))
        for k, d, p in zip(kernel, dilation, padding)
    ]
    return Dense(
        batch=draw(st.integers(1, 3)),
        in_channels=draw(st.integers(1, 5)),
        out_channels=draw(st.integers(1, 19)),  # across the SIMD width, with a ragged end
        size=(size[0], size[1]),
        kernel_size=kernel,
        stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        dilation=dilation,
        padding=padding,
        seed=draw(st.integers(0, 2**31)),
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=60)
@given(config=dense_configs())
def test_compiled_direct_forward_matches_torch(config: Dense, dtype: Any) -> None:
    x, w, b = config.arrays(dtype)
    kwargs = {"stride": config.stride, "padding": config.padding, "dilation": config.dilation}
    with compiled_always():
        out = F.conv2d(x, w, b, **kwargs, algorithm="direct")
    assert out.dtype == dtype
    scale = config.torch_forward(np.abs(x), np.abs(w), np.abs(b))
    assert_close("forward", out, config.torch_forward(x, w, b), scale, dtype)


@settings(max_examples=20)
@given(config=dense_configs())
def test_compiled_direct_forward_matches_the_lessons_loop(config: Dense) -> None:
    x, w, b = config.arrays(np.float64)
    padded = np.pad(x, ((0, 0), (0, 0), *((p, p) for p in config.padding)))
    with compiled_always():
        out = direct.forward(padded, w, b, config.stride, config.dilation, 1)
    expected = reference.correlate(padded, w, b, config.stride, config.dilation, 1)
    scale = reference.correlate(np.abs(padded), np.abs(w), np.abs(b), config.stride, config.dilation, 1)
    assert_close("forward", out, expected, scale, np.float64)


def test_a_first_layer_through_the_compiled_direct_loop_matches_torch() -> None:
    """7x7 stride 2 from three channels, as a network's first layer, above the threshold."""
    config = Dense(2, 3, 16, (45, 51), (7, 7), (2, 2), (1, 1), (3, 3), seed=11)
    x, w, b = config.arrays(np.float32)
    assert direct.COMPILED_MIN_WORK <= 2 * 16 * 23 * 26 * 3 * 49  # multiply-adds of this call
    out = F.conv2d(x, w, b, stride=2, padding=3, algorithm="direct")
    scale = config.torch_forward(np.abs(x), np.abs(w), np.abs(b))
    assert_close("forward", out, config.torch_forward(x, w, b), scale, np.float32)
