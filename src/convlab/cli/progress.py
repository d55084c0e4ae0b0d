"""A text progress bar for training: redrawn in place on a terminal, one line per epoch elsewhere."""

from __future__ import annotations

import sys
from typing import TextIO

from ..train.fit import Step

__all__ = ["ProgressBar"]

_WIDTH = 24  # characters of the bar itself


def _accuracy(value: float | None) -> str:
    return "" if value is None else f"  acc {100 * value:5.1f}%"


class ProgressBar:
    """Called with each training :class:`~convlab.train.fit.Step`; ``epoch_done`` adds the test scores.

    On a terminal the current epoch's line is redrawn after every step (``\\r``); when the output is a
    file or a pipe only the finished epochs are printed, one plain line each, so logs stay readable.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = sys.stdout if stream is None else stream
        self.live = self.stream.isatty()
        self.line = ""

    def __call__(self, step: Step) -> None:
        filled = round(_WIDTH * step.step / step.steps)
        digits = len(str(step.epochs))
        self.line = (
            f"epoch {step.epoch:{digits}d}/{step.epochs} [{'#' * filled}{'.' * (_WIDTH - filled)}] "
            f"{step.step:{len(str(step.steps))}d}/{step.steps}  loss {step.loss:.4f}{_accuracy(step.accuracy)}"
        )
        if self.live:
            self.stream.write("\r" + self.line)
            self.stream.flush()

    def epoch_done(self, test_loss: float | None, test_accuracy: float | None, seconds: float) -> None:
        tested = "" if test_loss is None else f"  | test loss {test_loss:.4f}{_accuracy(test_accuracy)}"
        self.stream.write(("\r" if self.live else "") + f"{self.line}{tested}  ({seconds:.1f} s)\n")
        self.stream.flush()
