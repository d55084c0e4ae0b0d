"""A network as data: layer kinds with their arithmetic, and the graph that wires them.

Each layer kind (an :class:`Op`) knows, for given input shapes, its output shape,
its parameter count, its multiply-adds and how it changes the receptive field.
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

import math
from dataclasses import dataclass, field, replace
from typing import ClassVar

from .._args import Pair, as_int, conv_padding, pair
from ..diagnose import Diagnosis, channel_mismatch, linear_mismatch, norm_mismatch
from ..errors import ArgumentError, ConvlabError, ShapeError
from .shapes import conv2d_output_size, conv_transpose2d_output_size, pool2d_output_size

__all__ = [
    "Activation",
    "AdaptiveAvgPool",
    "Add",
    "BatchNorm",
    "Concat",
    "Conv",
    "ConvTranspose",
    "Field",
    "Flatten",
    "Graph",
    "GraphBuilder",
    "Linear",
    "Node",
    "Op",
    "Pool",
]

Shape = tuple[int, ...]


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


def _named(name: str, diagnosis: Diagnosis) -> ConvlabError:
    """The diagnosis as an error that names the layer."""
    return replace(diagnosis, what=f"{name}: {diagnosis.what}").error(ShapeError)


def _in_layer(name: str, error: ShapeError, shape: Shape) -> ConvlabError:
    """An error from a layer's arithmetic, naming the layer and its input (keeping the diagnosis)."""
    diagnosis = getattr(error, "diagnosis", None)
    if isinstance(diagnosis, Diagnosis):
        return _named(name, replace(diagnosis, evidence=(*diagnosis.evidence, f"its input is {shape}")))
    return ShapeError(
        f"{name}: {error.message}", evidence=[*error.evidence, f"its input is {shape}"], fix=error.fix
    )


def _spatial(shape: Shape, name: str, kind: str) -> tuple[int, int, int, int]:
    if len(shape) != 4:
        raise ShapeError(
            f"{name} ({kind}) needs an (N, C, H, W) input, got {shape}",
            fix="flatten only after the last convolution or pooling layer",
        )
    return shape[0], shape[1], shape[2], shape[3]


class Op:
    """One kind of layer and its arithmetic."""

    kind: ClassVar[str] = "op"

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
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

    def fallback_output(self, inputs: list[Shape], name: str) -> Shape | None:
        """The output had the input been what the layer declares it was built for; None if it declares nothing.

        Checking a whole network goes on past a mismatch with this shape.
        """
        return None


@dataclass(frozen=True)
class Conv(Op):
    out_channels: int
    kernel_size: Pair
    stride: Pair = (1, 1)
    padding: Pair | str = (0, 0)
    dilation: Pair = (1, 1)
    groups: int = 1
    bias: bool = True
    in_channels: int | None = None  # declared by a torch or convlab layer; None: whatever arrives
    kind: ClassVar[str] = "conv"

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        n, c, h, w = _spatial(inputs[0], name, self.kind)
        if self.in_channels is not None and c != self.in_channels:
            weight = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
            raise _named(name, channel_mismatch("conv2d", inputs[0], weight, self.groups))
        if c % self.groups or self.out_channels % self.groups:
            raise ShapeError(
                f"{name}: groups={self.groups} must divide in_channels={c} and out_channels={self.out_channels}",
                fix="use groups=1 or a divisor of both",
            )
        try:
            size = conv2d_output_size((h, w), self.kernel_size, self.stride, self.padding, self.dilation)
        except ShapeError as error:
            raise _in_layer(name, error, inputs[0]) from None
        assert isinstance(size, tuple)
        return (n, self.out_channels, *size)

    def params(self, inputs: list[Shape]) -> int:
        c = inputs[0][1]
        return self.out_channels * (c // self.groups) * math.prod(self.kernel_size) + (
            self.out_channels if self.bias else 0
        )

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        return math.prod(output) * (inputs[0][1] // self.groups) * math.prod(self.kernel_size)

    def fallback_output(self, inputs: list[Shape], name: str) -> Shape | None:
        if self.in_channels is None or len(inputs[0]) != 4:
            return None
        return self.output_shape([(inputs[0][0], self.in_channels, *inputs[0][2:])], name)

    def _pads(self) -> Pair:
        pads = conv_padding(self.padding, kernel_size=self.kernel_size, stride=self.stride, dilation=self.dilation)
        return (pads[0][0], pads[1][0])

    def field(self, fields: list[Field], inputs: list[Shape]) -> tuple[Field, int]:
        span = (self.dilation[0] * (self.kernel_size[0] - 1) + 1, self.dilation[1] * (self.kernel_size[1] - 1) + 1)
        return fields[0].through(span, self.stride, self._pads()), 0

    def describe(self) -> str:
        text = f"{self.kernel_size[0]}x{self.kernel_size[1]}, {self.out_channels}"
        for label, value, default in (
            ("s", self.stride, (1, 1)),
            ("p", self.padding, (0, 0)),
            ("d", self.dilation, (1, 1)),
        ):
            if value != default:
                text += f", {label}{_compact(value)}"
        if self.groups != 1:
            text += f", g{self.groups}"
        return f"conv {text}"


def _compact(value: Pair | str) -> str:
    if isinstance(value, str):
        return value
    return str(value[0]) if value[0] == value[1] else f"{value[0]}x{value[1]}"


@dataclass(frozen=True)
class ConvTranspose(Op):
    out_channels: int
    kernel_size: Pair
    stride: Pair = (1, 1)
    padding: Pair = (0, 0)
    output_padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    groups: int = 1
    bias: bool = True
    in_channels: int | None = None
    kind: ClassVar[str] = "convT"

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        n, c, h, w = _spatial(inputs[0], name, self.kind)
        if self.in_channels is not None and c != self.in_channels:
            as_conv = (self.out_channels, self.in_channels, *self.kernel_size)  # the same in/out, conv2d's layout
            diagnosis = channel_mismatch("conv_transpose2d", inputs[0], as_conv, 1)
            raise _named(
                name,
                replace(
                    diagnosis,
                    fix=diagnosis.fix.replace("nn.Conv2d", "nn.ConvTranspose2d"),
                    torch_fix=diagnosis.torch_fix.replace("nn.Conv2d", "nn.ConvTranspose2d"),
                ),
            )
        size = conv_transpose2d_output_size(
            (h, w), self.kernel_size, self.stride, self.padding, self.output_padding, self.dilation
        )
        assert isinstance(size, tuple)
        return (n, self.out_channels, *size)

    def fallback_output(self, inputs: list[Shape], name: str) -> Shape | None:
        if self.in_channels is None or len(inputs[0]) != 4:
            return None
        return self.output_shape([(inputs[0][0], self.in_channels, *inputs[0][2:])], name)

    def params(self, inputs: list[Shape]) -> int:
        c = inputs[0][1]
        return c * (self.out_channels // self.groups) * math.prod(self.kernel_size) + (
            self.out_channels if self.bias else 0
        )

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        # every input value is multiplied into a whole kernel window of each output channel of its group
        return math.prod(inputs[0]) * (self.out_channels // self.groups) * math.prod(self.kernel_size)

    def field(self, fields: list[Field], inputs: list[Shape]) -> tuple[Field, int]:
        """Output y reads inputs i with i*s = y + p - a*d: at most ceil(span / s) of them, 1/s apart."""
        previous = fields[0]
        if previous.size is None:
            return previous, 0
        size, jump, start = [], [], []
        for axis in range(2):
            s, d, k, p = self.stride[axis], self.dilation[axis], self.kernel_size[axis], self.padding[axis]
            span = d * (k - 1) + 1
            read = max(
                len({(y + p - a * d) // s for a in range(k) if (y + p - a * d) % s == 0}) for y in range(s * d)
            )
            j = previous.jump[axis]
            size.append(previous.size[axis] + (max(read, 1) - 1) * j)
            jump.append(j / s)
            start.append(previous.start[axis] + (p - (span - 1) / 2) / s * j)
        return Field((size[0], size[1]), (jump[0], jump[1]), (start[0], start[1])), 0

    def describe(self) -> str:
        return f"convT {self.kernel_size[0]}x{self.kernel_size[1]}, {self.out_channels}, s{_compact(self.stride)}"


@dataclass(frozen=True)
class Pool(Op):
    mode: str  # "max" or "avg"
    kernel_size: Pair
    stride: Pair
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    ceil_mode: bool = False

    @property
    def kind(self) -> str:  # type: ignore[override]
        return f"{self.mode}pool"

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        n, c, h, w = _spatial(inputs[0], name, self.kind)
        try:
            size = pool2d_output_size(
                (h, w), self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
            )
        except ShapeError as error:
            raise _in_layer(name, error, inputs[0]) from None
        assert isinstance(size, tuple)
        return (n, c, *size)

    def field(self, fields: list[Field], inputs: list[Shape]) -> tuple[Field, int]:
        span = (self.dilation[0] * (self.kernel_size[0] - 1) + 1, self.dilation[1] * (self.kernel_size[1] - 1) + 1)
        return fields[0].through(span, self.stride, self.padding), 0

    def describe(self) -> str:
        text = f"{self.kind} {_compact(self.kernel_size)}"
        if self.stride != self.kernel_size:
            text += f", s{_compact(self.stride)}"
        if self.padding != (0, 0):
            text += f", p{_compact(self.padding)}"
        return text


@dataclass(frozen=True)
class AdaptiveAvgPool(Op):
    """Average pooling to a fixed output size (global average pooling for (1, 1))."""

    output_size: Pair
    kind: ClassVar[str] = "adaptivepool"

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        n, c, _, _ = _spatial(inputs[0], name, self.kind)
        return (n, c, *self.output_size)

    def field(self, fields: list[Field], inputs: list[Shape]) -> tuple[Field, int]:
        """Windows of ceil(in / out) cells, in / out apart (exact when out divides in)."""
        _, _, h, w = inputs[0]
        kernel = (math.ceil(h / self.output_size[0]), math.ceil(w / self.output_size[1]))
        stride = (max(1, h // self.output_size[0]), max(1, w // self.output_size[1]))
        return fields[0].through(kernel, stride, (0, 0)), 0

    def describe(self) -> str:
        return f"adaptiveavgpool {_compact(self.output_size)}"


@dataclass(frozen=True)
class Linear(Op):
    out_features: int
    bias: bool = True
    in_features: int | None = None
    kind: ClassVar[str] = "linear"

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        features = inputs[0][-1] if len(inputs[0]) == 2 else None
        if len(inputs[0]) != 2 or (self.in_features is not None and features != self.in_features):
            declared = self.in_features if self.in_features is not None else math.prod(inputs[0][1:])
            raise _named(name, linear_mismatch(declared, self.out_features, inputs[0]))
        return (inputs[0][0], self.out_features)

    def fallback_output(self, inputs: list[Shape], name: str) -> Shape | None:
        return (inputs[0][0], self.out_features)

    def params(self, inputs: list[Shape]) -> int:
        return inputs[0][1] * self.out_features + (self.out_features if self.bias else 0)

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        return inputs[0][0] * inputs[0][1] * self.out_features

    def field(self, fields: list[Field], inputs: list[Shape]) -> tuple[Field, int]:
        return replace(fields[0], size=None), 0

    def describe(self) -> str:
        return f"linear {self.out_features}"


@dataclass(frozen=True)
class Flatten(Op):
    kind: ClassVar[str] = "flatten"

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        return (inputs[0][0], math.prod(inputs[0][1:]))

    def field(self, fields: list[Field], inputs: list[Shape]) -> tuple[Field, int]:
        return replace(fields[0], size=None), 0  # every flattened value feeds every later unit


@dataclass(frozen=True)
class BatchNorm(Op):
    num_features: int | None = None
    kind: ClassVar[str] = "batchnorm"

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        if self.num_features is not None and inputs[0][1] != self.num_features:
            raise _named(name, norm_mismatch(self.num_features, inputs[0]))
        return inputs[0]

    def fallback_output(self, inputs: list[Shape], name: str) -> Shape | None:
        return inputs[0]  # normalisation keeps the shape; the fix is to the layer, not to what follows

    def params(self, inputs: list[Shape]) -> int:
        return 2 * inputs[0][1]  # a scale and a shift per channel (running statistics are not trained)


@dataclass(frozen=True)
class Activation(Op):
    """A layer that keeps the shape and looks at one value at a time: relu, sigmoid, tanh, dropout, ..."""

    name: str = "relu"

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.name


@dataclass(frozen=True)
class Add(Op):
    """Element-wise sum of branches of the same shape (a residual connection)."""

    kind: ClassVar[str] = "add"

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        if len(set(inputs)) > 1:
            raise ShapeError(
                f"{name}: added branches have different shapes {inputs}",
                fix="give the shortcut a downsample (1x1 conv with the same stride)",
            )
        return inputs[0]

    def field(self, fields: list[Field], inputs: list[Shape]) -> tuple[Field, int]:
        return _largest(fields)


@dataclass(frozen=True)
class Concat(Op):
    """Branches stacked along the channels."""

    kind: ClassVar[str] = "concat"

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        if len({(shape[0], *shape[2:]) for shape in inputs}) > 1:
            raise ShapeError(
                f"{name}: concatenated branches differ in more than channels: {inputs}",
                fix="make their batch, height and width equal",
            )
        return (inputs[0][0], sum(shape[1] for shape in inputs), *inputs[0][2:])

    def field(self, fields: list[Field], inputs: list[Shape]) -> tuple[Field, int]:
        return _largest(fields)


def _largest(fields: list[Field]) -> tuple[Field, int]:
    """The largest field over the merged branches, and which branch it is."""
    if any(f.size is None for f in fields):
        index = next(i for i, f in enumerate(fields) if f.size is None)
        return fields[index], index
    index = max(range(len(fields)), key=lambda i: fields[i].size)  # type: ignore[arg-type, return-value]
    return fields[index], index


@dataclass(frozen=True)
class Node:
    name: str
    op: Op
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class Graph:
    """Nodes in an order where each comes after its inputs; ``"input"`` is the image."""

    name: str
    nodes: tuple[Node, ...]

    @property
    def output(self) -> str:
        return self.nodes[-1].name


@dataclass
class GraphBuilder:
    """Build a :class:`Graph` node by node; :meth:`add` returns the new node's name to wire into later ones."""

    name: str
    nodes: list[Node] = field(default_factory=list)

    def add(self, name: str, op: Op, *inputs: str) -> str:
        known = {"input", *(node.name for node in self.nodes)}
        if name in known:
            raise ArgumentError(f"layer name {name!r} is used twice", fix="give every layer its own name")
        missing = [source for source in inputs if source not in known]
        if missing:
            raise ArgumentError(f"{name} reads {missing[0]!r}, which is not defined before it", fix="add it first")
        self.nodes.append(Node(name, op, inputs or (self.nodes[-1].name if self.nodes else "input",)))
        return name

    def build(self) -> Graph:
        if not self.nodes:
            raise ArgumentError(f"{self.name} has no layers", fix='e.g. "conv3x3(16,p1) relu"')
        return Graph(self.name, tuple(self.nodes))


def conv(
    out_channels: int,
    kernel_size: int | Pair,
    stride: int | Pair = 1,
    padding: int | Pair | str = 0,
    dilation: int | Pair = 1,
    groups: int = 1,
    bias: bool = True,
    in_channels: int | None = None,
) -> Conv:
    """A :class:`Conv` from user-style arguments, checked by the engine's normaliser."""
    kernel, stride_, dilation_ = (
        pair(kernel_size, "kernel_size", minimum=1),
        pair(stride, "stride", minimum=1),
        pair(dilation, "dilation", minimum=1),
    )
    conv_padding(padding, kernel_size=kernel, stride=stride_, dilation=dilation_)
    padding_ = padding if isinstance(padding, str) else pair(padding, "padding", minimum=0)
    return Conv(
        as_int(out_channels, "out_channels", minimum=1),
        kernel,
        stride_,
        padding_,
        dilation_,
        as_int(groups, "groups", minimum=1),
        bias,
        in_channels,
    )


def pool(
    mode: str,
    kernel_size: int | Pair,
    stride: int | Pair | None = None,
    padding: int | Pair = 0,
    dilation: int | Pair = 1,
    ceil_mode: bool = False,
) -> Pool:
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    return Pool(
        mode,
        kernel,
        kernel if stride is None else pair(stride, "stride", minimum=1),
        pair(padding, "padding", minimum=0),
        pair(dilation, "dilation", minimum=1),
        ceil_mode,
    )
