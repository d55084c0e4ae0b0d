"""Bad engine calls get a convlab error naming the argument; work too large for memory is refused before
allocating; results never alias the caller's arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import convlab.functional as F
from convlab import _memory
from convlab.errors import ArgumentError, ArgumentTypeError, ConvlabError, ResourceError
from convlab.nn import Conv2d, ConvTranspose2d, Linear

X = np.ones((1, 1, 3, 3))
W = np.ones((1, 1, 3, 3))
G = np.ones((1, 1, 1, 1))


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: F.conv2d(None, W), "input"),
        (lambda: F.conv2d(X, None), "weight"),
        (lambda: F.conv2d_input_grad(X.shape, None, G), "weight"),
        (lambda: F.conv2d_input_grad(X.shape, W, None), "grad_output"),
        (lambda: F.conv2d_weight_grad(None, W.shape, G), "input"),
        (lambda: F.conv2d_weight_grad(X, W.shape, None), "grad_output"),
        (lambda: F.conv_transpose2d(None, W), "input"),
        (lambda: F.conv_transpose2d_input_grad((1, 1, 1, 1), W, None), "grad_output"),
        (lambda: F.conv_transpose2d_weight_grad(None, W.shape, X), "input"),
        (lambda: F.max_pool2d(None, 2), "input"),
        (lambda: F.pad(None, (1, 1)), "input"),
    ],
)
def test_none_where_an_array_belongs_names_the_argument(call: Callable[[], object], name: str) -> None:
    with pytest.raises(ArgumentTypeError, match=rf"^{name} is None"):
        call()


def test_an_absent_bias_is_still_none() -> None:
    np.testing.assert_array_equal(F.conv2d(X, W, None), [[[[9.0]]]])


@pytest.mark.parametrize("name", ["stride", "padding", "dilation"])
@pytest.mark.parametrize("value", [10**20, 2**63, 2**40 + 1])
@pytest.mark.filterwarnings("ignore")
def test_huge_integers_are_refused_by_name(name: str, value: int) -> None:
    with pytest.raises(ArgumentError) as caught:
        F.conv2d(X, W, **{name: value})
    assert caught.value.message.startswith(f"{name} is {value}, more than convlab accepts")


def test_huge_transpose_stride_is_refused_by_name() -> None:
    with pytest.raises(ArgumentError, match=r"^stride is 100000000000000000000"):
        F.conv_transpose2d(X, W, stride=10**20)


@pytest.mark.parametrize(
    "call",
    [
        lambda: F.conv2d(X, W, padding=10**5, dilation=10**5),  # PyTorch computes a 3x3 output here
        lambda: F.conv2d(X, W, padding=10**12),
        lambda: F.conv2d_weight_grad(X, W.shape, np.ones((1, 1, 3, 3)), padding=10**5, dilation=10**5),
        lambda: F.conv_transpose2d(X, W, stride=10**8),
        lambda: F.pad(X, (10**6, 10**6, 10**6, 10**6)),
        lambda: F.max_pool2d(X, 2 * 10**5, padding=10**5),
        lambda: F.avg_pool2d(X, 2 * 10**5, padding=10**5),
        lambda: F.max_pool2d_grad(X, np.ones((1, 1, 2, 2)), 2 * 10**5, padding=10**5),
    ],
)
@pytest.mark.filterwarnings("ignore")
def test_work_beyond_memory_is_refused_with_the_bytes(call: Callable[[], object]) -> None:
    with pytest.raises(ResourceError) as caught:
        call()
    needed = int(caught.value.evidence[0].split()[0])
    available = _memory.available_bytes()
    assert available is not None
    assert needed > available
    assert "more than the" in caught.value.message
    assert caught.value.fix


def test_the_memory_check_counts_the_padded_input_and_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    # 1 x 1 x 203 x 203 float64 padded input and a 1 x 1 x 201 x 201 output: (203**2 + 201**2) * 8 bytes
    needed = (203**2 + 201**2) * 8
    monkeypatch.setattr(_memory, "SURELY_FITS", 0)  # small requests are not checked otherwise
    monkeypatch.setattr(_memory, "available_bytes", lambda: needed - 1)
    with pytest.raises(ResourceError, match=r"652\.9 kB") as caught:
        F.conv2d(X, W, padding=100)
    assert caught.value.evidence == (f"{needed} bytes needed",)
    monkeypatch.setattr(_memory, "available_bytes", lambda: needed)
    assert F.conv2d(X, W, padding=100).shape == (1, 1, 201, 201)


@pytest.mark.parametrize("value", ["a", None, [1.0], True])
def test_pad_value_must_be_a_number(value: object) -> None:
    with pytest.raises(ArgumentTypeError, match=r"^pad: value must be a number"):
        F.pad(X, (1, 1), value=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [(1, 1, 3, 3), (1, 3, 3)])
def test_pad_by_nothing_returns_a_copy_like_pytorch(shape: tuple[int, ...]) -> None:
    x = np.arange(9.0).reshape(shape)
    padded = F.pad(x, (0, 0, 0, 0))
    assert torch.nn.functional.pad(torch.from_numpy(x), (0, 0, 0, 0)).data_ptr() != torch.from_numpy(x).data_ptr()
    assert not np.shares_memory(padded, x)
    np.testing.assert_array_equal(padded, x)
    padded[...] = -1
    np.testing.assert_array_equal(x, np.arange(9.0).reshape(shape))


@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(0, 2))
def test_conv2d_gradients_ignore_changes_to_the_input_after_forward(seed: int, stride: int, padding: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, 7, 6))
    layer = Conv2d(3, 4, 3, stride=stride, padding=padding, dtype=np.float64, seed=seed % 1000)
    theirs = torch.nn.Conv2d(3, 4, 3, stride=stride, padding=padding, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(np.asarray(layer.weight)))
        assert theirs.bias is not None
        assert layer.bias is not None
        theirs.bias.copy_(torch.from_numpy(np.asarray(layer.bias)))
    x_torch = torch.from_numpy(x.copy()).requires_grad_(True)
    expected = theirs(x_torch)
    expected.sum().backward()
    out = layer(x)
    x[...] = 1e6  # changed in place between forward and backward
    grad_input = layer.backward(np.ones_like(out))
    assert theirs.weight.grad is not None
    assert x_torch.grad is not None
    np.testing.assert_allclose(layer.weight.grad, theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(grad_input, x_torch.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_transpose_and_linear_keep_their_own_copy_of_the_input() -> None:
    x = np.arange(8.0).reshape(1, 2, 2, 2)
    for layer, grad_shape in ((ConvTranspose2d(2, 1, 2, dtype=np.float64, seed=0), (1, 1, 3, 3)),):
        layer(x)
        before = x.copy()
        x[...] = 0
        layer.backward(np.ones(grad_shape))
        first = np.array(layer.weight.grad)
        layer.zero_grad()
        layer(before)
        layer.backward(np.ones(grad_shape))
        np.testing.assert_array_equal(first, layer.weight.grad)
    linear = Linear(2, 1, dtype=np.float64, seed=0)
    v = np.array([[1.0, 2.0]])
    linear(v)
    v[...] = 5.0
    linear.backward(np.ones((1, 1)))
    np.testing.assert_array_equal(linear.weight.grad, [[1.0, 2.0]])


def test_every_refusal_is_a_convlab_error() -> None:
    assert issubclass(ResourceError, ConvlabError)
    assert issubclass(ResourceError, MemoryError)
