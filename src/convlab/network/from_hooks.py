"""Read any ``torch.nn.Module`` by running it once on zeros and watching every module with forward hooks.

torch.fx reads a model's wiring without running it, but stops at what it cannot express
(``scale * x`` in a squeeze-excitation block, ``x.mean((2, 3))``, a module it does not know).
Running the model always works: hooks on each module record the shapes that go in and come
out and the parameters it owns, as torchinfo does. What is lost is the wiring between
modules (functional operations in ``forward`` leave no trace), so:

* every module call is a node, in the order it ran, wired to the module whose output it read
  (or, when a functional operation made its input, to the module that ran before it, marked as
  not ``wired``);
* shapes and parameters are measured, exact whatever the model does;
* multiply-adds are counted for the modules convlab knows (convolutions, linear layers);
  modules it does not know are *opaque*: their shapes and parameters count, their MACs do not,
  and the summary names them;
* a run that fails stops at the module that failed; the check then diagnoses that module
  against the input it actually received.

Example:
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Hardsigmoid())
    >>> graph = record(model, (1, 3, 8, 8))
    >>> [(node.name, node.op.kind) for node in graph.nodes]
    [('0', 'conv'), ('1', 'hardsigmoid')]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import ConvlabError, ShapeError
from .graph import Graph, GraphBuilder, Op, Shape
from .layer_kinds import op_of_torch

__all__ = ["Measured", "record"]


@dataclass(frozen=True)
class Measured(Op):
    """One module call as it ran: its measured shapes and parameters, and the op convlab reads it as.

    ``inner`` is None for an opaque module (no layer kind reads it). ``output`` is None for the module
    whose call failed: its output shape is then asked of ``inner``, which explains the failure.
    """

    module_type: str
    input: Shape
    output: Shape | None
    owned_params: int
    inner: Op | None = None
    failure: str = ""  # what PyTorch said, for an opaque module that failed
    wired: bool = True  # its input is the output of the node it reads; False: a functional step came between
    measured: ClassVar[bool] = True

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.inner.kind if self.inner is not None else self.module_type.lower()

    def window(self) -> tuple[int, int] | None:
        return None if self.inner is None else self.inner.window()

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        if self.output is not None:
            return self.output
        if self.inner is not None:
            self.inner.output_shape([self.input], name)  # raises the layer's own diagnosis
        raise ShapeError(
            f"{name}: {self.module_type} failed on an input of shape {self.input}: {self.failure}",
            fix=f"check what {self.module_type} expects of its input",
        )

    def seen_input(self, inputs: list[Shape]) -> Shape:
        return self.input

    def params(self, inputs: list[Shape]) -> int:
        return self.owned_params

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        if self.inner is None:
            return 0
        if self.inner.takes_features and len(self.input) != 2:  # a Linear over (N, ..., F): every row
            rows = math.prod(self.input[:-1])
            return self.inner.macs([(rows, self.input[-1])], (rows, output[-1]))
        return self.inner.macs([self.input], output)

    def describe(self) -> str:
        return self.inner.describe() if self.inner is not None else f"{self.module_type} (opaque)"

    def forward(self, inputs: list[Any], params: dict[str, Any], algorithm: str = "auto") -> Any:
        raise ConvlabError(
            f"{self.module_type} was read by running it in PyTorch; convlab cannot run it",
            fix="run the model in PyTorch",
        )


@dataclass
class _Call:
    name: str
    module: Any
    source: str
    input: Shape
    output: Shape | None = None
    params: int = 0


def _watched(module: Any) -> bool:
    """A module gets a node when it has no children, or owns parameters of its own beside them."""
    return next(module.children(), None) is None or next(module.parameters(recurse=False), None) is not None


def _shape(value: Any) -> Shape | None:
    shape = getattr(value, "shape", None)
    return None if shape is None else tuple(int(n) for n in shape)


def _zeros(model: Any, input_shape: Shape) -> Any:
    import torch

    first = next(model.parameters(), None)
    dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
    device = first.device if first is not None else "cpu"
    return torch.zeros(input_shape, dtype=dtype, device=device)


def record(model: Any, input_shape: Shape, why: str = "") -> Graph:
    """The graph of ``model`` measured by running it once on zeros of ``input_shape`` (N, C, H, W).

    The model runs in eval mode without gradients; its train/eval flags are restored after.
    ``why`` says why it was read this way (torch.fx's failure); the graph's notes carry it.
    """
    import torch

    names = {id(module): name for name, module in model.named_modules()}
    calls: list[_Call] = []
    running: list[_Call] = []
    made_by: dict[int, str] = {}
    seen_params: set[int] = set()
    keep: list[Any] = []  # the tensors whose ids are keys of made_by stay alive, so no id is reused

    def before(module: Any, args: tuple[Any, ...]) -> None:
        if not _watched(module):
            return
        tensor = args[0] if args else None
        label = names.get(id(module)) or type(module).__name__.lower()  # the model itself is named ""
        used = sum(1 for call in calls if call.name == label or call.name.startswith(f"{label}#"))
        source = made_by.get(id(tensor), "")  # "": made by a functional step, not by a module
        owned = [p for p in module.parameters(recurse=False) if id(p) not in seen_params]
        seen_params.update(id(p) for p in owned)
        call = _Call(
            f"{label}#{used + 1}" if used else label,
            module,
            source,
            _shape(tensor) or (),
            params=sum(p.numel() for p in owned),
        )
        calls.append(call)
        running.append(call)

    def after(module: Any, args: tuple[Any, ...], output: Any) -> None:
        if not _watched(module):
            return
        call = running.pop()
        call.output = _shape(output[0] if isinstance(output, (tuple, list)) and output else output) or ()
        if hasattr(output, "shape"):
            made_by[id(output)] = call.name
            keep.append(output)

    x = _zeros(model, input_shape)
    made_by[id(x)] = "input"
    modes = {module: module.training for module in model.modules()}
    handles = []
    for module in model.modules():
        handles.append(module.register_forward_pre_hook(before))
        handles.append(module.register_forward_hook(after))
    failure: BaseException | None = None
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    except Exception as error:  # the user's model: where it failed is the answer
        failure = error
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes.items():
            module.train(training)
    return _graph(model, calls, running, failure, why)


def _graph(model: Any, calls: list[_Call], running: list[_Call], failure: BaseException | None, why: str) -> Graph:
    builder = GraphBuilder(type(model).__name__.lower())
    failed = running[-1] if running and failure is not None else None
    opaque: list[tuple[str, str]] = []
    for call in calls:
        if call.output is None and call is not failed:
            continue  # a container that was still running when an inner module failed
        inner = op_of_torch(call.module, call.name) if next(call.module.children(), None) is None else None
        if inner is None:
            opaque.append((type(call.module).__name__, call.name))
        failure_text = str(failure).splitlines()[0] if failure is not None and str(failure) else ""
        known = call.source == "input" or call.source in {node.name for node in builder.nodes}
        source = call.source if known else builder.nodes[-1].name if builder.nodes else "input"  # the one before
        op = Measured(
            type(call.module).__name__, call.input, call.output, call.params, inner, failure_text, wired=known
        )
        builder.add(call.name, op, source)
        if call is failed:
            break
    if failure is not None and failed is None:
        after = builder.nodes[-1].name if builder.nodes else "the input"
        raise ShapeError(
            f"PyTorch raised {type(failure).__name__} after {after}, outside any module: "
            f"{str(failure).splitlines()[0] if str(failure) else ''}",
            fix="look at the operations forward() applies after that module",
        )
    notes = [
        f"read by running the model with forward hooks{f' ({why})' if why else ''}: shapes and parameters "
        "measured, MACs counted for the layers convlab knows"
    ]
    if opaque:
        notes.append(f"opaque modules (their MACs are not counted): {_listed(opaque)}")
    graph = builder.build()
    return Graph(graph.name, graph.nodes, notes=tuple(notes))


def _listed(opaque: list[tuple[str, str]]) -> str:
    """``StochasticDepth x9 (features.2.1.stochastic_depth, ...)``: each type once, with its first module."""
    types: dict[str, list[str]] = {}
    for kind, name in opaque:
        types.setdefault(kind, []).append(name)
    return "; ".join(
        f"{kind} x{len(names)} ({names[0]}, ...)" if len(names) > 1 else f"{kind} ({names[0]})"
        for kind, names in types.items()
    )
