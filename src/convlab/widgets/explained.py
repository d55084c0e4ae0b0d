"""What both widgets share: traits that hold plain numbers, edits typed in the cell, errors shown as text.

A widget keeps its settings as traits (synced with the cell), recomputes whenever one changes, and puts
the result in ``answer`` (the explained convolution the cell draws) or, when convlab refuses the settings,
the error's message in ``error``. Nothing raised by a setting reaches the notebook as a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

import anywidget
import numpy as np
import traitlets

from .._args import Array
from ..errors import ArgumentError, ConvlabError, ShapeError
from ..lesson.textmatrix import parse_matrix
from .assets import styles

__all__ = [
    "MAX_PRODUCTS",
    "Explained",
    "check_output",
    "matrix_from_text",
    "plain",
    "planes_from_text",
    "rows_array",
    "setting_from_text",
    "settings_tuple",
]

MAX_PRODUCTS = 250_000  # products explained in one cell (output values x kernel cells x channels), as the page


def plain(value: object) -> object:
    """A value as JSON can carry it: arrays, tensors and NumPy numbers become lists and Python numbers."""
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return value


def rows_array(value: object, name: str, ndims: tuple[int, ...]) -> Array:
    """A trait's rows of numbers as a float64 array with one of ``ndims`` axes, or a convlab error."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise ArgumentError(
            f"{name} must be rows of numbers of equal length, got {value!r:.80}",
            fix=f"w.{name} = [[1, 0], [0, -1]]",
        ) from None
    if array.ndim not in ndims or 0 in array.shape:
        wanted = " or ".join(f"{n}" for n in ndims)
        raise ShapeError(
            f"{name} must have {wanted} axes and no empty one, got shape {array.shape}",
            fix=f"w.{name} = [[1, 0], [0, -1]]"
            if 2 in ndims
            else f"w.{name} = [[[1, 0], [0, 1]], [[0, 1], [1, 0]]]",
        )
    if not np.all(np.isfinite(array)):
        raise ArgumentError(f"{name} holds values that are not finite numbers", fix="use ordinary numbers")
    return array


def setting_from_text(text: str, name: str, words: tuple[str, ...] = ()) -> object:
    """A setting typed in the cell: a whole number, two of them (rows, columns), or one of ``words``."""
    stripped = text.strip()
    if stripped in words:
        return stripped
    parts = [part for part in re.split(r"[\s,()]+", stripped) if part]
    if 1 <= len(parts) <= 2 and all(re.fullmatch(r"[+-]?\d+", part) for part in parts):
        numbers = tuple(int(part) for part in parts)
        return numbers[0] if len(numbers) == 1 else numbers
    also = "".join(f", or {word}" for word in words)
    raise ArgumentError(
        f"{name} is {text!r:.40}: not a whole number",
        fix=f"type a whole number such as 1 in the {name} box, two as 1, 2 (rows, columns){also}",
    )


def matrix_from_text(text: str, name: str) -> list[list[float]]:
    """Rows typed in the cell (``1 0; 0 -1``) as a list of rows, with the fix written for the cell."""
    try:
        return [[float(v) for v in row] for row in parse_matrix(text, name).astype(np.float64)]
    except ConvlabError as error:
        raise error.with_fix(f'type rows of numbers separated by ";" in the {name} box, e.g. 1 0; 0 -1') from None


def planes_from_text(text: str, name: str) -> list[list[list[float]]]:
    """Planes typed in the cell, separated by ``|`` (``1 2; 3 4 | 0 1; 1 0``), all of one shape."""
    planes = [matrix_from_text(part, f"{name} {c}") for c, part in enumerate(text.split("|"))]
    shapes = [(len(plane), len(plane[0])) for plane in planes]
    if len(set(shapes)) > 1:
        raise ShapeError(
            f"{name} planes have different shapes {shapes}",
            fix=f"give every plane of {name} (between the | signs) the same rows and columns",
        )
    return planes


class Explained(anywidget.AnyWidget):
    """A convolution widget: subclasses declare their settings and how to explain them (``_explain``)."""

    _css = styles()
    answer = traitlets.Dict().tag(sync=True)  # convlab.lesson.explain_cells(...), or {} after an error
    error = traitlets.Unicode("").tag(sync=True)  # the convlab error's message, "" when all is well

    # setting name -> how the cell's text for it becomes a value (the message "edit" of the cell)
    _edits: ClassVar[dict[str, Callable[[str], object]]] = {}

    def __init__(self, **settings: object) -> None:
        super().__init__(**{name: plain(value) for name, value in settings.items()})
        self._output: Array | None = None
        self.observe(self._recompute, names=list(self._edits))
        self.on_msg(self._edit)
        self._recompute()

    @traitlets.validate("image", "kernel", "kernels", "bias", "stride", "padding", "dilation")
    def _plain(self, proposal: dict[str, Any]) -> object:
        return plain(proposal["value"])

    @property
    def output(self) -> Array | None:
        """The output values (H_out, W_out) as ``convlab.functional.conv2d`` gives them; None after an error."""
        return None if self._output is None else self._output.copy()

    def _explain(self) -> tuple[dict[str, Any], Array]:
        raise NotImplementedError

    def _recompute(self, change: object = None) -> None:
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported by check_output
                answer, output = self._explain()
        except ConvlabError as error:
            self._output, self.answer, self.error = None, {}, str(error)
            return
        self._output, self.answer, self.error = output, answer, ""

    def _edit(self, widget: object, content: dict[str, Any], buffers: object) -> None:
        """The cell sends ``{"edit": setting, "text": what was typed}``; convlab reads it."""
        name, text = content.get("edit"), content.get("text")
        if name not in self._edits or not isinstance(text, str):
            return
        try:
            value = plain(self._edits[name](text))
        except ConvlabError as error:
            self._output, self.answer, self.error = None, {}, str(error)
            return
        if getattr(self, name) == value:  # no change to observe, but an earlier typing error may be showing
            self._recompute()
        else:
            setattr(self, name, value)


def check_output(output: Array, kernel: Array) -> None:
    """Refuse an output the cell cannot show: values beyond float64 (JSON has no inf), or an explanation
    with more products than a cell shows comfortably (one per output value and kernel cell, the kernels of
    every input channel counted)."""
    if not np.all(np.isfinite(output)):
        raise ArgumentError(
            "the output holds values beyond float64 (inf or nan)", fix="use smaller numbers in the image or kernel"
        )
    products = output.size * kernel.size
    if products > MAX_PRODUCTS:
        raise ArgumentError(
            f"explaining every value takes {products:,} products, more than a widget shows ({MAX_PRODUCTS:,})",
            fix="use a smaller image or kernel here, and convlab.functional.conv2d for large ones",
        )


def settings_tuple(value: object) -> object:
    """A pair synced from the cell arrives as a list; convlab takes pairs as tuples."""
    return tuple(value) if isinstance(value, list) else value
