"""Every kind of layer convlab knows, declared once: the registry the whole of ``network`` reads.

A layer kind is an :class:`~convlab.network.graph.Op` subclass that declares, beside its
arithmetic (output shape, parameters, multiply-adds, receptive field):

* its names in layer strings (``names``), the settings it takes there and how they make an op
  (``from_string``);
* the ``torch.nn`` modules it reads (``torch_modules``, ``from_torch``) and the ``convlab.nn``
  layers it reads (``nn_layers``, ``from_nn``);
* how it runs forward and backward (``forward``, ``backward``), and the single-channel,
  positive-weight version of itself that the receptive-field probe runs (``probe``).

Adding a layer kind is one class here and its name in :data:`KINDS`; layer strings, model
reading, summary, check and receptive fields then all know it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

from .._args import Pair, as_int, conv_padding, pair
from ..diagnose import Diagnosis, channel_mismatch, linear_mismatch, norm_mismatch, quiet_traps
from ..errors import ArgumentError, ShapeError
from ..functional.geometry import transpose_settings
from .graph import Field, Op, Params, Shape, in_layer, largest, named, spatial
from .shapes import Uncovered, conv2d_output_size, conv_transpose2d_output_size, pool2d_output_size, uncovered
from .tables import pair_text

if TYPE_CHECKING:
    from .layer_strings import LayerString

__all__ = [
    "KINDS",
    "Activation",
    "AdaptiveAvgPool",
    "Add",
    "BatchNorm",
    "Concat",
    "Conv",
    "ConvTranspose",
    "Flatten",
    "Linear",
    "Pool",
    "conv",
    "kind_named",
    "op_of_nn",
    "op_of_torch",
    "pool",
    "string_names",
]


def _functional() -> Any:
    from .. import functional

    return functional


def _np() -> Any:
    import numpy as np

    return np


def _nn() -> Any:
    from .. import nn

    return nn


def _setting(label: str, value: Pair | str, default: Pair) -> str:
    """One layer-string setting (``s2``, ``p1x2``, ``psame``), or "" where it has its default."""
    return "" if value == default else f"{label}{pair_text(value)}"


def _written(name: str, *arguments: str) -> str:
    """``name(a,b)`` from the arguments that are not empty, or ``name`` when all are."""
    given = [argument for argument in arguments if argument]
    return f"{name}({','.join(given)})" if given else name


def _averaging(shape: tuple[int, ...]) -> Any:
    """Positive weights summing to 1 over each output: the probe's values can never cancel."""
    return _np().full(shape, 1.0 / math.prod(shape[1:]))


def _convolution_settings(layer: Any) -> dict[str, Any]:
    """What torch's and convlab's convolution layers (transposed or not) hold alike, read and checked."""
    return {
        "kernel_size": pair(layer.kernel_size, "kernel_size", minimum=1),
        "stride": pair(layer.stride, "stride", minimum=1),
        "dilation": pair(layer.dilation, "dilation", minimum=1),
        "groups": layer.groups,
        "bias": layer.bias is not None,
        "in_channels": layer.in_channels,
    }


class _Convolution(Op):
    """What Conv and ConvTranspose declare alike: a kernel window, channels read from what arrives unless a
    layer declared them, the convlab.nn layer they build, and their layer string."""

    out_channels: int
    kernel_size: Pair
    stride: Pair
    padding: Pair | str
    dilation: Pair
    groups: int
    bias: bool
    in_channels: int | None  # declared by a torch or convlab layer; None: whatever arrives

    def window(self) -> Pair | None:
        return self.kernel_size

    def inferred(self, inputs: list[Shape]) -> dict[str, int]:
        return {"in_channels": inputs[0][1]} if self.in_channels is None and len(inputs[0]) == 4 else {}

    def fallback_output(self, inputs: list[Shape], name: str) -> Shape | None:
        if self.in_channels is None or len(inputs[0]) != 4:
            return None
        return self.output_shape([(inputs[0][0], self.in_channels, *inputs[0][2:])], name)

    @classmethod
    def from_nn(cls, layer: Any) -> Op:
        return cls.from_torch(layer, type(layer).__name__)  # convlab's layer has torch's attributes

    def _settings(self) -> dict[str, Any]:
        """The settings its functional call takes, as keywords."""
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation, "groups": self.groups}

    def layer(self, input_shape: Shape, seed: int, dtype: Any) -> Any:
        layer = getattr(_nn(), self.nn_layers[0])
        settings = self._settings()
        return layer(
            input_shape[1], self.out_channels, self.kernel_size, **settings, bias=self.bias, dtype=dtype, seed=seed
        )

    def token(self) -> str:
        """``conv3x3(64,s2,p1)``: the kind with the kernel, then the settings that differ."""
        return _written(
            f"{self.kind}{self.kernel_size[0]}x{self.kernel_size[1]}",
            str(self.out_channels),
            _setting("s", self.stride, (1, 1)),
            _setting("p", self.padding, (0, 0)),
            *self._extra_tokens(),
            _setting("d", self.dilation, (1, 1)),
            "" if self.groups == 1 else f"g{self.groups}",
            "" if self.bias else "nobias",
        )

    def _extra_tokens(self) -> tuple[str, ...]:
        """Settings of its own, written after the padding."""
        return ()


@dataclass(frozen=True)
class Conv(_Convolution):
    out_channels: int
    kernel_size: Pair
    stride: Pair = (1, 1)
    padding: Pair | str = (0, 0)
    dilation: Pair = (1, 1)
    groups: int = 1
    bias: bool = True
    in_channels: int | None = None
    kind: ClassVar[str] = "conv"
    names: ClassVar[tuple[str, ...]] = ("conv",)
    settings: ClassVar[tuple[str, ...]] = ("k", "s", "p", "d", "g", "nobias")
    counted: ClassVar[bool] = True
    example: ClassVar[str] = "conv3x3(64,s2,p1)"
    torch_modules: ClassVar[tuple[str, ...]] = ("Conv2d",)
    nn_layers: ClassVar[tuple[str, ...]] = ("Conv2d",)
    convolves: ClassVar[bool] = True

    def traps(self, name: str) -> list[Diagnosis]:
        pads = conv_padding(self.padding, kernel_size=self.kernel_size, stride=self.stride, dilation=self.dilation)
        return quiet_traps(name, self.kernel_size, self.stride, pads, self.dilation)

    def declared_input(self) -> tuple[int, tuple[int, int, int, int], int] | None:
        if self.in_channels is None:
            return None
        weight = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        return self.in_channels, weight, self.groups

    def unread(self, input_size: Pair) -> Uncovered | None:
        return uncovered(input_size, self.kernel_size, self.stride, self.padding, self.dilation)

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        n, c, h, w = spatial(inputs[0], name, self.kind)
        declared = self.declared_input()
        if declared is not None and c != declared[0]:
            raise named(name, channel_mismatch("conv2d", inputs[0], declared[1], self.groups))
        if c % self.groups or self.out_channels % self.groups:
            raise ShapeError(
                f"{name}: groups={self.groups} must divide in_channels={c} and out_channels={self.out_channels}",
                fix="use groups=1 or a divisor of both",
            )
        try:
            size = conv2d_output_size((h, w), self.kernel_size, self.stride, self.padding, self.dilation)
        except ShapeError as error:
            raise in_layer(name, error, inputs[0]) from None
        return (n, self.out_channels, *size)

    def params(self, inputs: list[Shape]) -> int:
        c = inputs[0][1]
        return self.out_channels * (c // self.groups) * math.prod(self.kernel_size) + (
            self.out_channels if self.bias else 0
        )

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        return math.prod(output) * (inputs[0][1] // self.groups) * math.prod(self.kernel_size)

    def pads(self) -> Pair:
        """The (top, left) zero padding, "same" and "valid" resolved."""
        pads = conv_padding(self.padding, kernel_size=self.kernel_size, stride=self.stride, dilation=self.dilation)
        return (pads[0][0], pads[1][0])

    def field(self, fields: list[Field], inputs: list[Shape]) -> tuple[Field, int]:
        return fields[0].through(self.span(), self.stride, self.pads()), 0

    def span(self) -> Pair:
        return (self.dilation[0] * (self.kernel_size[0] - 1) + 1, self.dilation[1] * (self.kernel_size[1] - 1) + 1)

    def describe(self) -> str:
        text = f"{self.kernel_size[0]}x{self.kernel_size[1]}, {self.out_channels}"
        for label, value, default in (
            ("s", self.stride, (1, 1)),
            ("p", self.padding, (0, 0)),
            ("d", self.dilation, (1, 1)),
        ):
            if value != default:
                text += f", {label}{pair_text(value)}"
        if self.groups != 1:
            text += f", g{self.groups}"
        return f"conv {text}"

    @classmethod
    def from_string(cls, layer: LayerString) -> Op:
        return conv(
            layer.count("output channels"),
            layer.kernel(),
            layer.settings.get("s", 1),
            layer.settings.get("p", 0),
            layer.settings.get("d", 1),
            layer.settings.get("g", 1),
            not layer.settings.get("nobias", False),
        )

    @classmethod
    def from_torch(cls, module: Any, name: str) -> Op:
        padding = module.padding if isinstance(module.padding, str) else pair(module.padding, "padding", minimum=0)
        return conv(module.out_channels, padding=padding, **_convolution_settings(module))

    def forward(self, inputs: list[Any], params: Params, algorithm: str = "auto") -> Any:
        F = _functional()
        return F.conv2d(inputs[0], params["weight"], params.get("bias"), **self._settings(), algorithm=algorithm)

    def backward(self, inputs: list[Any], grad: Any, params: Params, algorithm: str = "auto") -> list[Any]:
        F = _functional()
        return [
            F.conv2d_input_grad(inputs[0].shape, params["weight"], grad, **self._settings(), algorithm=algorithm)
        ]

    def probe(self, shape: tuple[int, ...]) -> tuple[Op, Params]:
        one = replace(self, out_channels=1, groups=1, bias=False, in_channels=None)
        return one, {"weight": _averaging((1, shape[1], *self.kernel_size))}


@dataclass(frozen=True)
class ConvTranspose(_Convolution):
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
    names: ClassVar[tuple[str, ...]] = ("convt", "deconv")
    settings: ClassVar[tuple[str, ...]] = ("k", "s", "p", "op", "d", "g", "nobias")
    counted: ClassVar[bool] = True
    example: ClassVar[str] = "convT(32,k2,s2)"
    torch_modules: ClassVar[tuple[str, ...]] = ("ConvTranspose2d",)
    nn_layers: ClassVar[tuple[str, ...]] = ("ConvTranspose2d",)
    uneven_fields: ClassVar[bool] = True  # a stride-2 upsampling alternates between two field sizes

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        n, c, h, w = spatial(inputs[0], name, self.kind)
        if self.in_channels is not None and c != self.in_channels:
            as_conv = (self.out_channels, self.in_channels, *self.kernel_size)  # the same in/out, conv2d's layout
            diagnosis = channel_mismatch("conv_transpose2d", inputs[0], as_conv, 1)
            raise named(
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
        return (n, self.out_channels, *size)

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
        return f"convT {self.kernel_size[0]}x{self.kernel_size[1]}, {self.out_channels}, s{pair_text(self.stride)}"

    @classmethod
    def from_string(cls, layer: LayerString) -> Op:
        return ConvTranspose(
            layer.count("output channels"),
            pair(layer.kernel(), "kernel_size", minimum=1),
            pair(layer.settings.get("s", 1), "stride", minimum=1),
            pair(layer.settings.get("p", 0), "padding", minimum=0),
            pair(layer.settings.get("op", 0), "output_padding", minimum=0),
            pair(layer.settings.get("d", 1), "dilation", minimum=1),
            layer.settings.get("g", 1),
            not layer.settings.get("nobias", False),
        )

    @classmethod
    def from_torch(cls, module: Any, name: str) -> Op:
        return ConvTranspose(
            module.out_channels,
            padding=pair(module.padding, "padding", minimum=0),
            output_padding=pair(module.output_padding, "output_padding", minimum=0),
            **_convolution_settings(module),
        )

    def _settings(self) -> dict[str, Any]:
        return transpose_settings(self)

    def forward(self, inputs: list[Any], params: Params, algorithm: str = "auto") -> Any:
        F = _functional()
        x, weight, bias = inputs[0], params["weight"], params.get("bias")
        return F.conv_transpose2d(x, weight, bias, **self._settings(), algorithm=algorithm)

    def backward(self, inputs: list[Any], grad: Any, params: Params, algorithm: str = "auto") -> list[Any]:
        F = _functional()
        shape, weight = inputs[0].shape, params["weight"]
        return [F.conv_transpose2d_input_grad(shape, weight, grad, **self._settings(), algorithm=algorithm)]

    def probe(self, shape: tuple[int, ...]) -> tuple[Op, Params]:
        one = replace(self, out_channels=1, groups=1, bias=False, in_channels=None)
        weight = _np().full((shape[1], 1, *self.kernel_size), 1.0 / math.prod(self.kernel_size))
        return one, {"weight": weight}

    def _extra_tokens(self) -> tuple[str, ...]:
        return (_setting("op", self.output_padding, (0, 0)),)


@dataclass(frozen=True)
class Pool(Op):
    mode: str  # "max" or "avg"
    kernel_size: Pair
    stride: Pair
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    ceil_mode: bool = False
    names: ClassVar[tuple[str, ...]] = ("maxpool", "avgpool")
    counted: ClassVar[bool] = True
    torch_modules: ClassVar[tuple[str, ...]] = ("MaxPool2d", "AvgPool2d")
    nn_layers: ClassVar[tuple[str, ...]] = ("MaxPool2d", "AvgPool2d")

    def window(self) -> Pair | None:
        return self.kernel_size

    def traps(self, name: str) -> list[Diagnosis]:
        if self.stride[0] <= self.kernel_size[0] * self.dilation[0]:
            return []
        return quiet_traps(name, self.kernel_size, self.stride, ((0, 0), (0, 0)), self.dilation)[:1]

    def unread(self, input_size: Pair) -> Uncovered | None:
        if self.ceil_mode:  # a ceil-mode window hangs past the input to read its last cells
            return None
        return uncovered(input_size, self.kernel_size, self.stride, self.padding, self.dilation)

    @property
    def kind(self) -> str:  # type: ignore[override]
        return f"{self.mode}pool"

    @classmethod
    def takes(cls, name: str) -> tuple[str, ...]:
        return ("k", "s", "p", "d", "ceil") if name == "maxpool" else ("k", "s", "p", "ceil")

    @classmethod
    def example_of(cls, name: str) -> str:
        return "maxpool(3,s2,p1)" if name == "maxpool" else "avgpool(2)"

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        n, c, h, w = spatial(inputs[0], name, self.kind)
        try:
            size = pool2d_output_size(
                (h, w), self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
            )
        except ShapeError as error:
            raise in_layer(name, error, inputs[0]) from None
        return (n, c, *size)

    def span(self) -> Pair:
        return (self.dilation[0] * (self.kernel_size[0] - 1) + 1, self.dilation[1] * (self.kernel_size[1] - 1) + 1)

    def field(self, fields: list[Field], inputs: list[Shape]) -> tuple[Field, int]:
        return fields[0].through(self.span(), self.stride, self.padding), 0

    def describe(self) -> str:
        text = f"{self.kind} {pair_text(self.kernel_size)}"
        if self.stride != self.kernel_size:
            text += f", s{pair_text(self.stride)}"
        if self.padding != (0, 0):
            text += f", p{pair_text(self.padding)}"
        return text

    @classmethod
    def from_string(cls, layer: LayerString) -> Op:
        kernel = layer.settings.get("k", layer.positional[0] if layer.positional else None)
        if kernel is None:
            raise ArgumentError(
                f"{layer.token!r}: a pool needs a kernel size", fix=f"{layer.name}2 or {layer.name}(3,s2,p1)"
            )
        return pool(
            layer.name[:3],
            kernel,
            layer.settings.get("s"),
            layer.settings.get("p", 0),
            layer.settings.get("d", 1),
            layer.settings.get("ceil", False),
        )

    @classmethod
    def from_torch(cls, module: Any, name: str) -> Op:
        mode = "max" if type(module).__name__ == "MaxPool2d" else "avg"
        kernel = pair(module.kernel_size, "kernel_size", minimum=1)
        stride = kernel if module.stride is None else pair(module.stride, "stride", minimum=1)
        dilation = pair(module.dilation, "dilation", minimum=1) if mode == "max" else (1, 1)
        return Pool(mode, kernel, stride, pair(module.padding, "padding", minimum=0), dilation, module.ceil_mode)

    @classmethod
    def from_nn(cls, layer: Any) -> Op:
        return cls.from_torch(layer, type(layer).__name__)  # convlab's pools have torch's attributes

    def forward(self, inputs: list[Any], params: Params, algorithm: str = "auto") -> Any:
        F = _functional()
        if self.mode == "max":
            return F.max_pool2d(
                inputs[0], self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
            )
        return F.avg_pool2d(inputs[0], self.kernel_size, self.stride, self.padding, self.ceil_mode)

    def backward(self, inputs: list[Any], grad: Any, params: Params, algorithm: str = "auto") -> list[Any]:
        F = _functional()
        if self.mode == "max":
            return [
                F.max_pool2d_grad(
                    inputs[0], grad, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
                )
            ]
        return [
            F.avg_pool2d_grad(inputs[0].shape, grad, self.kernel_size, self.stride, self.padding, self.ceil_mode)
        ]

    def probe(self, shape: tuple[int, ...]) -> tuple[Op, Params]:
        """Averaging over the same windows (a max would pass the gradient to one cell only).

        A dilated window is a dilated depthwise all-ones convolution, zero-padded so that it
        makes the same windows, ``ceil_mode``'s last one included.
        """
        if self.dilation == (1, 1):
            return replace(self, mode="avg"), {}
        pads = []
        for axis in range(2):
            size, p, s = shape[2 + axis], self.padding[axis], self.stride[axis]
            length = pool2d_output_size(size, self.kernel_size[axis], s, p, self.dilation[axis], self.ceil_mode)
            extra = max(0, (length - 1) * s + self.span()[axis] - (size + 2 * p))
            pads.append((p, p + extra))
        explicit: Any = (pads[0], pads[1])  # ((top, bottom), (left, right)), which conv2d takes as it is
        as_conv = Conv(shape[1], self.kernel_size, self.stride, explicit, self.dilation, shape[1], False)
        return as_conv, {"weight": _averaging((shape[1], 1, *self.kernel_size))}

    def layer(self, input_shape: Shape, seed: int, dtype: Any) -> Any:
        nn = _nn()
        if self.mode == "max":
            return nn.MaxPool2d(
                self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode
            )
        return nn.AvgPool2d(self.kernel_size, self.stride, self.padding, ceil_mode=self.ceil_mode)

    def token(self) -> str:
        return _written(
            f"{self.mode}pool{pair_text(self.kernel_size)}",
            _setting("s", self.stride, self.kernel_size),
            _setting("p", self.padding, (0, 0)),
            _setting("d", self.dilation, (1, 1)),
            "ceil" if self.ceil_mode else "",
        )


@dataclass(frozen=True)
class AdaptiveAvgPool(Op):
    """Average pooling to a fixed output size (global average pooling for (1, 1))."""

    output_size: Pair
    kind: ClassVar[str] = "adaptivepool"
    names: ClassVar[tuple[str, ...]] = ("gap",)
    torch_modules: ClassVar[tuple[str, ...]] = ("AdaptiveAvgPool2d",)
    nn_layers: ClassVar[tuple[str, ...]] = ("AdaptiveAvgPool2d",)
    global_view: ClassVar[bool] = True  # its windows depend on the input's size

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        n, c, _, _ = spatial(inputs[0], name, self.kind)
        return (n, c, *self.output_size)

    def _window(self, shape: Shape) -> tuple[Pair, Pair]:
        """Windows of ceil(in / out) cells, in / out apart (exact when out divides in)."""
        _, _, h, w = shape
        kernel = (math.ceil(h / self.output_size[0]), math.ceil(w / self.output_size[1]))
        stride = (max(1, h // self.output_size[0]), max(1, w // self.output_size[1]))
        return kernel, stride

    def field(self, fields: list[Field], inputs: list[Shape]) -> tuple[Field, int]:
        kernel, stride = self._window(inputs[0])
        return fields[0].through(kernel, stride, (0, 0)), 0

    def describe(self) -> str:
        return f"adaptiveavgpool {pair_text(self.output_size)}"

    @classmethod
    def from_string(cls, layer: LayerString) -> Op:
        return AdaptiveAvgPool((1, 1))

    @classmethod
    def from_torch(cls, module: Any, name: str) -> Op:
        return AdaptiveAvgPool(pair(module.output_size, "output_size", minimum=1))

    @classmethod
    def from_nn(cls, layer: Any) -> Op:
        return AdaptiveAvgPool(layer.output_size)

    def forward(self, inputs: list[Any], params: Params, algorithm: str = "auto") -> Any:
        return _functional().adaptive_avg_pool2d(inputs[0], self.output_size)

    def backward(self, inputs: list[Any], grad: Any, params: Params, algorithm: str = "auto") -> list[Any]:
        x = inputs[0]
        return [_functional().adaptive_avg_pool2d_grad(x.shape, grad.astype(x.dtype), self.output_size)]

    def layer(self, input_shape: Shape, seed: int, dtype: Any) -> Any:
        return _nn().AdaptiveAvgPool2d(self.output_size)

    def token(self) -> str:
        if self.output_size != (1, 1):
            super().token()  # layer strings write only global average pooling (gap)
        return "gap"


@dataclass(frozen=True)
class Linear(Op):
    out_features: int
    bias: bool = True
    in_features: int | None = None
    kind: ClassVar[str] = "linear"
    names: ClassVar[tuple[str, ...]] = ("linear", "fc")
    settings: ClassVar[tuple[str, ...]] = ("nobias",)
    counted: ClassVar[bool] = True
    example: ClassVar[str] = "linear(10)"
    torch_modules: ClassVar[tuple[str, ...]] = ("Linear", "LazyLinear")
    nn_layers: ClassVar[tuple[str, ...]] = ("Linear",)
    global_view: ClassVar[bool] = True
    flattens: ClassVar[bool] = True
    takes_features: ClassVar[bool] = True

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        features = inputs[0][-1] if len(inputs[0]) == 2 else None
        if len(inputs[0]) != 2 or (self.in_features is not None and features != self.in_features):
            declared = self.in_features if self.in_features is not None else math.prod(inputs[0][1:])
            raise named(name, linear_mismatch(declared, self.out_features, inputs[0]))
        return (inputs[0][0], self.out_features)

    def inferred(self, inputs: list[Shape]) -> dict[str, int]:
        return {"in_features": inputs[0][1]} if self.in_features is None and len(inputs[0]) == 2 else {}

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

    @classmethod
    def from_string(cls, layer: LayerString) -> Op:
        return Linear(layer.count("output features"), not layer.settings.get("nobias", False))

    @classmethod
    def from_torch(cls, module: Any, name: str) -> Op:
        in_features = None if type(module).__name__ == "LazyLinear" else module.in_features
        return Linear(module.out_features, module.bias is not None, in_features)

    @classmethod
    def from_nn(cls, layer: Any) -> Op:
        return Linear(layer.out_features, layer.bias is not None, layer.in_features)

    def forward(self, inputs: list[Any], params: Params, algorithm: str = "auto") -> Any:
        out = inputs[0] @ params["weight"].T
        return out if params.get("bias") is None else out + params["bias"]

    def backward(self, inputs: list[Any], grad: Any, params: Params, algorithm: str = "auto") -> list[Any]:
        return [grad @ params["weight"]]

    def layer(self, input_shape: Shape, seed: int, dtype: Any) -> Any:
        return _nn().Linear(input_shape[1], self.out_features, self.bias, dtype=dtype, seed=seed)

    def token(self) -> str:
        return _written("linear", str(self.out_features), "" if self.bias else "nobias")


@dataclass(frozen=True)
class Flatten(Op):
    kind: ClassVar[str] = "flatten"
    names: ClassVar[tuple[str, ...]] = ("flatten",)
    torch_modules: ClassVar[tuple[str, ...]] = ("Flatten",)
    nn_layers: ClassVar[tuple[str, ...]] = ("Flatten",)
    global_view: ClassVar[bool] = True
    flattens: ClassVar[bool] = True

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        return (inputs[0][0], math.prod(inputs[0][1:]))

    def field(self, fields: list[Field], inputs: list[Shape]) -> tuple[Field, int]:
        return replace(fields[0], size=None), 0  # every flattened value feeds every later unit

    @classmethod
    def from_torch(cls, module: Any, name: str) -> Op:
        if module.start_dim != 1 or module.end_dim != -1:
            raise ArgumentError(
                f"{name}: only Flatten(start_dim=1) is read", fix="flatten everything but the batch"
            )
        return Flatten()

    def forward(self, inputs: list[Any], params: Params, algorithm: str = "auto") -> Any:
        return inputs[0].reshape(inputs[0].shape[0], -1)

    def backward(self, inputs: list[Any], grad: Any, params: Params, algorithm: str = "auto") -> list[Any]:
        return [grad.reshape(inputs[0].shape)]

    def layer(self, input_shape: Shape, seed: int, dtype: Any) -> Any:
        return _nn().Flatten()

    def token(self) -> str:
        return "flatten"


@dataclass(frozen=True)
class BatchNorm(Op):
    num_features: int | None = None
    eps: float = 1e-5
    kind: ClassVar[str] = "batchnorm"
    names: ClassVar[tuple[str, ...]] = ("bn", "batchnorm")
    torch_modules: ClassVar[tuple[str, ...]] = ("BatchNorm2d",)
    nn_layers: ClassVar[tuple[str, ...]] = ("BatchNorm2d",)

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        if self.num_features is not None and inputs[0][1] != self.num_features:
            raise named(name, norm_mismatch(self.num_features, inputs[0]))
        return inputs[0]

    def inferred(self, inputs: list[Shape]) -> dict[str, int]:
        return {"num_features": inputs[0][1]} if self.num_features is None else {}

    def fallback_output(self, inputs: list[Shape], name: str) -> Shape | None:
        return inputs[0]  # normalisation keeps the shape; the fix is to the layer, not to what follows

    def params(self, inputs: list[Shape]) -> int:
        return 2 * inputs[0][1]  # a scale and a shift per channel (running statistics are not trained)

    @classmethod
    def from_torch(cls, module: Any, name: str) -> Op:
        return BatchNorm(module.num_features, module.eps)

    @classmethod
    def from_nn(cls, layer: Any) -> Op:
        return BatchNorm(layer.num_features, layer.eps)  # convlab's layer has torch's attributes

    def _scale_shift(self, params: Params, channels: int) -> tuple[Any, Any]:
        """Inference-time normalisation as one scale and shift per channel, shaped (C, 1, 1).

        Missing arrays take a fresh layer's values (mean 0, variance 1, weight 1, bias 0).
        """
        np = _np()
        mean = params.get("running_mean", np.zeros(channels))
        var = params.get("running_var", np.ones(channels))
        scale = params.get("weight", np.ones(channels)) / np.sqrt(var + self.eps)
        shift = params.get("bias", np.zeros(channels)) - mean * scale
        return scale.reshape(-1, 1, 1), shift.reshape(-1, 1, 1)

    def forward(self, inputs: list[Any], params: Params, algorithm: str = "auto") -> Any:
        scale, shift = self._scale_shift(params, inputs[0].shape[1])
        return inputs[0] * scale + shift

    def backward(self, inputs: list[Any], grad: Any, params: Params, algorithm: str = "auto") -> list[Any]:
        scale, _ = self._scale_shift(params, inputs[0].shape[1])
        return [grad * scale]

    def probe(self, shape: tuple[int, ...]) -> tuple[Op, Params]:
        return Activation("identity"), {}  # the probe's values are positive and must stay so

    def layer(self, input_shape: Shape, seed: int, dtype: Any) -> Any:
        return _nn().BatchNorm2d(input_shape[1], self.eps, dtype=dtype)

    def token(self) -> str:
        if self.eps != BatchNorm.eps:
            super().token()  # a layer string's bn always has PyTorch's eps
        return "bn"


_ACTIVATIONS = ("relu", "sigmoid", "tanh", "gelu", "dropout", "softmax", "identity")
_PASS_THROUGH = ("identity", "dropout", "dropout2d")  # dropout as at inference
_RUNNABLE = ("relu", "sigmoid", "tanh", *_PASS_THROUGH)


@dataclass(frozen=True)
class Activation(Op):
    """A layer that keeps the shape and looks at one value at a time: relu, sigmoid, tanh, dropout, ..."""

    name: str = "relu"
    names: ClassVar[tuple[str, ...]] = _ACTIVATIONS
    torch_modules: ClassVar[tuple[str, ...]] = (
        "ReLU",
        "ReLU6",
        "LeakyReLU",
        "GELU",
        "SiLU",
        "Sigmoid",
        "Tanh",
        "Dropout",
        "Dropout2d",
        "Identity",
        "Softmax",
        "Hardswish",
        "Hardsigmoid",
        "ELU",
    )
    nn_layers: ClassVar[tuple[str, ...]] = ("ReLU", "Sigmoid", "Tanh", "Dropout")

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.name

    @classmethod
    def from_string(cls, layer: LayerString) -> Op:
        return Activation(layer.name)

    @classmethod
    def from_torch(cls, module: Any, name: str) -> Op:
        return Activation(type(module).__name__.lower())

    @classmethod
    def from_nn(cls, layer: Any) -> Op:
        return Activation(type(layer).__name__.lower())

    def _refuse_to_run(self) -> ArgumentError:
        return ArgumentError(
            f"{self.name} layers cannot be run by convlab yet; it runs {', '.join(_RUNNABLE)}",
            fix="run the network in PyTorch, or use relu, sigmoid or tanh",
        )

    def forward(self, inputs: list[Any], params: Params, algorithm: str = "auto") -> Any:
        np, x = _np(), inputs[0]
        if self.name == "relu":
            return np.maximum(x, 0)
        if self.name == "sigmoid":
            return 1 / (1 + np.exp(-x))
        if self.name == "tanh":
            return np.tanh(x)
        if self.name in _PASS_THROUGH:
            return x
        raise self._refuse_to_run()

    def backward(self, inputs: list[Any], grad: Any, params: Params, algorithm: str = "auto") -> list[Any]:
        x = inputs[0]
        if self.name == "relu":
            return [grad * (x > 0)]
        if self.name in ("sigmoid", "tanh"):
            y = self.forward(inputs, params)
            return [grad * (y * (1 - y) if self.name == "sigmoid" else 1 - y * y)]
        if self.name in _PASS_THROUGH:
            return [grad]
        raise self._refuse_to_run()

    def probe(self, shape: tuple[int, ...]) -> tuple[Op, Params]:
        return Activation("identity"), {}  # every value-wise layer passes a positive value on; none cancels

    def layer(self, input_shape: Shape, seed: int, dtype: Any) -> Any:
        nn = _nn()
        built = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}.get(self.name)
        if built is not None:
            return built()
        if self.name == "dropout":
            return nn.Dropout(0.5, seed=seed)  # a layer string's dropout has PyTorch's default p
        return super().layer(input_shape, seed, dtype)

    def token(self) -> str:
        return self.name if self.name in ("relu", "sigmoid", "tanh", "dropout") else super().token()


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
        return largest(fields)

    def forward(self, inputs: list[Any], params: Params, algorithm: str = "auto") -> Any:
        return sum(inputs[1:], inputs[0])

    def backward(self, inputs: list[Any], grad: Any, params: Params, algorithm: str = "auto") -> list[Any]:
        return [grad for _ in inputs]


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
        return largest(fields)

    def forward(self, inputs: list[Any], params: Params, algorithm: str = "auto") -> Any:
        return _np().concatenate(inputs, axis=1)

    def backward(self, inputs: list[Any], grad: Any, params: Params, algorithm: str = "auto") -> list[Any]:
        bounds = _np().cumsum([0, *(x.shape[1] for x in inputs)])
        return [grad[:, bounds[k] : bounds[k + 1]] for k in range(len(inputs))]


KINDS: list[type[Op]] = [
    Conv,
    ConvTranspose,
    Pool,
    AdaptiveAvgPool,
    Linear,
    Flatten,
    BatchNorm,
    Activation,
    Add,
    Concat,
]


def kind_named(word: str) -> type[Op] | None:
    """The layer kind a layer string calls ``word`` (``conv``, ``maxpool``, ``fc``, ...); None if none."""
    return next((kind for kind in KINDS if word in kind.names), None)


def string_names() -> tuple[str, ...]:
    """Every name a layer string can use, in the registry's order."""
    return tuple(name for kind in KINDS for name in kind.names)


def _reader(layer: Any, field: str) -> type[Op] | None:
    """The kind that reads ``layer``'s class, or else its nearest base class (a subclass of Conv2d is one)."""
    for cls in type(layer).__mro__:
        kind = next((kind for kind in KINDS if cls.__name__ in getattr(kind, field)), None)
        if kind is not None:
            return kind
    return None


def op_of_torch(module: Any, name: str) -> Op | None:
    """The op of a ``torch.nn`` module, read by the kind that declares it; None if no kind does."""
    kind = _reader(module, "torch_modules")
    return None if kind is None else kind.from_torch(module, name)


def op_of_nn(layer: Any) -> Op | None:
    """The op of a ``convlab.nn`` layer, read by the kind that declares it; None if no kind does."""
    kind = _reader(layer, "nn_layers")
    return None if kind is None else kind.from_nn(layer)


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
