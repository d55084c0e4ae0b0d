"""Messages say each thing once: no clause repeated, whatever the wrong input.

A message is split into clauses at ``;``, ``?``, ``: `` and ``(fix:``; a clause that comes back whole, or as
the end of another clause (``did you mean relu? relu``, ``make it nn.Linear(120, 10); fix: nn.Linear(120,
10)``, ``conv2: conv2: conv2d:``), is text the reader has already read.
"""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convlab
from convlab import nn
from convlab.cli import main
from convlab.errors import ConvlabError
from convlab.network.check import check

_CLAUSE_BREAK = re.compile(r"\s*(?:;|\?|:\s|\(fix:|\bfix:)\s*")
_LABELS = {"fix", "error", "warning", "convlab"}  # the line's own labels, not what it says


def _balanced(clause: str) -> str:
    """The clause without the brackets the split left unmatched: ``(fix: x)`` leaves ``x)``."""
    while clause.endswith(")") and clause.count(")") > clause.count("("):
        clause = clause[:-1].rstrip()
    while clause.startswith("(") and clause.count("(") > clause.count(")"):
        clause = clause[1:].lstrip()
    return clause


def repeated_clause(text: str) -> str | None:
    """The first clause of ``text`` that repeats an earlier one (whole, or as its end), else None."""
    clauses = [_balanced(part.strip().strip(".")) for part in _CLAUSE_BREAK.split(text)]
    clauses = [clause for clause in clauses if clause and clause.lower() not in _LABELS]
    for later, clause in enumerate(clauses):
        for earlier in clauses[:later]:
            if clause == earlier or earlier.endswith(f" {clause}"):
                return clause
    return None


@pytest.mark.parametrize(
    ("text", "repeated"),
    [
        (
            "layer 3 (2, linear): Linear(in_features=120) gets 288 features: make it nn.Linear(120, 10); "
            "fix: nn.Linear(120, 10)",
            "nn.Linear(120, 10)",
        ),
        ("unknown layer 'rleu' in 'rleu'; known: relu (fix: did you mean relu? relu)", "relu"),
        ("conv2: conv2: conv2d: input has 6 channels but the layer expects 8", "conv2"),
    ],
)
def test_the_scan_finds_the_repeats_it_is_meant_to(text: str, repeated: str) -> None:
    assert repeated_clause(text) == repeated


def test_the_scan_passes_a_message_that_says_each_thing_once() -> None:
    line = (
        "convlab: error: explain: position (2, 3) is outside the 3x3 output (rows 0..2, cols 0..2) (fix: --at 2,2)"
    )
    assert repeated_clause(line) is None


def _cli_stderr(argv: list[str]) -> str:
    """What the command says about the input: its stderr, and `check`'s problem lines from stdout."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        main(argv)
    problems = [line for line in out.getvalue().splitlines() if line.startswith(("error: ", "warning: "))]
    return "\n".join([*err.getvalue().splitlines(), *problems])


_LAYER_NAMES = ("conv3x3(8)", "relu", "maxpool2", "avgpool2", "flatten", "linear(10)", "sigmoid", "tanh", "bn")


@st.composite
def misspelt(draw: st.DrawFn, words: tuple[str, ...]) -> str:
    """A word with one letter of its leading name dropped, doubled, swapped or changed."""
    word = draw(st.sampled_from(words))
    name = re.match(r"[a-z]+", word)
    assert name is not None
    letters = list(name.group(0))
    at = draw(st.integers(0, len(letters) - 1))
    edit = draw(st.sampled_from(("drop", "double", "swap", "change")))
    if edit == "drop" and len(letters) > 2:
        del letters[at]
    elif edit == "double":
        letters.insert(at, letters[at])
    elif edit == "swap" and at + 1 < len(letters) and letters[at] != letters[at + 1]:
        letters[at], letters[at + 1] = letters[at + 1], letters[at]
    else:  # another letter (never the same one: the word must be misspelt)
        letters[at] = draw(st.sampled_from([letter for letter in "aeiouxz" if letter != letters[at]]))
    return "".join(letters) + word[name.end() :]


@settings(max_examples=40, deadline=None)
@given(
    word=misspelt(_LAYER_NAMES),
    before=st.lists(st.sampled_from(("relu", "conv3x3(4,p1)")), max_size=2),
)
def test_misspelt_layers_are_suggested_once(word: str, before: list[str]) -> None:
    layers = " ".join([*before, word])
    for argv in (["summary", layers, "--input", "1x8x8"], ["check", layers, "--input", "1x8x8"]):
        err = _cli_stderr(argv)
        assert repeated_clause(err) is None, err


@settings(max_examples=30, deadline=None)
@given(
    word=misspelt(("manual_conv", "edge", "size", "channel", "conv2d", "lenet5", "resnet18", "vgg16")),
)
def test_misspelt_labs_and_presets_are_suggested_once(word: str) -> None:
    for argv in (["lab", word], ["summary", word]):
        err = _cli_stderr(argv)
        assert repeated_clause(err) is None, err


@st.composite
def wrong_network(draw: st.DrawFn) -> tuple[nn.Sequential, tuple[int, int, int, int]]:
    """A small convlab network with one number wrong: conv in_channels, batch-norm features or in_features."""
    channels, width, size = draw(st.integers(1, 3)), draw(st.integers(2, 6)), draw(st.integers(5, 9))
    classes = draw(st.integers(2, 10))
    wrong = draw(st.sampled_from(("conv", "norm", "linear")))
    off = draw(st.integers(1, 5))
    flat = width * (size - 2) ** 2
    layers = [
        nn.Conv2d(channels + (off if wrong == "conv" else 0), width, 3, seed=0),
        nn.BatchNorm2d(width + (off if wrong == "norm" else 0)),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(flat + (off if wrong == "linear" else 0), classes, seed=1),
    ]
    return nn.Sequential(*layers), (1, channels, size, size)


@settings(max_examples=40, deadline=None)
@given(case=wrong_network())
def test_every_problem_line_says_each_thing_once(case: tuple[nn.Sequential, tuple[int, ...]]) -> None:
    model, shape = case
    problems = check(model, shape).problems
    assert problems
    for problem in problems:
        for line in (problem.line(), problem.line(torch=True), problem.headline):
            assert repeated_clause(line) is None, line


@settings(max_examples=25, deadline=None)
@given(case=wrong_network())
def test_explain_errors_names_the_layer_once(case: tuple[nn.Sequential, tuple[int, ...]]) -> None:
    torch = pytest.importorskip("torch")
    model, shape = case
    torch_model = model.to_torch()
    with pytest.raises(ConvlabError) as raised, convlab.explain_errors(torch_model):
        torch_model(torch.from_numpy(np.zeros(shape, dtype=np.float32)))
    error = raised.value
    first = error.message
    assert repeated_clause(first) is None, first
    assert repeated_clause(f"{first} (fix: {error.fix})") is None, error.fix


def test_no_mistake_in_the_catalogue_repeats_itself() -> None:
    from convlab.lesson.mistakes import CATALOGUE, run

    for mistake in CATALOGUE:
        lines = run(mistake).message.splitlines()
        fixes = [line.strip().removeprefix("fix: ") for line in lines if line.strip().startswith("fix: ")]
        text = lines[0] + (f" (fix: {fixes[0]})" if fixes else "")
        assert repeated_clause(text) is None, (mistake.code, text)


@st.composite
def wrong_command(draw: st.DrawFn) -> list[str]:
    """A command line with a value out of range: a kernel larger than the input, a position outside, ..."""
    n = draw(st.integers(1, 6))
    big, small = draw(st.integers(n + 1, 12)), draw(st.integers(-3, 0))
    row, col = draw(st.integers(-4, 9)), draw(st.integers(3, 9))
    return draw(
        st.sampled_from(
            [
                ["size", "--input", str(n), "--kernel", str(big)],
                ["size", "--input", str(n), "--kernel", "1", "--want", str(big + 20), "--stride", "1"],
                ["explain", "--lab", "manual_conv", "--at", f"{row},{col}"],
                ["lab", "size", "--stride", str(small)],
                ["lab", "manual_conv", "--kernel", " ; ".join(["1 " * big] * big)],
                ["check", f"conv{big}x{big}(4) relu", "--input", f"1x{n}x{n}"],
                ["summary", f"conv3x3(4) linear({big}) relu", "--input", f"{n}x8x8"],
                ["flatten", "--height", str(small)],
            ]
        )
    )


@settings(max_examples=60, deadline=None)
@given(argv=wrong_command())
def test_wrong_values_on_the_command_line_are_said_once(argv: list[str]) -> None:
    try:
        err = _cli_stderr(argv)
    except SystemExit:  # argparse's own type checks: its wording, not convlab's
        return
    for line in err.splitlines():
        assert repeated_clause(line) is None, line


@pytest.mark.parametrize("given", [1, 2.5, [3, "a", 4], (3, -1, 4), (3, True, 4)])
def test_check_refuses_an_input_that_is_no_shape_with_a_fix(given: object) -> None:
    """A number, a word or a size below 1 where check wants a shape: a convlab error naming the value, never a
    TypeError (the page's /api/network passed such a body straight through)."""
    with pytest.raises(ConvlabError) as caught:
        check("conv3x3(8)", given)
    assert repr(given if not isinstance(given, list) else tuple(given)) in str(caught.value)
    assert caught.value.fix == 'input="3x224x224"'


def test_check_takes_a_shape_of_numpy_integers() -> None:
    assert check("conv3x3(8)", tuple(np.array([1, 8, 8]))).ok
