"""convlab.nn losses against torch.nn's: the value and the gradient for the output, and the errors that teach."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab import nn
from convlab.errors import ArgumentError, ArgumentTypeError, ShapeError, StateError

TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}


def _torch_loss(criterion: torch.nn.Module, output: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    y = torch.tensor(output, requires_grad=True)
    loss = criterion(y, torch.tensor(target))
    loss.backward()
    assert y.grad is not None
    return float(loss.detach()), y.grad.numpy()


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 9),
    k=st.integers(1, 12),
    scale=st.sampled_from([0.1, 1.0, 30.0]),
    dtype=st.sampled_from([np.float64, np.float32]),
    seed=st.integers(0, 2**31),
)
def test_cross_entropy_matches_torch(n: int, k: int, scale: float, dtype: type, seed: int) -> None:
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((n, k)) * scale).astype(dtype)
    labels = rng.integers(0, k, n)
    criterion = nn.CrossEntropyLoss()
    value = criterion(logits, labels)
    expected, expected_grad = _torch_loss(torch.nn.CrossEntropyLoss(), logits, labels)
    assert value.dtype == dtype
    assert value.shape == ()
    size = 1 + scale  # the logits' magnitude bounds the rounding of logsumexp
    assert abs(float(value) - expected) <= TOLERANCE[dtype] * size
    grad = criterion.backward()
    assert grad.dtype == dtype
    assert grad.shape == (n, k)
    assert np.abs(grad - expected_grad).max() <= TOLERANCE[dtype] / n * 10


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple),
    dtype=st.sampled_from([np.float64, np.float32]),
    seed=st.integers(0, 2**31),
)
def test_mse_matches_torch(shape: tuple[int, ...], dtype: type, seed: int) -> None:
    rng = np.random.default_rng(seed)
    output, target = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
    criterion = nn.MSELoss()
    value = criterion(output, target)
    expected, expected_grad = _torch_loss(torch.nn.MSELoss(), output, target)
    scale = float(np.mean((np.abs(output) + np.abs(target)) ** 2))
    assert value.dtype == dtype
    assert abs(float(value) - expected) <= TOLERANCE[dtype] * scale
    assert np.abs(criterion.backward() - expected_grad).max() <= TOLERANCE[dtype] * 4 * scale


def test_hand_worked_values() -> None:
    criterion = nn.MSELoss()
    assert float(criterion(np.array([1.0, 3.0]), np.array([0.0, 1.0]))) == pytest.approx(2.5)  # (1 + 4) / 2
    np.testing.assert_allclose(criterion.backward(), [1.0, 2.0])
    cross = nn.CrossEntropyLoss()
    # equal scores for 4 classes: every class has probability 1/4, the loss is log 4
    assert float(cross(np.zeros((2, 4)), np.array([0, 3]))) == pytest.approx(np.log(4))
    np.testing.assert_allclose(cross.backward()[0], [-0.375, 0.125, 0.125, 0.125])


def test_cross_entropy_is_stable_for_huge_logits() -> None:
    value = nn.CrossEntropyLoss()(np.array([[1000.0, 0.0]]), np.array([1]))
    assert float(value) == pytest.approx(1000.0)


@pytest.mark.parametrize(
    ("output", "target", "error", "words"),
    [
        (np.zeros((2, 3)), np.array([0, 3]), ArgumentError, "class 3, outside [0, 3)"),
        (np.zeros((2, 3)), np.array([-1, 0]), ArgumentError, "class -1"),
        (np.zeros((2, 3)), np.array([0, 1, 2]), ShapeError, "target of shape (3,)"),
        (np.zeros((2, 3)), np.eye(3)[[0, 1]].astype(np.int64), ShapeError, "argmax(axis=1)"),
        (np.zeros((2, 3)), np.array([0.0, 1.0]), ArgumentTypeError, "integer class indices"),
        (np.zeros(3), np.array([0]), ShapeError, "(N, K) logits"),
    ],
)
def test_cross_entropy_refuses_bad_targets(
    output: np.ndarray, target: np.ndarray, error: type, words: str
) -> None:
    with pytest.raises(error, match="fix:") as caught:
        nn.CrossEntropyLoss()(output, target)
    assert words in str(caught.value)


def test_mse_refuses_shapes_that_do_not_match() -> None:
    with pytest.raises(ShapeError, match=r"output of shape \(4, 1\) and target of shape \(4,\)"):
        nn.MSELoss()(np.zeros((4, 1)), np.zeros(4))


@pytest.mark.parametrize("criterion", [nn.MSELoss(), nn.CrossEntropyLoss()], ids=repr)
def test_backward_before_forward_is_refused(criterion: nn.Loss) -> None:
    with pytest.raises(StateError, match=r"criterion\.backward"):
        criterion.backward()
