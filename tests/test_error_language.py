"""Errors speak the caller's language: a Python fix from Python, the flag from the command line."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import convlab
from convlab.cli import build_parser, main
from convlab.cli.fixes import command_flags, in_flags
from convlab.errors import ArgumentError, Call, ConvlabError, ShapeError
from convlab.lesson import exercises, labs
from convlab.network.shapes import conv2d_output_size
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


# --- every command: the fix is written as its flags (or, for a layer string, as the layer string) -----------

PYTHON_ASSIGNMENT = re.compile(r"\b[a-z_]+=")  # padding=1, at=(0, 0), input_shape="..."

COMMAND_FIXES = [
    (["lab", "size", "--stride", "0"], "use --stride 1 or larger"),
    (["lab", "size", "--kernel-size", "9"], "--padding 2   # pad by at least 2"),
    (["lab", "manual_conv", "--dilation", "0"], "use --dilation 1 or larger"),
    (["size", "--input", "5", "--kernel", "7"], "--padding 1   # pad by at least 1"),
    (["size", "--input", "5", "--kernel", "0"], "use --kernel 1 or larger"),
    (["size", "--input", "5", "--kernel", "3", "--stride", "2", "--padding", "same"], "--padding 1,1"),
    (["summary", "conv5x5(32) conv5x5(32)", "--input", "3x4x4"], "conv5x5(32,p1)   # pad by at least 1"),
    (["summary", "conv5x5(32)"], "--input 3x224x224"),
    (["summary", "maxpool(3,p2)", "--input", "3x8x8"], "use maxpool(3,p1) or less"),
    (["rf", "conv5x5(32,s2) relu", "--input", "3x4x4"], "conv5x5(32,s2,p1)"),
    (["check", "conv5x5(32)", "--input", "{out}.npy"], "give a shape such as 3x224x224, or a file"),
    (
        ["explain", "--image", "1 2; 3 4", "--kernel", "1 1; 1 1", "--stride", "2", "--padding", "same"],
        "--padding 0,0",
    ),
    (
        ["explain", "--image", "1 2; 3 4", "--kernel", "1 1; 1 1", "--padding-mode", "reflect", "--padding", "3"],
        "use --padding-mode replicate or --padding-mode zeros",
    ),
    (
        ["draw", "window", "--image", "1 2; 3 4", "--kernel", "1 1 1; 1 1 1; 1 1 1", "--out", "{out}.gif"],
        "--padding 1",
    ),
    (
        ["draw", "window", "--lab", "manual_conv", "--transposed", "--padding", "5", "--out", "{out}.gif"],
        "use --padding 2 or less",
    ),
    (["draw", "explain", "--lab", "manual_conv", "--channel", "2", "--out", "{out}.png"], "--channel 0"),
    (["draw", "rf", "conv5x5(8)", "--input", "1x4x4", "--out", "{out}.png"], "conv5x5(8,p1)"),
    (["draw", "params", "--kernel-size", "0", "--out", "{out}.png"], "use --kernel-size 1 or larger"),
    (["draw", "gallery", "--out", "{file}"], "another name, e.g. --out a-file-2"),
    (["tour", "--out", "{full}"], "--force to write into it, or another folder, e.g. --out full-2"),
    (["flatten", "--outputs", "0"], "use --outputs 1 or larger"),
    (["exercises", "9"], "convlab exercises 5"),
    (["serve", "--port", "99999"], "--port 8000, or --port 0 for any free one"),
]


@pytest.mark.parametrize(("argv", "fix"), COMMAND_FIXES, ids=[" ".join(argv[:2]) for argv, _ in COMMAND_FIXES])
def test_every_command_writes_its_fix_in_its_own_flags(
    argv: list[str], fix: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "kept.txt").write_text("")
    argv = [
        part.format(out=tmp_path / "picture", file=tmp_path / "a-file", full=tmp_path / "full") for part in argv
    ]
    line = _cli_error(argv, capsys)
    written = line.partition("(fix: ")[2]
    assert fix in written
    assert not PYTHON_ASSIGNMENT.search(written), line


def test_check_lists_a_layer_strings_problems_with_layer_string_fixes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "conv5x5(32) conv5x5(32)", "--input", "3x4x4"]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first.endswith(
        "fix: conv5x5(32,p1)   # pad by at least 1 on each side along H, or use a smaller kernel"
    )


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 12), kernel=st.integers(1, 9), stride=st.integers(1, 3))
def test_the_same_overshoot_is_fixed_in_each_callers_language_and_each_fix_works(
    size: int, kernel: int, stride: int
) -> None:
    """A kernel larger than the input: Python gets ``padding=p``, the layer string ``conv..(4,s..,pP)``; each
    applied as written gives an output."""
    assume(kernel > size)
    with pytest.raises(ShapeError) as from_python:
        conv2d_output_size(size, kernel, stride)
    assert from_python.value.fix is not None
    pad = int(re.match(r"padding=(\d+)", from_python.value.fix).group(1))  # type: ignore[union-attr]
    assert conv2d_output_size(size, kernel, stride, pad) >= 1  # type: ignore[operator]

    layers = f"conv{kernel}x{kernel}(4,s{stride})"
    with pytest.raises(ShapeError) as from_string:
        convlab.summary(layers, (1, size, size))
    assert from_string.value.fix is not None
    written = from_string.value.fix.split()[0]
    assert written == f"conv{kernel}x{kernel}(4,s{stride},p{pad})"
    assert convlab.summary(written, (1, size, size)).layers[0].output_shape[2] >= 1


def test_library_errors_never_suggest_flags() -> None:
    with pytest.raises(ArgumentError) as raised:
        convlab.summary("conv3x3(8)")
    assert raised.value.fix == 'e.g. input_shape="3x224x224"'
    with pytest.raises(ArgumentError) as raised:
        feature_maps("/no/such/picture.txt", ["sobel_x"])
    assert raised.value.fix is not None
    assert raised.value.fix.startswith('image="camera"')


# --- a fix that is a call to make again: Python gets the call, the command line the command -------------------


def _python_fix(raising: object) -> ConvlabError:
    """The error ``raising()`` raises, checked to carry its fix as a call."""
    with pytest.raises(ConvlabError) as raised:
        raising()  # type: ignore[operator]
    assert isinstance(raised.value.call, Call)
    assert raised.value.fix == str(raised.value.call)
    return raised.value


def _run_python(fix: str | None) -> object:
    """Run a Python fix as written (its note is a comment), as a user pasting it would."""
    assert fix is not None
    return eval(fix, {"convlab": convlab})


def _as_command(error: ConvlabError, argv: list[str]) -> str:
    """The error's fix as the command ``argv`` would write it, through the one translation ``main`` uses."""
    args = build_parser().parse_args(argv)
    written = in_flags(error, command_flags(args), args.command_parser.prog).fix
    assert written is not None
    return written


def _command_words(fix: str) -> list[str]:
    """``convlab lab edge   # note`` -> ``["lab", "edge"]``, the words a shell would give ``main``."""
    words = shlex.split(fix, comments=True)
    assert words[0] == "convlab"
    return words[1:]


@settings(max_examples=30, deadline=None)
@given(number=st.integers(-(10**6), 10**6).filter(lambda n: not 1 <= n <= 5))
def test_an_exercise_that_does_not_exist_is_fixed_by_the_nearest_one_in_python(number: int) -> None:
    error = _python_fix(lambda: exercises.get(number))
    nearest = 1 if number < 1 else 5
    assert error.fix == f"convlab.lesson.exercises.get({nearest})"
    assert _run_python(error.fix) is exercises.EXERCISES[nearest - 1]


@settings(max_examples=10, deadline=None)
@given(number=st.integers(6, 10**6))
def test_an_exercise_that_does_not_exist_is_fixed_by_the_command_on_the_command_line(number: int) -> None:
    import contextlib
    import io

    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        assert main(["exercises", str(number)]) == 2
    assert stderr.getvalue().strip().endswith("(fix: convlab exercises 5)")


@pytest.mark.parametrize(("name", "fixed"), [("edg", "edge"), ("Size", "size"), ("nothing", "manual_conv")])
def test_a_lab_that_does_not_exist(name: str, fixed: str, capsys: pytest.CaptureFixture[str]) -> None:
    error = _python_fix(lambda: labs.run(name))
    assert error.fix is not None
    assert error.fix.startswith(f'convlab.lesson.labs.run("{fixed}")')
    assert _run_python(error.fix).name == fixed  # type: ignore[attr-defined]

    line = _cli_error(["lab", name], capsys)
    command = line.partition("(fix: ")[2].rstrip(")")
    assert command.startswith(f"convlab lab {fixed}")
    assert not PYTHON_ASSIGNMENT.search(command)
    assert main(_command_words(command)) == 0
    assert capsys.readouterr().out.startswith(f"{fixed}_lab")


def test_a_lab_option_that_does_not_exist(capsys: pytest.CaptureFixture[str]) -> None:
    """The command line refuses an unknown flag itself; a fix the lab writes reads as the command all the same."""
    error = _python_fix(lambda: labs.run("size", strid=1))
    assert error.fix == 'convlab.lesson.labs.run("size", stride=1)   # the closest option'
    assert _run_python(error.fix).layer.stride == (1, 1)  # type: ignore[attr-defined]

    command = _as_command(error, ["lab", "size"])
    assert command == "convlab lab size --stride 1   # the closest option"
    assert main(_command_words(command)) == 0
    assert "output: (1, 2, 6, 6)" in capsys.readouterr().out  # Lab 3's 6x6 input, padded by 1, now stride 1

    unlike_any = _python_fix(lambda: labs.run("edge", zzz=1))
    assert unlike_any.fix == 'convlab.lesson.labs.run("edge")   # with options from the list above'
    assert _as_command(unlike_any, ["lab", "edge"]) == "convlab lab edge   # with options from the list above"


def test_a_preset_that_does_not_exist(capsys: pytest.CaptureFixture[str]) -> None:
    from convlab.network.presets import preset

    error = _python_fix(lambda: preset("resnet1"))
    assert error.fix == 'convlab.network.presets.preset("resnet18")'
    graph, input_shape = _run_python(error.fix)  # type: ignore[misc]
    assert (graph.nodes[0].name, input_shape) == ("conv1", (3, 224, 224))  # ResNet's stem, at its published size

    command = _as_command(error, ["summary", "resnet1"])
    assert command == "convlab summary resnet18"
    assert main(_command_words(command)) == 0
    assert "resnet18" in capsys.readouterr().out


def test_a_text_matrix_fix_stays_one_word_on_the_command_line() -> None:
    with pytest.raises(ArgumentError) as raised:
        labs.run("manual_conv", kernel=[[[1, 0]], [[0, 1]]])
    assert raised.value.fix == 'kernel="1 0; 0 -1"'
    command = _as_command(raised.value, ["lab", "manual_conv"])
    assert command == '--kernel "1 0; 0 -1"'
    assert main(["lab", "manual_conv", *shlex.split(command)]) == 0


def test_an_output_folder_in_the_way_is_fixed_in_python_from_python(tmp_path: Path) -> None:
    from convlab.viz.gallery import gallery

    (tmp_path / "a-file").write_text("")
    with pytest.raises(ArgumentError) as in_the_way:
        gallery(tmp_path / "a-file")
    assert in_the_way.value.fix == 'another name, e.g. out="a-file-2"'
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "kept.txt").write_text("")
    with pytest.raises(ArgumentError) as not_empty:
        gallery(tmp_path / "full")
    assert not_empty.value.fix == 'force=True to write into it, or another folder, e.g. out="full-2"'


# --- a diagnosis's other way (padding="same" with a stride: solve_padding) in each caller's language ----------


@settings(max_examples=25, deadline=None)
@given(size=st.integers(5, 40), kernel=st.integers(1, 7), stride=st.integers(2, 4), dilation=st.integers(1, 2))
def test_same_with_a_stride_is_fixed_in_each_callers_language_and_each_way_works(
    size: int, kernel: int, stride: int, dilation: int
) -> None:
    """Python gets ``padding=p   # or convlab.shapes.solve_padding(...)``, the command line the flag and the
    ``convlab size`` command, the layer string the layer string alone; each, run as written, gives an output."""
    span = dilation * (kernel - 1) + 1
    assume(span <= size)
    with pytest.raises(ArgumentError) as raised:
        convlab.nn.Conv2d(1, 1, kernel, stride=stride, padding="same", dilation=dilation)
    fix = raised.value.fix
    assert fix is not None
    python_fix, other = fix.split("   # or ")
    pads = _run_python(python_fix.removeprefix("padding="))
    layer = convlab.nn.Conv2d(1, 1, kernel, stride=stride, padding=pads, dilation=dilation)  # type: ignore[arg-type]
    assert layer(np.ones((1, size, size), dtype=np.float32)).shape[1] >= 1
    solved = eval(other.replace("(H, W)", f"({size}, {size})"), {"convlab": convlab})
    assert solved.output_size == (-(-size // stride),) * 2  # TensorFlow's same: ceil(size / stride)

    argv = ["size", "--input", str(size), "--kernel", str(kernel), "--stride", str(stride), "--padding", "same"]
    argv += ["--dilation", str(dilation)]
    written = _as_command(raised.value, argv)
    flag, command = written.split("   # or ")
    assert flag == f"--padding {pads[0]},{pads[1]}"  # type: ignore[index]
    words = _command_words(command.replace("H,W", f"{size},{size}"))
    assert words[0] == "size"
    assert "--want" in words
    assert main(words) == 0

    token = f"conv{kernel}x{kernel}(4,s{stride},d{dilation},psame)"
    with pytest.raises(ArgumentError) as from_string:
        convlab.summary(token, (1, size, size))
    assert from_string.value.fix == f"conv{kernel}x{kernel}(4,s{stride},d{dilation},p{pads[0]})"  # type: ignore[index]
    assert convlab.summary(from_string.value.fix, (1, size, size)).layers[0].output_shape[2] >= 1
