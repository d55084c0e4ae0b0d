"""conv2d and its gradients against PyTorch, against the lesson's loop, and against their own adjoint."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import convlab.functional as F
from tests.oracle import assert_conv2d_matches_torch, check, count, grad_for, magnitude
from tests.strategies import ConvConfig, conv_configs


def _grad_for(cfg: ConvConfig, out: np.ndarray) -> np.ndarray:
    return grad_for(cfg.seed, out)


@settings(max_examples=500)
@given(conv_configs())
def test_conv2d_and_gradients_match_torch_float64(cfg: ConvConfig) -> None:
    count("conv2d vs torch, float64")
    assert_conv2d_matches_torch(cfg, np.float64)


@settings(max_examples=300)
@given(conv_configs())
def test_conv2d_and_gradients_match_torch_float32(cfg: ConvConfig) -> None:
    count("conv2d vs torch, float32")
    assert_conv2d_matches_torch(cfg, np.float32)


@settings(max_examples=150)
@given(conv_configs(max_per_group=2, max_kernel=3))
def test_reference_algorithm_matches_torch(cfg: ConvConfig) -> None:
    count("conv2d algorithm='reference' vs torch")
    assert_conv2d_matches_torch(cfg, np.float64, algorithm="reference")


@settings(max_examples=250)
@given(conv_configs(max_per_group=2, max_kernel=3))
def test_fast_path_equals_the_lessons_loop(cfg: ConvConfig) -> None:
    """The im2col engine and the lesson's loop (algorithm="reference") agree on forward and both gradients."""
    count("conv2d fast == reference")
    x, w, b = cfg.arrays()
    out = F.conv2d(x, w, b, **cfg.kwargs(), algorithm="reference")
    grad = _grad_for(cfg, out)
    scale = F.conv2d(np.abs(x), np.abs(w), magnitude(b), **cfg.kwargs(), algorithm="reference")
    check("conv2d fast vs loop", F.conv2d(x, w, b, **cfg.kwargs()), out, scale, inputs=(x, w))
    check(
        "input_grad fast vs loop",
        F.conv2d_input_grad(x.shape, w, grad, **cfg.kwargs()),
        F.conv2d_input_grad(x.shape, w, grad, **cfg.kwargs(), algorithm="reference"),
        F.conv2d_input_grad(x.shape, np.abs(w), np.abs(grad), **cfg.kwargs(), algorithm="reference"),
        inputs=(w, grad),
    )
    check(
        "weight_grad fast vs loop",
        F.conv2d_weight_grad(x, w.shape, grad, **cfg.kwargs()),
        F.conv2d_weight_grad(x, w.shape, grad, **cfg.kwargs(), algorithm="reference"),
        F.conv2d_weight_grad(np.abs(x), w.shape, np.abs(grad), **cfg.kwargs(), algorithm="reference"),
        inputs=(x, grad),
    )


@settings(max_examples=200)
@given(conv_configs())
def test_gradients_are_adjoints_of_the_convolution(cfg: ConvConfig) -> None:
    """<conv(x, w), g> == <x, input_grad(g)> == <w, weight_grad(x, g)>: the gradients are the transposes."""
    count("adjoint identities")
    x, w, _ = cfg.arrays()
    out = F.conv2d(x, w, **cfg.kwargs())
    grad = _grad_for(cfg, out)
    forward = np.sum(out * grad)
    magnitude = np.sum(F.conv2d(np.abs(x), np.abs(w), **cfg.kwargs()) * np.abs(grad)) + 1e-300
    through_input = np.sum(x * F.conv2d_input_grad(x.shape, w, grad, **cfg.kwargs()))
    through_weight = np.sum(w * F.conv2d_weight_grad(x, w.shape, grad, **cfg.kwargs()))
    assert abs(forward - through_input) <= 1e-12 * magnitude
    assert abs(forward - through_weight) <= 1e-12 * magnitude


@settings(max_examples=100)
@given(conv_configs(allow_empty_batch=False))
def test_unbatched_input_is_the_batched_result_without_its_batch_axis(cfg: ConvConfig) -> None:
    count("unbatched == batched[0]")
    x, w, b = cfg.arrays()
    single = x if cfg.batch is None else x[0]
    out = F.conv2d(single, w, b, **cfg.kwargs())
    assert out.ndim == 3
    np.testing.assert_array_equal(out, F.conv2d(single[None], w, b, **cfg.kwargs())[0])
    grad = _grad_for(cfg, out)
    np.testing.assert_array_equal(
        F.conv2d_input_grad(single.shape, w, grad, **cfg.kwargs()),
        F.conv2d_input_grad((1, *single.shape), w, grad[None], **cfg.kwargs())[0],
    )
    np.testing.assert_array_equal(
        F.conv2d_weight_grad(single, w.shape, grad, **cfg.kwargs()),
        F.conv2d_weight_grad(single[None], w.shape, grad[None], **cfg.kwargs()),
    )


def test_same_padding_puts_the_odd_cell_bottom_right() -> None:
    """kernel 4: 3 cells of padding in total, 1 on top/left and 2 on bottom/right, as PyTorch does."""
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 0, 0] = 1.0  # a single 1 in the top-left corner
    w = np.zeros((1, 1, 4, 4))
    w[0, 0, 1, 1] = 1.0  # picks the window's cell at offset (1, 1)
    out = F.conv2d(x, w, padding="same")
    assert out.shape == (1, 1, 5, 5)
    assert out[0, 0, 0, 0] == 1.0  # offset (1, 1) of window (0, 0) is input (0, 0) only if the top pad is 1


def test_large_batches_are_processed_in_chunks_with_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    from convlab.functional.algorithms import im2col

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((5, 3, 9, 9)), rng.standard_normal((4, 3, 3, 3))
    grad = rng.standard_normal((5, 4, 7, 7))
    whole = (F.conv2d(x, w), F.conv2d_input_grad(x.shape, w, grad), F.conv2d_weight_grad(x, w.shape, grad))
    monkeypatch.setattr(im2col, "WORKSPACE_BYTES", 1)  # one image per chunk
    chunked = (F.conv2d(x, w), F.conv2d_input_grad(x.shape, w, grad), F.conv2d_weight_grad(x, w.shape, grad))
    for a, b in zip(whole, chunked):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
