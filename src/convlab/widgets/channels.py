"""``Channels``: one kernel per input channel, each channel's sum and the bias adding up, in a notebook cell."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import traitlets

from .._args import Array
from ..errors import ArgumentError, ShapeError
from ..functional import conv2d
from ..lesson.explain_cells import explain_cells
from .assets import module
from .explained import Explained, check_output, planes_from_text, rows_array

__all__ = ["Channels"]

# the explorer page's channels view starts from these too: three 3x3 channels, three 2x2 kernels, bias 0.5
_IMAGE = [[[1, 2, 0], [5, 3, 0], [2, 1, 3]], [[0, 1, 1], [1, 0, 2], [3, 1, 0]], [[2, 2, 1], [0, 1, 0], [1, 0, 1]]]
_KERNELS = [[[1, 0], [0, -1]], [[0, 1], [1, 0]], [[1, 1], [0, 0]]]
_BIAS = 0.5


def _bias_from_text(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise ArgumentError(
            f"bias is {text!r:.40}: not a number",
            fix="type a number such as 0.5 in the bias box, or leave it empty",
        ) from None


class Channels(Explained):
    """A multi-channel convolution with one output channel: each input channel has its own kernel, each
    gives a sum (patch x kernel -> sum), and the output value is those sums plus the bias.

    Args:
        image: (C, H, W), or (H, W) for one channel. Default: the page's three 3x3 channels.
        kernels: (C, kH, kW), one kernel per input channel. Default: three 2x2 kernels.
        bias: one number, or None for no bias. Default: 0.5 (with the default image and kernels).

    Traits as in :class:`Playground`; ``w.output`` is (H_out, W_out), equal to
    ``conv2d(image[None], kernels[None], [bias])[0, 0]``, and ``w.channel_sums`` (C, H_out, W_out) holds
    each channel's own sums, so ``w.channel_sums.sum(0) + bias`` is ``w.output``.
    """

    _esm = module("channels.js")
    image = traitlets.Any().tag(sync=True)
    kernels = traitlets.Any().tag(sync=True)
    bias = traitlets.Any(None).tag(sync=True)

    _edits: ClassVar[dict[str, Callable[[str], object]]] = {
        "image": lambda text: planes_from_text(text, "image"),
        "kernels": lambda text: planes_from_text(text, "kernels"),
        "bias": _bias_from_text,
    }

    def __init__(self, image: object = None, kernels: object = None, bias: object = None) -> None:
        defaults = image is None and kernels is None and bias is None
        self._sums: Array | None = None
        super().__init__(
            image=_IMAGE if image is None else image,
            kernels=_KERNELS if kernels is None else kernels,
            bias=_BIAS if defaults else bias,
        )

    @property
    def channel_sums(self) -> Array | None:
        """Each input channel's sums (C, H_out, W_out), before they are added; None after an error."""
        return None if self._sums is None or self._output is None else self._sums.copy()

    def _explain(self) -> tuple[dict[str, Any], Array]:
        image = rows_array(self.image, "image", (2, 3))
        image = image if image.ndim == 3 else image[None]
        kernels = rows_array(self.kernels, "kernels", (2, 3))
        kernels = kernels if kernels.ndim == 3 else kernels[None]
        if kernels.shape[0] != image.shape[0]:
            raise ShapeError(
                f"kernels has {kernels.shape[0]} kernels for an image of {image.shape[0]} channels",
                fix=f"give one kernel per input channel: w.kernels with {image.shape[0]} planes",
            )
        bias = None if self.bias is None else rows_array([self.bias], "bias", (1,))
        output = conv2d(image[None], kernels[None], bias)[0, 0]
        check_output(output, kernels)
        self._sums = np.stack(
            [conv2d(image[None, c : c + 1], kernels[None, c : c + 1])[0, 0] for c in range(len(image))]
        )
        return explain_cells(image, kernels[None], bias), output
