"""A chain of layers as a runnable ``convlab.nn.Sequential``, and such a chain back as a layer string.

A preset or a layer string says which layers follow each other, not how many channels each one
reads: that follows from the input. :func:`sequential` walks the chain with the input's shape and
asks each layer kind for its ``convlab.nn`` layer (:meth:`~convlab.network.graph.Op.layer`);
:func:`layer_string` writes a chain back in the layer-string language, so that a model can be
stored as text beside its weights and built again from it.

Example:
    >>> model = sequential("conv3x3(4,p1) relu maxpool2 flatten linear(10)", "1x8x8", seed=0)
    >>> model[4]
    Linear(in_features=64, out_features=10, bias=True)
    >>> layer_string(model)
    'conv3x3(4,p1) relu maxpool2 flatten linear(10)'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn
from .._args import as_int
from ..errors import ArgumentError
from .as_graph import as_graph, input_shape_of
from .graph import Graph

__all__ = ["layer_string", "sequential"]


def _chain(graph: Graph) -> None:
    """Refuse a graph with branches: a Sequential runs one layer after the other."""
    previous = "input"
    for node in graph.nodes:
        if node.inputs != (previous,):
            raise ArgumentError(
                f"{graph.name}: {node.name} reads {', '.join(node.inputs)}, so the model is not a plain chain",
                fix='build a chain of layers, e.g. "conv3x3(16,p1) bn relu maxpool2 flatten linear(10)"',
            )
        previous = node.name


def sequential(
    model: object, input_shape: object = None, *, seed: int = 0, dtype: Any = np.float32
) -> nn.Sequential:
    """A fresh ``convlab.nn.Sequential`` for a chain model, its layers sized for ``input_shape``.

    Args:
        model: a preset name (``"digits_cnn"``), a layer string or a chain graph.
        input_shape: (C, H, W), or text such as ``"1x8x8"``. Default: the preset's own input.
        seed: draws every layer's initial weights (layer k gets its own seed from it). Default: 0.
        dtype: numpy.float32 or numpy.float64. Default: numpy.float32.

    Raises:
        ArgumentError: a model with branches, a layer kind that convlab.nn cannot build, an input
            shape the layers do not fit (the error names the layer).
    """
    graph, designed = as_graph(model)
    _chain(graph)
    shape = input_shape_of(input_shape, designed)
    seeds = np.random.SeedSequence(as_int(seed, "seed", minimum=0)).generate_state(len(graph.nodes))
    layers = []
    for node, layer_seed in zip(graph.nodes, seeds):
        layers.append(node.op.layer(shape, int(layer_seed), dtype))
        shape = node.op.output_shape([shape], node.name)  # type: ignore[assignment]
    return nn.Sequential(*layers)


def layer_string(model: object) -> str:
    """A chain model (a ``convlab.nn.Sequential``, a layer string, a preset) written as a layer string.

    Parsing the result gives the same layers; with the input's shape that is enough to build the
    model again (its weights are stored apart).
    """
    graph, _ = as_graph(model)
    _chain(graph)
    for index, layer in enumerate(model if isinstance(model, nn.Sequential) else ()):
        if isinstance(layer, nn.Dropout) and layer.p != 0.5:  # the only dropout a layer string writes
            raise ArgumentError(
                f"layer {index} is Dropout(p={layer.p}); a layer string's dropout always has p=0.5",
                fix="use nn.Dropout(0.5) in a model to be saved with its architecture",
            )
    return " ".join(node.op.token() for node in graph.nodes)
