"""The errors convlab raises on purpose.

Every message follows one shape so that a learner can act on it:

    <first line that stands alone: what is wrong, with the values>
      <evidence lines: the shapes and numbers involved>
      fix: <one concrete change>

Each class also derives from the built-in exception a Python user would expect
(``ValueError`` for a bad value, ``TypeError`` for a bad type), so code that
catches those keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .diagnose import Diagnosis

__all__ = [
    "ArgumentError",
    "ArgumentTypeError",
    "Blank",
    "Call",
    "ConvlabError",
    "ConvlabWarning",
    "DependencyError",
    "DtypeError",
    "ResourceError",
    "ShapeError",
    "StateError",
]


@dataclass(frozen=True)
class Call:
    """A fix that is a call to make again: the function, its arguments, and a note.

    Each interface writes it in its own language: Python as the call
    (``convlab.lesson.labs.run("edge")``, what ``str`` gives), the command line as the running
    command with the positional arguments as its words and the keywords as its flags
    (``convlab lab edge``).

    Args:
        function: the function as Python reaches it from ``convlab``, e.g. "convlab.lesson.labs.run".
        args: the positional arguments, in order.
        kwargs: the keyword arguments as (name, value) pairs.
        note: a few words after the call, the same in every language.
    """

    function: str
    args: tuple[object, ...] = ()
    kwargs: tuple[tuple[str, object], ...] = ()
    note: str = ""

    def __str__(self) -> str:
        written = [python_value(value) for value in self.args]
        written += [f"{name}={python_value(value)}" for name, value in self.kwargs]
        return with_note(f"{self.function}({', '.join(written)})", self.note)


@dataclass(frozen=True)
class Blank:
    """A value the reader fills in (the input's size, unknown where the error is found), written as its
    name in every language: ``input_size=(H, W)`` in Python, ``--input H,W`` on the command line."""

    name: str

    def __repr__(self) -> str:
        return self.name


def python_value(value: object) -> str:
    """A value as Python source, strings in double quotes as every fix writes them: "edge", 2, (3, 3)."""
    if isinstance(value, str) and '"' not in value:
        return f'"{value}"'
    return repr(value)


def with_note(fix: str, note: str) -> str:
    """``fix   # note``, the one way fixes carry a note; the fix alone when there is none."""
    return f"{fix}   # {note}" if note else fix


class ConvlabError(Exception):
    """Base class of every error convlab raises on purpose.

    Args:
        message: the first line; it must stand alone and restate the values.
        evidence: further lines with the shapes and numbers involved.
        fix: one concrete change the user can make, ideally as code; a :class:`Call` when the fix is
            to call again with other arguments, so that each interface can write it as its own command.
        diagnosis: the recognised mistake behind the error, when one was recognised.

    Attributes:
        fix: the fix as Python writes it (a call's ``str``).
        call: the fix as a :class:`Call`, when it was given as one.
    """

    message: str
    evidence: tuple[str, ...]
    fix: str | None
    call: Call | None
    diagnosis: Diagnosis | None

    def __init__(
        self,
        message: str,
        *,
        evidence: Sequence[str] = (),
        fix: str | Call | None = None,
        diagnosis: Diagnosis | None = None,
    ) -> None:
        self.message = message
        self.evidence = tuple(evidence)
        self.call = fix if isinstance(fix, Call) else None
        fix = None if fix is None else str(fix)
        self.fix = fix
        self.diagnosis = diagnosis
        lines = [message, *(f"  {line}" for line in self.evidence)]
        if fix is not None:
            lines.append(f"  fix: {fix}")
        super().__init__("\n".join(lines))

    def with_fix(self, fix: str | None, diagnosis: Diagnosis | None = None) -> ConvlabError:
        """The same error with its fix (and its diagnosis's) written for another caller: the command line,
        a layer string. Returns this error itself when nothing changed; a fix left as it was keeps its call."""
        diagnosis = self.diagnosis if diagnosis is None else diagnosis
        if fix == self.fix and diagnosis == self.diagnosis:
            return self
        same_fix: str | Call | None = self.call if fix == self.fix and self.call is not None else fix
        return type(self)(self.message, evidence=self.evidence, fix=same_fix, diagnosis=diagnosis)


class ArgumentError(ConvlabError, ValueError):
    """An argument has a value that is not allowed (negative padding, unknown mode, ...)."""


class ArgumentTypeError(ConvlabError, TypeError):
    """An argument has a type that is not allowed (a bool or float where an int belongs, ...)."""


class ShapeError(ConvlabError, ValueError):
    """Array shapes do not fit together (wrong rank, channels that do not match, kernel too large, ...)."""


class DtypeError(ConvlabError, TypeError):
    """Array dtypes do not fit together or cannot be convolved (float64 input with float32 weight, ...)."""


class ResourceError(ConvlabError, MemoryError):
    """The work asked for needs more memory than the machine has; refused before allocating it."""


class DependencyError(ConvlabError, ImportError):
    """An optional part of convlab needs a package that is not installed (its extra names it)."""


class StateError(ConvlabError, RuntimeError):
    """A call came in the wrong order (``backward`` before ``forward``, ...)."""


class ConvlabWarning(UserWarning):
    """Something legal but probably unintended (for example a stride that skips input pixels)."""
