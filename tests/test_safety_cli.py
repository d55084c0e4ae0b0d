"""The command line never shows a traceback: every bad file, size, number, path or model file gets exit code 2
and one line that names the value and a fix; work beyond memory is refused before allocating."""

from __future__ import annotations

import io
import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from convlab import _memory, shapes
from convlab.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Broken, odd and enormous inputs, made once."""
    folder = tmp_path_factory.mktemp("inputs")
    np.save(folder / "object.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(folder / "empty.npy", np.zeros((0, 3)))
    np.save(folder / "strings.npy", np.array([["a", "b"]]))
    np.save(folder / "kernel5d.npy", np.ones((1, 1, 1, 3, 3)))
    (folder / "garbage.npy").write_bytes(b"\x93NUMPY this is not an array")
    whole = (folder / "empty.npy").read_bytes()
    np.save(folder / "full.npy", np.arange(400.0).reshape(20, 20))
    (folder / "truncated.npy").write_bytes((folder / "full.npy").read_bytes()[:1000])
    huge = io.BytesIO()
    np.lib.format.write_array_header_1_0(huge, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
    (folder / "huge-header.npy").write_bytes(huge.getvalue() + whole[-8:])  # declares 8 TB, holds 8 bytes
    (folder / "garbage.png").write_bytes(b"not a picture at all")
    noise = np.random.default_rng(0).integers(0, 256, (300, 300), dtype=np.uint8)
    Image.fromarray(noise).save(folder / "full.png")
    (folder / "truncated.png").write_bytes((folder / "full.png").read_bytes()[:40_000])
    Image.new("L", (12_000, 12_000)).save(folder / "bomb.png")  # 144 megapixels in a few hundred kB
    (folder / "afile").write_text("a file, not a folder")
    (folder / "init_raises.py").write_text(
        "class Net:\n    def __init__(self):\n        raise RuntimeError('no weights here')\n"
        "    def forward(self, x):\n        return x\n"
    )
    (folder / "exits_on_import.py").write_text("import sys\nsys.exit(3)\n")
    (folder / "exits_in_init.py").write_text(
        "import sys\nclass Net:\n    def __init__(self):\n        sys.exit('bye')\n    def forward(self, x):\n"
        "        return x\n"
    )
    return folder


def refused(capsys: pytest.CaptureFixture[str], args: list[str], *phrases: str) -> str:
    """Run ``convlab args``; assert exit code 2, one line on stderr holding each phrase and a fix."""
    try:
        code = main(args)
    except SystemExit as exit:  # argparse's own refusals
        code = int(exit.code or 0)
    error = capsys.readouterr().err
    assert code == 2, error
    assert error.startswith("convlab: error: ")
    assert error.count("\n") == 1, error
    assert "Traceback" not in error
    assert "fix:" in error or "see convlab" in error
    for phrase in phrases:
        assert phrase in error, error
    return error


@pytest.mark.parametrize(
    ("name", "phrases"),
    [
        ("garbage.png", ["cannot read", "garbage.png"]),
        ("truncated.png", ["cannot read", "truncated.png"]),
        ("bomb.png", ["12000x12000 = 144000000 pixels, more than convlab reads"]),
        ("object.npy", ["holds object values, not real numbers"]),
        ("strings.npy", ["holds <U1 values, not real numbers"]),
        ("empty.npy", ["holds an empty array of shape (0, 3)"]),
        ("garbage.npy", ["is not a readable .npy array"]),
        ("truncated.npy", ["is not a readable .npy array"]),
        ("huge-header.npy", ["(1000000, 1000000) float64 needs 8.0 TB, more than the"]),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        ["lab", "manual_conv", "--image", "{}"],
        ["check", "resnet18", "--input", "{}"],
        ["explain", "--kernel", "1", "--image", "{}"],
        ["draw", "window", "--kernel", "1", "--image", "{}", "--out", "{out}"],
    ],
)
def test_every_reader_refuses_broken_files_in_one_line(
    files: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    phrases: list[str],
    command: list[str],
) -> None:
    if command[0] == "explain" and name.endswith(".png"):
        command = ["draw", "features", "--image", "{}", "--out", "{out}"]  # explain reads arrays, draw pictures
    args = [arg.format(files / name, out=tmp_path / "out.gif") for arg in command]
    refused(capsys, args, *phrases)
    assert not (tmp_path / "out.gif").exists()


def test_a_five_axis_kernel_is_refused(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused(
        capsys,
        ["explain", "--image", "1 2; 3 4", "--kernel", str(files / "kernel5d.npy")],
        "shape (1, 1, 1, 3, 3): expected 1 to 4 axes",
    )


@pytest.mark.parametrize(
    ("args", "phrases"),
    [
        (["lab", "conv2d", "--size", "100000"], ["(1, 1, 100000, 100000)", "needs 520.0 GB, more than the"]),
        (["explain", "--lab", "manual_conv", "--padding", "100000"], ["(1, 1, 200004, 200004)", "needs 320.0 GB"]),
        (["rf", "resnet18", "--input", "3x100000x100000", "--check"], ["101024x101024 input", "more than the"]),
    ],
)
def test_work_beyond_memory_is_refused_before_allocating(
    capsys: pytest.CaptureFixture[str], args: list[str], phrases: list[str]
) -> None:
    refused(capsys, args, *phrases, "fix: ")


def test_the_memory_a_lab_needs_is_compared_with_what_is_free(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2 x 100000 x 32 x 32 random values in float64, float32 twice, and 3 x 3 unfolded windows in float32
    needed = 2 * 100_000 * 32 * 32 * (8 + 4 + 4 + 4 * 9)
    monkeypatch.setattr(_memory, "available_bytes", lambda: 2 * 10**9)
    refused(capsys, ["lab", "channel", "--in-channels", "100000"], "needs 10.6 GB, more than the 2.0 GB")
    monkeypatch.setattr(_memory, "available_bytes", lambda: needed)
    assert main(["lab", "channel", "--in-channels", "3"]) == 0


def test_size_of_a_huge_input_is_arithmetic(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["size", "--input", "100000000", "--kernel", "3"]) == 0
    assert "output size: 99999998 x 99999998" in capsys.readouterr().out


@given(
    st.integers(1, 40),
    st.integers(1, 6),
    st.integers(1, 6),
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(1, 4),
)
def test_uncovered_rows_equal_the_lessons_count(
    size: int, kernel: int, stride: int, top: int, bottom: int, d: int
) -> None:
    span = d * (kernel - 1) + 1
    if size + top + bottom < span:
        return
    length = (size + top + bottom - span) // stride + 1
    read = {i * stride + a * d - top for i, a in itertools.product(range(length), range(kernel))}
    assert shapes._uncovered_1d(size, kernel, stride, (top, bottom), d) == tuple(
        row for row in range(size) if row not in read
    )


@pytest.mark.parametrize(
    ("args", "phrases"),
    [
        (["size", "--input", "5", "--kernel", "3", "--want", "abc"], ["--want", "'abc'"]),
        (["lab", "conv2d", "--seed", "-1"], ["seed must be non-negative, got -1"]),
        (["lab", "conv2d", "--stride", "99999999999999999999999"], ["stride is 99999999999999999999999"]),
        (["explain", "--lab", "manual_conv", "--bias", "nan"], ["--bias", "'nan'"]),
        (["explain", "--lab", "manual_conv", "--bias", "1e39"], ["--bias", "'1e39'"]),
        (["draw", "window", "--lab", "manual_conv", "--bias", "inf"], ["--bias", "'inf'"]),
        (["draw", "window", "--lab", "manual_conv", "--frame-ms", "0"], ["--frame-ms", "'0'"]),
        (["draw", "window", "--lab", "manual_conv", "--frame-ms", "-40"], ["--frame-ms", "'-40'"]),
    ],
)
def test_bad_numbers_are_refused(capsys: pytest.CaptureFixture[str], args: list[str], phrases: list[str]) -> None:
    refused(capsys, args, *phrases)


@pytest.mark.parametrize(
    ("args", "phrases"),
    [
        (["draw", "window", "--lab", "manual_conv", "--out", "{d}/x.txt"], ["has '.txt'", "fix: --out x.gif"]),
        (["draw", "explain", "--lab", "manual_conv", "--out", "{d}/x"], ["has no extension"]),
        (["draw", "params", "--out", "/proc/convlab.png"], ["cannot write to '/proc'"]),
        (["draw", "params", "--out", "{d}/afile/p.png"], ["'{d}/afile' is a file, not a folder"]),
        (["tour", "--out", "{d}/afile/sub"], ["'{d}/afile' is a file, not a folder"]),
    ],
)
def test_bad_output_paths_are_refused(
    files: Path, capsys: pytest.CaptureFixture[str], args: list[str], phrases: list[str]
) -> None:
    refused(capsys, [arg.format(d=files) for arg in args], *(phrase.format(d=files) for phrase in phrases))


def test_an_output_in_a_missing_folder_creates_it(tmp_path: Path) -> None:
    out = tmp_path / "new" / "folder" / "p.png"
    assert main(["draw", "params", "--out", str(out)]) == 0
    with Image.open(out) as picture:
        assert picture.format == "PNG"


@pytest.mark.parametrize(
    ("model", "phrases"),
    [
        ("init_raises.py:Net", ["Net() failed: RuntimeError: no weights here"]),
        ("exits_on_import.py", ["exits_on_import.py called sys.exit(3) while loading"]),
        ("exits_in_init.py:Net", ["Net() called sys.exit('bye')"]),
    ],
)
@pytest.mark.parametrize("command", ["summary", "check"])
def test_model_files_that_fail_or_exit_are_reported(
    files: Path, capsys: pytest.CaptureFixture[str], model: str, phrases: list[str], command: str
) -> None:
    pytest.importorskip("torch")
    refused(capsys, [command, "--model", str(files / model)], *phrases)


def test_no_traceback_from_the_real_command(files: Path) -> None:
    """The same refusal through a real process: stderr is one line, exit code 2."""
    result = subprocess.run(
        [sys.executable, "-m", "convlab", "check", "resnet18", "--input", str(files / "object.npy")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "holds object values" in result.stderr
