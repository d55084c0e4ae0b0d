"""What a training run measured, epoch by epoch: the record :func:`convlab.train.fit` returns."""

from __future__ import annotations

from collections.abc import Sequence
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

    def __str__(self) -> str:
        """One line per epoch: ``epoch 3: train loss 0.2143, accuracy 93.1%; test loss ...``."""

        def percent(value: float | None) -> str:
            return "-" if value is None else f"{100 * value:.1f}%"

        def loss(value: float | None) -> str:
            return "-" if value is None else f"{value:.4f}"

        rows = zip(self.train_loss, self.train_accuracy, self.test_loss, self.test_accuracy, self.seconds)
        return "\n".join(
            f"epoch {epoch}: train loss {loss(a)}, accuracy {percent(b)}; test loss {loss(c)}, "
            f"accuracy {percent(d)}; {seconds:.1f} s"
            for epoch, (a, b, c, d, seconds) in enumerate(rows, start=1)
        )

    def _repr_png_(self) -> bytes | None:
        """A small plot of loss and accuracy per epoch, training and test (None before the first epoch)."""
        if not self.epochs:
            return None
        from .._display.plot import line_plot_png

        panels: dict[str, dict[str, Sequence[float | None]]] = {
            "loss": {"train": list(self.train_loss), "test": list(self.test_loss)}
        }
        if any(value is not None for value in self.train_accuracy):
            panels["accuracy"] = {"train": list(self.train_accuracy), "test": list(self.test_accuracy)}
        return line_plot_png(panels, xlabel="epoch", title=f"{self.epochs} epoch(s)")

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
