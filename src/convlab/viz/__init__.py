"""Pictures of convolution, drawn from the engine's own numbers.

=====================  ==========================================================================
``window``             the kernel sliding over the input: an animated GIF and a PNG strip, for any
                       kernel, stride, padding, dilation, and for transposed convolution
``explain_figure``     one output value: the window, the kernel, the products and the sum
``features_figure``    classic kernels (or your own) applied to a bundled image or your PNG/JPEG
``rf_figure``          receptive-field growth through a stack or preset, over a real image
``params_figure``      why not flatten first: a fully connected layer's weights against a convolution's
``gallery``            the eight classic cases of the conv_arithmetic guide, labelled with their sizes
=====================  ==========================================================================

Everything is imported on first use: importing ``convlab.viz`` loads neither
NumPy, PIL nor matplotlib. matplotlib is used with its Agg backend, without pyplot.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .explain_figure import explain_figure
    from .features import KERNELS, features_figure
    from .gallery import gallery
    from .params import params_figure
    from .rf import rf_figure
    from .window import window

__all__ = ["KERNELS", "explain_figure", "features_figure", "gallery", "params_figure", "rf_figure", "window"]

_HOMES = {
    "window": "window",
    "explain_figure": "explain_figure",
    "features_figure": "features",
    "KERNELS": "features",
    "rf_figure": "rf",
    "params_figure": "params",
    "gallery": "gallery",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module 'convlab.viz' has no attribute {name!r}")
