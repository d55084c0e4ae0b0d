"""Receptive fields: how much of the input each layer's features see, computed and checked.

The computed field follows the recurrence in :mod:`convlab.network.graph` layer by
layer; at a merge of branches (a residual addition) it takes the largest and
remembers which branch that was, so the path that sets the network's field can
be named.

The check does not trust the recurrence: it builds the same network with one
channel per layer, positive averaging weights and pooling as averaging (so no
gradient can cancel or be dropped by a max), back-propagates a one-hot gradient
from the centre unit of the last local layer through convlab's own backward,
and compares the input region that receives gradient with the computed field.

Example:
    >>> result = receptive_field("conv3x3(8) conv3x3(8) maxpool2 conv3x3(8)", "1x32x32", check=True)
    >>> result.final.rf, result.check.agree
    ((10.0, 10.0), True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._memory import check_fits
from ..errors import ArgumentTypeError
from . import runner
from .as_graph import as_graph, input_shape_of
from .graph import Graph, Node, Op, Params
from .summary import LayerRecord, analyse

__all__ = ["Check", "ReceptiveField", "receptive_field"]

EXACT = "im2col"  # the check counts cells with non-zero gradient: FFT and Winograd leave rounding dust everywhere


Interval = tuple[tuple[int, int], tuple[int, int]]  # ((first row, last row), (first col, last col))


@dataclass(frozen=True)
class Check:
    """The empirical check: the input region one output unit's gradient reaches, against the computed field."""

    agree: bool | None  # None: not checked (the text says why)
    layer: str
    unit: tuple[int, int]
    input_size: tuple[int, int]
    expected: Interval | None
    measured: Interval | None
    text: str


@dataclass(frozen=True)
class ReceptiveField:
    model: str
    input_shape: tuple[int, int, int, int]
    layers: tuple[LayerRecord, ...]
    final: LayerRecord  # the last layer whose features are still local
    path: tuple[str, ...]  # the layers that grow the field on the way to `final`, through the largest branches
    check: Check | None

    def __str__(self) -> str:
        """The table ``convlab rf`` prints: size, jump and start per layer, then the final field and its path."""
        from .tables import receptive_table

        return receptive_table(self)

    def _repr_html_(self) -> str:
        from .tables import receptive_parts

        return receptive_parts(self).html()


def _final_local(graph: Graph, records: tuple[LayerRecord, ...]) -> int:
    """Index of the last layer before flattening, fully connected or adaptive pooling."""
    last = 0
    for index, (node, record) in enumerate(zip(graph.nodes, records)):
        if node.op.global_view or record.rf is None:
            break
        last = index
    return last


def _grows(node: Node) -> bool:
    """Whether a layer changes the receptive field (a window larger than 1, or a stride)."""
    window = node.op.window()
    return window is not None and (window != (1, 1) or getattr(node.op, "stride", (1, 1)) != (1, 1))


def _path(graph: Graph, records: tuple[LayerRecord, ...], final: int) -> tuple[str, ...]:
    """Walk back from ``final`` through the branch that set each merge's field, keeping the layers that grow it."""
    by_name = {record.name: (node, record) for node, record in zip(graph.nodes, records)}
    path, name = [], graph.nodes[final].name
    while name != "input":
        node, record = by_name[name]
        if _grows(node):
            path.append(name)
        name = record.via or node.inputs[0]
    return tuple(reversed(path))


def receptive_field(model: object, input_shape: object = None, check: bool = False) -> ReceptiveField:
    """Receptive field size, jump and start of every layer, and of the network's last local layer.

    Args:
        model: a preset name, a layer string, a ``convlab.nn.Sequential`` or a ``torch.nn.Module``.
        input_shape: (C, H, W), (N, C, H, W) or "3x224x224"; presets default to their own.
        check: also measure the field by back-propagating through the real layers.
    """
    from .check import require_fit

    graph, default = as_graph(model, input_shape)
    shape = input_shape_of(input_shape, default)
    require_fit(graph, input_shape)
    if any(node.op.measured for node in graph.nodes):
        raise ArgumentTypeError(
            f"{graph.name} could only be read by running it (torch.fx cannot express it), which measures "
            "shapes but not how layers are wired: its receptive fields are unknown",
            fix="write forward() with torch.nn layers, +, torch.cat and torch.flatten(x, 1), or describe the "
            "layers as a layer string",
        )
    records = analyse(graph, shape)
    final = _final_local(graph, records)
    result = ReceptiveField(graph.name, shape, records, records[final], _path(graph, records, final), None)
    if check:
        result = ReceptiveField(
            result.model, shape, records, result.final, result.path, measure(graph, shape, final, records)
        )
    return result


def _check_size(
    graph: Graph, shape: tuple[int, ...], final: int, records: tuple[LayerRecord, ...]
) -> tuple[int, int]:
    """An input large enough that the centre unit's field fits inside, keeping the stride pattern."""
    rf, jump = records[final].rf, records[final].jump
    assert rf is not None
    if any(node.op.global_view for node in graph.nodes[: final + 1]):
        return (shape[2], shape[3])  # an adaptive pool depends on the input size: keep it
    sizes = []
    for axis in range(2):
        total_stride = max(1, round(jump[axis]))
        # room for the whole field on both sides of the centre unit, and a few units so the centre is interior
        needed = shape[2 + axis] + 2 * math.ceil(rf[axis]) + 4 * total_stride
        sizes.append(math.ceil(needed / total_stride) * total_stride)
    return (sizes[0], sizes[1])


def measure(graph: Graph, shape: tuple[int, ...], final: int, records: tuple[LayerRecord, ...]) -> Check:
    """Back-propagate a one-hot gradient from the centre unit of layer ``final`` and find the input it reaches.

    Not done through transposed convolutions: there neighbouring units see fields
    of different sizes (a stride-2 upsampling alternates), so no single interval
    is "the" field; the check then says so instead of agreeing.
    """
    import numpy as np

    nodes = graph.nodes[: final + 1]
    height, width = _check_size(graph, shape, final, records)
    if any(node.op.uneven_fields for node in nodes):
        return Check(
            None,
            nodes[-1].name,
            (0, 0),
            (height, width),
            None,
            None,
            "check: not done, transposed convolutions give neighbouring units fields of different sizes",
        )
    probed = Graph(graph.name, nodes)
    field = analyse(probed, (1, shape[1], height, width))[final]
    check_fits(  # one float64 plane per layer at most the input's size: a lower bound of what the check holds
        f"check: a {height}x{width} input through {len(nodes)} layers",
        height * width * 8 * (len(nodes) + 1),
        fix='check a smaller input, e.g. input_shape="3x64x64": the receptive field does not depend on its size',
    )
    run = runner.forward(probed, np.ones((1, 1, height, width)), adapt=_probe, algorithm=EXACT)
    out_h, out_w = run.values[nodes[-1].name].shape[2:]
    unit = (out_h // 2, out_w // 2)
    expected = _expected(field, unit, (height, width))
    measured = _reached(probed, run, unit)
    agree = measured == expected
    text = (
        f"check: the gradient of {nodes[-1].name}[{unit[0]}, {unit[1]}] on a {height}x{width} input reaches "
        f"rows {_span(measured[0]) if measured else 'none'}, cols {_span(measured[1]) if measured else 'none'}; "
        f"computed rows {_span(expected[0]) if expected else 'none'}, "
        f"cols {_span(expected[1]) if expected else 'none'}: {'agree' if agree else 'DISAGREE'}"
    )
    return Check(agree, nodes[-1].name, unit, (height, width), expected, measured, text)


def _expected(record: LayerRecord, unit: tuple[int, int], size: tuple[int, int]) -> Interval | None:
    """The input rows and columns the computed field of ``unit`` covers, inside the image; None if none."""
    assert record.rf is not None
    bounds = []
    for axis in range(2):
        centre = record.start[axis] + unit[axis] * record.jump[axis]
        half = (record.rf[axis] - 1) / 2
        first, last = max(0, math.ceil(centre - half)), min(size[axis] - 1, math.floor(centre + half))
        if first > last:
            return None
        bounds.append((first, last))
    return (bounds[0], bounds[1])


def _probe(node: Node, shape: tuple[int, ...]) -> tuple[Op, Params]:
    return node.op.probe(shape)


def _reached(graph: Graph, run: runner.Run, unit: tuple[int, int]) -> Interval | None:
    """The bounding box of the input cells a one-hot gradient at ``unit`` reaches, through the real backward."""
    import numpy as np

    grad = np.zeros_like(run.values[graph.output])
    grad[0, 0, unit[0], unit[1]] = 1.0
    grads = runner.backward(graph, run, grad, algorithm=EXACT)
    if "input" not in grads:
        return None
    reached = np.argwhere(np.abs(grads["input"][0]).sum(axis=0) > 0)
    if not len(reached):
        return None
    return (
        (int(reached[:, 0].min()), int(reached[:, 0].max())),
        (int(reached[:, 1].min()), int(reached[:, 1].max())),
    )


def _span(interval: tuple[int, int]) -> str:
    return f"{interval[0]}..{interval[1]} ({interval[1] - interval[0] + 1})"
