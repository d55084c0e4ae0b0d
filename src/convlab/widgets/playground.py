"""``Playground``: one kernel sliding over one image, every output value explained, in a notebook cell."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import traitlets

from .._args import Array
from ..functional import conv2d
from ..lesson.explain_cells import explain_cells
from ..lesson.labs import VALUE_PRESETS
from .assets import module
from .explained import (
    Explained,
    check_output,
    matrix_from_text,
    rows_array,
    setting_from_text,
    settings_tuple,
)

__all__ = ["Playground"]

_LAB1_IMAGE, _LAB1_KERNEL = VALUE_PRESETS["manual_conv"]


class Playground(Explained):
    """The explorer page's playground in a notebook cell: hover or focus an output value to see its window
    on the padded input and the lesson's arithmetic (patch x kernel -> sum).

    Args:
        image: (H, W) rows of numbers (a list or an array). Default: Lab 1's 4x4 image.
        kernel: (kH, kW). Default: Lab 1's kernel [[1, 0], [0, -1]].
        stride, padding, dilation, padding_mode: as in :func:`convlab.functional.conv2d` (padding may be
            "same" or "valid"). Defaults: 1, 0, 1, "zeros".

    Every argument is a trait of the same name: set it from Python (``w.stride = 2``) and the cell redraws;
    type in the cell and the trait changes. ``w.output`` is the output (H_out, W_out), equal to
    ``conv2d(image[None, None], kernel[None, None], ...)[0, 0]``; ``w.error`` holds convlab's message when
    the settings are refused (then ``w.output`` is None), and ``w.answer`` what the cell draws.
    """

    _esm = module("playground.js")
    image = traitlets.Any().tag(sync=True)
    kernel = traitlets.Any().tag(sync=True)
    stride = traitlets.Any(1).tag(sync=True)
    padding = traitlets.Any(0).tag(sync=True)
    dilation = traitlets.Any(1).tag(sync=True)
    padding_mode = traitlets.Unicode("zeros").tag(sync=True)

    _edits: ClassVar[dict[str, Callable[[str], object]]] = {
        "image": lambda text: matrix_from_text(text, "image"),
        "kernel": lambda text: matrix_from_text(text, "kernel"),
        "stride": lambda text: setting_from_text(text, "stride"),
        "padding": lambda text: setting_from_text(text, "padding", ("same", "valid")),
        "dilation": lambda text: setting_from_text(text, "dilation"),
        "padding_mode": lambda text: text,
    }

    def __init__(
        self,
        image: object = None,
        kernel: object = None,
        stride: object = 1,
        padding: object = 0,
        dilation: object = 1,
        padding_mode: str = "zeros",
    ) -> None:
        super().__init__(
            image=_LAB1_IMAGE if image is None else image,
            kernel=_LAB1_KERNEL if kernel is None else kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            padding_mode=padding_mode,
        )

    def _explain(self) -> tuple[dict[str, Any], Array]:
        image = rows_array(self.image, "image", (2,))
        kernel = rows_array(self.kernel, "kernel", (2,))
        settings: dict[str, Any] = {
            "stride": settings_tuple(self.stride),
            "padding": settings_tuple(self.padding),
            "dilation": settings_tuple(self.dilation),
            "padding_mode": self.padding_mode,
        }
        output = conv2d(image[None, None], kernel[None, None], **settings)[0, 0]
        check_output(output, kernel)
        return explain_cells(image[None], kernel[None, None], **settings), output
