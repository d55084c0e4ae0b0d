"""convlab size, summary and rf as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from convlab.cli import main
from tests.conftest import environment_for_the_convlab_under_test


def test_size_works_the_lessons_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["size", "--input", "6", "--kernel", "3", "--stride", "2", "--padding", "1"]) == 0
    out = capsys.readouterr().out
    assert "H_out = floor((6 + 2*1 - 3) / 2) + 1 = floor(5 / 2) + 1 = 3" in out
    assert "output size: 3 x 3" in out


def test_size_reports_uncovered_rows(capsys: pytest.CaptureFixture[str]) -> None:
    main(["size", "--input", "7", "--kernel", "2", "--stride", "2"])
    assert "rows [6], cols [6]" in capsys.readouterr().out


def test_size_of_a_transposed_convolution_and_a_pool(capsys: pytest.CaptureFixture[str]) -> None:
    main(
        [
            "size",
            "--input",
            "3",
            "--kernel",
            "3",
            "--stride",
            "2",
            "--padding",
            "1",
            "--output-padding",
            "1",
            "--transposed",
        ]
    )
    main(["size", "--input", "5", "--kernel", "2", "--padding", "1", "--pool", "--ceil-mode"])
    out = capsys.readouterr().out
    assert "H_out = (3 - 1)*2 - 2*1 + 1*(3-1) + 1 + 1 = 6" in out
    assert "minus 1: window 3 would start at 6, in the right padding" in out


def test_padding_solver(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["size", "--input", "224", "--kernel", "7", "--stride", "2", "--want", "same"]) == 0
    out = capsys.readouterr().out
    assert "(2, 3, 2, 3) gives output 112 x 112" in out
    assert "padding=(3, 3)" in out
    assert main(["size", "--input", "4", "--kernel", "2", "--want", "10", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["torch_padding"] is None
    assert data["padding"] == [3, 4, 3, 4]


def test_padding_solver_names_torchs_same_and_what_equal_sides_change(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["size", "--want", "same", "--input", "10", "--kernel", "4"]) == 0
    out = capsys.readouterr().out
    assert 'nn.Conv2d(..., padding="same") pads exactly this' in out
    assert "cannot give this" not in out
    assert main(["size", "--want", "same", "--input", "224", "--kernel", "7", "--stride", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["padding"] == [2, 3, 2, 3]
    assert data["torch_padding"] == [3, 3]
    assert not data["torch_same"]
    said = "\n".join(data["explanation"])
    assert "one cell more than needed" in said
    assert "one cell up and left" in said


def test_summary_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "resnet18"]) == 0
    assert "total: 11,689,512 params" in capsys.readouterr().out
    assert main(["summary", "conv3x3(8,p1) relu maxpool2 flatten linear(10)", "--input", "1x8x8", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [layer["output_shape"] for layer in data["layers"]][-1] == [1, 10]
    assert data["total_params"] == 80 + 1290


def test_rf_with_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rf", "vgg16", "--check"]) == 0
    out = capsys.readouterr().out
    assert "receptive field of features.pool5: 212 input pixels, jump 32" in out
    assert ": agree" in out


def test_a_torch_model_from_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "net.py").write_text(
        textwrap.dedent("""
        import torch
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
                self.skip = torch.nn.Conv2d(3, 8, 1)
            def forward(self, x):
                return torch.relu(self.conv(x) + self.skip(x))
    """)
    )
    assert main(["summary", "--model", f"{tmp_path / 'net.py'}:Net", "--input", "3x16x16"]) == 0
    assert "add" in capsys.readouterr().out
    assert main(["rf", "--model", f"{tmp_path / 'net.py'}:Net", "--input", "3x16x16", "--check"]) == 0
    assert "set by the path: conv" in capsys.readouterr().out
    assert main(["summary", "--model", str(tmp_path / "net.py"), "--input", "3x16x16"]) == 0  # its one model
    assert "add" in capsys.readouterr().out
    assert main(["summary", "--model", f"{tmp_path / 'net.py'}:Nett", "--input", "3x16x16"]) == 2
    assert "defines no 'Nett': its model classes are Net (fix: --model " in capsys.readouterr().err


def test_a_file_with_several_models_needs_the_class_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "nets.py").write_text(
        "import torch\n"
        "class A(torch.nn.Sequential):\n"
        "    def __init__(self):\n"
        "        super().__init__(torch.nn.Conv2d(3, 4, 3))\n"
        "class B(A): pass\n"
    )
    assert main(["summary", "--model", str(tmp_path / "nets.py"), "--input", "3x8x8"]) == 2
    assert "needs a class name: its model classes are A, B" in capsys.readouterr().err
    assert main(["summary", "--model", f"{tmp_path / 'nets.py'}:B", "--input", "3x8x8"]) == 0


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["summary", "resnet19"], "did you mean resnet18"),
        (["summary", "conv3x3(8) relu maxpol2", "--input", "1x8x8"], "unknown layer 'maxpol'"),
        (["summary", "tinyvgg", "--input", "3x0x64"], "below 1"),
        (["summary", "conv3x3(8) conv9x9(4)", "--input", "3x8x8"], "2.conv"),
        (["summary"], "name one model"),
        (["rf", "--model", "missing.py:Net"], "does not exist"),
        (["size", "--input", "3", "--kernel", "5"], "overshoots by 2"),
        (["size", "--input", "8", "--kernel", "3", "--want", "4"], "no padding gives"),
        (["size", "--input", "-3", "--kernel", "1"], "input_size must be positive"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    args: list[str], phrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert phrase in err
    assert err.count("\n") == 1


def test_summary_of_resnet50_does_not_import_torch_or_numpy() -> None:
    code = (
        "import sys, io, contextlib\nfrom convlab.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    main(['summary', 'resnet50'])\n"
        "print('LOADED', [m for m in ('torch', 'numpy', 'scipy', 'matplotlib') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=environment_for_the_convlab_under_test(),
    ).stdout
    assert "LOADED []" in out
