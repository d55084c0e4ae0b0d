"""Learning Lab 2's edge kernel: gradient descent from a random start reaches the lesson's [-1, 1]."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.errors import ArgumentError
from convlab.functional import conv2d
from convlab.train.kernel import learn_edge_kernel


@settings(max_examples=15)
@given(seed=st.integers(0, 10_000))
def test_any_random_start_converges_to_the_lessons_kernel(seed: int) -> None:
    run = learn_edge_kernel(steps=50, lr=1.0, seed=seed)
    np.testing.assert_allclose(run.kernel, [[-1.0, 1.0]], atol=1e-2)
    assert run.losses[-1] < 1e-4 < run.losses[0]


def test_each_step_is_a_gradient_step_on_the_mean_squared_error() -> None:
    run = learn_edge_kernel(steps=8, lr=0.5, seed=3)
    image, target = run.image, run.target
    np.testing.assert_array_equal(
        target, conv2d(image[None, None], np.array([[[[-1.0, 1.0]]]]), algorithm="reference")[0, 0]
    )
    for step, kernel in enumerate(run.kernels[:-1]):
        output = conv2d(image[None, None], kernel.reshape(1, 1, 1, 2), algorithm="reference")[0, 0]
        error = output - target
        assert run.losses[step] == pytest.approx(np.mean(error**2), rel=1e-12)
        # d/dw of mean((w0 * left + w1 * right - t)^2): the lesson's pairs, weighted by the error
        gradient = 2 * np.array([np.mean(error * image[:, :-1]), np.mean(error * image[:, 1:])])
        np.testing.assert_allclose(run.kernels[step + 1], kernel - 0.5 * gradient, rtol=1e-12, atol=1e-15)


def test_too_large_a_learning_rate_is_stopped_with_a_smaller_one_suggested() -> None:
    with pytest.raises(ArgumentError, match=r"the loss became (inf|nan) at step \d+ with lr=100") as raised:
        learn_edge_kernel(steps=1000, lr=100.0)
    assert "lr=10" in (raised.value.fix or "")
