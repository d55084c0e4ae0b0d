"""Every file convlab writes appears whole or not at all: written beside the target, then renamed; an
interrupt leaves the old file (or nothing) and no temporary behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convlab import _files
from convlab.cli import main
from convlab.errors import ArgumentError


def _names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_a_completed_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "result.txt"
    target.write_text("old")
    with _files.atomic_path(target) as temporary:
        assert temporary.parent == tmp_path
        assert temporary.suffix == ".txt"  # the format is still known from the name
        assert target.read_text() == "old"  # untouched while the new one is written
        temporary.write_text("new")
    assert target.read_text() == "new"
    assert _names(tmp_path) == ["result.txt"]


def _write_then_raise(target: Path, interrupt: type[BaseException]) -> None:
    """Write part of a new file through the helper, then stop with ``interrupt`` (Ctrl-C, an error, an exit)."""
    with _files.atomic_path(target) as temporary:
        temporary.write_bytes(b"half of a new")
        raise interrupt()


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, RuntimeError, SystemExit])
def test_an_interrupted_write_leaves_the_old_file(tmp_path: Path, interrupt: type[BaseException]) -> None:
    target = tmp_path / "w.gif"
    target.write_bytes(b"old gif")
    with pytest.raises(interrupt):
        _write_then_raise(target, interrupt)
    assert target.read_bytes() == b"old gif"
    assert _names(tmp_path) == ["w.gif"]


def test_an_interrupted_first_write_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        _write_then_raise(tmp_path / "f.png", KeyboardInterrupt)
    assert _names(tmp_path) == []


def test_a_write_the_system_refuses_is_a_convlab_error(tmp_path: Path) -> None:
    with pytest.raises(ArgumentError, match=r"^cannot write to '.*missing.*': No such file or directory"):
        _files.write_text(tmp_path / "missing" / "a.txt", "x")


def _interrupted_pictures(tmp_path: Path) -> dict[str, Callable[[Path], object]]:
    """Each writer of convlab, told to write into ``folder``; a KeyboardInterrupt is raised mid-write."""
    from convlab.viz import explain_picture, features_figure, params_figure, rf_figure, window_animation

    image, kernel = np.arange(16.0).reshape(4, 4), np.array([[1.0, 0.0], [0.0, -1.0]])
    return {
        "w.gif": lambda out: window_animation(image, kernel, out=out),
        "w-strip.png": lambda out: window_animation(image, kernel).save_strip(out),
        "e.png": lambda out: explain_picture(image, kernel, at=(0, 0), out=out),
        "f.png": lambda out: features_figure("camera", ["sobel_x"], out=out),
        "rf.png": lambda out: rf_figure("conv3x3(4) conv3x3(4)", "1x16x16", out=out),
        "p.png": lambda out: params_figure(out=out),
        "tour.txt": lambda out: _files.write_text(out, "the tour"),
    }


@pytest.mark.parametrize("name", ["w.gif", "w-strip.png", "e.png", "f.png", "rf.png", "p.png", "tour.txt"])
def test_every_writer_leaves_the_old_file_when_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    writers = _interrupted_pictures(tmp_path)
    target = tmp_path / name
    target.write_bytes(b"the old file")
    real_replace = os.replace

    def interrupted(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
        assert Path(source).stat().st_size > 0  # the new file was written in full under its temporary name
        raise KeyboardInterrupt  # Ctrl-C just before the rename: the latest moment it can hit

    monkeypatch.setattr(_files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        writers[name](target)
    assert target.read_bytes() == b"the old file"
    assert _names(tmp_path) == [name]
    monkeypatch.setattr(_files.os, "replace", real_replace)
    writers[name](target)
    assert target.read_bytes() != b"the old file"
    assert _names(tmp_path) == [name]


def test_the_tours_arrays_are_written_through_the_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from convlab.cli import tour

    renamed: list[str] = []
    real = _files.os.replace

    def counting(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
        renamed.append(Path(destination).name)
        real(source, destination)

    monkeypatch.setattr(_files.os, "replace", counting)
    tour._lab1(tmp_path)
    tour._lab2(tmp_path)
    assert sorted(renamed) == _names(tmp_path) == ["edge.npy", "manual_conv.npy"]
    np.testing.assert_array_equal(np.load(tmp_path / "manual_conv.npy"), [[-2, 2, -4], [4, 0, -1], [0, 0, 1]])


def test_sigint_in_the_middle_of_a_drawing_never_leaves_a_broken_file(tmp_path: Path) -> None:
    """A real Ctrl-C at several moments of `convlab draw gallery`: after each, every file is whole."""
    for delay in (0.5, 1.5, 3.0):
        folder = tmp_path / f"after-{delay}"
        with subprocess.Popen(
            [sys.executable, "-m", "convlab", "draw", "gallery", "--out", str(folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ) as process:
            time.sleep(delay)
            process.send_signal(signal.SIGINT)
            process.wait(timeout=120)
        if not folder.exists():
            continue
        for path in folder.iterdir():
            assert not path.name.startswith("."), f"a temporary {path.name} was left behind"
            with Image.open(path) as image:  # a truncated GIF or PNG fails here
                image.load()
                for frame in range(getattr(image, "n_frames", 1)):
                    image.seek(frame)
                    image.load()
    renamed: list[str] = []
    real = _files.os.replace

    def counting(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
        renamed.append(Path(destination).name)
        real(source, destination)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_files.os, "replace", counting)
        assert main(["draw", "gallery", "--out", str(folder), "--force"]) == 0  # a rerun is not blocked
    assert sorted(renamed) == _names(folder)  # every file of the gallery was renamed into place


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--out", "{d}/same.gif", "--strip", "{d}/same.gif"], "--strip '{d}/same.gif' is the same file as --out"),
        (["--out", "{d}/same.gif", "--strip", "{d}/./same.gif"], "is the same file as --out"),
    ],
)
def test_the_strip_may_not_replace_the_animation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], phrase: str
) -> None:
    (tmp_path / "same.gif").write_bytes(b"an animation")
    filled = [arg.format(d=tmp_path) for arg in args]
    assert main(["draw", "window", "--lab", "manual_conv", *filled, "--force"]) == 2
    error = capsys.readouterr().err
    assert phrase.format(d=tmp_path) in error
    assert error.count("\n") == 1
    assert (tmp_path / "same.gif").read_bytes() == b"an animation"
