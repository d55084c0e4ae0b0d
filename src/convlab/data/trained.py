"""The digits model convlab trained itself (``digits_cnn.npz``; README.md in this folder says how)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..nn import Sequential

__all__ = ["TRAINED_DIGITS_MODEL", "trained_digits_model"]

TRAINED_DIGITS_MODEL = Path(__file__).parent / "digits_cnn.npz"
"""The model file: weights, running statistics, the ``digits_cnn`` layer string, input 1x8x8, classes 0..9."""


def trained_digits_model() -> Sequential:
    """The ``digits_cnn`` preset trained by convlab on ``digits("train")``, in eval mode.

    Shape:
        images (N, 1, 8, 8) float32 in [0, 1] -> logits (N, 10), one score per digit.

    Example:
        >>> from convlab.data import digits
        >>> images, labels = digits("test")
        >>> model = trained_digits_model()
        >>> float((model(images).argmax(axis=1) == labels).mean()) > 0.97
        True
    """
    from ..train.model_files import load_model

    return load_model(TRAINED_DIGITS_MODEL)
