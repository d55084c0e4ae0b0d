"""max_pool2d and avg_pool2d, forward and backward, against PyTorch and the lesson-style loop."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings

import convlab.functional as F
from convlab.errors import ArgumentError, ArgumentTypeError, ShapeError
from tests.oracle import check, count, tensor
from tests.strategies import PoolConfig, pool_configs

DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])


@DTYPES
@settings(max_examples=200)
@given(pool_configs())
def test_max_pool2d_forward_indices_and_gradient_match_torch(dtype: Any, cfg: PoolConfig) -> None:
    count(f"max_pool2d vs torch, {np.dtype(dtype).name}")
    x = cfg.input(dtype)
    out, indices = F.max_pool2d(x, **cfg.max_kwargs(), return_indices=True)
    grad = np.random.default_rng(cfg.seed + 1).standard_normal(out.shape).astype(dtype)
    ours = F.max_pool2d_grad(x, grad, **cfg.max_kwargs())
    magnitudes = F.max_pool2d_grad(x, np.abs(grad), **cfg.max_kwargs())
    # the winners forward found give the same gradient as searching them again
    np.testing.assert_array_equal(F.max_pool2d_grad(x, grad, **cfg.max_kwargs(), indices=indices), ours)
    # the loop twin agrees everywhere, windows wholly in the padding included
    loop_out, loop_indices = F.max_pool2d(x, **cfg.max_kwargs(), return_indices=True, algorithm="reference")
    np.testing.assert_array_equal(loop_out, out)
    np.testing.assert_array_equal(loop_indices, indices)
    loop = F.max_pool2d_grad(x, grad, **cfg.max_kwargs(), algorithm="reference")
    check("max_pool2d_grad loop", loop, ours, magnitudes, inputs=(grad,))
    np.testing.assert_array_equal(F.max_pool2d(x, **cfg.max_kwargs()), out)
    xt = tensor(x, requires_grad=True)
    theirs, their_indices = torch.nn.functional.max_pool2d(xt, **cfg.max_kwargs(), return_indices=True)
    # with dilation and padding a window can lie wholly in the padding: convlab documents -inf there and no
    # gradient to any input; PyTorch gives -inf with an index outside the input, which its backward writes
    # out of bounds, so its backward is called only when no window is like that
    inside = ~np.isneginf(out)
    np.testing.assert_array_equal(out, theirs.detach().numpy())  # max selects, so values are exact
    np.testing.assert_array_equal(indices[inside], their_indices.numpy()[inside])
    if not inside.all():
        kept = np.where(inside, grad, 0.0)
        np.testing.assert_array_equal(F.max_pool2d_grad(x, kept, **cfg.max_kwargs()), ours)
        return
    theirs.backward(tensor(grad))
    check("max_pool2d_grad", ours, xt.grad.numpy(), magnitudes, inputs=(grad,))


@DTYPES
@settings(max_examples=200)
@given(pool_configs(dilated=False))
def test_avg_pool2d_forward_and_gradient_match_torch(dtype: Any, cfg: PoolConfig) -> None:
    count(f"avg_pool2d vs torch, {np.dtype(dtype).name}")
    x = cfg.input(dtype)
    xt = tensor(x, requires_grad=True)
    theirs = torch.nn.functional.avg_pool2d(xt, **cfg.avg_kwargs())
    grad = np.random.default_rng(cfg.seed + 1).standard_normal(tuple(theirs.shape)).astype(dtype)
    theirs.backward(tensor(grad))
    scale = F.avg_pool2d(np.abs(x), **cfg.avg_kwargs())
    expected = theirs.detach().numpy()
    check("avg_pool2d", F.avg_pool2d(x, **cfg.avg_kwargs()), expected, scale, inputs=(x,))
    check(
        "avg_pool2d loop", F.avg_pool2d(x, **cfg.avg_kwargs(), algorithm="reference"), expected, scale, inputs=(x,)
    )
    check(
        "avg_pool2d_grad",
        F.avg_pool2d_grad(x.shape, grad, **cfg.avg_kwargs()),
        xt.grad.numpy(),
        F.avg_pool2d_grad(x.shape, np.abs(grad), **cfg.avg_kwargs()),
        inputs=(grad,),
    )
    check(
        "avg_pool2d_grad loop",
        F.avg_pool2d_grad(x.shape, grad, **cfg.avg_kwargs(), algorithm="reference"),
        xt.grad.numpy(),
        F.avg_pool2d_grad(x.shape, np.abs(grad), **cfg.avg_kwargs()),
        inputs=(grad,),
    )


def test_ceil_mode_keeps_a_last_window_that_starts_inside_the_input() -> None:
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    assert F.max_pool2d(x, 3, 2, ceil_mode=False).shape == (1, 1, 2, 2)
    assert F.max_pool2d(x, 3, 2, ceil_mode=True).shape == (1, 1, 3, 3)  # window at row 4 covers rows 4-5 only
    assert F.max_pool2d(x, 3, 2, padding=1, ceil_mode=True).shape == (1, 1, 4, 4)


def test_ceil_mode_drops_a_window_that_would_start_in_the_right_padding() -> None:
    # H=5, k=2, s=2, p=1: ceil((5 + 2 - 2) / 2) + 1 = 4, but window 3 starts at padded index 6 = H + p: dropped
    assert F.max_pool2d(np.ones((1, 5, 5)), 2, 2, padding=1, ceil_mode=True).shape == (1, 3, 3)


def test_a_window_wholly_in_the_padding_gives_minus_infinity() -> None:
    # H=1 padded by 1 with kernel 2, dilation 2: the first window reads padded rows 0 and 2, both padding
    out = F.max_pool2d(np.ones((1, 1, 3)), kernel_size=(2, 1), padding=(1, 0), dilation=2)
    assert np.isneginf(out).all()


def test_max_pool_propagates_nan_like_torch() -> None:
    x = np.array([[[1.0, np.nan], [3.0, 2.0]]])
    assert np.isnan(F.max_pool2d(x, 2)).all()
    assert np.isnan(torch.nn.functional.max_pool2d(tensor(x), 2).numpy()).all()


@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_divisor_at_a_padded_corner(count_include_pad: bool) -> None:
    out = F.avg_pool2d(np.ones((1, 4, 4)), 3, stride=1, padding=1, count_include_pad=count_include_pad)
    # the corner window covers 4 input cells and 5 padding cells
    assert out[0, 0, 0] == pytest.approx(4 / 9 if count_include_pad else 1.0)


@pytest.mark.parametrize("pool", [F.max_pool2d, F.avg_pool2d])
def test_pooling_runs_the_auto_path_or_the_lessons_loop_and_nothing_else(pool: Any) -> None:
    with pytest.raises(ArgumentError, match=r"algorithm must be 'auto' or 'reference' for pooling, got 'im2col'"):
        pool(np.ones((1, 4, 4)), 2, algorithm="im2col")


def test_max_pool_grad_refuses_indices_that_max_pool2d_did_not_give() -> None:
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    grad = np.ones((1, 1, 2, 2))
    _, indices = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(indices, [[[[5, 7], [13, 15]]]])
    with pytest.raises(ArgumentTypeError, match="indices must be integers, got dtype float64"):
        F.max_pool2d_grad(x, grad, 2, indices=indices.astype(np.float64))
    with pytest.raises(ShapeError, match=r"indices of shape \(1, 1, 1, 2\) do not match grad_output"):
        F.max_pool2d_grad(x, grad, 2, indices=indices[:, :, :1])
    with pytest.raises(ArgumentError, match=r"indices hold 16, outside the 4x4 input plane \(0..15\)"):
        F.max_pool2d_grad(x, grad, 2, indices=indices + 1)
    # a cell that wins two overlapping windows collects both gradients
    overlapping = F.max_pool2d_grad(x, np.ones((1, 1, 3, 3)), 2, stride=1, indices=np.full((1, 1, 3, 3), 15))
    assert overlapping[0, 0, 3, 3] == 9
    assert overlapping.sum() == 9
