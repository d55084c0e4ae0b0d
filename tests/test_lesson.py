"""Golden values from the lesson, through the lesson's loop and through the fast engine."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import convlab.functional as F
from convlab import nn
from convlab.functional import reference

LAB1_IMAGE = np.array([[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]], dtype=np.float32)
LAB1_KERNEL = np.array([[1, 0], [0, -1]], dtype=np.float32)
LAB1_OUTPUT = [[-2, 2, -4], [4, 0, -1], [0, 0, 1]]

LAB2_IMAGE = np.array(
    [[0, 0, 0, 0, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 0, 0, 0]], dtype=np.float32
)
LAB2_KERNEL = np.array([[-1, 1]], dtype=np.float32)
LAB2_OUTPUT = [[0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]

ENGINES = {"reference": functools.partial(F.conv2d, algorithm="reference"), "fast": F.conv2d}


@pytest.mark.parametrize("engine", ENGINES)
def test_lab1_manual_convolution(engine: str) -> None:
    out = ENGINES[engine](LAB1_IMAGE[None, None], LAB1_KERNEL[None, None])
    np.testing.assert_array_equal(out[0, 0], LAB1_OUTPUT)
    assert out.dtype == np.float32


@pytest.mark.parametrize("engine", ENGINES)
def test_lab2_edge_detector_fires_where_0_turns_to_1(engine: str) -> None:
    out = ENGINES[engine](LAB2_IMAGE[None, None], LAB2_KERNEL[None, None])
    np.testing.assert_array_equal(out[0, 0], LAB2_OUTPUT)


def test_the_lessons_hand_computed_values() -> None:
    # score = 1*1 + 2*0 + 5*0 + 3*(-1) = -2, and exercise 2: out[1, 0] from the patch [[5, 3], [2, 1]]
    assert np.sum(LAB1_IMAGE[0:2, 0:2] * LAB1_KERNEL) == -2
    rows, cols = reference.window(1, 0, (2, 2), (1, 1), (1, 1))
    np.testing.assert_array_equal(LAB1_IMAGE[rows, cols], [[5, 3], [2, 1]])
    assert F.conv2d(LAB1_IMAGE[None], LAB1_KERNEL[None, None])[0, 1, 0] == 5 * 1 + 3 * 0 + 2 * 0 + 1 * (-1) == 4


@pytest.mark.parametrize(
    ("layer", "input_shape", "output_shape", "weight_shape"),
    [
        (
            nn.Conv2d(1, 2, kernel_size=3, stride=2, padding=1),
            (1, 1, 6, 6),
            (1, 2, 3, 3),
            (2, 1, 3, 3),
        ),  # size lab
        (
            nn.Conv2d(1, 2, kernel_size=3, stride=1, padding=1),
            (1, 1, 6, 6),
            (1, 2, 6, 6),
            (2, 1, 3, 3),
        ),  # exercise 3
        (nn.Conv2d(3, 8, kernel_size=3, padding=1), (2, 3, 32, 32), (2, 8, 32, 32), (8, 3, 3, 3)),  # channel lab
        (nn.Conv2d(3, 16, kernel_size=3, padding=1), (2, 3, 32, 32), (2, 16, 32, 32), (16, 3, 3, 3)),  # exercise 4
        (
            nn.Conv2d(1, 4, kernel_size=3, stride=1, padding=1),
            (1, 1, 8, 8),
            (1, 4, 8, 8),
            (4, 1, 3, 3),
        ),  # conv2d lab
    ],
)
def test_shape_labs(layer: nn.Conv2d, input_shape: tuple, output_shape: tuple, weight_shape: tuple) -> None:
    x = np.random.default_rng(0).standard_normal(input_shape).astype(np.float32)
    assert layer(x).shape == output_shape
    assert layer.weight.shape == weight_shape
    assert layer.bias is not None
    assert layer.bias.shape == (weight_shape[0],)


def test_exercise_5_nhwc_to_nchw_is_a_transpose() -> None:
    nhwc = np.random.default_rng(0).standard_normal((2, 8, 8, 3)).astype(np.float32)
    conv = nn.Conv2d(3, 4, 3, seed=0)
    assert conv(nhwc.transpose(0, 3, 1, 2)).shape == (2, 4, 6, 6)


def test_why_not_flatten_parameter_counts() -> None:
    assert nn.Linear(32 * 32, 512).weight.size == 1024 * 512 == 524288
    assert 224 * 224 * 3 == 150528
    assert nn.Conv2d(3, 8, 3).weight.size == 8 * 3 * 3 * 3  # the same 216 weights at every position
