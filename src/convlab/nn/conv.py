"""Conv2d and ConvTranspose2d layers: they own weight and bias; the arithmetic is convlab.functional's."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from .._args import Array, as_int, flag, pair
from .._args import padding_mode as check_padding_mode
from ..errors import ArgumentError
from ..functional import (
    conv2d,
    conv2d_bias_grad,
    conv2d_input_grad,
    conv2d_weight_grad,
    conv_transpose2d,
    conv_transpose2d_input_grad,
    conv_transpose2d_weight_grad,
)
from ..functional.algorithms import parallel
from ..functional.geometry import ConvSettings, conv_settings, transpose_settings
from .module import Module, Parameter, check_dtype

__all__ = ["Conv2d", "ConvTranspose2d", "Convolution"]


def _parameters(
    weight_shape: tuple[int, ...], out_channels: int, bias: object, dtype: object, seed: int | None, owner: str
) -> tuple[Parameter, Parameter | None]:
    """PyTorch's default initialisation: weight and bias uniform in ±1/sqrt(fan_in).

    PyTorch computes fan_in from the weight's axis 1 and the kernel, so a
    transposed convolution's fan_in counts its *output* channels per group.
    """
    resolved = check_dtype(dtype, owner)
    rng = np.random.default_rng(seed)
    bound = 1 / math.sqrt(math.prod(weight_shape[1:]))
    weight = Parameter(rng.uniform(-bound, bound, size=weight_shape).astype(resolved))
    if not flag(bias, "bias"):
        return weight, None
    return weight, Parameter(rng.uniform(-bound, bound, size=out_channels).astype(resolved))


def _conv_repr(layer: Conv2d | ConvTranspose2d, optional: list[tuple[str, object, object]]) -> str:
    """PyTorch's repr: channels, kernel and stride always; other settings only when not at their default."""
    text = f"{layer.in_channels}, {layer.out_channels}, kernel_size={layer.kernel_size}, stride={layer.stride}"
    optional = [
        *optional,
        ("groups", layer.groups, 1),
        ("bias", layer.bias is not None, True),
        ("padding_mode", layer.padding_mode, "zeros"),
    ]
    for name, value, default in optional:
        if value != default:
            text += f", {name}={value}"
    return text


def _channels(in_channels: object, out_channels: object, groups: object, owner: str) -> tuple[int, int, int]:
    c_in = as_int(in_channels, "in_channels", minimum=1)
    c_out = as_int(out_channels, "out_channels", minimum=1)
    g = as_int(groups, "groups", minimum=1)
    for name, count in (("in_channels", c_in), ("out_channels", c_out)):
        if count % g:
            raise ArgumentError(
                f"{owner}: {name}={count} must be divisible by groups={g}",
                evidence=["each group convolves in_channels/groups inputs into out_channels/groups outputs"],
                fix=f"use groups=1, or a groups value that divides both {c_in} and {c_out}",
            )
    return c_in, c_out, g


class Convolution(Module):
    """What Conv2d and ConvTranspose2d share: channels, kernel, parameters, the saved input and the passes.

    Subclasses say which functions they run (:meth:`_passes`) and with which settings (:meth:`_settings`).
    """

    transposed: ClassVar[bool] = False

    def _start(
        self,
        channels: tuple[object, object, object],
        kernel_size: object,
        stride: object,
        dilation: object,
        bias: object,
        dtype: object,
        seed: int | None,
    ) -> None:
        owner = type(self).__name__
        self.in_channels, self.out_channels, self.groups = _channels(*channels, owner)
        self.kernel_size = pair(kernel_size, "kernel_size", minimum=1)
        self.stride = pair(stride, "stride", minimum=1)
        self.dilation = pair(dilation, "dilation", minimum=1)
        # conv2d's weight is (out, in / groups, kH, kW); the transposed one's is (in, out / groups, kH, kW)
        first, per_group = (
            (self.in_channels, self.out_channels) if self.transposed else (self.out_channels, self.in_channels)
        )
        shape = (first, per_group // self.groups, *self.kernel_size)
        self.weight, self.bias = _parameters(shape, self.out_channels, bias, dtype, seed, owner)
        self._input: Array | None = None

    def _settings(self) -> dict[str, Any]:
        raise NotImplementedError

    def _passes(self) -> tuple[Callable[..., Array], Callable[..., Array], Callable[..., Array]]:
        """The forward, weight-gradient and input-gradient functions."""
        raise NotImplementedError

    def forward(self, input: object) -> Array:
        """Convolve ``input`` and keep it for :meth:`backward`."""
        self._input = _kept(input)
        return self._passes()[0](self._input, self.weight, self.bias, **self._settings())

    def backward(self, grad_output: object) -> Array:
        """Add the parameter gradients to ``.grad`` and return the gradient for the input."""
        x, grad = self._parameter_grads(grad_output)
        return self._passes()[2](x.shape, self.weight, grad, **self._settings())

    def backward_parameters(self, grad_output: object) -> None:
        """Add the parameter gradients to ``.grad``; the input's gradient (a whole convolution) is skipped."""
        self._parameter_grads(grad_output)

    def _parameter_grads(self, grad_output: object) -> tuple[Array, Array]:
        """Accumulate the weight and bias gradients; the saved input and the output gradient as an array."""
        x = self._saved()
        grad = np.asarray(grad_output)
        self.weight.accumulate(self._passes()[1](x, self.weight.shape, grad, **self._settings()))
        if self.bias is not None:
            self.bias.accumulate(conv2d_bias_grad(grad))
        return x, grad


class Conv2d(Convolution):
    """2-D convolution layer with the meaning, initialisation and repr of ``torch.nn.Conv2d``.

    Args:
        in_channels: channels C_in of the input.
        out_channels: channels C_out of the output, one kernel each.
        kernel_size: int or (kH, kW).
        stride: int or (sH, sW). Default: 1.
        padding: int, (pH, pW), "valid" or "same". Default: 0.
        dilation: int or (dH, dW). Default: 1.
        groups: independent channel groups. Default: 1.
        bias: learn a bias per output channel. Default: True.
        padding_mode: "zeros", "reflect", "replicate" or "circular". Default: "zeros".
        dtype: numpy.float32 or numpy.float64. Default: numpy.float32.
        seed: seed for the initial weights, for repeatable runs. Default: None.

    Attributes:
        weight: Parameter (C_out, C_in / groups, kH, kW), uniform in ``±1/sqrt(fan_in)``,
            ``fan_in = C_in / groups * kH * kW`` (PyTorch's default initialisation).
        bias: Parameter (C_out,), same bound, or None.

    Shape:
        (N, C_in, H_in, W_in) -> (N, C_out, H_out, W_out), see :func:`convlab.functional.conv2d`.

    Example:
        >>> conv = Conv2d(3, 8, kernel_size=3, padding=1, seed=0)
        >>> conv
        Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
        >>> conv(np.zeros((2, 3, 32, 32), dtype=np.float32)).shape
        (2, 8, 32, 32)
    """

    torch_name = "Conv2d"
    torch_arguments = (
        "in_channels",
        "out_channels",
        "kernel_size",
        "stride",
        "padding",
        "dilation",
        "groups",
        "bias",
        "padding_mode",
    )

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        dtype: object = np.float32,
        seed: int | None = None,
    ) -> None:
        self._start((in_channels, out_channels, groups), kernel_size, stride, dilation, bias, dtype, seed)
        self.padding: tuple[int, int] | str = (
            padding if isinstance(padding, str) else pair(padding, "padding", minimum=0)
        )
        self.padding_mode = check_padding_mode(padding_mode)
        self._made: tuple[Any, ...] = ()
        self._conv_settings = self._checked_settings()  # checks them, and warns about them, here only

    def _checked_settings(self) -> ConvSettings:
        """The settings as normalised at construction; made again only if an attribute was changed since."""
        given = (self.kernel_size, self.stride, self.padding, self.dilation, self.groups, self.padding_mode)
        if given != self._made:
            self._made = given
            self._conv_settings = conv_settings("Conv2d", *given)
        return self._conv_settings

    def _settings(self) -> dict[str, Any]:
        return {"settings": self._checked_settings()}

    def _passes(self) -> tuple[Callable[..., Array], Callable[..., Array], Callable[..., Array]]:
        return conv2d, conv2d_weight_grad, conv2d_input_grad

    def extra_repr(self) -> str:
        return _conv_repr(self, [("padding", self.padding, (0, 0)), ("dilation", self.dilation, (1, 1))])


class ConvTranspose2d(Convolution):
    """2-D transposed convolution layer with the meaning, initialisation and repr of ``torch.nn.ConvTranspose2d``.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, groups, bias, dilation:
            as in :class:`Conv2d` (padding is an int or a pair only).
        output_padding: extra rows/columns at the bottom/right, smaller than stride or dilation. Default: 0.
        padding_mode: only "zeros", as in PyTorch. Default: "zeros".
        dtype, seed: as in :class:`Conv2d`.

    Attributes:
        weight: Parameter (C_in, C_out / groups, kH, kW) (in before out), uniform in
            ``±1/sqrt(C_out / groups * kH * kW)`` (PyTorch computes fan_in from weight axis 1).
        bias: Parameter (C_out,) or None.

    Shape:
        (N, C_in, H_in, W_in) -> (N, C_out, H_out, W_out), see :func:`convlab.functional.conv_transpose2d`.

    Example:
        >>> up = ConvTranspose2d(8, 3, kernel_size=2, stride=2, seed=0)
        >>> up(np.zeros((1, 8, 16, 16), dtype=np.float32)).shape
        (1, 3, 32, 32)
    """

    transposed = True
    torch_name = "ConvTranspose2d"
    torch_arguments = (
        "in_channels",
        "out_channels",
        "kernel_size",
        "stride",
        "padding",
        "output_padding",
        "groups",
        "bias",
        "dilation",
    )

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, int] = 1,
        padding_mode: str = "zeros",
        *,
        dtype: object = np.float32,
        seed: int | None = None,
    ) -> None:
        self._start((in_channels, out_channels, groups), kernel_size, stride, dilation, bias, dtype, seed)
        self.padding = pair(padding, "padding", minimum=0)
        self.output_padding = pair(output_padding, "output_padding", minimum=0)
        if any(o >= max(s, d) for o, s, d in zip(self.output_padding, self.stride, self.dilation)):
            raise ArgumentError(
                f"ConvTranspose2d: output_padding={self.output_padding} must be smaller than stride={self.stride} "
                f"or dilation={self.dilation}",
                fix="use output_padding=stride - 1 or less",
            )
        if padding_mode != "zeros":
            raise ArgumentError(
                f"ConvTranspose2d: only padding_mode='zeros' is supported, got {padding_mode!r} (as in PyTorch)",
                fix="leave padding_mode='zeros'",
            )
        self.padding_mode = "zeros"

    def _settings(self) -> dict[str, Any]:
        return transpose_settings(self)

    def _passes(self) -> tuple[Callable[..., Array], Callable[..., Array], Callable[..., Array]]:
        return conv_transpose2d, conv_transpose2d_weight_grad, conv_transpose2d_input_grad

    def extra_repr(self) -> str:
        return _conv_repr(
            self,
            [
                ("padding", self.padding, (0, 0)),
                ("dilation", self.dilation, (1, 1)),
                ("output_padding", self.output_padding, (0, 0)),
            ],
        )


def _kept(input: object) -> Array:
    """A copy of ``input`` for :meth:`backward` (changing the caller's array later must not change the
    gradients), made on all cores when large, split along whichever of its first two axes is longer."""
    if not isinstance(input, np.ndarray) or input.ndim < 2:
        return np.array(input)
    kept = np.empty(input.shape, dtype=input.dtype)
    parallel.copy(kept, input, axis=0 if input.shape[0] >= input.shape[1] else 1)
    return kept
