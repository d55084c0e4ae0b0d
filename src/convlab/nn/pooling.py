"""MaxPool2d, AvgPool2d and AdaptiveAvgPool2d layers: settings plus the functional pooling and its gradient."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._args import Array, as_int, flag, pair
from .._arrays import float_arrays
from ..errors import ArgumentError, ShapeError
from ..functional import avg_pool2d, avg_pool2d_grad, max_pool2d, max_pool2d_grad
from ..functional.adaptive_pool import adaptive_avg_pool2d, adaptive_avg_pool2d_grad
from .module import Module

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d"]


def _check_pool_settings(
    kernel_size: object, stride: object, padding: object, dilation: object, owner: str
) -> None:
    kernel = pair(kernel_size, "kernel_size", minimum=1)
    if stride is not None:
        pair(stride, "stride", minimum=1)
    pad = pair(padding, "padding", minimum=0)
    pair(dilation, "dilation", minimum=1)
    if any(p > k // 2 for p, k in zip(pad, kernel)):
        raise ArgumentError(
            f"{owner}: padding={padding} must be at most half of kernel_size={kernel_size}",
            fix=f"use padding={min(k // 2 for k in kernel)} or less",
        )


class MaxPool2d(Module):
    """2-D max pooling layer with the meaning and repr of ``torch.nn.MaxPool2d``.

    Args:
        kernel_size: window size, int or (kH, kW).
        stride: window step. Default: kernel_size.
        padding: implicit -inf border, at most half the kernel. Default: 0.
        dilation: spacing between window cells. Default: 1.
        return_indices: forward returns (output, indices). Default: False.
        ceil_mode: round the output size up. Default: False.

    Shape:
        (N, C, H_in, W_in) -> (N, C, H_out, W_out), see :func:`convlab.functional.max_pool2d`.

    Example:
        >>> MaxPool2d(2)
        MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    """

    torch_name = "MaxPool2d"
    torch_arguments = ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        _check_pool_settings(kernel_size, stride, padding, dilation, "MaxPool2d")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation
        self.return_indices = flag(return_indices, "return_indices")
        self.ceil_mode = flag(ceil_mode, "ceil_mode")
        self._input: Array | None = None
        self._indices: Array | None = None  # each window's winner, kept in training for backward

    def _settings(self) -> dict[str, Any]:
        return {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "ceil_mode": self.ceil_mode,
        }

    def forward(self, input: object) -> Array | tuple[Array, Array]:  # type: ignore[override]  # indices too
        self._input = np.asarray(input)
        self._indices = None
        if not (self.training or self.return_indices):
            return max_pool2d(self._input, **self._settings())
        out, self._indices = max_pool2d(self._input, return_indices=True, **self._settings())
        return (out, self._indices) if self.return_indices else out

    def backward(self, grad_output: object) -> Array:
        """The gradient goes to each window's maximum only (the winners forward found, when it kept them)."""
        return max_pool2d_grad(self._saved(), grad_output, indices=self._indices, **self._settings())

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """2-D average pooling layer with the meaning and repr of ``torch.nn.AvgPool2d``.

    Args:
        kernel_size: window size, int or (kH, kW).
        stride: window step. Default: kernel_size.
        padding: implicit zero border, at most half the kernel. Default: 0.
        ceil_mode: round the output size up. Default: False.
        count_include_pad: count padding cells in the divisor. Default: True.
        divisor_override: divide by this instead of the window's cell count. Default: None.

    Shape:
        (N, C, H_in, W_in) -> (N, C, H_out, W_out), see :func:`convlab.functional.avg_pool2d`.

    Example:
        >>> AvgPool2d(3, stride=2, padding=1)
        AvgPool2d(kernel_size=3, stride=2, padding=1)
    """

    torch_name = "AvgPool2d"
    torch_arguments = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        _check_pool_settings(kernel_size, stride, padding, 1, "AvgPool2d")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = flag(ceil_mode, "ceil_mode")
        self.count_include_pad = flag(count_include_pad, "count_include_pad")
        self.divisor_override = (
            None if divisor_override is None else as_int(divisor_override, "divisor_override", minimum=1)
        )
        self._input_shape: tuple[int, ...] | None = None

    def _settings(self) -> dict[str, Any]:
        return {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "ceil_mode": self.ceil_mode,
            "count_include_pad": self.count_include_pad,
            "divisor_override": self.divisor_override,
        }

    def forward(self, input: object) -> Array:
        x = np.asarray(input)
        self._input_shape = x.shape
        return avg_pool2d(x, **self._settings())

    def backward(self, grad_output: object) -> Array:
        """Each window's gradient is shared equally by its cells."""
        return avg_pool2d_grad(self._saved("_input_shape"), grad_output, **self._settings())

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size whatever the input size, like ``torch.nn.AdaptiveAvgPool2d``.

    ``AdaptiveAvgPool2d(1)`` is global average pooling: one value per channel, the usual bridge from
    feature maps to a classifier that works for any image size.

    Args:
        output_size: (H_out, W_out), or one int for both.

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out), see :func:`convlab.functional.adaptive_avg_pool2d`.

    Example:
        >>> AdaptiveAvgPool2d(1)(np.ones((2, 3, 5, 7))).shape
        (2, 3, 1, 1)
    """

    torch_name = "AdaptiveAvgPool2d"
    torch_arguments = ("output_size",)

    def __init__(self, output_size: int | tuple[int, int]) -> None:
        self.output_size = pair(output_size, "output_size", minimum=1)
        self._input_shape: tuple[int, ...] | None = None

    def forward(self, input: object) -> Array:
        x = float_arrays({"input": input})["input"]
        if x.ndim != 4:
            raise ShapeError(
                f"AdaptiveAvgPool2d got an input of shape {x.shape}",
                fix="pass a batch of feature maps (N, C, H, W), e.g. x[None] for one image",
            )
        self._input_shape = x.shape
        return adaptive_avg_pool2d(x, self.output_size)

    def backward(self, grad_output: object) -> Array:
        """Each window's gradient is shared equally by its cells."""
        shape = self._saved("_input_shape")
        return adaptive_avg_pool2d_grad(shape, np.asarray(grad_output), self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
