"""Between the command line and the API: command-line values into the forms the API takes (ints, (h, w)
pairs, padding), and the API's Python fixes back into the command's flags."""

from __future__ import annotations

import argparse
import re
from dataclasses import replace

from ..errors import Call, ConvlabError, python_value, with_note


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


_BRACKETS_AND_QUOTES = re.compile(r"[\[\]()\s\"']")
_NOT_OPTIONS = frozenset({"run", "command", "picture", "debug", "flags"})  # argparse's own, and the dispatch


def command_flags(args: argparse.Namespace) -> dict[str, str]:
    """The API's argument names as this command's flags.

    Each option stands for the argument of its own name (``padding_mode`` -> ``--padding-mode``); a
    command whose flags name an argument differently says so with ``set_defaults(flags={...})``
    (``{"out_channel": "--channel"}``), and those win.
    """
    own = {dest: "--" + dest.replace("_", "-") for dest in vars(args) if dest not in _NOT_OPTIONS}
    declared: dict[str, str] = getattr(args, "flags", None) or {}
    return {**own, **declared}


def in_flags(error: ConvlabError, flags: dict[str, str], command: str = "convlab") -> ConvlabError:
    """``error`` with its Python fix (``at=(2, 2)``) written as the command's flags (``--at 2,2``).

    ``flags`` maps the API's argument names to the command's flags; ``force=True`` becomes the bare
    flag. A fix that is a call to make again (a :class:`~convlab.errors.Call`) becomes the running
    ``command`` (``"convlab lab"``) with the call's positional arguments as its words. An error whose
    fix names none of them comes back as it is.
    """
    if error.call is not None:
        return error.with_fix(as_command(error.call, flags, command))
    if error.fix is None or not flags:
        return error
    diagnosis = error.diagnosis
    if diagnosis is not None:
        diagnosis = replace(diagnosis, fix=as_flags(diagnosis.fix, flags))
    return error.with_fix(as_flags(error.fix, flags), diagnosis)


def as_command(call: Call, flags: dict[str, str], command: str) -> str:
    """A call to make again (``labs.run("size", stride=2)``) as the command that makes it
    (``convlab lab size --stride 2``): its positional arguments are the command's words."""
    words = [command, *(_shell_word(str(value)) for value in call.args)]
    named = {name: flags.get(name, "--" + name.replace("_", "-")) for name, _ in call.kwargs}
    words += [as_flags(f"{name}={python_value(value)}", named) for name, value in call.kwargs]
    return with_note(" ".join(words), call.note)


def _shell_word(text: str) -> str:
    """``1 0; 0 -1`` -> ``"1 0; 0 -1"``: a value the shell would split (or end at ``;``) is quoted."""
    return f'"{text}"' if re.search(r"[\s;|&<>()]", text) else text


def as_flags(fix: str, flags: dict[str, str]) -> str:
    """A Python fix (``input="3x224x224"``) written as the command's flags (``--input 3x224x224``)."""

    def as_flag(match: re.Match[str]) -> str:
        flag, value = flags[match.group(1)], match.group(2)
        if value == "True":
            return flag
        if value[0] in "'\"" and re.search(r"[\s;]", value):  # text such as "1 0; 0 -1" stays one word
            return f"{flag} {_shell_word(value[1:-1])}"
        return f"{flag} {re.sub(_BRACKETS_AND_QUOTES, '', value)}"  # (2, 2) -> 2,2, ["sobel_x"] -> sobel_x

    names = "|".join(re.escape(name) for name in sorted(flags, key=len, reverse=True))
    pattern = rf"\b({names})=(\([^)]*\)|\[[^\]]*\]|'[^']*'|\"[^\"]*\"|[^\s;,]+)"
    return re.sub(pattern, as_flag, fix)


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
