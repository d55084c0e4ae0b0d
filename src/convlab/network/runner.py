"""Run a graph: every layer forward in order, then gradients back to the input.

Each layer runs through its kind's own ``forward`` and ``backward``
(:mod:`convlab.network.layer_kinds`), so a graph runs exactly as its layers
would one by one. Parameters come by node name; ``adapt`` can stand each layer
in for another before it runs (the receptive-field probe runs single-channel,
averaging versions of every layer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .graph import Graph, Node, Op, Params

__all__ = ["Run", "backward", "forward"]

Adapt = Callable[[Node, tuple[int, ...]], tuple[Op, Params]]


@dataclass
class Run:
    """A forward pass: each node's output by name (``"input"`` too), and the op and parameters it ran with."""

    values: dict[str, Any]
    ran: dict[str, tuple[Op, Params]] = field(default_factory=dict)


def forward(
    graph: Graph,
    x: Any,
    params: dict[str, Params] | None = None,
    *,
    adapt: Adapt | None = None,
    algorithm: str = "auto",
) -> Run:
    """Every node's output for input ``x`` (N, C, H, W).

    Args:
        params: each node's arrays ("weight", "bias") by node name; layers without any need none.
        adapt: (node, its first input's shape) -> the op and parameters to run in its place.
        algorithm: the convolution algorithm, as in :func:`convlab.functional.conv2d`.
    """
    run = Run({"input": x})
    for node in graph.nodes:
        inputs = [run.values[source] for source in node.inputs]
        op, node_params = adapt(node, inputs[0].shape) if adapt else (node.op, (params or {}).get(node.name, {}))
        run.ran[node.name] = (op, node_params)
        run.values[node.name] = op.forward(inputs, node_params, algorithm)
    return run


def backward(graph: Graph, run: Run, grad: Any, algorithm: str = "auto") -> dict[str, Any]:
    """The gradient reaching each node's output and the input, from ``grad`` at the graph's last node.

    A node no gradient reaches is absent.
    """
    grads: dict[str, Any] = {graph.output: grad}
    for node in reversed(graph.nodes):
        if node.name not in grads:
            continue
        op, node_params = run.ran[node.name]
        inputs = [run.values[source] for source in node.inputs]
        for source, input_grad in zip(node.inputs, op.backward(inputs, grads[node.name], node_params, algorithm)):
            grads[source] = input_grad if source not in grads else grads[source] + input_grad
    return grads
