"""explain: the lesson's arithmetic for any output value, checked against the engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

import convlab.functional as F
from convlab.cli import main
from convlab.errors import ArgumentError
from convlab.lesson.explain import explain, explain_all
from convlab.lesson.explain_text import equation
from tests.oracle import count, floor_of, torch_conv2d
from tests.strategies import ConvConfig, conv_configs

IMAGE = [[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]
KERNEL = [[1, 0], [0, -1]]


def _by_hand(i: int, j: int) -> str:
    """The lesson's written form, built independently of convlab."""
    terms, total = [], 0
    for a in range(2):
        for b in range(2):
            p, k = IMAGE[i + a][j + b], KERNEL[a][b]
            terms.append(f"{p}*{k}" if k >= 0 else f"{p}*({k})")
            total += p * k
    return f"{' + '.join(terms)} = {total}"


@pytest.mark.parametrize(("i", "j"), [(i, j) for i in range(3) for j in range(3)])
def test_every_cell_of_lab_1(i: int, j: int) -> None:
    trace = explain(IMAGE, KERNEL, at=(i, j))
    assert equation(trace.terms[0]) == _by_hand(i, j)
    assert trace.value == trace.total
    assert trace.rows == (i, i + 1)
    assert trace.cols == (j, j + 1)


def test_the_lessons_two_worked_values() -> None:
    assert equation(explain(IMAGE, KERNEL, at=(0, 0)).terms[0]) == "1*1 + 2*0 + 5*0 + 3*(-1) = -2"
    assert equation(explain(IMAGE, KERNEL, at=(1, 0)).terms[0]) == "5*1 + 3*0 + 2*0 + 1*(-1) = 4"


@settings(max_examples=150)
@given(conv_configs(allow_empty_batch=False))
def test_traces_sum_to_the_engines_output(cfg: ConvConfig) -> None:
    """Every traced value, rebuilt from its patches, kernels and bias, equals conv2d's output."""
    count("explain == conv2d")
    x, w, b = cfg.arrays()
    out = F.conv2d(x, w, b, **cfg.kwargs())
    zeros = np.zeros(out.shape)
    theirs = torch_conv2d(cfg, x, w, b, zeros)["output"]  # PyTorch's values, not the engine's own
    scale = torch_conv2d(cfg, np.abs(x), np.abs(w), None if b is None else np.abs(b), zeros)["output"]
    o = cfg.seed % cfg.out_channels
    kwargs = cfg.kwargs()
    for trace in explain_all(x, w, b, out_channel=o, **kwargs):
        i, j = trace.position
        at = (o, i, j) if cfg.batch is None else (0, o, i, j)
        assert trace.value == out[at]  # the explanation shows the engine's own answer ...
        bound = 1e-12 * (scale[at] + floor_of((x, w)))  # ... and its sum is PyTorch's, within the oracle's bound
        assert abs(trace.total - theirs[at]) <= bound
        assert len(trace.terms) == cfg.in_channels // cfg.groups


def test_window_rows_through_stride_padding_and_dilation() -> None:
    trace = explain(np.ones((7, 7)), np.ones((3, 3)), at=(1, 2), stride=2, padding=1, dilation=2)
    assert trace.rows == (2, 4, 6)  # padded rows: start 1*2, every 2nd
    assert trace.input_rows == (1, 3, 5)
    assert trace.cols == (4, 6, 8)
    assert trace.input_cols == (3, 5, 7)  # 7 is the right padding


def test_multi_channel_sum_with_bias(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["explain", "--image", "1 2; 3 4 | 5 6; 7 8", "--kernel", "1 1; 1 1 | 1 -1; 1 -1", "--bias", "0.5"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "1*1 + 2*1 + 3*1 + 4*1 = 10" in printed
    assert "5*1 + 6*(-1) + 7*1 + 8*(-1) = -2" in printed
    assert "sum over channels: 10 + (-2) + bias 0.5 = 8.5" in printed
    assert "out[0, 0] = 8.5" in printed


def test_cli_explains_a_lab_value(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--lab", "manual_conv", "--at", "1,0", "--color", "never"]) == 0
    printed = capsys.readouterr().out
    assert "out[1, 0] reads input rows 1..2, cols 0..1" in printed
    assert "[5][3]" in printed  # the window, marked without colour
    assert "5*1 + 3*0 + 2*0 + 1*(-1) = 4" in printed


def test_padding_is_fenced_off(capsys: pytest.CaptureFixture[str]) -> None:
    main(["explain", "--image", "1 2; 3 4", "--kernel", "1 1; 1 1", "--padding", "1", "--color", "never"])
    printed = capsys.readouterr().out
    assert "---+" in printed
    assert "[0]|[0]" in printed


def test_all_frames_fill_the_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--lab", "manual_conv", "--all", "--color", "never"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("step ") == 9
    last = printed.split("step 9/9")[1]
    assert "·" not in last  # every value filled in by the last frame


def test_colour_marks_the_window_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    main(["explain", "--lab", "manual_conv", "--color", "always"])
    assert "\x1b[30;43m" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--lab", "manual_conv", "--at", "3,0"], "outside the 3x3 output"),
        (["--image", "1 2; 3", "--kernel", "1"], "different lengths"),
        (["--image", "1 2; 3 4", "--kernel", "1 2 3; 4 5 6; 7 8 9"], "kernel spans 3"),
        (["--image", "1 2; 3 4"], "needs --lab, or both --image and --kernel"),
        (["--lab", "manual_conv", "--channel", "2"], "out_channel 2 does not exist"),
        (["--image", "1 x; 3 4", "--kernel", "1"], "'x', which is not a number"),
        (["--image", "1 2; 3 4 | 5 6", "--kernel", "1"], "image channels have different shapes"),
        (["--image", "1 2 | 3 x", "--kernel", "1"], "image channel 1 row 1 has 'x'"),
        (["--image", "1 2; 3 4", "--kernel", "nan"], "kernel row 1 has nan, which is not a finite"),
        (["--image", "1 2; 3 1e39", "--kernel", "1"], "image row 2 has 1e+39, which is not a finite"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    args: list[str], phrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", *args]) == 2
    err = capsys.readouterr().err
    assert phrase in err
    assert err.count("\n") == 1


def test_position_outside_is_refused_by_the_api() -> None:
    with pytest.raises(ArgumentError, match=r"position \(0, 5\)"):
        explain(IMAGE, KERNEL, at=(0, 5))


@pytest.mark.parametrize(
    "operands",
    [
        ["--lab", "edge", "--at", "1,2"],
        ["--image", "1 2 0; 3 4 1; 0 1 2 | 5 6 1; 7 8 0; 1 0 3", "--kernel", "1 1; 1 -1", "--bias", "0.5"],
        ["--lab", "manual_conv", "--kernel", "0 1; -1 0", "--padding", "1", "--stride", "2", "--at", "2,1"],
    ],
    ids=["a lab", "two channels, one 2-D kernel", "a lab with its kernel replaced"],
)
def test_explain_and_its_picture_read_the_same_operands_and_say_the_same_sums(
    operands: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", *operands]) == 0
    text = capsys.readouterr().out.splitlines()
    assert main(["draw", "explain", *operands, "--out", str(tmp_path / "explain.png")]) == 0
    drawn = capsys.readouterr().out.splitlines()[:-1]  # the last line says which file it wrote
    assert drawn
    assert {line.strip() for line in drawn} <= {line.strip() for line in text}  # the picture quotes them
    assert drawn[-1] == text[-1]  # out[i, j] = the value


def test_only_the_window_picture_pads_each_side_by_hand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sides = ["--lab", "manual_conv", "--padding", "1,0,0,2"]
    assert main(["draw", "window", *sides, "--no-strip", "--out", str(tmp_path / "w.gif")]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("-> output 4x5")  # (4+1+0-2)+1, (4+0+2-2)+1
    for command in (["explain"], ["draw", "explain", "--out", str(tmp_path / "e.png")]):
        with pytest.raises(SystemExit) as refused:  # argparse refuses it: the flag's help never offers it
            main([*command, *sides])
        assert refused.value.code == 2
        assert "--padding: expected a number or two" in capsys.readouterr().err
