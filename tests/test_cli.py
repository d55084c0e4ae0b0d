"""The convlab command as a user runs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from convlab.cli import main


def test_demo_prints_lab1_and_the_hand_computed_sum(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("manual_conv_lab\n[[-2.  2. -4.]\n [ 4.  0. -1.]\n [ 0.  0.  1.]]\n")
    assert "1*1 + 2*0 + 5*0 + 3*(-1) = -2" in out
    assert "agree: yes" in out


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "demo" in capsys.readouterr().out


def test_the_installed_command_runs_and_stays_light() -> None:
    """`convlab --help` must not pull in matplotlib, scipy or torch."""
    code = (
        "import sys; from convlab.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'scipy', 'matplotlib') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
