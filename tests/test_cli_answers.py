"""The command's answers to slips a user makes: each gets one line that points the way, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convlab.cli import build_parser, main
from convlab.cli.options import negative_values
from convlab.cli.warning_lines import warning_line, warnings_as_lines
from convlab.errors import ArgumentError, ConvlabWarning
from convlab.lesson import labs
from convlab.network.check import check
from tests.conftest import environment_for_the_convlab_under_test


def _one_error_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's own checks exit from inside parsing
        code = exit.code
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("convlab: error: ")
    return lines[0]


def test_a_misspelt_lab_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    line = _one_error_line(["lab", "manual_con"], capsys)
    assert line.endswith("(fix: convlab lab manual_conv   # the closest name)")
    with pytest.raises(ArgumentError) as raised:
        labs.run("chanel")
    assert raised.value.fix == 'convlab.lesson.labs.run("channel")   # the closest name'


@pytest.mark.parametrize(("at", "fix"), [("-1,0", "--at 0,0"), ("1,-5", "--at 1,0"), ("-1", None)])
def test_a_negative_position_reaches_the_position_check(
    at: str, fix: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _one_error_line(["explain", "--lab", "manual_conv", "--at", at], capsys)
    if fix is None:  # one number is not a position; argparse's own check says so
        assert "expected a row and a column" in line
    else:
        assert "is outside the 3x3 output" in line
        assert line.endswith(f"(fix: {fix})")


def test_only_a_flag_that_takes_a_value_is_joined_to_a_negative_word() -> None:
    parser = build_parser()
    assert negative_values(["explain", "--at", "-1,0"], parser) == ["explain", "--at=-1,0"]
    assert negative_values(["lab", "edge", "--kernel", "-1,1"], parser) == ["lab", "edge", "--kernel=-1,1"]
    assert negative_values(["lab", "--formula", "-1,0"], parser) == ["lab", "--formula", "-1,0"]  # a switch
    assert negative_values(["exercises", "check", "2", "-4"], parser) == ["exercises", "check", "2", "-4"]


@pytest.mark.parametrize(
    "argv",
    [
        ["size", "--input", "5", "--kernel", "2", "--bogus"],
        ["check", "lenet5", "--stride", "2"],
        ["lab", "manual_conv", "--out-chanels", "3"],
        ["explain", "--lab", "manual_conv", "extra"],
    ],
)
def test_an_unknown_flag_points_to_its_commands_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    line = _one_error_line(argv, capsys)
    assert "unrecognized arguments" in line
    assert line.endswith(f"(see convlab {argv[0]} --help)")


def test_check_without_an_input_is_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    line = _one_error_line(["check", "conv3x3(8) relu"], capsys)
    assert "no input shape of its own" in line
    assert line.endswith("(fix: --input 3x224x224)")
    with pytest.raises(ArgumentError, match="no input shape of its own") as raised:
        check("conv3x3(8) relu")
    assert raised.value.fix == 'input="3x224x224"'
    assert check("lenet5").ok  # a preset brings its own input


def test_ceil_mode_without_pool_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    line = _one_error_line(["size", "--input", "7", "--kernel", "2", "--ceil-mode"], capsys)
    assert line.endswith("(fix: add --pool)")
    assert main(["size", "--input", "7", "--kernel", "2", "--ceil-mode", "--pool"]) == 0


def _picture(path: Path) -> Path:
    pixels = (np.arange(36).reshape(6, 6) * 7).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def test_a_picture_in_a_lab_is_used_as_is_and_said_so(tmp_path: Path) -> None:
    picture = _picture(tmp_path / "ramp.png")
    with pytest.warns(ConvlabWarning, match=r"values up to 245, used as they are \(0\.\.255\)"):
        lab = labs.value_lab("manual_conv", image=str(picture))
    np.testing.assert_array_equal(lab.image, np.arange(36).reshape(6, 6) * 7)  # the values, unscaled
    with pytest.warns(ConvlabWarning, match="uint8-not-scaled"):
        labs.value_lab("manual_conv", image=np.asarray(Image.open(picture)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        labs.value_lab("manual_conv", image=np.asarray(Image.open(picture)) / 255)  # scaled: nothing to say


def test_warnings_are_one_line_in_the_commands_language() -> None:
    with pytest.warns(ConvlabWarning) as caught:
        labs.value_lab("manual_conv", stride=3)
    line = warning_line(caught[0].message)
    assert line.startswith("convlab: warning: conv2d: stride (3, 3) is larger than the kernel's span")
    assert "\n" not in line
    assert "silence: CONVLAB_WARNINGS=0" in line
    assert "convlab.diagnose.quiet()" not in line
    shown: list[str] = []
    with warnings_as_lines():
        warnings.showwarning("a\n  b", UserWarning, "/x/y.py", 3, file=_Lines(shown))
    assert shown == ["convlab: warning: a b\n"]


class _Lines:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def write(self, text: str) -> None:
        if text.strip():
            self.lines.append(text + "\n" if not text.endswith("\n") else text)


@pytest.mark.parametrize(
    "argv",
    [
        ["lab", "manual_conv", "--stride", "3"],
        ["lab", "manual_conv", "--image", "{picture}"],
        ["explain", "--lab", "manual_conv", "--stride", "3", "--at", "0,0"],
    ],
)
def test_no_raw_python_warning_reaches_the_terminal(argv: list[str], tmp_path: Path) -> None:
    picture = _picture(tmp_path / "ramp.png")
    result = subprocess.run(
        [sys.executable, "-W", "always", "-m", "convlab", *(word.format(picture=picture) for word in argv)],
        capture_output=True,
        text=True,
        env=environment_for_the_convlab_under_test(),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines
    assert all(line.startswith("convlab: warning: ") for line in lines), lines
    assert ".py:" not in result.stderr
