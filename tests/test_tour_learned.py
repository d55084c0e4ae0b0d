"""The tour's chapter "Kernels are learned": Lab 2's kernel learned from data, the shipped model's kernels."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from convlab.cli import tour
from convlab.data import digits, trained_digits_model
from convlab.errors import ShapeError
from convlab.lesson.edge_kernels import EDGE_DETECTORS, edge_detectors, edge_matches


@pytest.fixture(scope="module")
def chapter(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    out = tmp_path_factory.mktemp("tour")
    return tour._learned(out), out


def test_the_chapter_learns_the_lessons_edge_kernel(chapter: tuple[list[str], Path]) -> None:
    lines, _ = chapter
    steps = [
        re.fullmatch(r"  step +(\d+)  kernel \[([-+.\d]+), ([-+.\d]+)\](?:  error (\S+))?", line) for line in lines
    ]
    shown = [match for match in steps if match]
    assert [int(match[1]) for match in shown] == [0, 1, 2, 5, 10, 20, 40, 60]
    errors = [float(match[4]) for match in shown[:-1]]
    assert errors == sorted(errors, reverse=True)  # the error falls at every step shown
    final = np.array([float(shown[-1][2]), float(shown[-1][3])])
    np.testing.assert_allclose(final, [-1, 1], atol=1e-3)  # the lesson's [-1, 1]
    assert any(line.startswith("learned kernel [-1.000, +1.000]: the lesson's [-1, 1]") for line in lines)


def test_the_chapter_reports_the_shipped_models_accuracy_as_pytorch_measures_it(
    chapter: tuple[list[str], Path],
) -> None:
    lines, _ = chapter
    images, labels = digits("test")
    with torch.no_grad():
        scores = trained_digits_model().to_torch().eval()(torch.from_numpy(images))
    right = int((scores.argmax(1).numpy() == labels).sum())
    assert f"  {right} of the 450 test digits right ({100 * right / 450:.1f}%)" in lines
    assert right / 450 >= 0.97


def test_the_chapter_names_the_kernels_that_match_an_edge_detector(chapter: tuple[list[str], Path]) -> None:
    lines, _ = chapter
    weight = trained_digits_model()[0].weight.astype(np.float64)
    listed = [re.fullmatch(r"  kernel (\d+): a (.+), bright (.+) \(cosine ([.\d]+)\)", line) for line in lines]
    for match in filter(None, listed):
        kernel = weight[int(match[1]), 0] - weight[int(match[1]), 0].mean()
        detector, sides = EDGE_DETECTORS[match[2]]
        cosine = (kernel * detector).sum() / np.linalg.norm(kernel) / np.linalg.norm(detector)
        assert abs(cosine) == pytest.approx(float(match[4]), abs=0.005)
        assert abs(cosine) >= 0.7
        assert match[3] == sides[0 if cosine > 0 else 1]
    count = sum(1 for match in listed if match)
    assert f"edge detector at four orientations, {count} match one closely (cosine >= 0.7):" in lines


def test_the_chapter_writes_its_three_pictures(chapter: tuple[list[str], Path]) -> None:
    lines, out = chapter
    for name in ("kernel-descent.png", "learned-filters.png", "learned-features.png"):
        with Image.open(out / name) as picture:
            assert picture.format == "PNG"
            assert min(picture.size) > 300
        assert any(line.startswith(f"{name}: ") for line in lines)


@pytest.mark.parametrize("name", list(EDGE_DETECTORS))
def test_each_edge_detector_is_its_own_best_match_and_its_negative_is_bright_on_the_other_side(name: str) -> None:
    detector, (bright, dark) = EDGE_DETECTORS[name]
    found, flipped = edge_matches(np.stack([detector, -detector])[:, None])
    assert (found.orientation, found.bright, flipped.orientation, flipped.bright) == (name, bright, name, dark)
    assert found.cosine == pytest.approx(1.0)
    assert flipped.cosine == pytest.approx(1.0)


def test_a_flat_kernel_matches_no_edge() -> None:
    (match,) = edge_matches(np.full((1, 1, 3, 3), 0.5))
    assert (match.orientation, match.cosine, match.bright) == ("no pattern", 0.0, "none")


@given(
    kernel=arrays(np.float64, (3, 3), elements=st.integers(-4000, 4000).map(lambda v: v / 1000)),
    scale=st.floats(0.1, 10),
    shift=st.floats(-3, 3),
)
def test_the_match_is_the_largest_cosine_whatever_the_brightness_and_contrast(
    kernel: np.ndarray, scale: float, shift: float
) -> None:
    assume(np.ptp(kernel) > 0)  # a flat kernel has no pattern (tested above); shifted, rounding would give it one
    centred = kernel - kernel.mean()
    norms = [np.linalg.norm(centred) * np.linalg.norm(detector) for detector, _ in EDGE_DETECTORS.values()]
    cosines = [
        abs((centred * detector).sum()) / norm for (detector, _), norm in zip(EDGE_DETECTORS.values(), norms)
    ]
    for weight in (kernel, kernel * scale + shift):
        (match,) = edge_matches(weight[None, None])
        assert match.cosine == pytest.approx(max(cosines), abs=1e-6)
        if max(cosines) > 1e-6:
            assert cosines[list(EDGE_DETECTORS).index(match.orientation)] == pytest.approx(max(cosines), abs=1e-6)


def test_kernels_that_are_not_odd_and_square_are_refused_with_a_fix() -> None:
    refusal = r"weight has shape \(4, 1, 4, 4\), not \(C_out, C_in, k, k\) with k odd"
    with pytest.raises(ShapeError, match=refusal) as caught:
        edge_matches(np.zeros((4, 1, 4, 4)))
    assert "model[0].weight" in (caught.value.fix or "")


@pytest.mark.parametrize("size", [5, 7])
def test_larger_kernels_meet_edges_and_lines_each_its_own_best_match(size: int) -> None:
    detectors = edge_detectors(size)
    assert len(detectors) == 8
    for name, (detector, (bright, dark)) in detectors.items():
        found, flipped = edge_matches(np.stack([detector, -detector])[:, None])
        assert (found.orientation, found.bright, flipped.orientation, flipped.bright) == (name, bright, name, dark)
        assert found.cosine == pytest.approx(1.0)
        assert found.edge_like


def test_a_5x5_step_is_an_edge_a_stripe_a_line_and_noise_neither() -> None:
    step = np.where(np.arange(5) >= 3, 1.0, 0.0)[None, :].repeat(5, axis=0)  # bright on the right
    stripe = np.where(np.arange(5) == 2, 1.0, 0.0)[:, None].repeat(5, axis=1)  # a bright horizontal row
    noise = np.random.default_rng(0).standard_normal((5, 5))
    step_match, stripe_match, noise_match = edge_matches(np.stack([step, stripe, noise])[:, None])
    assert (step_match.orientation, step_match.bright) == ("vertical edge", "on the right")
    assert (stripe_match.orientation, stripe_match.bright) == ("horizontal line", "on the line")
    assert step_match.edge_like
    assert stripe_match.edge_like
    assert not noise_match.edge_like
