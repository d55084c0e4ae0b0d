"""Between the command line and the API: command-line values into the forms the API takes (ints, (h, w)
pairs, padding), and the API's Python fixes back into the command's flags."""

from __future__ import annotations

import argparse
import re

from ..errors import ConvlabError


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


def in_flags(error: ConvlabError, flags: dict[str, str]) -> ConvlabError:
    """``error`` with its Python fix (``at=(2, 2)``) written as the command's flags (``--at 2,2``).

    ``flags`` maps the API's argument names to the command's flags; an error whose fix names none
    of them comes back as it is.
    """
    if error.fix is None or not flags:
        return error
    fix = as_flags(error.fix, flags)
    if fix == error.fix:
        return error
    return type(error)(error.message, evidence=error.evidence, fix=fix, diagnosis=error.diagnosis)


def as_flags(fix: str, flags: dict[str, str]) -> str:
    """A Python fix (``input="3x224x224"``) written as the command's flags (``--input 3x224x224``)."""

    def as_flag(match: re.Match[str]) -> str:
        value = re.sub(r"[\[\]()\s\"']", "", match.group(2))  # (2, 2) -> 2,2 and ["sobel_x"] -> sobel_x
        return f"{flags[match.group(1)]} {value}"

    names = "|".join(re.escape(name) for name in flags)
    return re.sub(rf"\b({names})=(\([^)]*\)|\[[^\]]*\]|[^\s;]+)", as_flag, fix)
