"""A graph of chains and residual additions as convlab ``nn`` layers: a Sequential with an ``nn.Residual`` per add.

Every node's value is the input run through a list of layers. A node that reads one other node
extends that node's list by its own layer; an add of two values shares their lists' common start
(the point where the branches split) and continues with one ``nn.Residual``: the longer remainder
is its body, the other its shortcut (the identity when nothing remains), as ``x + f(x)`` reads in
torch.fx and ``res(...)`` in a layer string.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ArgumentError
from .graph import Graph, Node
from .layer_kinds import Add

__all__ = ["as_layers"]

LeafLayer = Callable[[Node, tuple[int, ...]], Any]
"""``leaf(node, input_shape)`` -> the convlab layer that computes ``node`` on inputs of that shape."""


def as_layers(graph: Graph, shapes: dict[str, tuple[int, ...]], leaf: LeafLayer, until: int | None = None) -> Any:
    """The graph's first ``until`` nodes (all by default) as one ``nn.Sequential``, ending at the last of them.

    ``shapes`` maps ``"input"`` and every node's name to its output shape.

    Raises:
        ArgumentError: a node reads several others in another way than a residual addition of two.
    """
    from .. import nn

    _refuse_a_cut_block(graph, until)
    chains: dict[str, list[Any]] = {"input": []}
    nodes = graph.nodes[:until]
    if not nodes:
        raise ArgumentError(
            f"{graph.name}: its first layer already sees the whole image", fix="start the model with convolutions"
        )
    for node in nodes:
        if node.op.kind == Add.kind and len(node.inputs) == 2:
            chains[node.name] = _residual(chains[node.inputs[0]], chains[node.inputs[1]])
        elif len(node.inputs) == 1:
            chains[node.name] = [*chains[node.inputs[0]], leaf(node, shapes[node.inputs[0]])]
        else:
            raise ArgumentError(
                f"layer {node.name} ({node.op.kind}) reads {', '.join(node.inputs)}: convlab runs chains with "
                "residual additions of two branches, not other merges",
                fix="describe it with res(body | shortcut) blocks, or run the model in memory",
            )
    return nn.Sequential(*chains[nodes[-1].name])


def _residual(first: list[Any], second: list[Any]) -> list[Any]:
    """Two branches' layer lists as their common start and one residual block."""
    from .. import nn

    shared = 0
    while shared < min(len(first), len(second)) and first[shared] is second[shared]:
        shared += 1
    body, shortcut = sorted((first[shared:], second[shared:]), key=len, reverse=True)
    block = nn.Residual(nn.Sequential(*body), nn.Sequential(*shortcut) if shortcut else None)
    return [*first[:shared], block]


def _refuse_a_cut_block(graph: Graph, until: int | None) -> None:
    """A cut inside a residual block would run its body without its sum: a later node reads a kept one."""
    if until is None:
        return
    kept = {"input", *(node.name for node in graph.nodes[:until])}
    crossing = [node for node in graph.nodes[until + 1 :] if kept & set(node.inputs)]
    if crossing:
        raise ArgumentError(
            f"layer {graph.nodes[until].name} sees the whole image inside a block that {crossing[0].name} "
            "closes, so no tile can make that block",
            fix="keep layers that see the whole image (gap, flatten, linear) after the residual blocks",
        )
