"""Parsing of command-line values into the forms the API takes: ints, (h, w) pairs, padding."""

from __future__ import annotations

import argparse
import re


def int_or_pair(text: str) -> int | tuple[int, int]:
    """``"2"`` -> 2; ``"2,1"``, ``"2x1"`` or ``"(2, 1)"`` -> (2, 1)."""
    parts = [part for part in re.split(r"[\s,x×()]+", text.strip()) if part]
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or two such as 2,1, got {text!r}") from None
    if len(numbers) == 1:
        return numbers[0]
    if len(numbers) == 2:
        return (numbers[0], numbers[1])
    raise argparse.ArgumentTypeError(f"expected one number or two (h, w), got {text!r}")


def padding(text: str) -> int | tuple[int, int] | str:
    """A number, a pair, or the words same / valid."""
    return text if text in ("same", "valid") else int_or_pair(text)


def position(text: str) -> tuple[int, int]:
    value = int_or_pair(text)
    if isinstance(value, int):
        raise argparse.ArgumentTypeError(f"expected a row and a column such as 1,0, got {text!r}")
    return value
