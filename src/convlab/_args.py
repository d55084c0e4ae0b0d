"""Normalise user arguments once, at the boundary, into one canonical form.

Everything past this module works with plain ints, ``(h, w)`` pairs and explicit
``((top, bottom), (left, right))`` paddings, so no other code re-checks or
re-interprets what the user typed. Bad values are rejected here, naming the
argument, its value and what is allowed.
"""

from __future__ import annotations

import math
import numbers
import re
import sys
from typing import TYPE_CHECKING, Any

from .errors import ArgumentError, ArgumentTypeError

if TYPE_CHECKING:
    import numpy as np

    Array = np.ndarray[Any, Any]
else:
    Array = Any  # NumPy is imported only where arrays are made, so argument checks start fast

__all__ = [
    "MAX_INT",
    "PADDING_MODES",
    "Array",
    "Pad2d",
    "Pair",
    "as_int",
    "conv_padding",
    "flag",
    "int_list",
    "padding_mode",
    "pair",
]

Pair = tuple[int, int]
Pad2d = tuple[Pair, Pair]
"""Explicit padding: ((top, bottom), (left, right))."""

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


MAX_INT = 2**40
"""The largest size, stride or padding accepted: far past any real image, yet small enough that NumPy's byte
offsets (size x stride x bytes per value) cannot overflow."""

_INT = re.compile(r"-?\d+")
_SEPARATOR = re.compile(r"\s*[,x×]\s*|\s+")


def int_list(text: str) -> tuple[int, ...] | None:
    """The integers in ``text`` (separated by commas, x, × or spaces, optionally in () or []), or None.

    Anything else, such as a stray word, ``9x`` or ``2,,1``, gives None.

    Example:
        >>> int_list("3x224x224"), int_list("(1, 0)"), int_list("9x")
        ((3, 224, 224), (1, 0), None)
    """
    inner = text.strip()
    if inner[:1] + inner[-1:] in ("()", "[]"):
        inner = inner[1:-1].strip()
    parts = _SEPARATOR.split(inner)
    if not inner or not all(_INT.fullmatch(part) for part in parts):
        return None
    return tuple(int(part) for part in parts)


def _is_numpy(value: object, kind: str) -> bool:
    """isinstance against a NumPy type without importing NumPy: if it is not loaded, no value can be one."""
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, getattr(numpy, kind))


def _shown(value: object) -> str:
    """How a value is named in messages: its repr and, where it helps, its type."""
    if isinstance(value, (bool, float, str)) or value is None:
        return f"{value!r} ({type(value).__name__})"
    return repr(value)


def as_int(value: object, name: str, *, minimum: int) -> int:
    """Check that ``value`` is a true integer (not a bool, not a float) of at least ``minimum``.

    Example:
        >>> as_int(2, "stride", minimum=1)
        2
    """
    if type(value) is int and minimum <= value <= MAX_INT:  # the common case, first: a plain int in range
        return value
    if isinstance(value, bool) or _is_numpy(value, "bool_"):
        raise ArgumentTypeError(
            f"{name} must be an int, got the bool {value!r}",
            fix=f"pass a number, e.g. {name}={max(minimum, 1 if value else 0)}",
        )
    if isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, numbers.Real):
        real = float(value)
        suggestion = f"{name}={int(real)}" if math.isfinite(real) and real.is_integer() else f"{name}={minimum}"
        raise ArgumentTypeError(
            f"{name} must be an int, got {_shown(value)}",
            fix=f"pass a whole number, e.g. {suggestion}",
        )
    else:
        raise ArgumentTypeError(
            f"{name} must be an int or a pair of ints, got {_shown(value)}",
            fix=f"pass e.g. {name}={minimum} or {name}=({minimum}, {minimum})",
        )
    if number > MAX_INT:
        raise ArgumentError(
            f"{name} is {number}, more than convlab accepts ({MAX_INT} = 2**40)",
            fix=f"use a {name} no larger than the image, e.g. {name}={max(minimum, 1)}",
        )
    if number < minimum:
        allowed = "positive" if minimum == 1 else "non-negative" if minimum == 0 else f">= {minimum}"
        raise ArgumentError(
            f"{name} must be {allowed}, got {number}",
            fix=f"use {name}={minimum} or larger",
        )
    return number


def pair(value: object, name: str, *, minimum: int) -> Pair:
    """Normalise an int or an ``(h, w)`` pair of ints to a pair, like PyTorch's ``_pair``.

    Only an int, a tuple or a list of length two, or a NumPy integer array of
    that shape is accepted; any other iterable is refused rather than guessed at.

    Example:
        >>> pair(3, "kernel_size", minimum=1)
        (3, 3)
        >>> pair((1, 2), "padding", minimum=0)
        (1, 2)
    """
    if type(value) is int:
        number = as_int(value, name, minimum=minimum)
        return (number, number)
    if _is_numpy(value, "ndarray") and value.ndim == 1:  # type: ignore[attr-defined]
        value = tuple(value.tolist())  # type: ignore[attr-defined]
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ArgumentError(
                f"{name} must be an int or a pair (h, w), got {value!r} with {len(value)} values",
                fix=f"pass one value per spatial dimension, e.g. {name}=({minimum}, {minimum})",
            )
        return (as_int(value[0], name, minimum=minimum), as_int(value[1], name, minimum=minimum))
    number = as_int(value, name, minimum=minimum)
    return (number, number)


def flag(value: object, name: str) -> bool:
    """Check a True/False option; 0/1 and other truthy values are refused so typos surface."""
    if not (isinstance(value, bool) or _is_numpy(value, "bool_")):
        raise ArgumentTypeError(f"{name} must be True or False, got {_shown(value)}", fix=f"pass {name}=True")
    return bool(value)


def padding_mode(value: object) -> str:
    """Check a ``padding_mode`` string against PyTorch's four modes."""
    if value not in PADDING_MODES:
        raise ArgumentError(
            f"padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, got {_shown(value)}",
            fix="use padding_mode='zeros' (the default) unless you need another border",
        )
    return str(value)


def conv_padding(padding: object, *, kernel_size: Pair, stride: Pair, dilation: Pair) -> Pad2d:
    """Resolve a convolution's ``padding`` argument into explicit ``((top, bottom), (left, right))``.

    ``"valid"`` means no padding. ``"same"`` pads ``dilation * (kernel - 1)`` in
    total per dimension, half on each side with the odd one on the bottom/right,
    exactly as PyTorch does; like PyTorch it is refused for strides above 1.

    Example:
        >>> conv_padding("same", kernel_size=(4, 3), stride=(1, 1), dilation=(1, 1))
        ((1, 2), (1, 1))
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding == "same":
            totals = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
            if stride != (1, 1):
                from .diagnose import same_with_stride

                raise same_with_stride(kernel_size, stride, dilation).error(ArgumentError)
            if any(total % 2 for total in totals):
                from .diagnose import warn

                warn(
                    "even-kernel-same",
                    f"padding='same' with kernel {kernel_size} pads unevenly: "
                    f"{totals[0] // 2} top and {totals[0] - totals[0] // 2} bottom along H, so outputs shift half "
                    "a pixel towards the top-left",
                    "use an odd kernel size, e.g. 3 or 5, for a centred window",
                )
            top, left = (total // 2 for total in totals)
            return ((top, totals[0] - top), (left, totals[1] - left))
        raise ArgumentError(
            f"padding must be an int, a pair (h, w), 'valid' or 'same', got {padding!r}",
            fix="use padding='same' to keep the size or padding='valid' for none",
        )
    ph, pw = pair(padding, "padding", minimum=0)
    return ((ph, ph), (pw, pw))
