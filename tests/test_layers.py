"""Every nn layer against its torch.nn twin over drawn configurations, in both dtypes, contiguous or not.

Each layer is built in PyTorch, copied into convlab with ``nn.from_torch``, and run forward and backward on
the same input: the output, the input gradient and every parameter gradient go through the one oracle
(tests/oracle.py), with the scale from the same layer run on absolute values (input, gradient and
parameters). Inputs also arrive as non-contiguous views (transposed, strided) and with negative strides
(reversed views): the layers must read the values, not the memory order.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

import convlab.functional as F
from convlab import nn
from tests.oracle import check, count, tensor
from tests.strategies import PoolConfig, conv_configs, pool_configs, transpose_configs

DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
LAYOUTS = ("contiguous", "transposed", "strided", "reversed")


def laid_out(a: np.ndarray, layout: str) -> np.ndarray:
    """The same values as ``a`` in another memory order: a view that is not C-contiguous."""
    if layout == "transposed":  # Fortran order
        return np.asfortranarray(a)
    if layout == "strided":  # every other element of a larger array
        wide = np.zeros(tuple(2 * n for n in a.shape), dtype=a.dtype)
        wide[tuple(slice(None, None, 2) for _ in a.shape)] = a
        return wide[tuple(slice(None, None, 2) for _ in a.shape)]
    if layout == "reversed":  # negative strides on every axis
        return np.ascontiguousarray(a[tuple(slice(None, None, -1) for _ in a.shape)])[
            tuple(slice(None, None, -1) for _ in a.shape)
        ]
    return a


def _absolute(layer: torch.nn.Module) -> torch.nn.Module:
    twin = copy.deepcopy(layer)
    with torch.no_grad():
        for parameter in twin.parameters():
            parameter.abs_()
    return twin


def _run(layer: torch.nn.Module, x: np.ndarray, grad: np.ndarray | None) -> dict[str, Any]:
    xt = tensor(x, requires_grad=True)
    out = layer(xt)
    result: dict[str, Any] = {"output": out.detach().numpy()}
    if grad is not None:
        out.backward(tensor(grad))
        result["input"] = xt.grad.numpy()
        result.update({name: p.grad.numpy() for name, p in layer.named_parameters()})
    return result


def assert_layer_matches_torch(
    theirs: torch.nn.Module, x: np.ndarray, layout: str, backward: bool = True, seed: int = 0
) -> None:
    """Forward, backward and parameter gradients of ``nn.from_torch(theirs)`` against ``theirs``."""
    dtype = x.dtype
    theirs = theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = nn.from_torch(theirs)
    out = ours(laid_out(x, layout))
    grad = np.random.default_rng(seed + 1).standard_normal(out.shape).astype(dtype) if backward else None
    expected = _run(theirs, x, grad)
    scale = _run(_absolute(theirs).double(), np.abs(x).astype(np.float64), None if grad is None else np.abs(grad))
    params = [p.detach().numpy() for p in theirs.parameters()]
    check(f"{type(ours).__name__} forward", out, expected["output"], scale["output"], inputs=(x, *params))
    if grad is None:
        return
    input_grad = ours.backward(laid_out(grad, layout))
    check(f"{type(ours).__name__} backward", input_grad, expected["input"], scale["input"], inputs=(grad, *params))
    for name, parameter in ours.named_parameters():
        check(f"{type(ours).__name__}.{name}.grad", parameter.grad, expected[name], scale[name], inputs=(x, grad))


@DTYPES
@settings(max_examples=60)
@given(conv_configs(allow_empty_batch=False), st.sampled_from(LAYOUTS))
def test_conv2d_layer(dtype: Any, cfg: Any, layout: str) -> None:
    count(f"nn.Conv2d vs torch, {np.dtype(dtype).name}")
    layer = torch.nn.Conv2d(cfg.in_channels, cfg.out_channels, cfg.kernel_size, **cfg.kwargs(), bias=cfg.bias)
    assert_layer_matches_torch(layer, cfg.arrays(dtype)[0], layout, seed=cfg.seed)


@DTYPES
@settings(max_examples=60)
@given(transpose_configs(), st.sampled_from(LAYOUTS))
def test_conv_transpose2d_layer(dtype: Any, cfg: Any, layout: str) -> None:
    count(f"nn.ConvTranspose2d vs torch, {np.dtype(dtype).name}")
    if cfg.batch == 0:
        return
    layer = torch.nn.ConvTranspose2d(
        cfg.in_channels, cfg.out_channels, cfg.kernel_size, **cfg.kwargs(), bias=cfg.bias
    )
    assert_layer_matches_torch(layer, cfg.arrays(dtype)[0], layout, seed=cfg.seed)


@DTYPES
@settings(max_examples=60)
@given(pool_configs(), st.sampled_from(LAYOUTS))
# once failed: a window wholly in the padding gives -inf on both sides, and -inf - -inf is not an error
@example(PoolConfig(None, 1, (1, 2), (1, 2), None, (0, 1), (1, 3), False, False, None, 0), "contiguous")
def test_max_pool2d_layer(dtype: Any, cfg: Any, layout: str) -> None:
    count(f"nn.MaxPool2d vs torch, {np.dtype(dtype).name}")
    x = cfg.input(dtype)
    # PyTorch's backward writes out of bounds for a window wholly in the padding: forward only there
    inside = not np.isneginf(F.max_pool2d(x, **cfg.max_kwargs())).any()
    assert_layer_matches_torch(torch.nn.MaxPool2d(**cfg.max_kwargs()), x, layout, backward=inside, seed=cfg.seed)


@settings(max_examples=30)
@given(pool_configs())
def test_max_pool2d_layer_gradient_is_the_same_in_training_and_in_eval(cfg: Any) -> None:
    # in training the layer keeps forward's winners for backward; in eval it searches them again
    x = cfg.input(np.float64)
    layer = nn.MaxPool2d(**cfg.max_kwargs())
    out = layer(x)
    grad = np.random.default_rng(cfg.seed).standard_normal(out.shape)
    kept = layer.backward(grad)
    layer.eval()
    np.testing.assert_array_equal(layer(x), out)
    np.testing.assert_array_equal(layer.backward(grad), kept)
    np.testing.assert_array_equal(kept, F.max_pool2d_grad(x, grad, **cfg.max_kwargs()))


@DTYPES
@settings(max_examples=60)
@given(pool_configs(dilated=False), st.sampled_from(LAYOUTS))
def test_avg_pool2d_layer(dtype: Any, cfg: Any, layout: str) -> None:
    count(f"nn.AvgPool2d vs torch, {np.dtype(dtype).name}")
    assert_layer_matches_torch(torch.nn.AvgPool2d(**cfg.avg_kwargs()), cfg.input(dtype), layout, seed=cfg.seed)


SHAPES = st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)


@DTYPES
@settings(max_examples=60)
@given(SHAPES, st.sampled_from(LAYOUTS), st.integers(0, 2**32 - 1))
def test_relu_layer(dtype: Any, shape: tuple[int, ...], layout: str, seed: int) -> None:
    count(f"nn.ReLU vs torch, {np.dtype(dtype).name}")
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    assert_layer_matches_torch(torch.nn.ReLU(), x, layout, seed=seed)


@DTYPES
@settings(max_examples=60)
@given(SHAPES, st.integers(1, 6), st.booleans(), st.sampled_from(LAYOUTS), st.integers(0, 2**32 - 1))
def test_linear_layer(dtype: Any, shape: tuple[int, ...], out: int, bias: bool, layout: str, seed: int) -> None:
    count(f"nn.Linear vs torch, {np.dtype(dtype).name}")
    torch.manual_seed(seed)
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    assert_layer_matches_torch(torch.nn.Linear(shape[-1], out, bias=bias), x, layout, seed=seed)


@st.composite
def flatten_cases(draw: Any) -> tuple[tuple[int, ...], int, int]:
    shape = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple))
    start = draw(st.integers(-len(shape), len(shape) - 1))
    first = start % len(shape)
    end = draw(st.integers(first, len(shape) - 1)) - draw(st.sampled_from([0, len(shape)]))
    return shape, start, end


@DTYPES
@settings(max_examples=60)
@given(flatten_cases(), st.sampled_from(LAYOUTS), st.integers(0, 2**32 - 1))
def test_flatten_layer(dtype: Any, case: tuple[tuple[int, ...], int, int], layout: str, seed: int) -> None:
    count(f"nn.Flatten vs torch, {np.dtype(dtype).name}")
    shape, start, end = case
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    assert_layer_matches_torch(torch.nn.Flatten(start, end), x, layout, seed=seed)


@DTYPES
@settings(max_examples=40)
@given(
    st.integers(1, 3), st.integers(1, 4), st.integers(3, 8), st.sampled_from(LAYOUTS), st.integers(0, 2**32 - 1)
)
def test_sequential_network(dtype: Any, batch: int, channels: int, size: int, layout: str, seed: int) -> None:
    count(f"nn.Sequential vs torch, {np.dtype(dtype).name}")
    torch.manual_seed(seed)
    layer = torch.nn.Sequential(
        torch.nn.Conv2d(channels, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2, ceil_mode=True),
        torch.nn.ConvTranspose2d(4, 3, 2, stride=2),
        torch.nn.AvgPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(3 * (((size + 1) // 2 * 2) // 2) ** 2, 5),
    )
    x = np.random.default_rng(seed).standard_normal((batch, channels, size, size)).astype(dtype)
    assert_layer_matches_torch(layer, x, layout, seed=seed)


SPECIAL = st.sampled_from([float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 1.5, -2.0, 1e-41, -1e-41])


@DTYPES
@settings(max_examples=60)
@given(st.lists(st.tuples(SPECIAL, SPECIAL), min_size=1, max_size=24), st.booleans())
def test_relu_gradient_matches_torch_bit_for_bit_at_nan_inf_and_signed_zeros(
    dtype: Any, pairs: list[tuple[float, float]], strided: bool
) -> None:
    count(f"nn.ReLU gradient at special values vs torch, {np.dtype(dtype).name}")
    x = np.array([a for a, _ in pairs], dtype=dtype)
    grad = np.array([b for _, b in pairs], dtype=dtype)
    if strided:  # a gradient that is a view with a stride, as a transposed or sliced array is
        grad = np.repeat(grad, 2)[::2]
    layer = nn.ReLU()
    layer(x)
    ours = layer.backward(grad)
    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).backward(torch.tensor(np.ascontiguousarray(grad)))
    theirs = xt.grad.numpy()
    # the same bits: NaN where torch has NaN, +0 where it has +0, -0 where it has -0
    words = f"u{np.dtype(dtype).itemsize}"
    assert np.array_equal(ours.view(words), theirs.view(words)), (x, grad, ours, theirs)
