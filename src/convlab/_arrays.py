"""Arrays from what users pass (arrays, nested lists, torch tensors), in one float dtype, PyTorch style."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._args import Array
from .diagnose import dtype_mismatch, warn
from .errors import ArgumentTypeError, DtypeError

__all__ = ["float_arrays"]


def _to_array(value: object, name: str) -> Array:
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor: accept it without importing torch
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise ArgumentTypeError(
            f"{name} could not be read as an array: its nested lists are not all of equal length",
            evidence=[f"NumPy said: {error}"],
            fix=f"pass {name} as a NumPy array or as nested lists of equal length",
        ) from None
    if array.dtype.kind not in "biuf":
        raise ArgumentTypeError(
            f"{name} must hold real numbers, got dtype {array.dtype}",
            fix=f"convert it first, e.g. {name} = np.asarray({name}, dtype=np.float32)",
        )
    return array


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _already_float(named: dict[str, object], optional: tuple[str, ...]) -> dict[str, Array] | None:
    """The common case, checked first: NumPy arrays all of float32 or all of float64 need no conversion.

    Returns them as plain ndarrays (as ``np.asarray`` would), or None when anything needs the full rule.
    """
    dtype = None
    arrays: dict[str, Array] = {}
    for name, value in named.items():
        if value is None and name in optional:
            continue
        if not isinstance(value, np.ndarray):
            return None
        if dtype is None:
            dtype = value.dtype
            if dtype not in _FLOATS:
                return None
        elif value.dtype != dtype:
            return None
        arrays[name] = value if type(value) is np.ndarray else value.view(np.ndarray)
    return arrays


def float_arrays(named: dict[str, object], optional: tuple[str, ...] = ("bias",)) -> dict[str, Array]:
    """Convert array arguments to one common float dtype, PyTorch style.

    The rule, in order:

    * float32 and float64 arrays keep their dtype; float16 is computed in float32;
    * ints, bools and plain Python lists or numbers take the dtype of the float
      arrays beside them, and float32 when there are none (PyTorch's default dtype);
    * float32 and float64 arrays together are refused, as PyTorch refuses them,
      rather than silently promoted.

    ``None`` entries are left out of the result where they mean "absent" (the
    names in ``optional``: a bias) and refused everywhere else.

    Example:
        >>> arrays = float_arrays({"input": [[1, 2]], "weight": np.ones((1, 1))})
        >>> arrays["input"].dtype, arrays["weight"].dtype
        (dtype('float64'), dtype('float64'))
    """
    ready = _already_float(named, optional)
    if ready is not None:
        return ready
    arrays: dict[str, Array] = {}
    strong: dict[str, np.dtype[Any]] = {}
    for name, value in named.items():
        if value is None:
            if name in optional:
                continue
            raise ArgumentTypeError(
                f"{name} is None, but an array is required", fix=f"pass {name} as a NumPy array or nested lists"
            )
        array = _to_array(value, name)
        arrays[name] = array
        typed = isinstance(value, np.ndarray) or not isinstance(value, (list, tuple, numbers.Number))
        if typed and array.dtype.kind == "f":
            strong[name] = np.dtype(np.float64) if array.dtype == np.float64 else np.dtype(np.float32)
    kinds = set(strong.values())
    if len(kinds) > 1:
        raise dtype_mismatch(strong).error(DtypeError)
    image = arrays.get("input")
    if image is not None and image.dtype == np.uint8 and image.size and int(image.max()) > 1:
        warn(
            "uint8-not-scaled",
            f"the input is a uint8 image with values up to {int(image.max())}: it is used "
            "as is, 0..255, while networks usually expect 0..1",
            "x = x.astype(np.float32) / 255",
        )
    target = kinds.pop() if kinds else np.dtype(np.float32)
    return {name: np.asarray(array, dtype=target) for name, array in arrays.items()}
