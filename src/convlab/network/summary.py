"""Per-layer shapes, parameters, multiply-adds, activation memory and receptive fields of a network.

Example:
    >>> s = summary("conv3x3(8,p1) relu maxpool2 flatten linear(10)", "1x8x8")
    >>> [layer.output_shape for layer in s.layers]
    [(1, 8, 8, 8), (1, 8, 8, 8), (1, 8, 4, 4), (1, 128), (1, 10)]
    >>> s.total_params
    1370
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .._args import as_int
from ..errors import ShapeError
from .as_graph import as_graph, input_shape_of
from .graph import Field, Graph

__all__ = ["LayerRecord", "Summary", "analyse", "summary"]

BYTES_PER_VALUE = 4  # float32 activations


@dataclass(frozen=True)
class LayerRecord:
    """One layer's numbers. ``rf`` is None after flattening: every later unit sees the whole input."""

    name: str
    kind: str
    description: str
    inputs: tuple[str, ...]
    output_shape: tuple[int, ...]
    params: int
    macs: int
    memory_bytes: int
    rf: tuple[float, float] | None
    jump: tuple[float, float]
    start: tuple[float, float]
    via: str | None = None  # at a merge: the branch whose receptive field is the largest
    input_shape: tuple[int, ...] = ()  # of its first input
    kernel: tuple[int, int] | None = None  # the window it slides, if any


@dataclass(frozen=True)
class Summary:
    """A network's layers and totals; ``str()`` is the table."""

    model: str
    input_shape: tuple[int, int, int, int]
    layers: tuple[LayerRecord, ...]
    notes: tuple[str, ...] = ()  # how the model was read, when that limits the numbers (opaque modules)
    fields_known: bool = True  # False for a model read by running it: its wiring, so its fields, are unknown

    @property
    def total_params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def trainable_params(self) -> int:
        return self.total_params  # every parameter convlab counts (weights, biases, norm scales) is trained

    @property
    def total_macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def total_memory_bytes(self) -> int:
        return sum(layer.memory_bytes for layer in self.layers)

    def __str__(self) -> str:
        from .tables import summary_table

        return summary_table(self)

    def _repr_html_(self) -> str:
        """The same table as ``str()``, as HTML for a notebook."""
        from .tables import summary_parts

        return summary_parts(self).html()


def analyse(graph: Graph, input_shape: tuple[int, int, int, int]) -> tuple[LayerRecord, ...]:
    """Walk the graph once, computing every layer's record from its inputs'."""
    shapes: dict[str, tuple[int, ...]] = {"input": input_shape}
    fields: dict[str, Field] = {"input": Field.of_input()}
    records = []
    for node in graph.nodes:
        inputs = [shapes[source] for source in node.inputs]
        output = node.output_shape(inputs)
        if min(output) < 1 and output[0] >= 1:
            raise ShapeError(
                f"{node.name}: output shape {output} has an empty axis", fix="check the sizes before it"
            )
        field, chosen = node.op.field([fields[source] for source in node.inputs], inputs)
        shapes[node.name], fields[node.name] = output, field
        records.append(
            LayerRecord(
                name=node.name,
                kind=node.op.kind,
                description=node.op.describe(),
                inputs=node.inputs,
                output_shape=output,
                params=node.op.params(inputs),
                macs=node.op.macs(inputs, output),
                memory_bytes=math.prod(output) * BYTES_PER_VALUE,
                rf=field.size,
                jump=field.jump,
                start=field.start,
                via=node.inputs[chosen] if len(node.inputs) > 1 else None,
                input_shape=node.op.seen_input(inputs),
                kernel=node.op.window(),
            )
        )
    return tuple(records)


def grouped(layers: tuple[LayerRecord, ...], depth: int) -> tuple[LayerRecord, ...]:
    """Consecutive layers whose names share their first ``depth`` dotted parts as one row (torchinfo's depth).

    ``layer1.0.conv1`` ... ``layer1.1.relu`` are ``layer1`` at depth 1; a row sums the parameters,
    MACs and memory of its layers and ends with the last one's output and receptive field.
    """
    rows: list[list[LayerRecord]] = []
    for layer in layers:
        prefix = ".".join(layer.name.split(".")[:depth])
        if rows and ".".join(rows[-1][0].name.split(".")[:depth]) == prefix and prefix != layer.name:
            rows[-1].append(layer)
        else:
            rows.append([layer])
    return tuple(_merged(row, depth) for row in rows)


def _merged(row: list[LayerRecord], depth: int) -> LayerRecord:
    if len(row) == 1:
        return row[0]
    first, last = row[0], row[-1]
    return replace(
        last,
        name=".".join(first.name.split(".")[:depth]),
        kind="group",
        description=f"{len(row)} layers",
        inputs=first.inputs,
        params=sum(layer.params for layer in row),
        macs=sum(layer.macs for layer in row),
        memory_bytes=sum(layer.memory_bytes for layer in row),
        input_shape=first.input_shape,
        kernel=None,
    )


def summary(model: object, input_shape: object = None, depth: int | None = None) -> Summary:
    """Per-layer output shape, parameters, MACs, activation memory and receptive field, with totals.

    Args:
        model: a preset name (lenet5, alexnet, vgg16, resnet18, resnet50, tinyvgg), a layer
            string, a ``convlab.nn.Sequential`` or a ``torch.nn.Module``.
        input_shape: (C, H, W), (N, C, H, W) or "3x224x224"; presets default to their own.
        depth: show layers nested deeper than this many dotted name parts as one row
            (``layer1.0.conv1`` is at depth 3). Default: None, every layer.

    MACs are the multiply-adds of convolutions and linear layers without bias
    (torchvision's model-card convention), for the whole batch N. A torch model that torch.fx
    cannot express is read by running it (``notes`` say so, and name the modules counted as opaque).
    """
    from .check import require_fit

    graph, default = as_graph(model, input_shape)
    shape = input_shape_of(input_shape, default)
    require_fit(graph, input_shape)
    layers = analyse(graph, shape)
    if depth is not None:
        layers = grouped(layers, as_int(depth, "depth", minimum=1))
    measured = any(node.op.measured for node in graph.nodes)
    return Summary(graph.name, shape, layers, graph.notes, not measured)
