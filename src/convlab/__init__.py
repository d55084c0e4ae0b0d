"""convlab: learn, see and check 2D convolution.

A from-scratch NumPy convolution engine with PyTorch's exact semantics
(:mod:`convlab.functional`, :mod:`convlab.nn`), a slow readable twin that is the
lesson's loop (:mod:`convlab.functional.reference`), the lesson's labs,
explanations and exercises (:mod:`convlab.lesson`), the network as data
(:mod:`convlab.network`), and errors that restate the values involved
(:mod:`convlab.errors`).

Submodules load on first use, so ``import convlab`` and the ``convlab`` command start fast.

Example:
    >>> import convlab
    >>> image = [[[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]]
    >>> float(convlab.functional.conv2d(image, [[[[1, 0], [0, -1]]]])[0, 1, 0])  # the lesson's out[1, 0]
    4.0
"""

from __future__ import annotations

import importlib

from .errors import (
    ArgumentError,
    ArgumentTypeError,
    ConvlabError,
    ConvlabWarning,
    DtypeError,
    ShapeError,
    StateError,
)

__version__ = "0.1.0"

_SUBMODULES = {  # convlab.<name> -> the module it is
    "diagnose": "diagnose",
    "functional": "functional",
    "nn": "nn",
    "network": "network",
    "lesson": "lesson",
    "shapes": "network.shapes",
    "receptive": "network.receptive_field",
    "labs": "lesson.labs",
    "exercises": "lesson.exercises",
    "flatten_cost": "lesson.flatten_cost",
}
_FUNCTIONS = {  # convlab.<name> -> where it lives
    "summary": "network.summary",
    "receptive_field": "network.receptive_field",
    "check": "network.check",
    "explain_errors": "network.torch_errors",
    "explain": "lesson.explain",
    "set_num_threads": "functional.algorithms.threads",
    "get_num_threads": "functional.algorithms.threads",
    "set_workspace_limit": "functional.algorithms.workspace",
    "get_workspace_limit": "functional.algorithms.workspace",
}

__all__ = [
    "ArgumentError",
    "ArgumentTypeError",
    "ConvlabError",
    "ConvlabWarning",
    "DtypeError",
    "ShapeError",
    "StateError",
    "__version__",
    *_SUBMODULES,
    *_FUNCTIONS,
]


def __getattr__(name: str) -> object:
    if name in _SUBMODULES:
        return importlib.import_module(f".{_SUBMODULES[name]}", __name__)
    if name in _FUNCTIONS:
        value = getattr(importlib.import_module(f".{_FUNCTIONS[name]}", __name__), name)
        globals()[name] = value  # later lookups skip this hook
        return value
    raise AttributeError(f"module 'convlab' has no attribute {name!r}")
