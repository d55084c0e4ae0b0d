"""A network as data: the graph that wires layers, and what every layer kind declares.

Each layer kind (an :class:`Op`, registered in :mod:`convlab.network.layer_kinds`)
knows, for given input shapes, its output shape, its parameter count, its
multiply-adds and how it changes the receptive field, and how it is read and run.
A :class:`Graph` is a list of named nodes in an order where every node comes
after its inputs; ``"input"`` is the image. Chains, residual additions and
concatenations are all graphs.

Conventions:

* shapes are (N, C, H, W), or (N, F) after flattening;
* MACs count the multiply-adds of convolutions and linear layers without their
  bias, the convention of torchvision's model cards; pooling, normalisation,
  activations and additions count 0;
* the receptive field of a feature is tracked as its size, its jump (the input
  distance between neighbouring features) and its start (the input coordinate
  of the centre of the first feature's field), and grows by the recurrence
  ``size += (k_eff - 1) * jump``, ``start += ((k_eff - 1) / 2 - pad) * jump``,
  ``jump *= stride``, with ``k_eff = dilation * (k - 1) + 1``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from .._args import Pair
from ..diagnose import Diagnosis
from ..errors import ArgumentError, ConvlabError, ShapeError, with_note

if TYPE_CHECKING:
    from .layer_strings import LayerString
    from .shapes import Uncovered

__all__ = ["Field", "Graph", "GraphBuilder", "Node", "Op", "Params", "Shape"]

Shape = tuple[int, ...]
Params = dict[str, Any]  # a layer's arrays by name: "weight", "bias"


@dataclass(frozen=True)
class Field:
    """Receptive field of one feature map: size, jump and start per axis (h, w). ``size`` None: global."""

    size: tuple[float, float] | None
    jump: tuple[float, float]
    start: tuple[float, float]

    @staticmethod
    def of_input() -> Field:
        return Field((1.0, 1.0), (1.0, 1.0), (0.0, 0.0))

    def through(self, kernel: Pair, stride: Pair, padding: Pair) -> Field:
        """The field after a sliding window of effective size ``kernel`` (the recurrence above)."""
        if self.size is None:
            return self
        size = tuple(r + (k - 1) * j for r, k, j in zip(self.size, kernel, self.jump))
        start = tuple(s + ((k - 1) / 2 - p) * j for s, k, p, j in zip(self.start, kernel, padding, self.jump))
        jump = tuple(j * s for j, s in zip(self.jump, stride))
        return Field((size[0], size[1]), (jump[0], jump[1]), (start[0], start[1]))


def named(name: str, diagnosis: Diagnosis) -> ConvlabError:
    """The diagnosis as an error that names the layer."""
    return replace(diagnosis, what=f"{name}: {diagnosis.what}").error(ShapeError)


def in_layer(name: str, error: ShapeError, shape: Shape) -> ConvlabError:
    """An error from a layer's arithmetic, naming the layer and its input (keeping the diagnosis)."""
    if error.diagnosis is not None:
        return named(name, replace(error.diagnosis, evidence=(*error.diagnosis.evidence, f"its input is {shape}")))
    return ShapeError(
        f"{name}: {error.message}", evidence=[*error.evidence, f"its input is {shape}"], fix=error.fix
    )


def spatial(shape: Shape, name: str, kind: str) -> tuple[int, int, int, int]:
    """``shape`` as (N, C, H, W), or an error saying the layer needs a feature map."""
    if len(shape) != 4:
        raise ShapeError(
            f"{name} ({kind}) needs an (N, C, H, W) input, got {shape}",
            fix="flatten only after the last convolution or pooling layer",
        )
    return shape[0], shape[1], shape[2], shape[3]


def largest(fields: list[Field]) -> tuple[Field, int]:
    """The field of merged branches: the union of theirs (with the largest's jump), and which branch is largest.

    Each axis's union runs from the lowest first cell to the highest last one, so a tiled run that
    reads it reads every branch's field even where one is not centred inside the other.
    """
    if any(f.size is None for f in fields):
        index = next(i for i, f in enumerate(fields) if f.size is None)
        return fields[index], index
    index = max(range(len(fields)), key=lambda i: fields[i].size)  # type: ignore[arg-type, return-value]
    sized = [(f.start, f.size) for f in fields if f.size is not None]
    lows = [min(start[a] - (size[a] - 1) / 2 for start, size in sized) for a in range(2)]
    highs = [max(start[a] + (size[a] - 1) / 2 for start, size in sized) for a in range(2)]
    size = (highs[0] - lows[0] + 1, highs[1] - lows[1] + 1)
    start = ((lows[0] + highs[0]) / 2, (lows[1] + highs[1]) / 2)
    return Field(size, fields[index].jump, start), index


class Op:
    """One kind of layer: its arithmetic, and how convlab reads and runs it.

    Subclasses are the layer kinds of :mod:`convlab.network.layer_kinds`; the defaults here are a layer
    that keeps its input as it is, has no parameters and is read from nowhere.
    """

    kind: ClassVar[str] = "op"
    names: ClassVar[tuple[str, ...]] = ()  # its names in layer strings
    settings: ClassVar[tuple[str, ...]] = ()  # the layer-string settings it takes (k, s, p, ...)
    counted: ClassVar[bool] = False  # whether a layer string gives it a plain number (channels, kernel)
    example: ClassVar[str] = ""  # a layer string that makes one
    torch_modules: ClassVar[tuple[str, ...]] = ()  # the torch.nn classes it reads
    nn_layers: ClassVar[tuple[str, ...]] = ()  # the convlab.nn classes it reads
    # What a whole-network question needs to know of it:
    convolves: ClassVar[bool] = False  # it learns local features (a flatten after it is not "too early")
    global_view: ClassVar[bool] = False  # every output sees the whole input: fields stop being local here
    flattens: ClassVar[bool] = False  # it turns a feature map into a vector (too early before any convolution)
    uneven_fields: ClassVar[bool] = False  # neighbouring outputs see fields of different sizes
    takes_features: ClassVar[bool] = False  # it reads (N, F) vectors, so a network may start with it
    measured: ClassVar[bool] = False  # its shapes were measured by running a model, its wiring is not known

    def window(self) -> Pair | None:
        """The kernel it slides over the input, or None if it slides none."""
        return None

    def traps(self, name: str) -> list[Diagnosis]:
        """Legal but probably unintended settings (a stride that skips pixels, ...), for the network check."""
        return []

    def declared_input(self) -> tuple[int, tuple[int, int, int, int], int] | None:
        """(in_channels, weight shape, groups) of a convolution built for a known number of input channels,
        so the network check can diagnose a first layer's input as conv2d would; None for other layers."""
        return None

    def unread(self, input_size: Pair) -> Uncovered | None:
        """The input rows and columns its windows never read, for the receptive-field picture; None for a
        layer that reads every cell, or whose windows do not say (ceil mode, transposed)."""
        return None

    @classmethod
    def takes(cls, name: str) -> tuple[str, ...]:
        """The settings the layer-string name ``name`` takes."""
        return cls.settings

    @classmethod
    def example_of(cls, name: str) -> str:
        """A layer string for ``name`` (one of the kind's names)."""
        return cls.example.replace(cls.names[0], name, 1) if cls.example else name

    @classmethod
    def from_string(cls, layer: LayerString) -> Op:
        return cls()

    @classmethod
    def from_torch(cls, module: Any, name: str) -> Op:
        return cls()

    @classmethod
    def from_nn(cls, layer: Any) -> Op:
        return cls()

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        return inputs[0]

    def seen_input(self, inputs: list[Shape]) -> Shape:
        """The shape of its first input, as the summary shows it (a measured layer's is what it really got)."""
        return inputs[0]

    def params(self, inputs: list[Shape]) -> int:
        return 0

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        return 0

    def field(self, fields: list[Field], inputs: list[Shape]) -> tuple[Field, int]:
        """The output's receptive field, and which input set it (for merges of several inputs)."""
        return fields[0], 0

    def describe(self) -> str:
        return self.kind

    def inferred(self, inputs: list[Shape]) -> dict[str, int]:
        """The sizes it takes from what reaches it because it declares none (``{"in_channels": 3}``).

        ``replace(op, **op.inferred(inputs))`` is the layer built for those inputs: a fixed layer.
        """
        return {}

    def fallback_output(self, inputs: list[Shape], name: str) -> Shape | None:
        """The output had the input been what the layer declares it was built for; None if it declares nothing.

        Checking a whole network goes on past a mismatch with this shape.
        """
        return None

    def forward(self, inputs: list[Any], params: Params, algorithm: str = "auto") -> Any:
        """The output array for the input arrays (N, C, H, W) or (N, F), with ``params`` (weight, bias)."""
        return inputs[0]

    def backward(self, inputs: list[Any], grad: Any, params: Params, algorithm: str = "auto") -> list[Any]:
        """The gradient of each input, given the gradient of the output."""
        return [grad]

    def layer(self, input_shape: Shape, seed: int, dtype: Any) -> Any:
        """This layer as a fresh ``convlab.nn`` layer for inputs of ``input_shape``, initialised from ``seed``."""
        raise ArgumentError(
            f"a {self.kind} layer cannot be built as a convlab.nn layer",
            fix="build the model from conv, convT, pools, gap, bn, relu, sigmoid, tanh, dropout, flatten, linear",
        )

    def token(self) -> str:
        """This layer in the layer-string language (``conv3x3(16,p1)``), so that parsing it gives it back."""
        raise ArgumentError(
            f"a {self.kind} layer has no layer-string form",
            fix="save chains of conv, convT, pools, gap, bn, relu, sigmoid, tanh, dropout, flatten, linear",
        )

    def probe(self, shape: tuple[int, ...]) -> tuple[Op, Params]:
        """The op and positive averaging parameters the receptive-field probe runs in this layer's place.

        ``shape`` is the probe's input here; its values never cancel, so a cell is reached exactly when
        the layer's window covers it.
        """
        return self, {}


_LAYER_STRING_KEYS = {"kernel_size": "k", "stride": "s", "padding": "p", "dilation": "d", "groups": "g"}
_LAYER_STRING_KEYS["output_padding"] = "op"


def in_layer_string(fix: str, token: str) -> str:
    """A fix written for Python (``padding=1``, ``nn.Flatten()``) as the layer string it changes.

    Example:
        >>> in_layer_string("padding=1   # pad by at least 1", "conv5x5(32,s2)")
        'conv5x5(32,s2,p1)   # pad by at least 1'
    """

    def setting(match: re.Match[str]) -> str:
        key, value = _LAYER_STRING_KEYS[match.group(1)], re.sub(r"[()\s'\"]", "", match.group(2))
        numbers = value.split(",")
        written = numbers[0] if len(set(numbers)) == 1 else "x".join(numbers)
        head, _, args = token.partition("(")
        if key == "k":
            head = re.sub(r"\d+(x\d+)?$", "", head)  # the kernel written on the name gives way
        kept = [arg for arg in args.rstrip(")").split(",") if arg and not re.fullmatch(rf"{key}\w+", arg)]
        return f"{head}({','.join([*kept, key + written])})"

    names = "|".join(_LAYER_STRING_KEYS)
    fix = re.sub(rf"\b({names})=(\([^)]*\)|'[^']*'|[^\s;,]+)", setting, fix)
    fix = fix.replace("nn.Flatten()", "flatten")
    return re.sub(r"nn\.Linear\(\d+, (\d+)\)", r"linear(\1)", fix)


def in_layer_string_error(error: ConvlabError, token: str) -> ConvlabError:
    """``error`` with its fix written as the layer string ``token`` changed. A diagnosis's other way (a call
    to :func:`convlab.shapes.solve_padding`) is left out: a layer string cannot take what it finds."""
    diagnosis, fix = error.diagnosis, error.fix
    if diagnosis is not None:
        if fix is not None and diagnosis.also is not None:
            fix = fix.replace(with_note("", f"or {diagnosis.also}"), "")
        diagnosis = replace(diagnosis, fix=in_layer_string(diagnosis.fix, token), also=None)
    return error.with_fix(None if fix is None else in_layer_string(fix, token), diagnosis)


@dataclass(frozen=True)
class Node:
    name: str
    op: Op
    inputs: tuple[str, ...]
    written: str | None = None  # the layer-string token it was read from, if any

    def output_shape(self, inputs: list[Shape]) -> Shape:
        """The op's output for these inputs; read from a layer string, its errors' fixes are layer strings."""
        try:
            return self.op.output_shape(inputs, self.name)
        except ConvlabError as error:
            if self.written is None:
                raise
            raise in_layer_string_error(error, self.written) from None


@dataclass(frozen=True)
class Graph:
    """Nodes in an order where each comes after its inputs; ``"input"`` is the image."""

    name: str
    nodes: tuple[Node, ...]
    designed_for: Shape | None = None  # a fixed network's (C, H, W): any other input is checked against it
    notes: tuple[str, ...] = ()  # how it was read, when that limits what it tells (a summary prints them)

    @property
    def output(self) -> str:
        return self.nodes[-1].name

    def built_for(self, input_shape: Shape) -> Graph:
        """The graph with every size its layers infer (in_channels, in_features, ...) fixed for ``input_shape``.

        ``input_shape`` is (C, H, W); the result remembers it as ``designed_for``.
        """
        shapes: dict[str, Shape] = {"input": (1, *input_shape)}
        nodes = []
        for node in self.nodes:
            inputs = [shapes[source] for source in node.inputs]
            op = replace(node.op, **node.op.inferred(inputs))  # type: ignore[type-var]
            shapes[node.name] = op.output_shape(inputs, node.name)
            nodes.append(replace(node, op=op))
        return Graph(self.name, tuple(nodes), tuple(input_shape), self.notes)


@dataclass
class GraphBuilder:
    """Build a :class:`Graph` node by node; :meth:`add` returns the new node's name to wire into later ones."""

    name: str
    nodes: list[Node] = field(default_factory=list)

    def add(self, name: str, op: Op, *inputs: str, written: str | None = None) -> str:
        known = {"input", *(node.name for node in self.nodes)}
        if name in known:
            raise ArgumentError(f"layer name {name!r} is used twice", fix="give every layer its own name")
        missing = [source for source in inputs if source not in known]
        if missing:
            raise ArgumentError(f"{name} reads {missing[0]!r}, which is not defined before it", fix="add it first")
        self.nodes.append(Node(name, op, inputs or (self.nodes[-1].name if self.nodes else "input",), written))
        return name

    def build(self) -> Graph:
        if not self.nodes:
            raise ArgumentError(f"{self.name} has no layers", fix='e.g. "conv3x3(16,p1) relu"')
        return Graph(self.name, tuple(self.nodes))
