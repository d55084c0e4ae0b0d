"""Move layers between convlab and PyTorch, weights included, so what a learner builds in one runs in the other.

torch is imported only when these functions run; convlab itself never needs it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ArgumentTypeError, ConvlabError
from .activation import ReLU
from .container import Sequential
from .conv import Conv2d, ConvTranspose2d
from .flatten import Flatten
from .linear import Linear
from .module import Module
from .pooling import AvgPool2d, MaxPool2d

__all__ = ["from_torch", "to_torch"]


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ConvlabError(
            "PyTorch is not installed, so layers cannot be moved to or from it",
            fix="pip install torch==2.13.0   (or: pip install 'convlab[test]')",
        ) from None
    return torch


def _array(tensor: Any) -> np.ndarray[Any, Any]:
    return np.array(tensor.detach().cpu().numpy())  # a copy: the two layers must not share memory


def _dtype_of(tensor: Any) -> Any:
    return np.float64 if str(tensor.dtype) == "torch.float64" else np.float32


def _copy_parameters(target: Module, source: Any) -> Module:
    target.weight = _array(source.weight)
    if source.bias is not None:
        target.bias = _array(source.bias)
    return target


def from_torch(module: Any) -> Module:
    """A convlab layer equal to a ``torch.nn`` layer: same settings, same weights (copied).

    Supports Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, ReLU, Flatten, Linear
    and Sequential of those.

    Example:
        >>> import torch
        >>> from_torch(torch.nn.Conv2d(3, 8, 3, padding=1))
        Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    """
    nn = _torch().nn
    if isinstance(module, nn.Sequential):
        return Sequential(*(from_torch(child) for child in module))
    if isinstance(module, nn.Conv2d):
        return _copy_parameters(
            Conv2d(
                module.in_channels,
                module.out_channels,
                module.kernel_size,
                module.stride,
                module.padding,
                module.dilation,
                module.groups,
                module.bias is not None,
                module.padding_mode,
                dtype=_dtype_of(module.weight),
            ),
            module,
        )
    if isinstance(module, nn.ConvTranspose2d):
        return _copy_parameters(
            ConvTranspose2d(
                module.in_channels,
                module.out_channels,
                module.kernel_size,
                module.stride,
                module.padding,
                module.output_padding,
                module.groups,
                module.bias is not None,
                module.dilation,
                dtype=_dtype_of(module.weight),
            ),
            module,
        )
    if isinstance(module, nn.Linear):
        return _copy_parameters(
            Linear(
                module.in_features, module.out_features, module.bias is not None, dtype=_dtype_of(module.weight)
            ),
            module,
        )
    if isinstance(module, nn.MaxPool2d):
        return MaxPool2d(
            module.kernel_size,
            module.stride,
            module.padding,
            module.dilation,
            module.return_indices,
            module.ceil_mode,
        )
    if isinstance(module, nn.AvgPool2d):
        return AvgPool2d(
            module.kernel_size,
            module.stride,
            module.padding,
            module.ceil_mode,
            module.count_include_pad,
            module.divisor_override,
        )
    if isinstance(module, nn.ReLU):
        return ReLU()
    if isinstance(module, nn.Flatten):
        return Flatten(module.start_dim, module.end_dim)
    raise ArgumentTypeError(
        f"from_torch: {type(module).__name__} has no convlab counterpart",
        fix="convert Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, ReLU, Flatten, Linear or Sequential of those",
    )


def _with_parameters(target: Any, source: Module) -> Any:
    torch = _torch()
    with torch.no_grad():
        target.weight.copy_(torch.from_numpy(np.array(source.weight)))  # type: ignore[attr-defined]
        if getattr(source, "bias", None) is not None:
            target.bias.copy_(torch.from_numpy(np.array(source.bias)))  # type: ignore[attr-defined]
    return target


def _torch_dtype(layer: Module) -> Any:
    torch = _torch()
    return torch.float64 if layer.weight.dtype == np.float64 else torch.float32  # type: ignore[attr-defined]


def to_torch(layer: Module) -> Any:
    """The ``torch.nn`` layer equal to a convlab layer: same settings, same weights (copied).

    Example:
        >>> from convlab.nn import Conv2d
        >>> to_torch(Conv2d(1, 4, 3, seed=0))
        Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1))
    """
    nn = _torch().nn
    if isinstance(layer, Sequential):
        return nn.Sequential(*(to_torch(child) for child in layer))
    if isinstance(layer, Conv2d):
        return _with_parameters(
            nn.Conv2d(
                layer.in_channels,
                layer.out_channels,
                layer.kernel_size,
                layer.stride,
                layer.padding,
                layer.dilation,
                layer.groups,
                layer.bias is not None,
                layer.padding_mode,
                dtype=_torch_dtype(layer),
            ),
            layer,
        )
    if isinstance(layer, ConvTranspose2d):
        return _with_parameters(
            nn.ConvTranspose2d(
                layer.in_channels,
                layer.out_channels,
                layer.kernel_size,
                layer.stride,
                layer.padding,
                layer.output_padding,
                layer.groups,
                layer.bias is not None,
                layer.dilation,
                dtype=_torch_dtype(layer),
            ),
            layer,
        )
    if isinstance(layer, Linear):
        return _with_parameters(
            nn.Linear(layer.in_features, layer.out_features, layer.bias is not None, dtype=_torch_dtype(layer)),
            layer,
        )
    if isinstance(layer, MaxPool2d):
        return nn.MaxPool2d(
            layer.kernel_size, layer.stride, layer.padding, layer.dilation, layer.return_indices, layer.ceil_mode
        )
    if isinstance(layer, AvgPool2d):
        return nn.AvgPool2d(
            layer.kernel_size,
            layer.stride,
            layer.padding,
            layer.ceil_mode,
            layer.count_include_pad,
            layer.divisor_override,
        )
    if isinstance(layer, ReLU):
        return nn.ReLU()
    if isinstance(layer, Flatten):
        return nn.Flatten(layer.start_dim, layer.end_dim)
    raise ArgumentTypeError(f"to_torch: {type(layer).__name__} has no torch counterpart", fix="convert its parts")
