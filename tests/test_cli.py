"""The convlab command as a user runs it: help, the tour, flatten arithmetic, errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convlab._args import int_list
from convlab.cli import main
from tests.conftest import environment_for_the_convlab_under_test


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    printed = capsys.readouterr().out
    for command in ("tour", "lab", "explain", "exercises", "flatten"):
        assert command in printed


@pytest.mark.parametrize("command", ["tour", "lab", "explain", "exercises", "flatten"])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert "usage: convlab " + command in capsys.readouterr().out


def test_help_stays_light() -> None:
    """`convlab --help` imports neither NumPy's heavy friends nor NumPy itself."""
    code = (
        "import sys; from convlab.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', [m for m in ('torch', 'scipy', 'matplotlib', 'numpy') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=environment_for_the_convlab_under_test(),
    ).stdout
    assert "HEAVY []" in out


def test_usage_errors_are_one_line_with_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["lab", "--stride", "two"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "two" in err


@pytest.mark.parametrize("bad", ["9x", "x9", "(1,2", "1,2)", "2,,1", "1,2,3", "1.5", "one"])
def test_numbers_are_read_whole_or_refused(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["size", "--input", "32", "--kernel", "5", "--padding", bad])
    assert exited.value.code == 2
    assert repr(bad) in capsys.readouterr().err


@pytest.mark.parametrize("written", ["1,2", "1x2", "(1, 2)", "1 2", "[1,2]"])
def test_numbers_in_every_accepted_spelling(written: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["size", "--input", "32", "--kernel", "5", "--padding", written]) == 0
    assert "output size: 30 x 32" in capsys.readouterr().out


@given(
    numbers=st.lists(st.integers(-999, 999), min_size=1, max_size=4),
    separator=st.sampled_from([",", ", ", "x", " x ", "×", " ", "  "]),
    brackets=st.sampled_from(["", "()", "[]"]),
)
def test_int_list_reads_back_what_was_written(numbers: list[int], separator: str, brackets: str) -> None:
    text = separator.join(str(n) for n in numbers)
    if brackets:
        text = brackets[0] + text + brackets[1]
    assert int_list(text) == tuple(numbers)
    assert int_list(text + ",") is None  # a dangling separator is a typo, not a shorter list
    assert int_list(text.replace(str(numbers[-1]), "?")) is None


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    """`convlab summary resnet50 | head -1`: the closed pipe ends the command quietly."""
    command = [sys.executable, "-m", "convlab", "summary", "resnet50"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment_for_the_convlab_under_test()
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.close()  # before the command writes a line
        stderr = process.stderr.read().decode()
    assert process.returncode == 141
    assert stderr == ""


def test_flatten_shows_the_lessons_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flatten"]) == 0
    printed = capsys.readouterr().out
    assert "1,024 * 512 = 524,288 weights" in printed
    assert "224 x 224 x 3 image: 150,528 input values" in printed
    assert "8 * 1 * 3 * 3 = 72 weights + 8 biases = 80 parameters" in printed


def test_flatten_for_any_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    main(
        [
            "flatten",
            "--image",
            "28x28",
            "--outputs",
            "10",
            "--out-channels",
            "4",
            "--kernel-size",
            "5",
            "--no-bias",
        ]
    )
    printed = capsys.readouterr().out
    assert "784 * 10 = 7,840 weights" in printed
    assert "4 * 1 * 5 * 5 = 100 weights" in printed
    assert "biases" not in printed


def test_the_tour_walks_the_lesson_and_writes_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "convlab-tour"
    assert main(["tour", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("matches the lesson's expected output: yes") == 5
    assert "NO" not in printed
    assert "1*1 + 2*0 + 5*0 + 3*(-1) = -2" in printed
    assert "H_out = floor((6 + 2*1 - 3) / 2) + 1 = floor(5 / 2) + 1 = 3" in printed
    assert "524,288" in printed
    assert printed.count("torch: shapes and values agree") == 5
    assert {path.name for path in out.iterdir()} == {
        "tour.txt",
        "manual_conv.npy",
        "edge.npy",
        "lab1-window.gif",
        "lab1-explain.png",
        "features-camera.png",
        "rf-resnet18.png",
        "params.png",
        "kernel-descent.png",
        "learned-filters.png",
        "learned-features.png",
    }
    assert "lab1-explain.png: out[1, 0] = 4" in printed
    assert (out / "tour.txt").read_text().startswith("convlab tour")


def test_the_tour_never_overwrites_a_folder_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["tour", "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine"
    assert main(["tour", "--out", str(out), "--force"]) == 0
    assert (out / "notes.txt").read_text() == "mine"


def test_the_installed_command_runs_the_tour(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "convlab", "tour"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=environment_for_the_convlab_under_test(),
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "convlab-tour" / "tour.txt").exists()
