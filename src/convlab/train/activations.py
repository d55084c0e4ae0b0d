"""What a model computes for one image, layer by layer: the feature maps at each depth, then the scores.

The lesson's hierarchy, made visible: the first maps respond to edges, deeper ones to combinations
of them, the last layer turns them into one score per class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._args import Array
from ..nn import Module, ReLU, Sequential, Sigmoid, Tanh

__all__ = ["LayerOutput", "activations", "depths", "probabilities"]


@dataclass(frozen=True)
class LayerOutput:
    """One layer's output for one image: ``index`` in the model, the layer, and its output (C, H, W) or (F,)."""

    index: int
    layer: Module
    output: Array


def activations(model: Module, image: Array) -> list[LayerOutput]:
    """Every layer's output for ``image`` (C, H, W), computed in eval mode (the model's mode is restored)."""
    x = np.asarray(image)[None]
    layers = list(model) if isinstance(model, Sequential) else [model]
    outputs = []
    was_training = model.training
    model.eval()
    try:
        for index, layer in enumerate(layers):
            x = layer(x)
            outputs.append(LayerOutput(index, layer, np.asarray(x)[0]))
    finally:
        model.train(was_training)
    return outputs


def depths(outputs: list[LayerOutput]) -> list[LayerOutput]:
    """The feature maps worth showing, one per depth: each activation's output that is still an image
    (the maps after a convolution, its normalisation and its non-linearity)."""
    return [item for item in outputs if isinstance(item.layer, (ReLU, Sigmoid, Tanh)) and item.output.ndim == 3]


def probabilities(outputs: list[LayerOutput]) -> Array:
    """The softmax of the last layer's scores: the model's probability for each class."""
    logits = outputs[-1].output.astype(np.float64).ravel()
    exp = np.exp(logits - logits.max())
    chances: Array = exp / exp.sum()
    return chances
