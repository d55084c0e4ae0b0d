"""The edge-likeness measure: oriented edges score near 1 at the angle drawn, noise and blobs score low."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.errors import ShapeError
from convlab.lesson.edge_likeness import EDGE_LIKE_SHARE, edge_fit, edge_fits

_OFFSETS = np.arange(5) - 2.0
_X, _Y = np.meshgrid(_OFFSETS, -_OFFSETS)  # y grows upwards, as the measure's angles do


def _across_and_along(angle: float) -> tuple[np.ndarray, np.ndarray]:
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return _X * cos + _Y * sin, -_X * sin + _Y * cos


def _angle_apart(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


@pytest.mark.parametrize(
    ("kernel", "angle"),
    [
        ([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], 0),  # Sobel: bright on the right
        ([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], 90),  # bright above
        ([[-1, -1, -1], [0, 0, 0], [1, 1, 1]], 270),  # Prewitt: bright below
        ([[0, 1, 1], [-1, 0, 1], [-1, -1, 0]], 45),  # bright towards the top right
        ([[-1, 1]], None),  # the lesson's 1x2 kernel is not square
    ],
)
def test_sobel_and_prewitt_are_edges_at_their_angle(kernel: list[list[int]], angle: int | None) -> None:
    if angle is None:
        with pytest.raises(ShapeError, match="fix:"):
            edge_fit(kernel)
        return
    fit = edge_fit(kernel)
    assert fit.share > 0.85
    assert fit.edge_like
    assert _angle_apart(fit.angle, angle) <= 5


@settings(max_examples=60, deadline=None)
@given(
    angle=st.floats(0, 360, exclude_max=True),
    offset=st.floats(-1, 1),
    blur=st.floats(0.3, 1.2),
    scale=st.floats(0.01, 100),
)
def test_a_step_at_any_angle_and_offset_is_found(angle: float, offset: float, blur: float, scale: float) -> None:
    across, _ = _across_and_along(angle)
    step = np.vectorize(math.erf)((across - offset) / blur)
    kernel = scale * (step - step.mean())
    fit = edge_fit(kernel)
    assert fit.share > 0.9
    assert _angle_apart(fit.angle, angle) <= 10
    # a kernel's mean is brightness, not edge: it lowers the share by its part of the energy
    brighter = kernel + np.sqrt(np.sum(kernel**2) / kernel.size)  # as much mean as edge
    assert edge_fit(brighter).share == pytest.approx(fit.share / 2)


@settings(max_examples=60, deadline=None)
@given(angle=st.floats(0, 360, exclude_max=True), sigma=st.floats(0.8, 2.0))
def test_a_derivative_of_gaussian_at_any_angle_is_found(angle: float, sigma: float) -> None:
    across, along = _across_and_along(angle)
    fit = edge_fit(across * np.exp(-(across**2 + along**2) / (2 * sigma**2)))
    assert fit.share > 0.9
    assert _angle_apart(fit.angle, angle) <= 5
    flipped = edge_fit(-across * np.exp(-(across**2 + along**2) / (2 * sigma**2)))
    assert _angle_apart(flipped.angle, angle + 180) <= 5  # the bright side turns with the sign


def test_noise_constants_blobs_and_rings_are_not_edges() -> None:
    noise = np.random.default_rng(0).normal(size=(400, 1, 5, 5))
    shares = np.array([fit.share for fit in edge_fits(noise)])
    assert shares.mean() < 0.3  # about 0.21 for 5x5 noise
    assert np.mean(shares >= EDGE_LIKE_SHARE) < 0.02  # about one kernel in 500
    radius = np.hypot(_X, _Y)
    assert edge_fit(np.full((5, 5), 0.7)).share < 1e-20  # nothing but brightness
    assert edge_fit(np.exp(-(radius**2) / 2)).share < 0.5  # a bump: a spot, not an edge
    assert edge_fit(np.exp(-((radius - 1.5) ** 2))).share < 0.2  # a ring
    assert edge_fit(np.exp(-(_X**2))).share < 0.5  # a line is two edges back to back


def test_edge_fits_sums_input_channels_and_refuses_other_shapes() -> None:
    across, _ = _across_and_along(90)
    weight = np.stack([np.stack([across, across]), np.stack([-across, np.zeros((5, 5))])])
    up, down = edge_fits(weight)
    assert (up.angle, down.angle) == (90, 270)
    with pytest.raises(ShapeError, match=r"model\[0\]\.weight"):
        edge_fits(np.zeros((5, 5)))
