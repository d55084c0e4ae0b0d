"""The API's fixes in the command line's language: a Python fix (``at=(2, 2)``) as the running command's
flags (``--at 2,2``), and a call to make again (``convlab.lesson.labs.run("edge")``) as the command that
makes it (``convlab lab edge``). ``main`` applies it once, to every error a command raises."""

from __future__ import annotations

import argparse
import re
from dataclasses import replace

from ..errors import Call, ConvlabError, python_value, with_note

_BRACKETS_AND_QUOTES = re.compile(r"[\[\]()\s\"']")
_NOT_OPTIONS = frozenset({"run", "command", "command_parser", "picture", "debug", "flags"})  # the dispatch


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
    diagnosis = error.diagnosis
    if error.fix is None or not (flags or (diagnosis and diagnosis.also)):
        return error
    fix = error.fix
    if diagnosis is not None and diagnosis.also is not None:
        fix = fix.replace(str(diagnosis.also), _other_command(diagnosis.also))
    if diagnosis is not None:
        diagnosis = replace(diagnosis, fix=as_flags(diagnosis.fix, flags))
    return error.with_fix(as_flags(fix, flags), diagnosis)


def _other_command(call: Call) -> str:
    """A diagnosis's other way (``convlab.shapes.solve_padding(...)``) as the command that does it."""
    from .size import SOLVE_FLAGS

    commands = {"convlab.shapes.solve_padding": ("convlab size", SOLVE_FLAGS)}
    command, flags = commands[call.function]
    return as_command(call, flags, command)


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
