"""Command-line values into the forms the API takes: ints, (h, w) pairs, padding, positions, biases; and
negative values kept as values, not read as flags."""

from __future__ import annotations

import argparse
import re


def int_or_pair(text: str) -> int | tuple[int, int]:
    """``"2"`` -> 2; ``"2,1"``, ``"2x1"`` or ``"(2, 1)"`` -> (2, 1)."""
    from .._args import int_list

    numbers = int_list(text)
    if numbers is None or len(numbers) > 2:
        raise argparse.ArgumentTypeError(f"expected a number or two such as 2 or 2,1, got {text!r}")
    return numbers[0] if len(numbers) == 1 else (numbers[0], numbers[1])


def padding(text: str) -> int | tuple[int, int] | str:
    """A number, a pair, or the words same / valid."""
    return text if text in ("same", "valid") else int_or_pair(text)


def positive_int(text: str) -> int:
    """``"700"`` -> 700; zero, negative numbers and words are refused."""
    from .._args import int_list

    numbers = int_list(text)
    if numbers is None or len(numbers) != 1 or numbers[0] < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return numbers[0]


def bias(text: str) -> tuple[float, ...]:
    """``"0.5"`` or ``"0.5,-1"`` -> (0.5,) or (0.5, -1.0): finite numbers that fit float32, one per channel."""
    import math

    try:
        values = tuple(float(part) for part in text.replace(",", " ").split())
    except ValueError:
        values = ()
    if not values or not all(math.isfinite(v) and abs(v) <= 3.4028234663852886e38 for v in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers such as 0.5 or 0.5,-1, got {text!r}")
    return values


def position(text: str) -> tuple[int, int]:
    """``"1,0"``, ``"1 0"`` or ``"(1, 0)"`` -> (1, 0): a row and a column."""
    from .._args import int_list

    numbers = int_list(text)
    if numbers is None or len(numbers) != 2:
        raise argparse.ArgumentTypeError(f"expected a row and a column such as 1,0, got {text!r}")
    return (numbers[0], numbers[1])


_NEGATIVE = re.compile(r"-\d")  # -1,0 or -1x2: a value, though argparse would take it for a flag


def negative_values(words: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """``["explain", "--at", "-1,0"]`` -> ``["explain", "--at=-1,0"]``, so that the value reaches ``--at``.

    argparse reads any word that starts with ``-`` and is not a plain negative number as a flag; joining it
    to the flag before it (only one that takes a value) lets ``-1,0`` through, to be checked like any value.
    """
    takes_value = _flags_with_values(parser)
    command = next((word for word in words if word in _subcommands(parser)), None)
    if command is not None:
        takes_value |= _flags_with_values(_subcommands(parser)[command])
    joined: list[str] = []
    for word in words:
        if joined and joined[-1] in takes_value and _NEGATIVE.match(word):
            joined[-1] = f"{joined[-1]}={word}"
        else:
            joined.append(word)
    return joined


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _flags_with_values(parser: argparse.ArgumentParser) -> set[str]:
    return {
        flag
        for action in parser._actions
        if action.option_strings and action.nargs != 0
        for flag in action.option_strings
        if flag.startswith("--")
    }
