"""NaN and Inf in inputs and weights: every algorithm puts them where PyTorch does.

A NaN or Inf in the input reaches exactly the outputs whose windows read it (and an Inf times a zero of
padding is NaN, as in PyTorch). ``auto`` never lets a transform see a non-finite value; Winograd and the
FFT, asked for by name, spread a single NaN over a whole tile or image by design (their docstrings say so):
they are expected failures, each with an explicit example that shows the difference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import convlab.functional as F
from tests.oracle import count, grad_for, torch_conv2d
from tests.strategies import ConvConfig, conv_configs

STRATEGIES = {
    "auto": conv_configs(max_kernel=5),
    "im2col": conv_configs(),
    "gemm1x1": conv_configs(kernel=(1, 1)),
    "winograd": conv_configs(kernel=(3, 3), stride=(1, 1), dilation=(1, 1), max_size_extra=9),
    "polyphase": conv_configs(kernel=(3, 3), stride=(1, 1), dilation=(2, 2), max_size_extra=9),
    "fft": conv_configs(max_kernel=6, max_size_extra=6),
    "depthwise": conv_configs(depthwise=True),
}
SPECIALS = st.sampled_from([np.nan, np.inf, -np.inf])
# Where an algorithm spreads a non-finite value: the missing behaviour each expected failure names.
SPREADS = {
    "winograd": "Winograd spreads a NaN/Inf over its whole 6x6 input tile instead of the windows that read it",
    "polyphase": "a dilated 3x3 by Winograd on the phases spreads a NaN/Inf over a 6x6 tile of its phase",
    "fft": "the FFT spreads a NaN/Inf over the whole image instead of the windows that read it",
}
# Explicit cases that show each difference, so that an expected failure fails on every run.
NAN_IN_THE_MIDDLE = {"input": [(0.5, 0, np.nan)], "weight": []}
NAN_IN_THE_WEIGHT = {"input": [], "weight": [(0.0, 0, np.nan)]}
SHOWN_BY = {
    "auto": [
        (ConvConfig(None, 2, 2, 2, (1, 2), (1, 2), (1, 1), (1, 1), "valid", "zeros", False, 0), NAN_IN_THE_WEIGHT)
    ],
    "depthwise": [
        (ConvConfig(None, 2, 2, 2, (1, 2), (1, 2), (1, 1), (1, 1), "valid", "zeros", False, 0), NAN_IN_THE_WEIGHT)
    ],
    "winograd": [
        (ConvConfig(1, 16, 16, 1, (12, 12), (3, 3), (1, 1), (1, 1), 1, "zeros", False, 0), NAN_IN_THE_MIDDLE)
    ],
    "polyphase": [
        (ConvConfig(1, 16, 16, 1, (16, 16), (3, 3), (1, 1), (2, 2), 2, "zeros", False, 0), NAN_IN_THE_MIDDLE)
    ],
    "fft": [(ConvConfig(1, 1, 1, 1, (12, 12), (3, 3), (1, 1), (1, 1), 1, "zeros", False, 0), NAN_IN_THE_MIDDLE)],
    # a single NaN in the middle of an image: the algorithms that keep it local are checked on it too
    "im2col": [
        (ConvConfig(1, 1, 1, 1, (12, 12), (3, 3), (1, 1), (1, 1), 1, "zeros", False, 0), NAN_IN_THE_MIDDLE)
    ],
}


def _poisoned(a: np.ndarray, spots: list[tuple[float, float, Any]]) -> np.ndarray:
    """``a`` with each special value written at a position given as fractions of its flat length."""
    a = a.copy()
    flat = a.reshape(-1)
    for fraction, _, value in spots:
        if flat.size:
            flat[min(flat.size - 1, int(fraction * flat.size))] = value
    return a


def _pattern(a: np.ndarray) -> np.ndarray:
    """0 finite, 1 NaN, 2 +Inf, 3 -Inf: the positions that must match PyTorch's."""
    return np.select([np.isnan(a), np.isposinf(a), np.isneginf(a)], [1, 2, 3], 0)


def assert_nonfinite_pattern_matches_torch(cfg: ConvConfig, algorithm: str, spots: Any) -> None:
    x, w, b = cfg.arrays()
    x, w = _poisoned(x, spots["input"]), _poisoned(w, spots["weight"])
    kwargs = {**cfg.kwargs(), "algorithm": algorithm}
    with np.errstate(invalid="ignore", over="ignore"):
        out = F.conv2d(x, w, b, **kwargs)
        grad = grad_for(cfg.seed, out)
        theirs = torch_conv2d(cfg, x, w, b, grad)
        ours = {
            "output": out,
            "input": F.conv2d_input_grad(x.shape, w, grad, **kwargs),
            "weight": F.conv2d_weight_grad(x, w.shape, grad, **kwargs),
        }
    for name, value in ours.items():
        np.testing.assert_array_equal(_pattern(value), _pattern(theirs[name]), err_msg=f"{algorithm} {name}")


SPOTS = st.fixed_dictionaries(
    {
        "input": st.lists(st.tuples(st.floats(0, 1), st.just(0), SPECIALS), max_size=2),
        "weight": st.lists(st.tuples(st.floats(0, 1), st.just(0), SPECIALS), max_size=1),
    }
)


def _marks(algorithm: str) -> list[Any]:
    if algorithm in SPREADS:
        return [pytest.mark.xfail(strict=True, reason=SPREADS[algorithm])]
    return []


@pytest.mark.parametrize("algorithm", [pytest.param(name, marks=_marks(name)) for name in STRATEGIES])
def test_nan_and_inf_land_where_torch_puts_them(algorithm: str) -> None:
    @settings(max_examples=60)
    @given(STRATEGIES[algorithm], SPOTS)
    def check(cfg: ConvConfig, spots: Any) -> None:
        count(f"NaN/Inf pattern, {algorithm}")
        assert_nonfinite_pattern_matches_torch(cfg, algorithm, spots)

    for cfg, spots in SHOWN_BY.get(algorithm, []):
        check = example(cfg, spots)(check)
    check()
