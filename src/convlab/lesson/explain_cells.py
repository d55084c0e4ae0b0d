"""Every output value of a convolution explained, as plain data a page or a notebook widget can draw.

The explorer page (through its JSON API) and the notebook widgets draw the same answer with the same
JavaScript (``web/static/grids.js``), so both read one shape, built here from the engine's own traces.

Example:
    >>> import numpy as np
    >>> image = np.array([[[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]], dtype=np.float32)
    >>> answer = explain_cells(image, np.array([[[[1, 0], [0, -1]]]], dtype=np.float32))
    >>> answer["output"][0][1][0], answer["cells"][0][1][0]["terms"][0]["equation"]
    (4.0, '5*1 + 3*0 + 2*0 + 1*(-1) = 4')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._args import Array
from ..functional.geometry import conv_settings
from ..network.shapes import conv2d_derivation
from .explain import explain_all
from .explain_text import equation

__all__ = ["explain_cells"]


def explain_cells(
    image: Array,
    kernel: Array,
    bias: Array | None = None,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    padding_mode: str = "zeros",
) -> dict[str, Any]:
    """Convolve one image and explain every output value of every output channel.

    Args:
        image: (C, H, W).
        kernel: (O, C, kH, kW).
        bias: (O,) or None.
        stride, padding, dilation, padding_mode: as in :func:`convlab.functional.conv2d`.

    Returns:
        ``output`` (O, H_out, W_out) as nested lists, ``padded`` (C, H_pad, W_pad), ``padding``
        [[top, bottom], [left, right]], ``input_shape``, ``kernel``, ``formula`` (the output-size
        derivation for H and W), and ``cells[o][i][j]``: the window's padded rows and columns, each input
        channel's products written as the lesson writes them (``equation``) with their ``total``, the
        ``bias`` and the ``value``.
    """
    # normalised (and warned about) once for every channel; a kernel of the wrong rank is explain's to refuse
    settings = conv_settings("explain", np.shape(kernel)[-2:], stride, padding, dilation, 1, padding_mode)
    cells, output = [], []
    for o in range(kernel.shape[0]):
        traces = explain_all(image, np.ascontiguousarray(kernel), bias, out_channel=o, settings=settings)
        height, width = traces[0].output.shape
        output.append(traces[0].output.tolist())
        cells.append(
            [
                [
                    {
                        "rows": list(trace.rows),
                        "cols": list(trace.cols),
                        "terms": [
                            {"channel": term.channel, "equation": equation(term), "total": term.total}
                            for term in trace.terms
                        ],
                        "bias": trace.bias,
                        "value": trace.value,
                    }
                    for trace in traces[i * width : (i + 1) * width]
                ]
                for i in range(height)
            ]
        )
    first = traces[0]
    (top, bottom), (left, right) = first.padding
    kh, kw = kernel.shape[2:]
    formula = [
        conv2d_derivation(image.shape[1], kh, first.stride[0], first.padding[0], first.dilation[0], "H"),
        conv2d_derivation(image.shape[2], kw, first.stride[1], first.padding[1], first.dilation[1], "W"),
    ]
    return {
        "output": output,
        "padded": first.padded.tolist(),
        "padding": [[top, bottom], [left, right]],
        "input_shape": list(image.shape),
        "kernel": kernel.tolist(),
        "formula": formula,
        "cells": cells,
    }
