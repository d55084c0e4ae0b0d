"""Read a ``torch.nn.Module`` as a convlab :class:`~convlab.network.graph.Graph`, by tracing it with torch.fx.

Tracing follows ``forward`` symbolically, so residual additions (``out + identity``),
concatenations (``torch.cat``) and functional calls (``F.relu``, ``torch.flatten``)
become graph nodes. A model whose ``forward`` branches on tensor values cannot
be traced; the error names the node where it failed.
"""

from __future__ import annotations

import operator
from typing import Any

from .._args import pair
from ..errors import ArgumentError, ArgumentTypeError, ConvlabError
from .graph import Graph, GraphBuilder, Op
from .layer_kinds import KINDS, Activation, AdaptiveAvgPool, Add, Concat, Flatten, Pool, op_of_torch

__all__ = ["trace"]

_SHAPE_KEEPING_FUNCTIONS = ("relu", "relu_", "gelu", "sigmoid", "tanh", "dropout", "silu", "softmax", "leaky_relu")


def _module_op(module: Any, name: str) -> Op:
    op = op_of_torch(module, name)
    if op is None:
        read = ", ".join(sorted({module for kind in KINDS for module in kind.torch_modules}))
        raise ArgumentTypeError(
            f"{name}: {type(module).__name__} is not a layer convlab can summarise", fix=f"use {read}"
        )
    return op


def _function_op(target: Any, node: Any) -> Op:
    import torch

    name = getattr(target, "__name__", str(target))
    if target in (operator.add, torch.add) or name in ("add", "iadd"):
        return Add()
    if target is torch.cat or name == "cat":
        dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
        if dim != 1:
            raise ArgumentError(
                f"{node.name}: only concatenation along channels (dim=1) is read", fix="cat on dim 1"
            )
        return Concat()
    if target is torch.flatten or name == "flatten":
        return Flatten()
    if name in _SHAPE_KEEPING_FUNCTIONS:
        return Activation(name.rstrip("_"))
    if name in ("max_pool2d", "avg_pool2d"):
        args = [*node.args[1:], None, None, None]
        kernel = pair(node.kwargs.get("kernel_size", args[0]), "kernel_size", minimum=1)
        stride = node.kwargs.get("stride", args[1])
        return Pool(
            name[:3],
            kernel,
            kernel if stride in (None, []) else pair(stride, "stride", minimum=1),
            pair(node.kwargs.get("padding", args[2] or 0), "padding", minimum=0),
        )
    if name == "adaptive_avg_pool2d":
        return AdaptiveAvgPool(pair(node.kwargs.get("output_size", node.args[1]), "output_size", minimum=1))
    raise ArgumentTypeError(
        f"node {node.name!r} calls {name}, which convlab cannot summarise",
        fix="express it with torch.nn layers, +, torch.cat and torch.flatten",
    )


def _where(error: BaseException) -> str:
    """The user's line where tracing failed: the last traceback frame outside torch itself."""
    import traceback

    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if "/torch/" not in frame.filename]
    if not frames:
        return "an unknown place"
    frame = frames[-1]
    return f"{frame.name}() line {frame.lineno}: `{(frame.line or '').strip()}`"


def trace(model: Any) -> Graph:
    """The layer graph of a torch model, traced with ``torch.fx``.

    Raises:
        ConvlabError: the model cannot be traced (the message names where), or a
            node is not a layer convlab can summarise.
    """
    try:
        import torch.fx
    except ImportError:
        raise ConvlabError("reading a torch model needs PyTorch", fix="pip install torch==2.13.0") from None
    try:
        traced = torch.fx.symbolic_trace(model)
    except Exception as error:  # tracing raises many kinds; the message says where
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConvlabError(
            f"torch.fx could not trace {type(model).__name__} at {_where(error)}: {first}",
            fix="avoid Python control flow on tensor values in forward(), or describe the model as a layer string",
        ) from None
    modules = dict(traced.named_modules())
    builder = GraphBuilder(type(model).__name__.lower())
    aliases: dict[str, str] = {}
    placeholders = [node for node in traced.graph.nodes if node.op == "placeholder"]
    if len(placeholders) != 1:
        raise ArgumentError(
            f"the model takes {len(placeholders)} inputs; convlab reads models with one image input",
            fix="wrap it in a module whose forward takes one tensor",
        )
    aliases[placeholders[0].name] = "input"
    for node in traced.graph.nodes:
        if node.op in ("placeholder", "output"):
            continue
        sources = [aliases[arg.name] for arg in node.all_input_nodes]
        if node.op == "call_module":
            op = _module_op(modules[node.target], node.target)
            label = node.target if node.target not in aliases.values() else node.name  # a module used twice
        elif node.op == "call_function":
            op = _function_op(node.target, node)
            label = node.name
        elif node.op == "call_method" and node.target in ("relu", "relu_", "sigmoid", "tanh"):
            op, label = Activation(node.target.rstrip("_")), node.name
        elif node.op == "call_method" and node.target in ("flatten", "view", "reshape"):
            op, label = Flatten(), node.name
        else:
            raise ArgumentTypeError(
                f"node {node.name!r} ({node.op} {node.target}) cannot be summarised",
                fix="express it with torch.nn layers, +, torch.cat and torch.flatten",
            )
        aliases[node.name] = builder.add(label, op, *sources)
    return builder.build()
