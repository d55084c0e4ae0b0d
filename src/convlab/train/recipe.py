"""How a model is trained, as one value: the optimizer, its learning rate and weight decay, a cosine
schedule, epochs, batch size and seed, built alike for convlab and for PyTorch."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import ArgumentError
from ..nn import Parameter
from ..optim import SGD, Adam, CosineAnnealingLR, Optimizer

__all__ = ["Recipe"]

MOMENTUM = 0.9  # SGD's, in both libraries


@dataclass(frozen=True)
class Recipe:
    """A training recipe: ``optimizer`` is "adam" (PyTorch's betas and eps) or "sgd" (momentum 0.9); the
    learning rate falls from ``lr`` to 0 on a cosine over ``epochs``."""

    optimizer: str
    lr: float
    weight_decay: float = 0.0
    epochs: int = 10
    batch_size: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        if self.optimizer not in ("adam", "sgd"):
            raise ArgumentError(f"optimizer {self.optimizer!r} is not adam or sgd", fix='optimizer="adam"')

    def make(self, parameters: Iterable[Parameter]) -> tuple[Optimizer, CosineAnnealingLR]:
        """convlab's optimizer over ``parameters`` and its schedule."""
        optimizer: Optimizer = (
            Adam(parameters, lr=self.lr, weight_decay=self.weight_decay)
            if self.optimizer == "adam"
            else SGD(parameters, lr=self.lr, momentum=MOMENTUM, weight_decay=self.weight_decay)
        )
        return optimizer, CosineAnnealingLR(optimizer, T_max=self.epochs)

    def make_torch(self, torch: Any, parameters: Iterable[Any]) -> tuple[Any, Any]:
        """PyTorch's optimizer over ``parameters`` and its schedule, with the same settings."""
        optimizer = (
            torch.optim.Adam(parameters, lr=self.lr, weight_decay=self.weight_decay)
            if self.optimizer == "adam"
            else torch.optim.SGD(parameters, lr=self.lr, momentum=MOMENTUM, weight_decay=self.weight_decay)
        )
        return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.epochs)
