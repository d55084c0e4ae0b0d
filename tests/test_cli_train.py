"""`convlab train kernel|digits|shapes` as a user runs it: output, files, exit codes, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from convlab import data
from convlab.cli import main
from convlab.train import read_model

SMALL = "conv3x3(4,p1) relu maxpool2 flatten linear(10)"


def test_train_kernel_learns_the_lessons_edge_kernel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "kernel"
    assert main(["train", "kernel", "--out", str(out), "--seed", "4"]) == 0
    printed = capsys.readouterr().out
    assert "step 50  loss" in printed
    assert "the lesson's is [-1, +1]" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    np.testing.assert_allclose(metrics["kernel"], [[-1.0, 1.0]], atol=1e-2)
    assert len(metrics["losses"]) == 50
    assert metrics["losses"][-1] < metrics["losses"][0]
    assert sorted(p.name for p in out.iterdir()) == ["kernel.png", "metrics.json"]


def test_a_folder_that_is_not_empty_is_refused_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    for task in ("kernel", "digits"):
        assert main(["train", task, "--out", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "not empty" in err
        assert "--force" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert main(["train", "kernel", "--steps", "3", "--out", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_train_digits_writes_its_files_and_agrees_with_torch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    out = tmp_path / "run"
    argv = [
        "train",
        "digits",
        "--model",
        SMALL,
        "--epochs",
        "2",
        "--batch-size",
        "64",
        "--out",
        str(out),
        "--torch",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.count("epoch 1/2 [") == 1
    assert printed.count("epoch 2/2 [") == 1
    assert "\r" not in printed
    assert "largest loss difference over 44 steps" in printed
    names = sorted(p.name for p in out.iterdir())
    assert names == ["confusion.png", "curves.png", "features.png", "filters.png", "metrics.json", "model.npz"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == SMALL
    assert len(metrics["train_loss"]) == 2
    assert metrics["torch"]["largest_loss_difference"] < 1e-4  # float32, 44 steps of Adam
    saved = read_model(out / "model.npz")
    images, labels = data.digits("test")
    accuracy = float(np.mean(saved.model(images).argmax(axis=1) == labels))
    assert accuracy == pytest.approx(metrics["test_accuracy"])
    assert saved.classes == tuple("0123456789")
    assert saved.input_shape == (1, 8, 8)


def test_train_shapes_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small = "conv5x5(4,p2) relu maxpool4 flatten linear(7)"
    assert main(["train", "shapes", "--model", small, "--epochs", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2100 training and 700 test images of 1x28x28" in out
    assert read_model(tmp_path / "model.npz").classes == data.SHAPE_CLASSES
    # how edge-like the first layer is: printed, and in metrics.json kernel by kernel
    first = json.loads((tmp_path / "metrics.json").read_text())["first_layer"]
    assert (first["kernels"], first["kernel_size"], len(first["fits"])) == (4, "5x5", 4)
    assert first["edge_like"] == sum(fit["share"] >= 0.6 for fit in first["fits"])
    assert f"first layer: {first['edge_like']} of 4 5x5 kernels edge-like" in out
    shown = ", ".join(f"{i}: {fit['share']:.0%} at {fit['angle']}" for i, fit in enumerate(first["fits"]))
    assert shown in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--lr", "nan"], ["lr=nan", "--lr 0.01"]),
        (["--lr", "0"], ["lr=0", "--lr 0.01"]),
        (["--model", "conv3x3(4,p1) relu flatten linear(5)"], ["class 9", "linear(10)"]),
        (["--model", "conv3x3(4,p1) relu"], ["(1, 4, 8, 8)", "flatten"]),
        (["--model", "conv3x3(4) bogus"], ["unknown layer 'bogus'"]),
        (["--lr", "1e30", "--optimizer", "sgd"], ["at step", "--lr 1e+29"]),
    ],
)
def test_mistakes_get_one_line_in_the_commands_language(
    argv: list[str], words: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "digits", "--epochs", "1", "--out", str(tmp_path / "run"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("convlab: error:"), err
    assert all(word in err for word in words), err


@pytest.mark.parametrize(
    "argv", [["train"], ["train", "digits", "--batch-size", "0"], ["train", "kernel", "--steps", "x"]]
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_the_progress_bar_redraws_one_line_on_a_terminal() -> None:
    import io

    from convlab.cli.progress import ProgressBar
    from convlab.train import Step

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    bar = ProgressBar(screen)
    for step in range(1, 5):
        bar(Step(1, 2, step, 4, 1.0 / step, 0.25 * step))
    bar.epoch_done(0.5, 0.75, 1.5)
    text = screen.getvalue()
    assert text.count("\r") == 5  # each step redraws the same line, and so does the epoch's end
    assert text.count("\n") == 1
    last = text.split("\r")[-1]
    assert last == (
        "epoch 1/2 [########################] 4/4  loss 0.2500  acc 100.0%"
        "  | test loss 0.5000  acc  75.0%  (1.5 s)\n"
    )


def test_train_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["train", "--help"], ["train", "digits", "--help"], ["train", "kernel", "--help"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 0
        assert "usage: convlab train" in capsys.readouterr().out
