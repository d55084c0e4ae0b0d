"""Errors speak the caller's language: a Python fix from Python, the flag from the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import convlab
from convlab.cli import main
from convlab.errors import ArgumentError, ShapeError
from convlab.viz.features import feature_maps

IMAGE = [[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]
KERNEL = [[1, 0], [0, -1]]


def _cli_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    return lines[0]


def test_a_position_outside_the_output(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ArgumentError) as raised:
        convlab.explain(IMAGE, KERNEL, at=(5, 1))
    assert raised.value.fix == "at=(2, 1)"  # the 3x3 output's nearest row
    line = _cli_error(["explain", "--lab", "manual_conv", "--at", "5,1"], capsys)
    assert line.endswith("(fix: --at 2,1)")


def test_an_output_channel_that_does_not_exist(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ArgumentError) as raised:
        convlab.explain(IMAGE, KERNEL, out_channel=3)
    assert raised.value.fix == "out_channel=0"
    line = _cli_error(["explain", "--lab", "manual_conv", "--channel", "3"], capsys)
    assert line.endswith("(fix: --channel 0)")


def test_a_kernel_larger_than_the_padded_input(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ShapeError) as raised:
        convlab.explain(np.ones((1, 2, 2)), np.ones((1, 1, 3, 3)))
    assert raised.value.fix is not None
    assert "padding=" in raised.value.fix
    line = _cli_error(["explain", "--image", "1 1; 1 1", "--kernel", "1 1 1; 1 1 1; 1 1 1"], capsys)
    assert "--padding " in line
    assert "padding=" not in line


def test_an_unknown_kernel_name(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(ArgumentError) as raised:
        feature_maps("camera", ["sobelx"])
    assert raised.value.fix == 'kernels=["sobel_x"]'
    line = _cli_error(["draw", "features", "--kernel", "sobelx", "--out", str(tmp_path / "features.png")], capsys)
    assert line.endswith("(fix: --kernel sobel_x)")
