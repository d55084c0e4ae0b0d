"""convlab's engine: convolution, transposed convolution and pooling, forward and backward.

Names and meanings follow ``torch.nn.functional`` (and ``torch.nn.grad`` for the
gradients). Each function (adaptive pooling aside) also runs the lesson's loop,
:mod:`convlab.functional.reference`, when given ``algorithm="reference"``: the oracle
the fast paths are tested against.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .adaptive_pool import adaptive_avg_pool2d, adaptive_avg_pool2d_grad
    from .conv import conv2d, conv2d_bias_grad, conv2d_input_grad, conv2d_weight_grad
    from .conv_transpose import conv_transpose2d, conv_transpose2d_input_grad, conv_transpose2d_weight_grad
    from .padding import pad
    from .pool import avg_pool2d, avg_pool2d_grad, max_pool2d, max_pool2d_grad

# Loaded on first use, so that code needing only sizes (shapes, convlab summary) never imports NumPy.
_HOMES = {
    "adaptive_avg_pool2d": "adaptive_pool",
    "adaptive_avg_pool2d_grad": "adaptive_pool",
    "conv2d": "conv",
    "conv2d_bias_grad": "conv",
    "conv2d_input_grad": "conv",
    "conv2d_weight_grad": "conv",
    "conv_transpose2d": "conv_transpose",
    "conv_transpose2d_input_grad": "conv_transpose",
    "conv_transpose2d_weight_grad": "conv_transpose",
    "pad": "padding",
    "avg_pool2d": "pool",
    "avg_pool2d_grad": "pool",
    "max_pool2d": "pool",
    "max_pool2d_grad": "pool",
}

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_avg_pool2d_grad",
    "avg_pool2d",
    "avg_pool2d_grad",
    "conv2d",
    "conv2d_bias_grad",
    "conv2d_input_grad",
    "conv2d_weight_grad",
    "conv_transpose2d",
    "conv_transpose2d_input_grad",
    "conv_transpose2d_weight_grad",
    "max_pool2d",
    "max_pool2d_grad",
    "pad",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
        globals()[name] = value  # later lookups skip this hook
        return value
    if name in ("reference", "algorithms", "geometry", "calls", "padding", "pool", "conv", "conv_transpose"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'convlab.functional' has no attribute {name!r}")
