"""Convolution versus cross-correlation: conv2d (as PyTorch's) keeps the kernel as it is, convolve2d flips it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convlab.functional as F
from convlab.cli import tour

signal = pytest.importorskip("scipy.signal")

LAB1_IMAGE = np.array([[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]], dtype=np.float64)
LAB1_KERNEL = np.array([[1, 0], [0, -1]], dtype=np.float64)


@settings(max_examples=60, deadline=None)
@given(
    size=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    kernel=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    seed=st.integers(0, 2**16),
)
def test_conv2d_is_convolve2d_with_the_kernel_flipped(
    size: tuple[int, int], kernel: tuple[int, int], seed: int
) -> None:
    kernel = (min(kernel[0], size[0]), min(kernel[1], size[1]))
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(size), rng.standard_normal(kernel)
    ours = F.conv2d(x[None, None], w[None, None])[0, 0]
    np.testing.assert_allclose(ours, signal.convolve2d(x, w[::-1, ::-1], mode="valid"), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(signal.correlate2d(x, w, mode="valid"), ours, rtol=1e-12, atol=1e-12)


def test_on_lab_1_convolution_proper_changes_every_sign() -> None:
    # [[1, 0], [0, -1]] turned half a turn is [[-1, 0], [0, 1]], minus itself: the flip negates Lab 1's output.
    lab1 = F.conv2d(LAB1_IMAGE[None, None], LAB1_KERNEL[None, None])[0, 0]
    np.testing.assert_array_equal(lab1, [[-2, 2, -4], [4, 0, -1], [0, 0, 1]])  # the lesson's expected output
    np.testing.assert_array_equal(signal.convolve2d(LAB1_IMAGE, LAB1_KERNEL, mode="valid"), -lab1)


def test_the_tours_chapter_runs_the_check_on_lab_1(tmp_path: Path) -> None:
    lines = tour._correlation(tmp_path)
    text = "\n".join(lines)
    assert "[[ 2. -2.  4.]\n [-4.  0.  1.]\n [ 0.  0. -1.]]" in text
    assert "top-left value: 1*(-1) + 2*0 + 5*0 + 3*1 = 2" in text
    assert "conv2d(x, w) equals convolve2d(x, w[::-1, ::-1], 'valid'): yes" in text
    assert "convolve2d(x, w, 'valid') equals conv2d(x, w[::-1, ::-1]): yes" in text
    assert "NO" not in text
    assert ("Convolution or cross-correlation?", tour._correlation) in tour.SECTIONS


def test_the_chapter_without_scipy_says_what_it_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "scipy" else real(name, *a))
    lines = tour._correlation(tmp_path)
    assert lines[-1] == "SciPy is not installed, so the check against scipy.signal.convolve2d was skipped."
    assert "top-left value: 1*(-1) + 2*0 + 5*0 + 3*1 = 2" in lines


def test_the_readmes_one_line_check_runs() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Convolution or cross-correlation?", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert "convolve2d(x, w[::-1, ::-1]" in code
    exec(compile(code, "README.md", "exec"), {})
