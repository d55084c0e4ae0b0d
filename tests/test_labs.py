"""The five labs print exactly what the lesson's "Expected output" shows, and change as the exercises ask."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.cli import main
from convlab.errors import ArgumentError, ConvlabError, ShapeError
from convlab.lesson import labs


def _words(text: str) -> str:
    """Compare up to NumPy's column spacing, which the lesson's text collapses."""
    return " ".join(text.split())


@pytest.mark.parametrize("name", labs.LAB_NAMES)
def test_each_lab_prints_the_lessons_expected_output(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", name]) == 0
    printed = capsys.readouterr().out
    assert _words(printed) == _words(labs.LESSON_OUTPUT[name])
    assert printed.splitlines()[0] == f"{name}_lab"


def test_value_labs_print_arrays_exactly_as_numpy_does(capsys: pytest.CaptureFixture[str]) -> None:
    main(["lab", "manual_conv", "edge"])
    printed = capsys.readouterr().out
    assert "manual_conv_lab\n[[-2.  2. -4.]\n [ 4.  0. -1.]\n [ 0.  0.  1.]]\n" in printed
    assert "edge_lab\n[[0. 0. 0. 0.]\n [0. 1. 0. 0.]\n" in printed


def test_all_five_labs_run_in_the_lessons_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab"]) == 0
    titles = [line for line in capsys.readouterr().out.splitlines() if line.endswith("_lab")]
    assert titles == [f"{name}_lab" for name in labs.LAB_NAMES]


def test_a_changed_kernel_changes_the_output(capsys: pytest.CaptureFixture[str]) -> None:
    main(["lab", "manual_conv", "--kernel", "1 1; 1 1"])
    printed = capsys.readouterr().out
    image = np.array([[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]], dtype=np.float32)
    box = np.array([[image[i : i + 2, j : j + 2].sum() for j in range(3)] for i in range(3)], dtype=np.float32)
    assert str(box) in printed


def test_image_and_kernel_from_files(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    np.save(tmp_path / "kernel.npy", np.array([[0.0, 1.0]]))
    Image.fromarray(np.array([[0, 10, 20], [30, 40, 50]], dtype=np.uint8)).save(tmp_path / "image.png")
    main(["lab", "edge", "--image", str(tmp_path / "image.png"), "--kernel", str(tmp_path / "kernel.npy")])
    assert "[[10. 20.]\n [40. 50.]]" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["size", "--stride", "1"],
            ["output: (1, 2, 6, 6)", "H_out = floor((6 + 2*1 - 3) / 1) + 1 = floor(5 / 1) + 1 = 6"],
        ),
        (["channel", "--out-channels", "16"], ["output: (2, 16, 32, 32)", "weight: (16, 3, 3, 3)", "bias: (16,)"]),
        (["conv2d", "--padding", "0"], ["output: (1, 4, 6, 6)", "floor((8 + 2*0 - 3) / 1) + 1"]),
        (
            ["size", "--size", "7x9", "--kernel-size", "3x5", "--padding", "same", "--stride", "1"],
            ["output: (1, 2, 7, 9)", "W_out = floor((9 + 2*2 - 5) / 1) + 1"],
        ),
        (
            ["conv2d", "--formula"],
            ["output: (1, 4, 8, 8)", "layer: Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"],
        ),
    ],
)
def test_shape_labs_follow_their_options_and_show_the_formula(
    args: list[str], expected: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lab", *args]) == 0
    printed = capsys.readouterr().out
    for line in expected:
        assert line in printed


def test_torch_cross_check_agrees(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "--torch"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("torch: shapes and values agree") == 5


def test_cross_check_reports_a_clear_message_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_torch(name: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "torch":
            raise ImportError("no torch here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(ConvlabError, match="needs PyTorch") as raised:
        labs.cross_check(labs.run("manual_conv"))
    assert raised.value.fix == "pip install torch==2.13.0"


def test_the_api_returns_data() -> None:
    lab = labs.run("channel", out_channels=16, batch=1)
    assert (lab.input_shape, lab.output_shape, lab.weight_shape, lab.bias_shape) == (
        (1, 3, 32, 32),
        (1, 16, 32, 32),
        (16, 3, 3, 3),
        (16,),
    )
    assert labs.run("manual_conv", kernel=[[0, 1], [1, 0]]).output[0, 0] == 2 + 5


@pytest.mark.parametrize(
    ("call", "error", "phrase"),
    [
        (lambda: labs.run("nope"), ArgumentError, "no lab 'nope'"),
        (lambda: labs.run("size", kernel="1 0"), ArgumentError, "has no option 'kernel'"),
        (lambda: labs.run("manual_conv", kernel="1 2; 3"), ArgumentError, "different lengths"),
        (
            lambda: labs.run("manual_conv", kernel=np.ones((5, 5))),
            ShapeError,
            "spans 5 cells along H .* has only 4",
        ),
        (lambda: labs.run("size", size=2, padding=0), ShapeError, "spans 3 cells along H .* has only 2"),
    ],
)
def test_bad_lab_options_are_refused_with_a_message(call, error: type, phrase: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=phrase) as raised:
        call()
    assert raised.value.fix is not None
