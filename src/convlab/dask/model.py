"""A fully convolutional convlab model run tile by tile: the halo is the model's receptive field.

Output unit ``i`` of the model's last local layer sees the input cells whose centre is
``start + i * jump`` and which span ``size`` cells (:mod:`convlab.network.receptive_field`):
``start + i * jump - (size - 1) / 2`` to ``start + i * jump + (size - 1) / 2``. A tile that
makes output units ``a`` to ``b`` reads those units' fields, clipped to the image, and the
model runs on that crop as it is (its own padding included):

* the crop starts at a multiple of the jump (the product of the strides), so every layer's
  windows fall where they fall on the whole image: the crop's output unit 0 is the whole
  image's unit ``crop start / jump``;
* an output unit whose whole field lies in the crop (or, where the crop touches the image's
  edge, in the crop and the model's own padding there) depends on nothing outside the crop,
  so it comes out as on the whole image; the units near the crop's inner edges, which saw the
  crop's padding instead of the image, are the ones cropped away.

Reflect and replicate padding copy cells from inside a unit's field, so they keep this true;
circular padding copies the far side of the image, which no crop holds, so it is refused.
"""

from __future__ import annotations

import copy
from functools import partial
from typing import Any

import numpy as np

from .._arrays import float_arrays
from ..diagnose import warn
from ..errors import ArgumentError, ArgumentTypeError, ShapeError, StateError
from ..functional.geometry import with_batch_axis
from ..network.as_graph import as_graph
from ..network.graph import Graph
from ..network.summary import LayerRecord, analyse
from .checks import dask_input
from .stitch import plan, stitch
from .tiles import Tile, aligned_crop, field_reach

__all__ = ["apply", "local_front"]

OP = "dask.apply"


def _layers(model: Any) -> list[Any]:
    from .. import nn

    if not isinstance(model, nn.Module):
        raise ArgumentTypeError(
            f"{OP}: model must be a convlab.nn layer or Sequential, got a {type(model).__name__}",
            fix="convert a torch model first: model = convlab.nn.from_torch(torch_model).eval()",
        )
    return list(model) if isinstance(model, nn.Sequential) else [model]


def local_front(model: Any) -> tuple[list[Any], list[Any]]:
    """The model's layers split into its fully convolutional front and the rest (flatten, linear, ...).

    The front ends before the first layer that sees the whole input (flatten, linear,
    adaptive pooling): from there on an output depends on every input cell, so no tile can make it.
    """
    layers = _layers(model)
    graph, _ = as_graph(model)
    for index, node in enumerate(graph.nodes):
        if node.op.global_view or node.op.flattens:
            return layers[:index], layers[index:]
        if node.op.uneven_fields:
            raise ArgumentError(
                f"{OP}: layer {index} ({layers[index]!r}) is a transposed convolution; its neighbouring "
                "outputs see fields of different sizes, so no single halo serves every tile",
                fix="apply the layers before it tile by tile, and run it on the result in memory",
            )
    return layers, []


def _check_runnable(layers: list[Any]) -> None:
    from .. import nn

    for index, layer in enumerate(layers):
        if isinstance(layer, (nn.BatchNorm2d, nn.Dropout)) and layer.training:
            raise StateError(
                f"{OP}: layer {index} ({layer!r}) is in training mode, where its output depends on the whole "
                "batch or on random draws, not on the tile",
                fix="switch the model to inference first: model.eval()",
            )
        if getattr(layer, "padding_mode", "zeros") == "circular":
            raise ArgumentError(
                f"{OP}: layer {index} ({layer!r}) pads circularly, which reads the far side of the image",
                evidence=["a tile holds its own field and halo, never the opposite edge"],
                fix="use padding_mode='reflect' or 'zeros', or run that one layer with convlab.dask.conv2d",
            )
        if getattr(layer, "return_indices", False):
            raise ArgumentError(
                f"{OP}: layer {index} ({layer!r}) returns indices as well as its output",
                fix="make it with return_indices=False",
            )


def _run_tile(block: Any, rows: Tile, cols: Tile, *, layers: list[Any], jumps: tuple[int, int]) -> Any:
    """The model on one crop; the output units of the tile cut out of the crop's output."""
    from .. import nn

    out = copy.deepcopy(nn.Sequential(*layers))(block)  # a copy: layers keep their last input for backward
    first = (rows.out[0] - rows.read[0] // jumps[0], cols.out[0] - cols.read[0] // jumps[1])
    return out[:, :, first[0] : first[0] + rows.length, first[1] : first[1] + cols.length]


def _dtype(x: Any, layers: list[Any]) -> np.dtype[Any]:
    """The dtype the layers compute in: their parameters', refusing an input of the other float dtype."""
    parameters = [p for layer in layers for p in layer.parameters()]
    reference = parameters[0] if parameters else None
    named = {"input": np.empty((0,), dtype=x.dtype), "weight": reference}
    dtype: np.dtype[Any] = float_arrays(named, optional=("weight",))["input"].dtype
    return dtype


def apply(model: object, input: object) -> Any:
    """A fully convolutional convlab model on a dask array, tile by tile, equal to the model on the whole image.

    Args:
        model: a ``convlab.nn`` layer or ``Sequential`` of convolutions, pooling, activations,
            BatchNorm2d and Dropout, in eval mode. A model that ends in flatten, linear or adaptive
            pooling runs up to the layer before the first of those (it warns, naming where it stopped):
            those layers see the whole image, which no tile holds.
        input: a dask array (N, C, H, W) or (C, H, W), chunked along any axes.

    Returns:
        A lazy dask array (N, C_out, H_out, W_out), the output of the model's last local layer.

    Output chunks follow the input's as in :func:`convlab.dask.conv2d`, with the model's jump (the
    product of its strides) in place of the stride: an input chunk of ``n`` cells gives about
    ``n / jump`` output units. Each tile reads its chunk plus the model's receptive field around it;
    chunks smaller than that halo or than the jump are merged with their neighbours first. Pooling
    and strides need not divide the chunk sizes: a tile's crop starts at a multiple of the jump.
    A tile may take another convolution algorithm than the whole image would: the two agree within
    the engine's documented tolerance.
    """
    x: Any = dask_input(input, OP)
    front, rest = local_front(model)
    if not front:
        raise ArgumentError(
            f"{OP}: the model's first layer already sees the whole image: there is nothing to tile",
            fix="pass a model that starts with convolutions or pooling",
        )
    _check_runnable(front)
    if rest:
        warn(
            "dask-front-only",
            f"{OP}: runs layers 0 to {len(front) - 1} only; layer {len(front)} ({rest[0]!r}) and those after "
            "it see the whole image, which no tile holds",
            f"run them in memory on the result: model[{len(front)}:]",
        )
    dtype = _dtype(x, front)
    x, unbatched = with_batch_axis(x.astype(dtype) if x.dtype != dtype else x, "input", OP)
    graph, _ = as_graph(_front_model(front))
    record = _final(graph, tuple(int(n) for n in x.shape))
    reaches = field_reach(record.rf, record.jump, record.start)  # type: ignore[arg-type]  # local: rf is set
    x, rows, cols = plan(x, reaches, (record.output_shape[2], record.output_shape[3]))
    rows = [aligned_crop(tile, reaches[0], x.shape[2]) for tile in rows]
    cols = [aligned_crop(tile, reaches[1], x.shape[3]) for tile in cols]
    function = partial(_run_tile, layers=front, jumps=(reaches[0].jump, reaches[1].jump))
    out = stitch(x, rows, cols, function, record.output_shape[1], dtype)
    return out[0] if unbatched else out


def _front_model(front: list[Any]) -> Any:
    from .. import nn

    return nn.Sequential(*front)


def _final(graph: Graph, shape: tuple[int, ...]) -> LayerRecord:
    """The last layer's record: output shape and receptive field, with the layers' own shape errors."""
    if len(shape) != 4:
        raise ShapeError(f"{OP}: input must be (N, C, H, W) or (C, H, W), got {shape}", fix="reshape it")
    return analyse(graph, (shape[0], shape[1], shape[2], shape[3]))[-1]
