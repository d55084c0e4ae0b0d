"""What a training run measured, epoch by epoch: the record :func:`convlab.train.fit` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["History"]


@dataclass
class History:
    """Per-epoch loss and accuracy on the training and test sets, and how long each epoch took.

    Lists have one entry per epoch (``train_loss[e]`` is the mean loss over epoch ``e``'s batches, as
    they were trained); ``step_losses`` has every batch's loss in order. Accuracies are fractions in
    [0, 1], and None where the loss is not a classification loss; test values are None without a
    test set.
    """

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float | None] = field(default_factory=list)
    test_loss: list[float | None] = field(default_factory=list)
    test_accuracy: list[float | None] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    """Wall-clock seconds of each epoch, its evaluation included."""
    cpu_seconds: list[float] = field(default_factory=list)
    """Processor seconds of each epoch, over all threads (above ``seconds`` when threads ran in parallel)."""
    step_losses: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for ``metrics.json``: the lists, the last epoch's test accuracy, the total seconds."""
        return {
            "epochs": self.epochs,
            "train_loss": self.train_loss,
            "train_accuracy": self.train_accuracy,
            "test_loss": self.test_loss,
            "test_accuracy_per_epoch": self.test_accuracy,
            "test_accuracy": self.test_accuracy[-1] if self.test_accuracy else None,
            "seconds_per_epoch": self.seconds,
            "seconds": sum(self.seconds),
            "cpu_seconds": sum(self.cpu_seconds),
            "step_losses": self.step_losses,
        }
