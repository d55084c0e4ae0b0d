"""Command-line options no other test reaches: --version, --debug, Ctrl-C, every --help, check's --torch and
--input file, serve's --open and --verbose, rf --json, the lab options for the exercises, /api/presets."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import convlab
from convlab.cli import build_parser, main
from convlab.errors import ShapeError
from convlab.lesson.labs import run
from convlab.web.server import make_server

COMMANDS = [
    "tour",
    "lab",
    "explain",
    "draw",
    "exercises",
    "flatten",
    "size",
    "summary",
    "rf",
    "check",
    "train",
    "apply",
    "serve",
    "bench",
]


def test_version_names_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"convlab {convlab.__version__}"


def test_debug_shows_the_traceback_instead_of_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["size", "--input", "2", "--kernel", "5"]  # a kernel wider than the input
    assert main(argv) == 2
    assert capsys.readouterr().err.count("\n") == 1
    with pytest.raises(ShapeError, match="overshoots"):
        main(["--debug", *argv])


def test_ctrl_c_exits_130_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from convlab.cli import flatten

    def interrupted(args: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(flatten, "run", interrupted)
    assert main(["flatten"]) == 130
    assert "Traceback" not in capsys.readouterr().err


def test_the_command_list_is_the_one_tested_here() -> None:
    parser = build_parser()
    actions = [a for a in parser._actions if a.dest == "command"]
    assert sorted(actions[0].choices) == sorted(COMMANDS)  # type: ignore[arg-type]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: convlab {command}")
    assert "options:" in out


def test_check_reads_an_input_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = "conv5x5(6) maxpool2 conv5x5(16) maxpool2 flatten linear(10)"
    np.save(tmp_path / "grey.npy", np.zeros((1, 28, 28), np.float32))
    assert main(["check", stack, "--input", str(tmp_path / "grey.npy")]) == 0
    assert "no problems" in capsys.readouterr().out
    np.save(tmp_path / "small.npy", np.zeros((1, 8, 8), np.float32))  # the second conv overshoots
    assert main(["check", stack, "--input", str(tmp_path / "small.npy")]) == 1
    assert "(1, 8, 8)" in capsys.readouterr().out


def test_check_torch_writes_fixes_for_pytorch_code(capsys: pytest.CaptureFixture[str]) -> None:
    stack = "conv5x5(6) maxpool2 conv5x5(16) maxpool2 flatten linear(10)"
    assert main(["check", stack, "--input", "1x8x8", "--json"]) == 1
    plain = json.loads(capsys.readouterr().out)
    assert main(["check", stack, "--input", "1x8x8", "--json", "--torch"]) == 1
    written = json.loads(capsys.readouterr().out)
    found = convlab.check(stack, (1, 1, 8, 8)).errors[0].diagnosis
    assert json.dumps(plain).count(found.fix) == 1
    assert found.torch_fix != found.fix
    assert json.dumps(written).count(found.torch_fix) >= 1
    assert found.fix not in json.dumps(written)  # the commented NumPy-style fix is replaced, not added


def test_rf_json_gives_lenets_receptive_fields_by_hand(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rf", "lenet5", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    fields = {layer["name"]: layer["rf"] for layer in report["layers"] if layer["rf"] is not None}
    # conv 5: 5; pool 2: 5 + 1 = 6; conv 5 at jump 2: 6 + 4*2 = 14; pool 2 at jump 2: 14 + 1*2 = 16
    assert fields["conv1"] == [5, 5]
    assert fields["pool1"] == [6, 6]
    assert fields["conv2"] == [14, 14]
    assert fields["pool2"] == [16, 16]


def test_lab_dilation_spreads_the_kernel(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "manual_conv", "--dilation", "2"]) == 0
    # by hand: out[i, j] = x[i, j] - x[i + 2, j + 2] on the lesson's image
    assert "[[-2.  1.]\n [ 4.  1.]]" in capsys.readouterr().out


def test_lab_shape_options_and_seed(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["lab", "conv2d", "--batch", "2", "--in-channels", "5", "--out-channels", "7", "--size", "9"]
    assert main([*argv, "--kernel-size", "3", "--stride", "2", "--padding", "1", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "input: (2, 5, 9, 9)" in out
    assert "output: (2, 7, 5, 5)" in out  # floor((9 + 2 - 3) / 2) + 1 = 5
    same, other = run("conv2d", seed=3), run("conv2d", seed=4)
    np.testing.assert_array_equal(same.input, run("conv2d", seed=3).input)
    assert not np.array_equal(same.input, other.input)
    layer = same.layer.to_torch()
    expected = layer(torch.from_numpy(np.asarray(same.input))).detach().numpy()
    np.testing.assert_allclose(same.output, expected, rtol=1e-5, atol=1e-5)


def test_serve_open_opens_the_page_and_verbose_logs_requests(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import webbrowser

    from convlab.web import server

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url))
    served: list[Any] = []

    def serve_once(self: Any, poll_interval: float = 0.5) -> None:
        served.append(self)
        raise KeyboardInterrupt  # Ctrl-C at once

    monkeypatch.setattr(server.Server, "serve_forever", serve_once)
    assert main(["serve", "--port", "0", "--open"]) == 0
    for _ in range(100):  # the browser is opened from a thread
        if opened:
            break
        time.sleep(0.05)
    port = served[0].server_address[1]
    assert opened == [f"http://127.0.0.1:{port}/"]
    assert "stopped" in capsys.readouterr().out
    monkeypatch.undo()

    quiet, loud = make_server("127.0.0.1", 0), make_server("127.0.0.1", 0, True)
    for each in (quiet, loud):
        threading.Thread(target=each.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        with urllib.request.urlopen(f"http://127.0.0.1:{each.server_address[1]}/api/presets", timeout=30):
            pass
        each.shutdown()
        each.server_close()
        logged = capsys.readouterr().err
        assert ("GET /api/presets" in logged) == (each is loud)


def test_api_presets_hold_the_lessons_labs() -> None:
    base = make_server("127.0.0.1", 0)
    threading.Thread(target=base.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{base.server_address[1]}/api/presets", timeout=30) as r:
            presets = json.loads(r.read())
    finally:
        base.shutdown()
        base.server_close()
    assert presets["labs"]["manual_conv"] == {
        "image": [[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]],
        "kernel": [[1, 0], [0, -1]],
    }
    assert presets["kernels"]["identity"]["matrix"] == [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
