"""Residual: a block's output added to its input (or to a shortcut of it), as in ResNet."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._args import Array
from ..errors import ArgumentTypeError, ShapeError
from .module import Module, torch_library

__all__ = ["Residual"]


class Residual(Module):
    """``body(x) + shortcut(x)``; without a shortcut, ``body(x) + x``.

    Shapes: ``body`` and ``shortcut`` map the same (N, C, H, W) input to one (N, C', H', W')
    output. A body that changes channels or strides needs a shortcut that does the same, in
    ResNet a 1x1 convolution with the body's stride (and a BatchNorm2d).

    ``backward`` sends the output's gradient down both branches and adds what they return: the
    addition copies the gradient to each of its inputs.

    torch has no residual module; ``to_torch`` gives a small ``torch.nn.Module`` with the same
    ``body`` and ``shortcut`` attributes (so the same state-dict names), which ``from_torch`` reads back.

    Example:
        >>> import numpy as np
        >>> from convlab.nn import Conv2d, ReLU, Sequential
        >>> block = Residual(Sequential(Conv2d(4, 4, 3, padding=1, seed=0), ReLU()))
        >>> block(np.zeros((1, 4, 8, 8), dtype=np.float32)).shape
        (1, 4, 8, 8)
    """

    torch_name = "Residual"

    def __init__(self, body: Module, shortcut: Module | None = None) -> None:
        for name, part in (("body", body), ("shortcut", shortcut)):
            if not isinstance(part, Module) and not (name == "shortcut" and part is None):
                raise ArgumentTypeError(
                    f"Residual: {name} is a {type(part).__name__}, not a convlab layer",
                    fix=f"pass layers, e.g. Residual(Sequential(Conv2d(64, 64, 3, padding=1), ReLU())"
                    f"{', shortcut=Conv2d(64, 128, 1, stride=2)' if name == 'shortcut' else ''})",
                )
        self.body = body
        self.shortcut = shortcut

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield "body", self.body
        if self.shortcut is not None:
            yield "shortcut", self.shortcut

    def forward(self, input: object) -> Array:
        out = self.body(input)
        skipped = np.asarray(input) if self.shortcut is None else self.shortcut(input)  # the body took lists too
        shape = skipped.shape
        if out.shape != shape:
            raise ShapeError(
                f"Residual: the body gives {out.shape} but the shortcut gives {shape}; "
                "they must be equal to be added",
                fix="give the block a shortcut that changes the input as the body does: "
                "Residual(body, shortcut=Conv2d(in_channels, out_channels, 1, stride=body_stride))",
            )
        added: Array = out + skipped
        return added

    def backward(self, grad_output: object) -> Array:
        through_body = self.body.backward(grad_output)
        through_shortcut = grad_output if self.shortcut is None else self.shortcut.backward(grad_output)
        added: Array = through_body + through_shortcut
        return added

    def backward_parameters(self, grad_output: object) -> None:
        """Both branches' parameter gradients; neither branch's input gradient, nor their sum."""
        self.body.backward_parameters(grad_output)
        if self.shortcut is not None:
            self.shortcut.backward_parameters(grad_output)

    def to_torch(self) -> Any:
        shortcut = None if self.shortcut is None else self.shortcut.to_torch()
        return _torch_residual()(self.body.to_torch(), shortcut).train(self.training)

    @classmethod
    def from_torch(cls, module: Any) -> Residual:
        from .torch_bridge import from_torch

        if not hasattr(module, "body") or not hasattr(module, "shortcut"):
            raise ArgumentTypeError(
                f"from_torch: this {type(module).__name__} has no body and shortcut attributes, so it is not "
                "the Residual that convlab writes",
                fix="convert its parts, then build convlab.nn.Residual(body, shortcut) from them",
            )
        shortcut = None if module.shortcut is None else from_torch(module.shortcut)
        block = cls(from_torch(module.body), shortcut)
        block.training = bool(module.training)  # each part already took its own mode
        return block


@functools.cache
def _torch_residual() -> type:
    """The torch module ``to_torch`` builds, made once torch is imported (convlab never needs torch)."""
    torch = torch_library()

    class Residual(torch.nn.Module):  # type: ignore[misc, name-defined]  # torch is imported here only
        """body(x) + shortcut(x), the shortcut the identity when None: convlab.nn.Residual in torch."""

        def __init__(self, body: Any, shortcut: Any = None) -> None:
            super().__init__()
            self.body = body
            self.shortcut = shortcut

        def forward(self, x: Any) -> Any:
            return self.body(x) + (x if self.shortcut is None else self.shortcut(x))

    return Residual
