"""conv_transpose2d and its gradients against PyTorch and against the lesson's stamping loop."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

import convlab.functional as F
from convlab.functional import reference
from tests.oracle import assert_conv_transpose2d_matches_torch, check, count, magnitude
from tests.strategies import TransposeConfig, transpose_configs


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
    scale = reference.conv_transpose2d(np.abs(x), np.abs(w), magnitude(b), **cfg.kwargs())
    check(
        "conv_transpose2d fast vs loop",
        F.conv_transpose2d(x, w, b, **cfg.kwargs()),
        reference.conv_transpose2d(x, w, b, **cfg.kwargs()),
        scale,
        inputs=(x, w),
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
