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

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .diagnose import Diagnosis

__all__ = [
    "ArgumentError",
    "ArgumentTypeError",
    "ConvlabError",
    "ConvlabWarning",
    "DependencyError",
    "DtypeError",
    "ResourceError",
    "ShapeError",
    "StateError",
]


class ConvlabError(Exception):
    """Base class of every error convlab raises on purpose.

    Args:
        message: the first line; it must stand alone and restate the values.
        evidence: further lines with the shapes and numbers involved.
        fix: one concrete change the user can make, ideally as code.
        diagnosis: the recognised mistake behind the error, when one was recognised.
    """

    message: str
    evidence: tuple[str, ...]
    fix: str | None
    diagnosis: Diagnosis | None

    def __init__(
        self,
        message: str,
        *,
        evidence: Sequence[str] = (),
        fix: str | None = None,
        diagnosis: Diagnosis | None = None,
    ) -> None:
        self.message = message
        self.evidence = tuple(evidence)
        self.fix = fix
        self.diagnosis = diagnosis
        lines = [message, *(f"  {line}" for line in self.evidence)]
        if fix is not None:
            lines.append(f"  fix: {fix}")
        super().__init__("\n".join(lines))

    def with_fix(self, fix: str | None, diagnosis: Diagnosis | None = None) -> ConvlabError:
        """The same error with its fix (and its diagnosis's) written for another caller: the command line,
        a layer string. Returns this error itself when nothing changed."""
        diagnosis = self.diagnosis if diagnosis is None else diagnosis
        if fix == self.fix and diagnosis == self.diagnosis:
            return self
        return type(self)(self.message, evidence=self.evidence, fix=fix, diagnosis=diagnosis)


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
