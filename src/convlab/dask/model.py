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

A residual block adds two branches that each depend only on their own fields; the block's field
is the union of the two (:func:`convlab.network.graph.largest`), so a crop that holds it holds both.
"""

from __future__ import annotations

import copy
import math
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
from .forward import forward
from .stitch import plan, stitch
from .tiles import Reach, Tile, aligned_crop, field_reach

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
    A residual block belongs to the front when both its branches do.
    """
    layers = _layers(model)
    for index, layer in enumerate(layers):
        ops = [node.op for node in as_graph(layer)[0].nodes]
        if any(op.global_view or op.flattens for op in ops):
            return layers[:index], layers[index:]
        if any(op.uneven_fields for op in ops):
            raise ArgumentError(
                f"{OP}: layer {index} ({layer!r}) is or holds a transposed convolution; its neighbouring "
                "outputs see fields of different sizes, so no single halo serves every tile",
                fix="apply the layers before it tile by tile, and run it on the result in memory",
            )
    return layers, []


def _leaves(layer: Any) -> list[Any]:
    """The layers that compute, inside containers (a residual block's body and shortcut) or not."""
    children = [child for _, child in layer.named_children()]
    return [leaf for child in children for leaf in _leaves(child)] if children else [layer]


def _check_runnable(layers: list[Any]) -> None:
    from .. import nn

    for index, top in enumerate(layers):
        for layer in _leaves(top):
            if isinstance(layer, (nn.BatchNorm2d, nn.Dropout)) and layer.training:
                raise StateError(
                    f"{OP}: layer {index} ({layer!r}) is in training mode, where its output depends on the "
                    "whole batch or on random draws, not on the tile",
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


BAND_BYTES = 512 * 2**20
"""What one band of a tile may take while the model runs on it: its input, every layer's output (a layer
keeps its input for backward) and the largest layer's scratch columns. A worker holds a few such bands'
worth at most, whatever the chunk size, so a tile too large for this runs as bands of rows, one at a time."""


def _cell_bytes(records: list[LayerRecord], shape: tuple[int, ...], itemsize: int) -> float:
    """Bytes the model takes per input cell of one image, counted generously (see :data:`BAND_BYTES`).

    Every layer's output is counted, and the largest im2col scratch (a convolution's multiply-adds over
    its output channels: one column entry per product) whether or not the engine takes that algorithm.
    """
    cells = shape[0] * shape[2] * shape[3]
    outputs = sum(math.prod(record.output_shape) for record in records)
    columns = max(record.macs // max(1, record.output_shape[1]) for record in records)
    return itemsize * (shape[1] + (outputs + columns) / cells)


def _band_units(cells_per_row: int, cell_bytes: float, reach: Reach) -> int:
    """How many output rows one band makes: its crop (those rows' fields) stays within :data:`BAND_BYTES`."""
    rows = BAND_BYTES / max(1.0, cells_per_row * cell_bytes)
    return max(1, int((rows - reach.halo) // reach.jump))


def _run_tile(
    block: Any, rows: Tile, cols: Tile, *, layers: list[Any], reaches: tuple[Reach, Reach], cell_bytes: float
) -> Any:
    """The model on one tile's crop, band by band of rows; the tile's output units cut out of each band's output.

    A band's crop is its rows' fields, clipped to the tile's crop and started at a multiple of the jump,
    so each band is exact by the same argument as the tile (see the module's docstring).
    """
    from .. import nn

    model = copy.deepcopy(nn.Sequential(*layers))  # a copy: layers keep their last input for backward
    down, across = reaches
    first_col = cols.out[0] - cols.read[0] // across.jump
    units = _band_units(block.shape[0] * block.shape[3], cell_bytes, down)
    bands = []
    for top in range(rows.out[0], rows.out[1], units):
        band = Tile((top, min(rows.out[1], top + units)), down.reads((top, min(rows.out[1], top + units))))
        crop = aligned_crop(band, down, rows.read[1])
        start = max(crop.read[0], rows.read[0])
        out = forward(model, block[:, :, start - rows.read[0] : crop.read[1] - rows.read[0]])
        first_row = band.out[0] - start // down.jump
        bands.append(out[:, :, first_row : first_row + band.length, first_col : first_col + cols.length])
    return bands[0] if len(bands) == 1 else np.concatenate(bands, axis=2)


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
            BatchNorm2d, Dropout and residual blocks (``nn.Residual``), in eval mode. A model that ends
            in flatten, linear or adaptive pooling runs up to the layer before the first of those (it
            warns, naming where it stopped): those layers see the whole image, which no tile holds.
        input: a dask array (N, C, H, W) or (C, H, W), chunked along any axes.

    Returns:
        A lazy dask array (N, C_out, H_out, W_out), the output of the model's last local layer.

    Output chunks follow the input's as in :func:`convlab.dask.conv2d`, with the model's jump (the
    product of its strides) in place of the stride: an input chunk of ``n`` cells gives about
    ``n / jump`` output units. Each tile reads its chunk plus the model's receptive field around it;
    chunks smaller than that halo or than the jump are merged with their neighbours first. Pooling
    and strides need not divide the chunk sizes: a tile's crop starts at a multiple of the jump.
    A tile whose layers would take more than :data:`BAND_BYTES` runs as bands of rows, one after the
    other, each with its own halo, so a worker's memory does not grow with the chunk size. A tile may
    take another convolution algorithm than the whole image would: the two agree within the engine's
    documented tolerance.
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
    shape = tuple(int(n) for n in x.shape)
    records = _records(graph, shape)
    record = records[-1]
    reaches = field_reach(record.rf, record.jump, record.start)  # type: ignore[arg-type]  # local: rf is set
    x, rows, cols = plan(x, reaches, (record.output_shape[2], record.output_shape[3]))
    rows = [aligned_crop(tile, reaches[0], x.shape[2]) for tile in rows]
    cols = [aligned_crop(tile, reaches[1], x.shape[3]) for tile in cols]
    cell_bytes = _cell_bytes(records, shape, dtype.itemsize)
    function = partial(_run_tile, layers=front, reaches=reaches, cell_bytes=cell_bytes)
    out = stitch(x, rows, cols, function, record.output_shape[1], dtype)
    return out[0] if unbatched else out


def _front_model(front: list[Any]) -> Any:
    from .. import nn

    return nn.Sequential(*front)


def _records(graph: Graph, shape: tuple[int, ...]) -> list[LayerRecord]:
    """Every layer's record (the last one's: output shape, receptive field), with the layers' own shape errors."""
    if len(shape) != 4:
        raise ShapeError(f"{OP}: input must be (N, C, H, W) or (C, H, W), got {shape}", fix="reshape it")
    return list(analyse(graph, (shape[0], shape[1], shape[2], shape[3])))
