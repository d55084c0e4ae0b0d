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
        fix="express it with torch.nn layers, +, torch.cat and torch.flatten(x, 1)",
    )


def _where(error: BaseException) -> str:
    """The user's line where tracing failed: the last traceback frame outside torch itself."""
    import traceback

    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if "/torch/" not in frame.filename]
    if not frames:
        return "an unknown place"
    frame = frames[-1]
    return f"{frame.name}() line {frame.lineno}: `{(frame.line or '').strip()}`"


def _from_dim_1(node: Any) -> bool:
    """``x.flatten(1)`` or ``x.flatten(start_dim=1)``: everything but the batch (``x.flatten()`` takes it too)."""
    return node.args[1:2] == (1,) or (len(node.args) == 1 and node.kwargs.get("start_dim") == 1)


def _batch_then_rest(node: Any, values: set[str]) -> bool:
    """Whether a view/reshape keeps the batch and flattens the rest: ``x.view(x.size(0), -1)``, ``(n, -1)``."""
    dims = node.args[1:]
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    if len(dims) != 2 or dims[1] != -1:
        return False
    return getattr(dims[0], "name", None) in values


def _is_value(node: Any, values: set[str]) -> bool:
    """A node that computes a size, not a tensor: ``x.size(0)``, ``x.shape``, ``x.shape[0]``."""
    if node.op == "call_method" and node.target in ("size", "dim"):
        return True
    if node.op == "call_function" and getattr(node.target, "__name__", "") in ("getattr", "getitem"):
        first = node.args[0] if node.args else None
        return getattr(first, "name", None) in values or (node.args[1:2] == ("shape",))
    return False


def trace(model: Any, input_shape: tuple[int, int, int, int] | None = None) -> Graph:
    """The layer graph of a torch model, traced with ``torch.fx``; read by running it where fx cannot.

    A single layer (a bare ``nn.Conv2d``) is a graph of one node. When torch.fx cannot express the
    model and ``input_shape`` (N, C, H, W) is given, the model is run once on zeros of that shape and
    read through forward hooks (:mod:`convlab.network.from_hooks`); the graph's notes say so.

    Raises:
        ConvlabError: the model cannot be traced (the message names where) and no input shape is
            given to run it with; or the run fails outside any module.
    """
    try:
        import torch.fx
    except ImportError:
        raise ConvlabError("reading a torch model needs PyTorch", fix="pip install torch==2.13.0") from None
    if next(model.children(), None) is None:
        op = op_of_torch(model, type(model).__name__)
        if op is not None:  # one layer: tracing would step inside it, to its weight and F.conv2d
            builder = GraphBuilder(type(model).__name__.lower())
            builder.add(type(model).__name__.lower(), op)
            return builder.build()
    try:
        return _traced(model, torch.fx)
    except ConvlabError as error:
        if input_shape is None:
            raise type(error)(
                error.message,
                evidence=error.evidence,
                fix=f'{error.fix}; or give its input shape to read it by running it: input_shape="3x224x224"',
            ) from None
        from .from_hooks import record

        return record(model, input_shape, why=f"torch.fx: {error.message}")


def _traced(model: Any, fx: Any) -> Graph:
    try:
        traced = fx.symbolic_trace(model)
    except Exception as error:  # tracing raises many kinds; the message says where
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConvlabError(
            f"torch.fx could not trace {type(model).__name__} at {_where(error)}: {first}",
            fix="avoid Python control flow on tensor values in forward(), or describe the model as a layer string",
        ) from None
    modules = dict(traced.named_modules())
    builder = GraphBuilder(type(model).__name__.lower())
    aliases: dict[str, str] = {}
    values: set[str] = set()  # nodes that compute sizes (x.size(0)), not tensors
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
        if _is_value(node, values):
            values.add(node.name)
            continue
        sources = [aliases[arg.name] for arg in node.all_input_nodes if arg.name not in values]
        if node.op == "call_module":
            op = _module_op(modules[node.target], node.target)
            label = node.target if node.target not in aliases.values() else node.name  # a module used twice
        elif node.op == "call_function":
            op = _function_op(node.target, node)
            label = node.name
        elif node.op == "call_method" and node.target in ("relu", "relu_", "sigmoid", "tanh"):
            op, label = Activation(node.target.rstrip("_")), node.name
        elif node.op == "call_method" and node.target in ("view", "reshape", "flatten"):
            if not (_from_dim_1(node) if node.target == "flatten" else _batch_then_rest(node, values)):
                arguments = ", ".join(getattr(a, "name", repr(a)) for a in node.args[1:])
                raise ArgumentTypeError(
                    f"node {node.name!r} calls .{node.target}({arguments}); convlab reads .{node.target} only "
                    "as flattening all but the batch",
                    fix="write it as torch.flatten(x, 1) (or x.view(x.size(0), -1))",
                )
            op, label = Flatten(), node.name
        else:
            raise ArgumentTypeError(
                f"node {node.name!r} ({node.op} {node.target}) cannot be summarised",
                fix="express it with torch.nn layers, +, torch.cat and torch.flatten(x, 1)",
            )
        aliases[node.name] = builder.add(label, op, *sources)
    return builder.build()
