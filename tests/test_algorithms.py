"""Every algorithm behind conv2d, against PyTorch and the lesson's loop, and the rule that picks one."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

import convlab.functional as F
from convlab.errors import ArgumentError
from convlab.functional.algorithms import ALGORITHMS, choose, fft, im2col, winograd
from convlab.functional.geometry import Layout
from tests.oracle import assert_conv2d_matches_torch, check, count
from tests.strategies import ConvConfig, conv_configs

DILATIONS = st.sampled_from([(2, 2), (3, 3), (2, 3), (1, 2), (3, 1)])
STRATEGIES = {
    "im2col": conv_configs(),
    "gemm1x1": conv_configs(kernel=(1, 1)),
    "winograd": conv_configs(kernel=(3, 3), stride=(1, 1), dilation=(1, 1), max_size_extra=9),
    # phases of different lengths (a size not a multiple of the dilation) come from the drawn sizes
    "polyphase": DILATIONS.flatmap(
        lambda dilation: conv_configs(kernel=(3, 3), stride=(1, 1), dilation=dilation, max_size_extra=9)
    ),
    "fft": conv_configs(max_kernel=6, max_size_extra=6),
    "depthwise": conv_configs(depthwise=True),
    "direct": conv_configs(max_groups=1, max_per_group=6, max_size_extra=6),
}


# Examples that once failed on correct code, kept so every run checks them again.
ONCE_FAILED = {
    # every output sees only padding: exact 0, the FFT returns ~1e-18, and a bound from the scale alone was 0
    "fft": [ConvConfig(1, 1, 1, 1, (1, 1), (1, 1), (1, 2), (1, 1), 1, "zeros", False, seed) for seed in range(3)],
}


@pytest.mark.parametrize("algorithm", list(STRATEGIES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_each_algorithm_matches_torch(algorithm: str, dtype: Any) -> None:
    @settings(max_examples=60)
    @given(STRATEGIES[algorithm])
    def check(cfg: ConvConfig) -> None:
        count(f"algorithm {algorithm}, {np.dtype(dtype).name}")
        assert_conv2d_matches_torch(cfg, dtype, algorithm)

    for case in ONCE_FAILED.get(algorithm, []):
        check = example(case)(check)
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
    """The documented per-image bound of tests/oracle.py, in float32, at realistic widths, against float64."""
    count("winograd float32 bound")
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((2, channels, size, size)), rng.standard_normal((channels, channels, 3, 3))
    exact = F.conv2d(x, w, padding=1, algorithm="im2col").astype(np.float32)
    fast = F.conv2d(x.astype(np.float32), w.astype(np.float32), padding=1, algorithm="winograd")
    scale = F.conv2d(np.abs(x), np.abs(w), padding=1, algorithm="im2col")
    check("winograd float32", fast, exact, scale, inputs=(x, w), algorithm="winograd")


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
        (_layout((3, 3), channels=512, size=(9, 9)), "winograd"),  # 8 images x 4 tiles: 32, enough
        (Layout((3, 3), (1, 1), (1, 1), 1, 512, 512, (9, 9), 4), "im2col"),  # 4 images x 4 tiles: too few
        (_layout((3, 3), channels=4), "im2col"),
        (_layout((3, 3), stride=(2, 2)), "im2col"),
        (_layout((3, 3), channels=16, stride=(2, 2)), "im2col"),
        (_layout((3, 3), dilation=(2, 2)), "polyphase"),
        (_layout((3, 3), dilation=(2, 2), stride=(2, 2)), "im2col"),
        (_layout((3, 3), channels=128, dilation=(3, 1)), "polyphase"),
        (_layout((3, 3), channels=8, dilation=(2, 2)), "im2col"),  # too few channels, as for Winograd
        (Layout((3, 3), (1, 1), (2, 2), 1, 64, 64, (12, 12), 1), "im2col"),  # 4 phases x 4 tiles: too few
        (_layout((1, 1), stride=(2, 2)), "gemm1x1"),
        (_layout((3, 3), channels=32, groups=32), "depthwise"),
        (_layout((15, 15), channels=1, size=(2062, 2062)), "fft"),
        (_layout((7, 7), channels=16, size=(64, 64)), "im2col"),
        (_layout((7, 7), channels=32, size=(64, 64)), "im2col"),
        (_layout((11, 11), channels=16, size=(64, 64)), "fft"),
        (_layout((7, 7), channels=3, stride=(2, 2), size=(230, 230)), "im2col"),
    ],
)
def test_auto_picks_by_the_measured_rule(layout: Layout, expected: str) -> None:
    assert choose("auto", layout).name == expected


def test_asking_for_an_algorithm_that_cannot_do_it() -> None:
    with pytest.raises(ArgumentError, match=r"winograd.*cannot compute.*kernel \(5, 5\)"):
        F.conv2d(np.zeros((1, 1, 8, 8)), np.zeros((1, 1, 5, 5)), algorithm="winograd")
    with pytest.raises(ArgumentError, match="'auto' or one of"):
        F.conv2d(np.zeros((1, 1, 8, 8)), np.zeros((1, 1, 3, 3)), algorithm="magic")


BY_ROWS_CALLS: list[int] = []


@pytest.fixture
def by_rows_counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """im2col's copy-free weight gradient, counting its calls."""
    by_rows = im2col._weight_grad_by_rows
    monkeypatch.setattr(im2col, "_weight_grad_by_rows", lambda *args: BY_ROWS_CALLS.append(1) or by_rows(*args))
    return BY_ROWS_CALLS


def test_stride_1_weight_gradient_by_rows_matches_torch(by_rows_counted: list[int]) -> None:
    """Large enough outputs take the copy-free GEMMs over row runs; values, and NaN and Inf, as PyTorch's."""

    @settings(max_examples=30)
    @given(
        groups=st.integers(1, 3),
        per_group=st.integers(1, 3),
        out_per_group=st.integers(1, 3),
        kernel=st.tuples(st.integers(1, 5), st.integers(1, 5)),
        dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
        padding=st.tuples(st.integers(0, 3), st.integers(0, 3)),
        size=st.tuples(st.integers(30, 56), st.integers(30, 56)),  # outputs from 18x18 to 56x56
        batch=st.integers(1, 3),
        odd=st.sampled_from(["none", "inf", "nan", "transposed"]),
        seed=st.integers(0, 2**16),
    )
    def check(
        groups: int,
        per_group: int,
        out_per_group: int,
        kernel: tuple[int, int],
        dilation: tuple[int, int],
        padding: tuple[int, int],
        size: tuple[int, int],
        batch: int,
        odd: str,
        seed: int,
    ) -> None:
        count("weight gradient by rows")
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((batch, groups * per_group, *size))
        if odd == "transposed":  # a non-contiguous input, as an unpadded input reaches the algorithm
            x = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
        elif odd != "none":  # one non-finite pixel anywhere (in the border columns it takes the packed columns)
            x[tuple(int(rng.integers(0, n)) for n in x.shape)] = np.inf if odd == "inf" else np.nan
        shape = (groups * out_per_group, per_group, *kernel)
        out = [n + 2 * p - d * (k - 1) for n, p, d, k in zip(size, padding, dilation, kernel)]
        grad = rng.standard_normal((batch, shape[0], *out))
        by_rows_counted.clear()
        ours = F.conv2d_weight_grad(x, shape, grad, 1, padding, dilation, groups, algorithm="im2col")
        expected = torch.nn.grad.conv2d_weight(
            torch.from_numpy(x), shape, torch.from_numpy(grad), 1, padding, dilation, groups
        ).numpy()
        values = batch * x.shape[1] * kernel[0] * kernel[1] * out[0] * out[1]
        large = values >= im2col.COMPILED_MIN_VALUES and out[0] * out[1] >= im2col.BY_ROWS_FROM
        if odd in ("none", "transposed") and large:
            assert by_rows_counted, "a finite, large enough stride-1 call takes the copy-free path"
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
        finite = np.isfinite(expected)
        np.testing.assert_array_equal(ours[~finite], expected[~finite])
        scale = np.abs(expected[finite]).max(initial=1.0)
        np.testing.assert_allclose(ours[finite], expected[finite], rtol=1e-10, atol=1e-12 * scale)

    check()
