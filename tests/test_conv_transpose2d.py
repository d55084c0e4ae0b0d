"""conv_transpose2d and its gradients against PyTorch and against the lesson's stamping loop."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings

import convlab.functional as F
from convlab.functional import reference
from tests.oracle import check, count, torch_conv_transpose2d
from tests.strategies import TransposeConfig, transpose_configs


def _abs(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else np.abs(a).astype(np.float64)


def assert_conv_transpose2d_matches_torch(cfg: TransposeConfig, dtype: Any) -> None:
    x, w, b = cfg.arrays(dtype)
    out = F.conv_transpose2d(x, w, b, **cfg.kwargs())
    grad = np.random.default_rng(cfg.seed + 1).standard_normal(out.shape).astype(dtype)
    theirs = torch_conv_transpose2d(cfg, x, w, b, grad)
    scale = torch_conv_transpose2d(cfg, _abs(x), _abs(w), _abs(b), _abs(grad))
    check("conv_transpose2d", out, theirs["output"], scale["output"])
    check(
        "conv_transpose2d_input_grad",
        F.conv_transpose2d_input_grad(x.shape, w, grad, **cfg.kwargs()),
        theirs["input"],
        scale["input"],
    )
    check(
        "conv_transpose2d_weight_grad",
        F.conv_transpose2d_weight_grad(x, w.shape, grad, **cfg.kwargs()),
        theirs["weight"],
        scale["weight"],
    )
    if b is not None:
        check("conv_transpose2d bias grad", F.conv2d_bias_grad(grad), theirs["bias"], scale["bias"])


@settings(max_examples=300)
@given(transpose_configs())
def test_conv_transpose2d_and_gradients_match_torch_float64(cfg: TransposeConfig) -> None:
    count("conv_transpose2d vs torch, float64")
    assert_conv_transpose2d_matches_torch(cfg, np.float64)


@settings(max_examples=150)
@given(transpose_configs())
def test_conv_transpose2d_and_gradients_match_torch_float32(cfg: TransposeConfig) -> None:
    count("conv_transpose2d vs torch, float32")
    assert_conv_transpose2d_matches_torch(cfg, np.float32)


@settings(max_examples=150)
@given(transpose_configs())
def test_fast_transpose_equals_the_stamping_loop(cfg: TransposeConfig) -> None:
    count("conv_transpose2d fast == reference")
    x, w, b = cfg.arrays()
    scale = reference.conv_transpose2d(np.abs(x), np.abs(w), _abs(b), **cfg.kwargs())
    check(
        "conv_transpose2d fast vs loop",
        F.conv_transpose2d(x, w, b, **cfg.kwargs()),
        reference.conv_transpose2d(x, w, b, **cfg.kwargs()),
        scale,
    )


def test_stride_two_stamps_each_value_two_cells_apart() -> None:
    out = F.conv_transpose2d(np.array([[[[1.0, 2.0]]]]), np.ones((1, 1, 1, 3)), stride=2)
    np.testing.assert_array_equal(out, [[[[1.0, 1.0, 3.0, 2.0, 2.0]]]])  # the middle cell gets both stamps


def test_output_padding_adds_rows_at_the_bottom_right_only() -> None:
    x = np.ones((1, 1, 2, 2))
    plain = F.conv_transpose2d(x, np.ones((1, 1, 3, 3)), stride=2)
    padded = F.conv_transpose2d(x, np.ones((1, 1, 3, 3)), stride=2, output_padding=1)
    assert plain.shape == (1, 1, 5, 5)
    assert padded.shape == (1, 1, 6, 6)
    np.testing.assert_array_equal(padded[..., :5, :5], plain)
    assert not padded[..., 5, :].any()
    assert not padded[..., :, 5].any()
