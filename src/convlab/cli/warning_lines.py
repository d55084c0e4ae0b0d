"""Warnings on the command line: one ``convlab: warning: ...`` line each, never Python's file path and source.

Python shows a warning as ``/path/to/geometry.py:272: ConvlabWarning: ...`` followed by the source line that
raised it: noise to someone who typed a command. While the command runs, ``warnings.showwarning`` prints the
message alone, on one line, with the command's way to silence convlab's own warnings.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

_PYTHON_SILENCE = "silence: convlab.diagnose.quiet()"
_COMMAND_SILENCE = "silence: CONVLAB_WARNINGS=0"


def warning_line(message: Warning | str) -> str:
    """``convlab: warning: <the message on one line>``, its Python way to silence it given as the command's."""
    text = " ".join(str(message).split()).replace(_PYTHON_SILENCE, _COMMAND_SILENCE)
    return f"convlab: warning: {text}"


@contextmanager
def warnings_as_lines() -> Iterator[None]:
    """Inside the block every warning shown is printed by :func:`warning_line` on stderr."""

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        print(warning_line(message), file=file or sys.stderr)

    previous = warnings.showwarning
    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous
