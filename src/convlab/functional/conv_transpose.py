"""conv_transpose2d and, right beside it, its gradients.

A transposed convolution is conv2d's input gradient used as a layer: each input
value stamps ``value * kernel`` into the output, spaced ``stride`` apart. So its
forward pass is conv2d's ``input_grad`` and its input gradient is conv2d itself.
"""

from __future__ import annotations

import numpy as np

from .._args import Array
from .algorithms import choose
from .calls import conv_transpose2d_call, conv_transpose2d_geometry_of, grad_call, unbatch
from .geometry import TransposeArgs, TransposeGeometry

__all__ = ["conv_transpose2d", "conv_transpose2d_input_grad", "conv_transpose2d_weight_grad"]


def _full_size(geo: TransposeGeometry) -> tuple[int, int]:
    """Size before the ``padding`` crop: every stamp fits, output_padding rows included."""
    (ph, pw), (Ho, Wo) = geo.padding, geo.output_size
    return (Ho + 2 * ph, Wo + 2 * pw)


def conv_transpose2d(
    input: object,
    weight: object,
    bias: object = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: object = 1,
    dilation: object = 1,
    *,
    algorithm: str = "auto",
) -> Array:
    """2-D transposed convolution with the meaning of ``torch.nn.functional.conv_transpose2d``.

    Often used to upsample: with stride 2 each input value stamps a kernel-sized
    window, two cells apart from its neighbour's.

    Args:
        input: array of shape (N, C_in, H, W), or (C_in, H, W) for one image.
        weight: array of shape (C_in, C_out / groups, kH, kW) (note: in before out).
        bias: array of shape (C_out,), or None. Default: None.
        stride: spacing of the stamps, int or (sH, sW). Default: 1.
        padding: cells cropped from every border of the result, int or (pH, pW). Default: 0.
        output_padding: extra rows/columns kept at the bottom/right, smaller than
            stride or dilation; picks one of the input sizes a strided conv2d maps
            to the same output size. Default: 0.
        groups: independent channel groups. Default: 1.
        dilation: spacing between kernel cells. Default: 1.
        algorithm: "auto", "im2col" or "reference". Default: "auto".

    Shape:
        - input: (N, C_in, H_in, W_in)
        - output: (N, C_out, H_out, W_out), where
          ``H_out = (H_in - 1) * sH - 2 * pH + dH * (kH - 1) + output_padding_H + 1``, same for W.

    Example:
        >>> conv_transpose2d([[[1.0, 2.0]]], [[[[1.0, 1.0]]]], stride=2)
        array([[[1., 1., 2., 2.]]], dtype=float32)
    """
    args = TransposeArgs(stride, padding, output_padding, groups, dilation)
    call = conv_transpose2d_call("conv_transpose2d", input, weight, bias, args)
    geo = call.geometry
    full = choose(algorithm, geo.layout, (call.weight, call.input)).input_grad(
        call.weight, call.input, _full_size(geo), geo.stride, geo.dilation, geo.groups
    )
    (ph, pw), (Ho, Wo) = geo.padding, geo.output_size
    out = np.ascontiguousarray(full[:, :, ph : ph + Ho, pw : pw + Wo])
    if call.bias is not None:
        out += call.bias[:, None, None]
    return unbatch(out, call.unbatched)


def conv_transpose2d_input_grad(
    input_shape: tuple[int, ...],
    weight: object,
    grad_output: object,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: object = 1,
    dilation: object = 1,
    *,
    algorithm: str = "auto",
) -> Array:
    """Gradient of :func:`conv_transpose2d` with respect to its input: a plain conv2d of grad_output.

    Each input value stamped ``value * kernel`` into a window, so its gradient is
    that window of grad_output times the kernel, summed: conv2d's forward sum.

    Args:
        input_shape: shape of the forward input, (N, C_in, H, W) or (C_in, H, W).
        weight: the forward weight, (C_in, C_out / groups, kH, kW).
        grad_output: gradient of the loss with respect to conv_transpose2d's output.
        stride, padding, output_padding, groups, dilation, algorithm: as in :func:`conv_transpose2d`.

    Shape:
        grad_output (N, C_out, H_out, W_out) -> (N, C_in, H_in, W_in)

    Example:
        >>> conv_transpose2d_input_grad((1, 1, 2), [[[[1.0, 1.0]]]], [[[1.0, 1.0, 2.0, 2.0]]], stride=2)
        array([[[2., 4.]]], dtype=float32)
    """
    call = grad_call(
        "conv_transpose2d_input_grad",
        grad_output,
        conv_transpose2d_geometry_of(
            "conv_transpose2d_input_grad", TransposeArgs(stride, padding, output_padding, groups, dilation)
        ),
        input_shape=input_shape,
        weight=weight,
    )
    w, grad, geo, unbatched = call.given, call.grad_output, call.geometry, call.unbatched
    (ph, pw), (H, W) = geo.padding, geo.input_size
    padded = np.pad(grad, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = choose(algorithm, geo.layout, (padded, w)).forward(padded, w, None, geo.stride, geo.dilation, geo.groups)
    return unbatch(np.ascontiguousarray(out[:, :, :H, :W]), unbatched)  # output_padding >= stride adds a row


def conv_transpose2d_weight_grad(
    input: object,
    weight_shape: tuple[int, ...],
    grad_output: object,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: object = 1,
    dilation: object = 1,
    *,
    algorithm: str = "auto",
) -> Array:
    """Gradient of :func:`conv_transpose2d` with respect to its weight.

    It is conv2d's weight gradient with the roles swapped: grad_output plays the
    input and the transposed convolution's input plays the output gradient.

    Args:
        input: the forward input, (N, C_in, H, W) or (C_in, H, W).
        weight_shape: shape of the forward weight, (C_in, C_out / groups, kH, kW).
        grad_output: gradient of the loss with respect to conv_transpose2d's output.
        stride, padding, output_padding, groups, dilation, algorithm: as in :func:`conv_transpose2d`.

    Shape:
        input (N, C_in, H_in, W_in), grad_output (N, C_out, H_out, W_out) -> (C_in, C_out / groups, kH, kW)

    Example:
        >>> conv_transpose2d_weight_grad([[[1.0, 2.0]]], (1, 1, 1, 2), [[[1.0, 1.0, 2.0, 2.0]]], stride=2)
        array([[[[5., 5.]]]], dtype=float32)
    """
    call = grad_call(
        "conv_transpose2d_weight_grad",
        grad_output,
        conv_transpose2d_geometry_of(
            "conv_transpose2d_weight_grad", TransposeArgs(stride, padding, output_padding, groups, dilation)
        ),
        input=input,
        weight_shape=weight_shape,
    )
    x, grad, geo = call.given, call.grad_output, call.geometry
    (ph, pw) = geo.padding
    padded = np.pad(grad, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return choose(algorithm, geo.layout, (padded, x)).weight_grad(
        padded, x, geo.kernel_size, geo.stride, geo.dilation, geo.groups
    )
