"""conv_transpose2d and its gradients against PyTorch and against the lesson's stamping loop."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

import convlab.functional as F
from tests.oracle import (
    assert_conv_transpose2d_matches_torch,
    check,
    count,
    grad_for,
    magnitude,
    torch_conv_transpose2d,
)
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
def test_the_stamping_loops_match_the_fast_path_and_torch(cfg: TransposeConfig) -> None:
    """conv_transpose2d and its two gradients by the loop (algorithm="reference") vs the fast path and PyTorch."""
    count("conv_transpose2d loops == fast == torch")
    x, w, b = cfg.arrays()
    kw = cfg.kwargs()
    out = F.conv_transpose2d(x, w, b, **kw, algorithm="reference")
    grad = grad_for(cfg.seed, out)
    theirs = torch_conv_transpose2d(cfg, x, w, b, grad)
    scale = torch_conv_transpose2d(cfg, magnitude(x), magnitude(w), magnitude(b), magnitude(grad))
    loops = {
        "output": out,
        "input": F.conv_transpose2d_input_grad(x.shape, w, grad, **kw, algorithm="reference"),
        "weight": F.conv_transpose2d_weight_grad(x, w.shape, grad, **kw, algorithm="reference"),
    }
    fast = {
        "output": F.conv_transpose2d(x, w, b, **kw),
        "input": F.conv_transpose2d_input_grad(x.shape, w, grad, **kw),
        "weight": F.conv_transpose2d_weight_grad(x, w.shape, grad, **kw),
    }
    inputs = {"output": (x, w), "input": (w, grad), "weight": (x, grad)}
    for name, loop in loops.items():
        check(f"conv_transpose2d {name} loop vs torch", loop, theirs[name], scale[name], inputs=inputs[name])
        check(f"conv_transpose2d {name} loop vs fast", loop, fast[name], scale[name], inputs=inputs[name])


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
