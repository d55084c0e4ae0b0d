"""Sequential: layers run one after the other forward, and in reverse order backward."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._args import Array
from ..errors import ArgumentTypeError, ConvlabError
from .module import Module, torch_library

__all__ = ["Sequential"]


class Sequential(Module):
    """A chain of layers, like ``torch.nn.Sequential``.

    ``backward`` walks the chain in reverse, handing each layer the gradient the
    layer after it returned: the chain rule, one layer at a time.

    Example:
        >>> import numpy as np
        >>> from convlab.nn import Conv2d, ReLU
        >>> net = Sequential(Conv2d(1, 4, 3, padding=1, seed=0), ReLU())
        >>> net(np.zeros((1, 1, 8, 8), dtype=np.float32)).shape
        (1, 4, 8, 8)
    """

    def __init__(self, *layers: Module) -> None:
        for index, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise ArgumentTypeError(
                    f"Sequential: layer {index} is a {type(layer).__name__}, not a convlab layer",
                    fix="pass layers such as Conv2d(...), ReLU(); convert torch layers with convlab.nn.from_torch",
                )
        self.layers = list(layers)

    torch_name = "Sequential"

    def to_torch(self) -> Any:
        return torch_library().nn.Sequential(*(layer.to_torch() for layer in self.layers)).train(self.training)

    @classmethod
    def from_torch(cls, module: Any) -> Sequential:
        from .torch_bridge import from_torch

        chain = cls(*(from_torch(child) for child in module))
        chain.training = bool(module.training)  # each layer already took its own mode
        return chain

    def named_children(self) -> Iterator[tuple[str, Module]]:
        return ((str(index), layer) for index, layer in enumerate(self.layers))

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def forward(self, input: object) -> Array:
        for index, layer in enumerate(self.layers):
            try:
                input = layer(input)
            except ConvlabError as error:  # say which layer of the chain failed, keep the rest of the message
                named = type(error)(
                    f"layer {index} ({layer!r}): {error.message}",
                    evidence=error.evidence,
                    fix=error.fix,
                    diagnosis=error.diagnosis,
                )
                raise named from error
        return input  # type: ignore[return-value]  # an array once any layer ran

    def backward(self, grad_output: object) -> Array:
        for layer in reversed(self.layers):
            grad_output = layer.backward(grad_output)
        return grad_output  # type: ignore[return-value]

    def backward_parameters(self, grad_output: object) -> None:
        """The parameters' gradients only: the chain stops at its first layer with parameters, whose
        input gradient nothing needs (nor any gradient below it)."""
        learning = [index for index, layer in enumerate(self.layers) if layer.parameters()]
        if not learning:
            return
        for layer in reversed(self.layers[learning[0] + 1 :]):
            grad_output = layer.backward(grad_output)
        self.layers[learning[0]].backward_parameters(grad_output)
