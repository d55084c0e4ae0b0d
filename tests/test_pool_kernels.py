"""The compiled pooling loops, against PyTorch (float64 and float32) and against the NumPy path.

The size threshold is lowered to 0 so the compiled loops run on every drawn
configuration (ceil mode, dilation, padding, divisor_override, unbatched input);
one test runs a large layer above the threshold as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings

import convlab.functional as F
from convlab.functional import pool
from tests.strategies import PoolConfig, pool_configs

TOLERANCE = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}  # of the summed magnitudes


@contextmanager
def threshold(work: int) -> Iterator[None]:
    saved = pool.COMPILED_MIN_WORK
    pool.COMPILED_MIN_WORK = work
    try:
        yield
    finally:
        pool.COMPILED_MIN_WORK = saved


def torch_max(x: np.ndarray, grad: np.ndarray, kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
    xt = torch.tensor(x, requires_grad=True)
    out, indices = torch.nn.functional.max_pool2d(xt, **kwargs, return_indices=True)
    out.backward(torch.tensor(grad))
    assert xt.grad is not None
    return out.detach().numpy(), indices.numpy(), xt.grad.numpy()


def torch_avg(x: np.ndarray, grad: np.ndarray, kwargs: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    out = torch.nn.functional.avg_pool2d(xt, **kwargs)
    out.backward(torch.tensor(grad.astype(np.float64)))
    assert xt.grad is not None
    return out.detach().numpy(), xt.grad.numpy()


def assert_close(actual: np.ndarray, expected: np.ndarray, scale: np.ndarray) -> None:
    assert actual.shape == expected.shape
    error = np.abs(actual.astype(np.float64) - expected)
    assert (error <= TOLERANCE[actual.dtype] * (scale + 1e-300)).all(), float(error.max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=150)
@given(cfg=pool_configs())
def test_compiled_max_pool_matches_torch(cfg: PoolConfig, dtype: Any) -> None:
    x = cfg.input(dtype)
    kwargs = cfg.max_kwargs()
    with threshold(0):
        out, indices = F.max_pool2d(x, **kwargs, return_indices=True)
        if np.isneginf(out).any():
            return  # a window wholly in the padding: PyTorch's index then points outside the input
        grad = np.random.default_rng(cfg.seed + 1).standard_normal(out.shape).astype(dtype)
        grad_x = F.max_pool2d_grad(x, grad, **kwargs)
        plain = F.max_pool2d(x, **kwargs)
    theirs, their_indices, their_grad = torch_max(x, grad, kwargs)
    np.testing.assert_array_equal(out, theirs)  # max selects, so values are exact
    np.testing.assert_array_equal(plain, theirs)
    np.testing.assert_array_equal(indices, their_indices)
    assert out.dtype == dtype
    assert grad_x.dtype == dtype
    # each cell's gradient sums the windows it won: up to kH * kW terms, in any order
    np.testing.assert_allclose(
        grad_x, their_grad, rtol=0, atol=TOLERANCE[np.dtype(dtype)] * 16 * np.abs(grad).max()
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=150)
@given(cfg=pool_configs(dilated=False))
def test_compiled_avg_pool_matches_torch(cfg: PoolConfig, dtype: Any) -> None:
    x = cfg.input(dtype)
    kwargs = cfg.avg_kwargs()
    with threshold(0):
        out = F.avg_pool2d(x, **kwargs)
        grad = np.random.default_rng(cfg.seed + 1).standard_normal(out.shape).astype(dtype)
        grad_x = F.avg_pool2d_grad(x.shape, grad, **kwargs)
    theirs, their_grad = torch_avg(x, grad, kwargs)
    scale, grad_scale = torch_avg(np.abs(x), np.abs(grad), kwargs)
    assert out.dtype == dtype
    assert grad_x.dtype == dtype
    assert_close(out, theirs, scale)
    assert_close(grad_x, their_grad, grad_scale)


@settings(max_examples=60)
@given(cfg=pool_configs())
def test_compiled_and_numpy_paths_agree(cfg: PoolConfig) -> None:
    x = cfg.input()
    with threshold(0):
        compiled = F.max_pool2d(x, **cfg.max_kwargs())
    with threshold(2**62):
        numpy_path = F.max_pool2d(x, **cfg.max_kwargs())
    np.testing.assert_array_equal(compiled, numpy_path)


@pytest.mark.parametrize("work", [0, 2**62], ids=["compiled", "numpy"])
def test_nan_and_minus_infinity_windows_as_torch(work: int) -> None:
    """NaN beats everything (the last NaN of a window wins the index); an all -inf window reports its first
    cell inside the input; ties go to the first cell. Both paths, with and without forward's indices."""
    x = np.random.default_rng(0).standard_normal((1, 3, 9, 9))
    x[0, 0, 1, 1] = x[0, 0, 2, 2] = np.nan
    x[0, 1, :4, :4] = -np.inf
    x[0, 2, :5, :5] = 0.0
    grad = np.ones((1, 3, 5, 5))
    with threshold(work):
        out, indices = F.max_pool2d(x, 3, 2, padding=1, return_indices=True)
        grad_x = F.max_pool2d_grad(x, grad, 3, 2, padding=1)
        kept = F.max_pool2d_grad(x, grad, 3, 2, padding=1, indices=indices)
    theirs, their_indices, their_grad = torch_max(x, grad, {"kernel_size": 3, "stride": 2, "padding": 1})
    np.testing.assert_array_equal(out, theirs)
    np.testing.assert_array_equal(indices, their_indices)
    np.testing.assert_array_equal(grad_x, their_grad)
    np.testing.assert_array_equal(kept, their_grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_resnet_sized_pooling_runs_compiled_and_matches_torch(dtype: Any) -> None:
    x = np.random.default_rng(1).standard_normal((4, 16, 57, 61)).astype(dtype)
    assert pool.COMPILED_MIN_WORK <= 4 * 16 * 29 * 31 * 9  # window cells this call visits
    out, indices = F.max_pool2d(x, 3, 2, padding=1, return_indices=True)
    grad = np.random.default_rng(2).standard_normal(out.shape).astype(dtype)
    theirs, their_indices, their_grad = torch_max(x, grad, {"kernel_size": 3, "stride": 2, "padding": 1})
    np.testing.assert_array_equal(out, theirs)
    np.testing.assert_array_equal(indices, their_indices)
    tolerance = TOLERANCE[np.dtype(dtype)] * 16 * np.abs(grad).max()
    np.testing.assert_allclose(F.max_pool2d_grad(x, grad, 3, 2, padding=1), their_grad, rtol=0, atol=tolerance)
    kwargs = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}
    avg, their_avg = F.avg_pool2d(x, **kwargs), torch_avg(x, grad, kwargs)[0]
    assert_close(avg, their_avg, torch_avg(np.abs(x), grad, kwargs)[0])
