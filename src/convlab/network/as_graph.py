"""Whatever a user calls a model, as a :class:`~convlab.network.graph.Graph`, and input shapes as they write them.

A model may be a preset name (``"resnet18"``), a layer string
(``"conv3x3(16,p1) relu maxpool2"``), a graph, a ``convlab.nn.Sequential`` (or a
single convlab layer), or a ``torch.nn.Module`` (traced with torch.fx, or read by
running it where fx cannot express it).
"""

from __future__ import annotations

import difflib
import re
import sys
from typing import Any

from .._args import as_int, int_list
from ..errors import ArgumentError, ArgumentTypeError
from .graph import Graph, GraphBuilder, Op
from .layer_kinds import op_of_nn

__all__ = ["as_graph", "input_shape_of"]


def input_shape_of(value: object, default: tuple[int, int, int] | None = None) -> tuple[int, int, int, int]:
    """(C, H, W), (N, C, H, W), or a string such as ``3x224x224`` -> (N, C, H, W).

    Example:
        >>> input_shape_of("3x224x224")
        (1, 3, 224, 224)
    """
    if value is None:
        if default is None:
            raise ArgumentError("this model needs an input shape", fix='e.g. input_shape="3x224x224"')
        value = default
    if isinstance(value, str):
        numbers = int_list(value)
        if numbers is None:
            raise ArgumentError(f"input shape {value!r} is not C x H x W", fix="e.g. 3x224x224 or 1x3x224x224")
        value = numbers
    if not isinstance(value, (tuple, list)) or len(value) not in (3, 4):
        raise ArgumentError(
            f"input shape must be (C, H, W) or (N, C, H, W), got {value!r}", fix="e.g. (3, 224, 224)"
        )
    if any(isinstance(n, int) and n < 1 for n in value):
        raise ArgumentError(
            f"input shape {tuple(value)} has a size below 1: every size must be at least 1", fix="e.g. 3x224x224"
        )
    shape = tuple(as_int(n, "input shape", minimum=1) for n in value)
    return (1, *shape) if len(shape) == 3 else (shape[0], shape[1], shape[2], shape[3])


def as_graph(model: object, input_shape: object = None) -> tuple[Graph, tuple[int, int, int] | None]:
    """The model's graph and, for presets, the input shape it was designed for.

    ``input_shape`` (as :func:`input_shape_of` takes it) lets a torch model that torch.fx cannot
    express be read by running it once on that shape.
    """
    from .graph import Graph as GraphType

    if isinstance(model, GraphType):
        return model, None
    if isinstance(model, str):
        from .layer_strings import parse_stack, starts_with_a_layer
        from .presets import PRESETS, preset

        name = model.strip().lower()
        if name in PRESETS:
            return preset(name)
        try:
            return parse_stack(model), None
        except ArgumentError as layer_error:
            # One word that does not start with a layer's name: a misspelt preset, or a misspelt layer.
            if re.fullmatch(r"[a-z0-9_]+", name) and not starts_with_a_layer(name):
                close = difflib.get_close_matches(name, PRESETS, n=1)
                layer_guess = layer_error.fix if (layer_error.fix or "").startswith("did you mean") else None
                raise ArgumentError(
                    f"there is no preset or layer {model!r}; the presets are {', '.join(PRESETS)}",
                    fix=f"did you mean {close[0]}?"
                    if close
                    else layer_guess or 'or describe layers: "conv3x3(16,p1) relu maxpool2"',
                ) from None
            raise
    layers = sys.modules.get("convlab.nn.module")  # a convlab layer exists only if convlab.nn was imported
    if layers is not None and isinstance(model, layers.Module):
        return _from_layers(model), None
    if type(model).__module__.startswith("torch") or hasattr(model, "named_modules"):
        from .from_torch import trace

        return trace(model, None if input_shape is None else input_shape_of(input_shape)), None
    raise ArgumentTypeError(
        f"cannot read a model from a {type(model).__name__}",
        fix="pass a preset name, a layer string, a convlab.nn.Sequential or a torch.nn.Module",
    )


def _from_layers(model: Any) -> Graph:
    """A convlab ``nn`` layer or Sequential as a graph: a chain, with a branch and an add per Residual."""
    from .. import nn

    builder = GraphBuilder(type(model).__name__.lower())
    _wire(builder, model if isinstance(model, nn.Sequential) else nn.Sequential(model), "input", "")
    return builder.build()


def _wire(builder: GraphBuilder, layer: Any, source: str, prefix: str) -> str:
    """Add ``layer``'s nodes, reading the node ``source``; returns the node that gives its output.

    Nodes are named by their path in the model (``2.body.0.conv2d``), as its state dict names them.
    """
    from .. import nn
    from .layer_kinds import Add

    if isinstance(layer, nn.Sequential):
        for index, child in enumerate(layer):
            source = _wire(builder, child, source, f"{prefix}{index}.")
        return source
    if isinstance(layer, nn.Residual):
        body = _wire(builder, layer.body, source, f"{prefix}body.")
        skipped = (
            source if layer.shortcut is None else _wire(builder, layer.shortcut, source, f"{prefix}shortcut.")
        )
        return builder.add(f"{prefix}add", Add(), body, skipped)
    return builder.add(f"{prefix}{type(layer).__name__.lower()}", _op_of(layer), source)


def _op_of(layer: Any) -> Op:
    op = op_of_nn(layer)
    if op is None:
        raise ArgumentTypeError(
            f"{type(layer).__name__} has no layer kind in convlab's summary", fix="use nn layers"
        )
    return op
