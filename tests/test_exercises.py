"""The exercises: the checker on right, wrong and oddly written answers, and a real terminal session."""

from __future__ import annotations

import sys

import pytest

from convlab.cli import main
from convlab.lesson import exercises
from tests.conftest import environment_for_the_convlab_under_test


@pytest.mark.parametrize(
    ("number", "answer"),
    [
        (2, "4"),
        (2, "4.0"),
        (2, "out[1, 0] = 4"),
        (3, "(1, 2, 6, 6)"),
        (3, "1,2,6,6"),
        (3, "[1, 2, 6, 6]"),
        (3, "1x2x6x6"),
        (3, "torch.Size([1, 2, 6, 6])"),
        (4, "output, weight, bias"),
        (4, "weight bias output"),
        (4, "(2, 16, 32, 32) (16, 3, 3, 3) (16,)"),
        (4, "the output, the weight and the bias"),
        (5, "x.permute(0, 3, 1, 2)"),
        (5, "x = x.transpose(0, 3, 1, 2)"),
        (5, "np.transpose(x, (0, 3, 1, 2))"),
        (5, "0,3,1,2"),
        (5, "n h w c -> n c h w"),
        (1, "1 1; 1 1"),
        (1, "[[0, 1], [-1, 0]]"),
    ],
)
def test_right_answers_in_their_natural_forms(number: int, answer: str) -> None:
    assert exercises.check(number, answer).correct


@pytest.mark.parametrize(
    ("number", "answer", "hint"),
    [
        (2, "3", "[[5, 3], [2, 1]]"),
        (2, "-2", "rows 1-2"),
        (3, "(1, 2, 3, 3)", "stride=1"),
        (3, "1,1,6,6", "out_channels"),
        (4, "weight", "not all of them"),
        (4, "input output weight bias", "the input is the data"),
        (5, "x.permute(0, 2, 3, 1)", "the other way"),
        (5, "x.T", "new order"),
        (1, "1 2 3", "2 x 2 kernel"),
        (1, "1 2; 3", "could not be used"),
        (1, "1 0; 0 -1", "that is Lab 1's own kernel"),
        (1, "[[1, 0], [0, -1]]", "change at least one value"),
    ],
)
def test_wrong_answers_get_a_hint(number: int, answer: str, hint: str) -> None:
    verdict = exercises.check(number, answer)
    assert not verdict.correct
    assert hint in verdict.message


def test_exercise_1_runs_lab_1_with_the_learners_kernel() -> None:
    message = exercises.check(1, "1 1; 1 1").message
    assert "[[11.  5.  4.]" in message
    assert "1*1 + 2*1 + 5*1 + 3*1 = 11" in message


def test_check_command_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exercises", "check", "3", "(1, 2, 6, 6)"]) == 0
    assert main(["exercises", "check", "3", "1", "2", "3", "3"]) == 1
    assert main(["exercises", "check", "2", "4"]) == 0
    assert main(["exercises", "check", "9", "4"]) == 2
    out = capsys.readouterr()
    assert "right: (1, 2, 6, 6)" in out.out
    assert "not yet:" in out.out
    assert "no exercise 9" in out.err


def test_solution_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exercises", "solution", "2"]) == 0
    assert "5*1 + 3*0 + 2*0 + 1*(-1) = 4" in capsys.readouterr().out


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_learner_at_the_prompt() -> None:
    """A real terminal session: wrong answer, hint, right answer, skip with the solution, quit."""
    pexpect = pytest.importorskip("pexpect")
    command = [sys.executable, "-m", "convlab"]  # the convlab under test, whichever `convlab` is on PATH
    child = pexpect.spawn(
        command[0],
        [*command[1:], "exercises", "2", "3", "5"],
        encoding="utf-8",
        timeout=20,
        env=environment_for_the_convlab_under_test(),
    )
    child.expect("Exercise 2 \\(1 of 3\\)")
    child.expect("answer> ")
    child.sendline("3")
    child.expect("not yet")
    child.expect("answer> ")
    child.sendline("hint")
    child.expect("hint: out\\[1, 0\\] uses the patch")
    child.expect("answer> ")
    child.sendline("4")
    child.expect("right! out\\[1, 0\\] = 5\\*1")
    child.expect("Exercise 3 \\(2 of 3\\)")
    child.expect("answer> ")
    child.sendline("1x2x6x6")
    child.expect("right!")
    child.expect("Exercise 5")
    child.expect("answer> ")
    child.sendline("solution")
    child.expect("permute\\(0, 3, 1, 2\\)")
    child.expect("2 of 3 answered right")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_quitting_early(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter(["quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    assert main(["exercises"]) == 0
    assert "0 of 0 answered right" in capsys.readouterr().out


def test_each_exercise_has_its_own_hint_before_any_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hints = [exercise.hint for exercise in exercises.EXERCISES]
    assert len(set(hints)) == len(hints)
    for number, phrase in (
        (1, "1 0; 0 -1"),
        (2, "row 1, column 0"),
        (3, "stride 1"),
        (4, "one bias"),
        (5, "0, 1, 2, 3"),
    ):
        answers = iter(["hint", "quit"])
        monkeypatch.setattr("builtins.input", lambda prompt="", answers=answers: next(answers))
        assert main(["exercises", str(number)]) == 0
        shown = [line for line in capsys.readouterr().out.splitlines() if line.startswith("hint: ")]
        assert shown == [f"hint: {exercises.get(number).hint}"]
        assert phrase in shown[0]
