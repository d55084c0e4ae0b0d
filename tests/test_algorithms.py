"""Every algorithm behind conv2d, against PyTorch and the lesson's loop, and the rule that picks one."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convlab.functional as F
from convlab.errors import ArgumentError
from convlab.functional.algorithms import ALGORITHMS, choose, fft, im2col, winograd
from convlab.functional.geometry import Layout
from tests.oracle import count, torch_conv2d
from tests.strategies import ConvConfig, conv_configs

# float32 bounds, as a fraction of the summed magnitudes conv2d(|x|, |w|) (see tests/oracle.py).
# Winograd and the FFT transform whole tiles or images, so an output's rounding error comes from its
# neighbours too (an output that sees only padding is 0 exactly, but not after a transform): their error is
# bounded against the largest magnitude of the output, the others' element by element.
FLOAT32 = {"im2col": 1e-5, "gemm1x1": 1e-5, "depthwise": 1e-5, "direct": 1e-5, "winograd": 5e-5, "fft": 2e-5}

STRATEGIES = {
    "im2col": conv_configs(),
    "gemm1x1": conv_configs(kernel=(1, 1)),
    "winograd": conv_configs(kernel=(3, 3), stride=(1, 1), dilation=(1, 1), max_size_extra=9),
    "fft": conv_configs(max_kernel=6, max_size_extra=6),
    "depthwise": conv_configs(depthwise=True),
    "direct": conv_configs(max_groups=1, max_per_group=6, max_size_extra=6),
}


def _abs(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else np.abs(a).astype(np.float64)


def _close(name: str, actual: Any, expected: Any, scale: Any, tolerance: float, elementwise: bool) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, name
    assert actual.dtype == expected.dtype, name
    if actual.size == 0:
        return
    scale = np.asarray(scale, dtype=np.float64)
    bound = tolerance * (scale + 1e-30 if elementwise else scale.max() + 1e-30)
    error = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    assert np.all(error <= bound), f"{name}: error {error.max():.3g} over bound"


def assert_algorithm_matches_torch(cfg: ConvConfig, algorithm: str, dtype: Any) -> None:
    x, w, b = cfg.arrays(dtype)
    kwargs = {**cfg.kwargs(), "algorithm": algorithm}
    out = F.conv2d(x, w, b, **kwargs)
    grad = np.random.default_rng(cfg.seed + 1).standard_normal(out.shape).astype(dtype)
    theirs = torch_conv2d(cfg, x, w, b, grad)
    scale = torch_conv2d(cfg, _abs(x), _abs(w), _abs(b), _abs(grad))
    tolerance = 1e-11 if dtype == np.float64 else FLOAT32[algorithm]
    elementwise = algorithm not in ("fft", "winograd")
    _close(f"{algorithm} forward", out, theirs["output"], scale["output"], tolerance, elementwise)
    _close(
        f"{algorithm} input grad",
        F.conv2d_input_grad(x.shape, w, grad, **kwargs),
        theirs["input"],
        scale["input"],
        tolerance,
        elementwise,
    )
    _close(
        f"{algorithm} weight grad",
        F.conv2d_weight_grad(x, w.shape, grad, **kwargs),
        theirs["weight"],
        scale["weight"],
        tolerance,
        elementwise,
    )


@pytest.mark.parametrize("algorithm", list(STRATEGIES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_each_algorithm_matches_torch(algorithm: str, dtype: Any) -> None:
    @settings(max_examples=60)
    @given(STRATEGIES[algorithm])
    def check(cfg: ConvConfig) -> None:
        count(f"algorithm {algorithm}, {np.dtype(dtype).name}")
        assert_algorithm_matches_torch(cfg, algorithm, dtype)

    check()


def test_fft_overlap_save_tiles_agree_with_one_transform(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 2, 70, 61)), rng.standard_normal((3, 2, 7, 5))
    expected = im2col.forward(x, w, None, (1, 1), (1, 1), 1)
    monkeypatch.setattr(fft, "TILE", 16)  # many tiles, and ragged last ones
    np.testing.assert_allclose(fft.forward(x, w, None, (1, 1), (1, 1), 1), expected, rtol=1e-10, atol=1e-10)


def test_chunked_workspace_gives_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((5, 16, 10, 9)), rng.standard_normal((16, 16, 3, 3))
    whole = [ALGORITHMS[name].forward(x, w, None, (1, 1), (1, 1), 1) for name in ("winograd", "fft")]
    monkeypatch.setattr(im2col, "WORKSPACE_BYTES", 1)
    monkeypatch.setattr(winograd, "WORKSPACE_BYTES", 1)
    chunked = [ALGORITHMS[name].forward(x, w, None, (1, 1), (1, 1), 1) for name in ("winograd", "fft")]
    for a, b in zip(whole, chunked):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@settings(max_examples=40)
@given(channels=st.sampled_from([16, 32, 64]), size=st.integers(4, 20), seed=st.integers(0, 2**16))
def test_winograd_float32_error_stays_within_its_bound(channels: int, size: int, seed: int) -> None:
    """The documented bound: |winograd - exact| <= 5e-5 * max conv2d(|x|, |w|) in float32, at realistic widths."""
    count("winograd float32 bound")
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((2, channels, size, size)), rng.standard_normal((channels, channels, 3, 3))
    exact = F.conv2d(x, w, padding=1, algorithm="im2col")
    fast = F.conv2d(x.astype(np.float32), w.astype(np.float32), padding=1, algorithm="winograd")
    scale = F.conv2d(np.abs(x), np.abs(w), padding=1, algorithm="im2col")
    assert np.all(np.abs(fast - exact) <= FLOAT32["winograd"] * scale.max())


def _layout(
    kernel: tuple[int, int],
    channels: int = 64,
    groups: int = 1,
    stride: tuple[int, int] = (1, 1),
    dilation: tuple[int, int] = (1, 1),
    size: tuple[int, int] = (58, 58),
) -> Layout:
    return Layout(kernel, stride, dilation, groups, channels, channels, size, 8)


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        (_layout((3, 3)), "winograd"),
        (_layout((3, 3), channels=512, size=(9, 9)), "im2col"),  # 8 images x 4 tiles: too few for Winograd
        (_layout((3, 3), channels=4), "direct"),
        (_layout((3, 3), stride=(2, 2)), "im2col"),
        (_layout((3, 3), channels=16, stride=(2, 2)), "direct"),
        (_layout((3, 3), dilation=(2, 2)), "direct"),
        (_layout((3, 3), dilation=(2, 2), stride=(2, 2)), "direct"),
        (_layout((3, 3), channels=128, dilation=(2, 2)), "im2col"),
        (_layout((1, 1), stride=(2, 2)), "gemm1x1"),
        (_layout((3, 3), channels=32, groups=32), "depthwise"),
        (_layout((15, 15), channels=1, size=(2062, 2062)), "fft"),
        (_layout((7, 7), channels=16, size=(64, 64)), "direct"),
        (_layout((7, 7), channels=32, size=(64, 64)), "im2col"),
        (_layout((11, 11), channels=16, size=(64, 64)), "fft"),
        (_layout((7, 7), channels=3, stride=(2, 2), size=(230, 230)), "direct"),
    ],
)
def test_auto_picks_by_the_measured_rule(layout: Layout, expected: str) -> None:
    assert choose("auto", layout).name == expected


def test_asking_for_an_algorithm_that_cannot_do_it() -> None:
    with pytest.raises(ArgumentError, match=r"winograd.*cannot compute.*kernel \(5, 5\)"):
        F.conv2d(np.zeros((1, 1, 8, 8)), np.zeros((1, 1, 5, 5)), algorithm="winograd")
    with pytest.raises(ArgumentError, match="'auto' or one of"):
        F.conv2d(np.zeros((1, 1, 8, 8)), np.zeros((1, 1, 3, 3)), algorithm="magic")
