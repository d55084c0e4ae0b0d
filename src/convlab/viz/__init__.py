"""Pictures of convolution, drawn from the engine's own numbers.

=====================  ==========================================================================
``window_animation``   the kernel sliding over the input: an animated GIF and a PNG strip, for any
                       kernel, stride, padding, dilation, and for transposed convolution
``explain_picture``    one output value: the window, the kernel, the products and the sum
``features_figure``    classic kernels (or your own) applied to a bundled image or your PNG/JPEG
``rf_figure``          receptive-field growth through a stack or preset, over a real image
``params_figure``      why not flatten first: a fully connected layer's weights against a convolution's
``draw_gallery``       the eight classic cases of the conv_arithmetic guide, labelled with their sizes
=====================  ==========================================================================

The first two return a record with the frames' data and PIL images (``.save_gif``,
``.save_strip``, ``.save``); the charts return a matplotlib ``Figure``; each takes
``out=`` to write the file too. The package names differ from the modules' own
(``convlab.viz.window.window``) so that importing a module never hides a function.

Everything is imported on first use: importing ``convlab.viz`` loads neither
NumPy, PIL nor matplotlib. matplotlib is used through ``Figure`` and its Agg
canvas, never pyplot, so no window opens and no global state is kept.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .explain_figure import explain_figure as explain_picture
    from .features import KERNELS, features_figure
    from .gallery import gallery as draw_gallery
    from .params import params_figure
    from .rf import rf_figure
    from .window import window as window_animation

__all__ = [
    "KERNELS",
    "draw_gallery",
    "explain_picture",
    "features_figure",
    "params_figure",
    "rf_figure",
    "window_animation",
]

_HOMES = {  # name here: (module, name there)
    "window_animation": ("window", "window"),
    "explain_picture": ("explain_figure", "explain_figure"),
    "features_figure": ("features", "features_figure"),
    "KERNELS": ("features", "KERNELS"),
    "rf_figure": ("rf", "rf_figure"),
    "params_figure": ("params", "params_figure"),
    "draw_gallery": ("gallery", "gallery"),
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        module, attribute = _HOMES[name]
        return getattr(importlib.import_module(f".{module}", __name__), attribute)
    raise AttributeError(f"module 'convlab.viz' has no attribute {name!r}")
