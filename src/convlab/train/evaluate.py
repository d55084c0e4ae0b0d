"""A trained model on a whole data set: its outputs, its mean loss and its accuracy, in eval mode."""

from __future__ import annotations

import numpy as np

from .._args import Array
from ..nn import CrossEntropyLoss, Loss, Module

__all__ = ["evaluate", "predict"]

_CHUNK = 256  # images per forward call: large enough to amortise each call, small enough for any memory


def predict(model: Module, images: Array, batch_size: int = _CHUNK) -> Array:
    """The model's outputs for every image, computed in eval mode (the model's mode is restored after).

    Shape:
        images (N, C, H, W) -> outputs (N, K) for a classifier.
    """
    was_training = model.training
    model.eval()
    try:
        parts = [
            np.asarray(model(images[start : start + batch_size])) for start in range(0, len(images), batch_size)
        ]
    finally:
        model.train(was_training)
    return np.concatenate(parts)


def evaluate(
    model: Module, images: Array, targets: Array, loss: Loss, batch_size: int = _CHUNK
) -> tuple[float, float | None]:
    """(mean loss, accuracy) over the data set; accuracy is None unless ``loss`` is a CrossEntropyLoss.

    ``batch_size`` images go through the model at a time: :func:`~convlab.train.fit` passes its own, so
    scoring runs the layer shapes training already ran (nothing new to compile or to choose).
    """
    outputs = predict(model, images, batch_size)
    value = float(loss(outputs, targets))  # every chunk's mean weighted by its size is the mean over all
    if not isinstance(loss, CrossEntropyLoss):
        return value, None
    return value, float(np.mean(outputs.argmax(axis=1) == targets))
