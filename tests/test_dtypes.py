"""Which dtype comes out: float32 stays float32, float64 stays float64, ints/bools/lists become float32."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import convlab.functional as F
from convlab.errors import DtypeError

image = [[[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]]
kernel = [[[[1, 0], [0, -1]]]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dtypes_are_kept_by_every_function(dtype: type) -> None:
    x = np.asarray(image, dtype=dtype)
    k = np.asarray(kernel, dtype=dtype)
    out = F.conv2d(x, k)
    assert out.dtype == dtype
    assert F.conv2d_input_grad(x.shape, k, out).dtype == dtype
    assert F.conv2d_weight_grad(x, k.shape, out).dtype == dtype
    assert F.conv_transpose2d(out, k).dtype == dtype
    assert F.max_pool2d(x, 2).dtype == dtype
    assert F.avg_pool2d(x, 2).dtype == dtype
    assert F.avg_pool2d_grad(x.shape, F.avg_pool2d(x, 2), 2).dtype == dtype


@pytest.mark.parametrize(
    "make",
    [lambda a: a, lambda a: np.asarray(a), lambda a: np.asarray(a, dtype=np.uint8), lambda a: np.asarray(a) > 1],
    ids=["nested lists", "int64 array", "uint8 array", "bool array"],
)
def test_ints_bools_and_lists_become_float32(make: object) -> None:
    out = F.conv2d(make(image), np.asarray(kernel))  # type: ignore[operator]
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, F.conv2d(np.asarray(make(image), np.float32), np.float32(kernel)))  # type: ignore[operator]


def test_lists_take_the_dtype_of_the_float_array_beside_them() -> None:
    assert F.conv2d(image, np.asarray(kernel, dtype=np.float64)).dtype == np.float64


def test_float16_is_computed_in_float32() -> None:
    assert F.conv2d(np.asarray(image, dtype=np.float16), np.asarray(kernel, dtype=np.float16)).dtype == np.float32


def test_mixing_float32_and_float64_is_refused_like_torch() -> None:
    with pytest.raises(DtypeError, match="bias is float64"):
        F.conv2d(np.asarray(image, np.float32), np.asarray(kernel, np.float32), bias=np.zeros(1))


def test_torch_tensors_are_accepted_as_input() -> None:
    x = torch.tensor(image, dtype=torch.float32, requires_grad=True)
    out = F.conv2d(x, torch.tensor(kernel, dtype=torch.float32))
    assert isinstance(out, np.ndarray)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0], [[-2, 2, -4], [4, 0, -1], [0, 0, 1]])  # the lesson's Lab 1 output


@pytest.mark.parametrize("algorithm", ["auto", "im2col", "winograd"])
def test_an_empty_batch_gives_an_empty_output_like_torch(algorithm: str) -> None:
    x = np.zeros((0, 3, 8, 8), dtype=np.float32)
    w = np.ones((4, 3, 3, 3), dtype=np.float32)
    theirs = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w))
    assert F.conv2d(x, w, algorithm=algorithm).shape == tuple(theirs.shape) == (0, 4, 6, 6)
    grad = np.zeros((0, 4, 6, 6), np.float32)
    for _ in range(3):  # the sum's memory may be reused from an earlier call: it must still start at zero
        grad_weight = F.conv2d_weight_grad(x, w.shape, grad, algorithm=algorithm)
        np.testing.assert_array_equal(grad_weight, np.zeros(w.shape, np.float32))
        grad_weight[...] = 7
    assert F.conv2d_input_grad(x.shape, w, grad, algorithm=algorithm).shape == x.shape


def test_inputs_are_not_modified() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    w = np.random.default_rng(1).standard_normal((4, 3, 3, 3))
    x0, w0 = x.copy(), w.copy()
    out = F.conv2d(x, w, padding=1, padding_mode="reflect")
    F.conv2d_input_grad(x.shape, w, out, padding=1, padding_mode="reflect")
    F.conv2d_weight_grad(x, w.shape, out, padding=1, padding_mode="reflect")
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
