"""Hypothesis strategies that draw convolution and pooling configurations PyTorch accepts.

Each configuration is drawn so that it is valid (the padded input is at least as
large as the kernel, reflect padding is smaller than the input, ...) and small
enough for the reference loop, while reaching every argument: padding as int,
pair, list, "valid" and "same"; all four padding modes; stride, dilation and
groups; non-square kernels and inputs; batched, unbatched and empty batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

MODES = ("zeros", "reflect", "replicate", "circular")


class _DrawsArrays:
    """Input, weight and bias drawn from the configuration's seed, in its shapes."""

    batch: int | None  # None: an unbatched (C, H, W) input
    in_channels: int
    out_channels: int
    size: tuple[int, int]
    bias: bool
    seed: int

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        raise NotImplementedError

    @property
    def input_shape(self) -> tuple[int, ...]:
        spatial = (self.in_channels, *self.size)
        return spatial if self.batch is None else (self.batch, *spatial)

    def arrays(self, dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        rng = np.random.default_rng(self.seed)
        x = rng.standard_normal(self.input_shape).astype(dtype)
        w = rng.standard_normal(self.weight_shape).astype(dtype)
        b = rng.standard_normal(self.out_channels).astype(dtype) if self.bias else None
        return x, w, b


@dataclass(frozen=True)
class ConvConfig(_DrawsArrays):
    batch: int | None  # None: an unbatched (C, H, W) input
    in_channels: int
    out_channels: int
    groups: int
    size: tuple[int, int]
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: Any  # as the user writes it
    padding_mode: str
    bias: bool
    seed: int

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        return (self.out_channels, self.in_channels // self.groups, *self.kernel_size)

    def kwargs(self) -> dict[str, Any]:
        return {
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "groups": self.groups,
            "padding_mode": self.padding_mode,
        }


def _explicit(padding: Any, kernel: tuple[int, int], dilation: tuple[int, int]) -> list[tuple[int, int]]:
    if padding == "valid":
        return [(0, 0), (0, 0)]
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [(t // 2, t - t // 2) for t in totals]
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return [(ph, ph), (pw, pw)]


def _size_for(pads: tuple[int, int], span: int, mode: str, stride: int, draw: Any) -> int:
    low = max(1, span - sum(pads))
    if mode == "reflect":
        low = max(low, max(pads) + 1)
    if mode == "circular":
        low = max(low, max(pads))
    return int(draw(st.integers(low, low + 2 * stride + 3)))


@st.composite
def conv_configs(
    draw: Any,
    max_groups: int = 3,
    max_per_group: int = 3,
    max_kernel: int = 4,
    max_stride: int = 3,
    max_dilation: int = 3,
    max_padding: int = 3,
    modes: tuple[str, ...] = MODES,
    allow_empty_batch: bool = True,
    kernel: tuple[int, int] | None = None,
    stride: tuple[int, int] | None = None,
    dilation: tuple[int, int] | None = None,
    depthwise: bool = False,
    max_size_extra: int = 0,
) -> ConvConfig:
    """Any configuration, or one with the kernel, stride, dilation fixed or depthwise, for one algorithm."""
    groups = draw(st.integers(2 if depthwise else 1, max_groups))
    in_channels = groups * (1 if depthwise else draw(st.integers(1, max_per_group)))
    out_channels = groups * draw(st.integers(1, max_per_group))
    kernel = kernel or (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = stride or (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    dilation = dilation or (draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation)))
    forms = ["int", "pair", "list", "valid"] + (["same"] if stride == (1, 1) else [])
    form = draw(st.sampled_from(forms))
    if form == "int":
        padding: Any = draw(st.integers(0, max_padding))
    elif form in ("pair", "list"):
        pair = (draw(st.integers(0, max_padding)), draw(st.integers(0, max_padding)))
        padding = pair if form == "pair" else list(pair)
    else:
        padding = form
    mode = draw(st.sampled_from(modes))
    pads = _explicit(padding, kernel, dilation)
    size = tuple(
        _size_for(pads[axis], dilation[axis] * (kernel[axis] - 1) + 1, mode, stride[axis], draw)
        + draw(st.integers(0, max_size_extra))
        for axis in range(2)
    )
    batch = draw(st.one_of(st.none(), st.integers(0 if allow_empty_batch else 1, 3)))
    return ConvConfig(
        batch=batch,
        in_channels=in_channels,
        out_channels=out_channels,
        groups=groups,
        size=size,  # type: ignore[arg-type]
        kernel_size=kernel,
        stride=stride,
        dilation=dilation,
        padding=padding,
        padding_mode=mode,
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


@dataclass(frozen=True)
class TransposeConfig(_DrawsArrays):
    batch: int | None
    in_channels: int
    out_channels: int
    groups: int
    size: tuple[int, int]
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    output_padding: tuple[int, int]
    dilation: tuple[int, int]
    bias: bool
    seed: int

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        return (self.in_channels, self.out_channels // self.groups, *self.kernel_size)

    def kwargs(self) -> dict[str, Any]:
        return {
            "stride": self.stride,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "groups": self.groups,
            "dilation": self.dilation,
        }


@st.composite
def transpose_configs(draw: Any) -> TransposeConfig:
    groups = draw(st.integers(1, 3))
    in_channels, out_channels = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    size = (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    padding = []
    for axis in range(2):  # padding may crop at most what leaves one output cell
        full = (size[axis] - 1) * stride[axis] + dilation[axis] * (kernel[axis] - 1) + output_padding[axis] + 1
        padding.append(draw(st.integers(0, min(3, (full - 1) // 2))))
    return TransposeConfig(
        batch=draw(st.one_of(st.none(), st.integers(0, 3))),
        in_channels=in_channels,
        out_channels=out_channels,
        groups=groups,
        size=size,
        kernel_size=kernel,
        stride=stride,
        padding=(padding[0], padding[1]),
        output_padding=output_padding,
        dilation=dilation,
        bias=draw(st.booleans()),  # type: ignore[arg-type]
        seed=draw(st.integers(0, 2**32 - 1)),
    )


@dataclass(frozen=True)
class PoolConfig:
    batch: int | None
    channels: int
    size: tuple[int, int]
    kernel_size: Any
    stride: Any
    padding: Any
    dilation: Any
    ceil_mode: bool
    count_include_pad: bool
    divisor_override: int | None
    seed: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        spatial = (self.channels, *self.size)
        return spatial if self.batch is None else (self.batch, *spatial)

    def max_kwargs(self) -> dict[str, Any]:
        return {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "ceil_mode": self.ceil_mode,
        }

    def avg_kwargs(self) -> dict[str, Any]:
        return {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "ceil_mode": self.ceil_mode,
            "count_include_pad": self.count_include_pad,
            "divisor_override": self.divisor_override,
        }

    def input(self, dtype: Any = np.float64) -> np.ndarray:
        return np.random.default_rng(self.seed).standard_normal(self.input_shape).astype(dtype)


@st.composite
def pool_configs(draw: Any, dilated: bool = True) -> PoolConfig:
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilated else (1, 1)
    size = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), max(1, d * (k - 1) + 1 - 2 * p) + 8))
        for k, p, d in zip(kernel, padding, dilation)
    )
    square = draw(st.booleans())  # ints as often as pairs

    def shown(value: tuple[int, int]) -> Any:
        return value[0] if square and value[0] == value[1] else value

    return PoolConfig(
        batch=draw(st.one_of(st.none(), st.integers(1, 3))),
        channels=draw(st.integers(1, 3)),
        size=size,  # type: ignore[arg-type]
        kernel_size=shown(kernel),
        stride=draw(st.sampled_from([None, shown(stride)])),
        padding=shown(padding),
        dilation=shown(dilation),
        ceil_mode=draw(st.booleans()),
        count_include_pad=draw(st.booleans()),
        divisor_override=draw(st.sampled_from([None, None, None, 1, 3])),
        seed=draw(st.integers(0, 2**32 - 1)),
    )
