"""Move layers between convlab and PyTorch, weights included, so what a learner builds in one runs in the other.

Each layer declares its torch counterpart beside its class (``torch_name``, ``torch_arguments``, and
``to_torch``/``from_torch`` where the generic copy is not enough); these two functions only find the
layer that declares it. torch is imported only when they run; convlab itself never needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import ArgumentTypeError
from .module import Module, torch_library

__all__ = ["from_torch", "to_torch"]


def _layers(base: type[Module] = Module) -> Iterator[type[Module]]:
    for layer in base.__subclasses__():
        yield layer
        yield from _layers(layer)


def _counterpart(module: Any) -> type[Module] | None:
    """The convlab layer that declares ``module``'s torch class, or failing that its nearest base class."""
    for cls in type(module).__mro__:
        found = next((layer for layer in _layers() if layer.torch_name == cls.__name__), None)
        if found is not None:
            return found
    return None


def from_torch(module: Any) -> Module:
    """A convlab layer equal to a ``torch.nn`` layer: same settings, same weights (copied).

    Supports every layer of convlab.nn (Conv2d, BatchNorm2d, Dropout, Linear, ...)
    and Sequential of those.

    Example:
        >>> import torch
        >>> from_torch(torch.nn.Conv2d(3, 8, 3, padding=1))
        Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    """
    torch_library()
    layer = _counterpart(module)
    if layer is None:
        known = ", ".join(sorted(str(layer.torch_name) for layer in _layers() if layer.torch_name))
        raise ArgumentTypeError(
            f"from_torch: {type(module).__name__} has no convlab counterpart", fix=f"convert {known} layers"
        )
    return layer.from_torch(module)


def to_torch(layer: Module) -> Any:
    """The ``torch.nn`` layer equal to a convlab layer: same settings, same weights (copied).

    Example:
        >>> from convlab.nn import Conv2d
        >>> to_torch(Conv2d(1, 4, 3, seed=0))
        Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1))
    """
    return layer.to_torch()
