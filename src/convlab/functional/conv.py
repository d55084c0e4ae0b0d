"""conv2d and, right beside it, its gradients.

All four functions check their arguments through :mod:`.calls`, pad through
:mod:`.padding`, and leave the arithmetic to an algorithm from :mod:`.algorithms`
(im2col + GEMM unless asked otherwise), so every path shares one meaning.
"""

from __future__ import annotations

from .._args import Array, Pad2d
from .._arrays import float_arrays
from ..errors import ShapeError
from .algorithms import choose, parallel
from .calls import conv2d_call, conv2d_geometry_of, grad_call, unbatch
from .geometry import ConvArgs, ConvSettings
from .padding import pad2d, pad2d_grad

__all__ = ["conv2d", "conv2d_bias_grad", "conv2d_input_grad", "conv2d_weight_grad"]


def conv2d(
    input: object,
    weight: object,
    bias: object = None,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    padding_mode: str = "zeros",
    *,
    algorithm: str = "auto",
    settings: ConvSettings | None = None,
) -> Array:
    """2-D convolution with the meaning of ``torch.nn.functional.conv2d`` (a cross-correlation).

    Each output value is ``sum(patch * kernel) + bias``, where the patch is the
    window of the padded input under the kernel (the lesson's loop, see
    :func:`convlab.functional.reference.correlate`).

    Args:
        input: array of shape (N, C_in, H, W), or (C_in, H, W) for one image.
        weight: array of shape (C_out, C_in / groups, kH, kW).
        bias: array of shape (C_out,), or None. Default: None.
        stride: step of the window, int or (sH, sW). Default: 1.
        padding: int, (pH, pW), "valid" (none) or "same" (output size = input size;
            stride 1 only; an odd total puts the extra cell bottom/right). Default: 0.
        dilation: spacing between kernel cells, int or (dH, dW). Default: 1.
        groups: split channels into this many independent groups; groups = C_in
            is a depthwise convolution. Default: 1.
        padding_mode: "zeros", "reflect", "replicate" or "circular", as in
            ``torch.nn.Conv2d``. Default: "zeros".
        algorithm: "auto", or one of "im2col", "gemm1x1", "winograd", "polyphase" (a dilated 3x3 as Winograd),
            "fft", "depthwise", "direct" and "reference" (the lesson's loop). Default: "auto".
        settings: stride, padding, dilation, groups and padding_mode already normalised by
            :func:`convlab.functional.geometry.conv_settings` (and warned about there); they replace those
            arguments, and are not checked or warned about again.

    Shape:
        - input: (N, C_in, H_in, W_in) or (C_in, H_in, W_in)
        - output: (N, C_out, H_out, W_out) or (C_out, H_out, W_out), where
          ``H_out = floor((H_in + pad_top + pad_bottom - dH * (kH - 1) - 1) / sH) + 1``, same for W.

    Dtypes:
        float32 stays float32 and float64 stays float64; ints, bools and nested
        lists become float32 (PyTorch's default), or the dtype of the float
        arrays beside them. float32 and float64 together are refused.

    Example:
        >>> image = [[[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]]
        >>> conv2d(image, [[[[1, 0], [0, -1]]]])  # the lesson's Lab 1
        array([[[-2.,  2., -4.],
                [ 4.,  0., -1.],
                [ 0.,  0.,  1.]]], dtype=float32)
    """
    call = conv2d_call(
        "conv2d", input, weight, bias, ConvArgs(stride, padding, dilation, groups, padding_mode, settings)
    )
    geo = call.geometry
    chosen = choose(algorithm, geo.layout, (call.input, call.weight))
    if chosen.zero_padded is not None and geo.padding_mode == "zeros":
        out = chosen.zero_padded.forward(
            call.input, call.weight, call.bias, geo.padding, geo.stride, geo.dilation, geo.groups
        )
    else:
        padded = _padded(call.input, geo.padding, geo.padding_mode)
        out = chosen.forward(padded, call.weight, call.bias, geo.stride, geo.dilation, geo.groups)
    return unbatch(out, call.unbatched)


def conv2d_input_grad(
    input_shape: tuple[int, ...],
    weight: object,
    grad_output: object,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    padding_mode: str = "zeros",
    *,
    algorithm: str = "auto",
    settings: ConvSettings | None = None,
) -> Array:
    """Gradient of :func:`conv2d` with respect to its input (``torch.nn.grad.conv2d_input``).

    Every output value spreads its gradient back over the window it came from,
    weighted by the kernel; then the padding's gradient folds the border back
    (for reflect, replicate and circular modes the copied cells add up).

    Args:
        input_shape: shape of the forward input, (N, C_in, H, W) or (C_in, H, W).
        weight: the forward weight, (C_out, C_in / groups, kH, kW).
        grad_output: gradient of the loss with respect to conv2d's output.
        stride, padding, dilation, groups, padding_mode, algorithm: as in :func:`conv2d`.

    Shape:
        grad_output (N, C_out, H_out, W_out) -> (N, C_in, H_in, W_in)

    Example:
        >>> conv2d_input_grad((1, 2, 2), [[[[1.0, 0.0], [0.0, -1.0]]]], [[[1.0]]])
        array([[[ 1.,  0.],
                [ 0., -1.]]], dtype=float32)
    """
    call = grad_call(
        "conv2d_input_grad",
        grad_output,
        conv2d_geometry_of(
            "conv2d_input_grad", ConvArgs(stride, padding, dilation, groups, padding_mode, settings)
        ),
        input_shape=input_shape,
        weight=weight,
    )
    w, grad, geo, unbatched = call.given, call.grad_output, call.geometry, call.unbatched
    chosen = choose(algorithm, geo.layout, (w, grad))
    if chosen.zero_padded is not None and geo.padding_mode == "zeros":
        grad_input = chosen.zero_padded.input_grad(
            w, grad, geo.input_size, geo.padding, geo.stride, geo.dilation, geo.groups
        )
        return unbatch(grad_input, unbatched)
    grad_padded = chosen.input_grad(w, grad, geo.padded_size, geo.stride, geo.dilation, geo.groups)
    return unbatch(pad2d_grad(grad_padded, geo.padding, geo.padding_mode), unbatched)


def conv2d_weight_grad(
    input: object,
    weight_shape: tuple[int, ...],
    grad_output: object,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    padding_mode: str = "zeros",
    *,
    algorithm: str = "auto",
    settings: ConvSettings | None = None,
) -> Array:
    """Gradient of :func:`conv2d` with respect to its weight (``torch.nn.grad.conv2d_weight``).

    The kernel was applied to every window, so its gradient is the sum over all
    windows and images of ``grad_output[n, o, i, j] * window``.

    Args:
        input: the forward input, (N, C_in, H, W) or (C_in, H, W).
        weight_shape: shape of the forward weight, (C_out, C_in / groups, kH, kW).
        grad_output: gradient of the loss with respect to conv2d's output.
        stride, padding, dilation, groups, padding_mode, algorithm: as in :func:`conv2d`.

    Shape:
        input (N, C_in, H_in, W_in), grad_output (N, C_out, H_out, W_out) -> (C_out, C_in / groups, kH, kW)

    Example:
        >>> conv2d_weight_grad([[[1.0, 2.0], [3.0, 4.0]]], (1, 1, 1, 1), [[[1.0, 1.0], [1.0, 1.0]]])
        array([[[[10.]]]], dtype=float32)
    """
    call = grad_call(
        "conv2d_weight_grad",
        grad_output,
        conv2d_geometry_of(
            "conv2d_weight_grad", ConvArgs(stride, padding, dilation, groups, padding_mode, settings)
        ),
        input=input,
        weight_shape=weight_shape,
    )
    x, grad, geo = call.given, call.grad_output, call.geometry
    chosen = choose(algorithm, geo.layout, (x, grad))
    if chosen.zero_padded is not None and geo.padding_mode == "zeros":
        return chosen.zero_padded.weight_grad(
            x, grad, geo.kernel_size, geo.padding, geo.stride, geo.dilation, geo.groups
        )
    padded = _padded(x, geo.padding, geo.padding_mode)
    return chosen.weight_grad(padded, grad, geo.kernel_size, geo.stride, geo.dilation, geo.groups)


def _padded(x: Array, padding: Pad2d, mode: str) -> Array:
    """The padded input an algorithm reads; zeros padding on all cores (on one, it is a serial part of every
    padded call that no thread count shortens)."""
    if mode == "zeros" and any(padding[0] + padding[1]):
        return parallel.zero_padded(x, padding)
    return pad2d(x, padding, mode)


def conv2d_bias_grad(grad_output: object) -> Array:
    """Gradient of :func:`conv2d` (or ``conv_transpose2d``) with respect to its bias.

    The bias is added to every position of its channel, so its gradient is the
    channel's sum over the batch and all positions.

    Shape:
        grad_output (N, C_out, H_out, W_out) or (C_out, H_out, W_out) -> (C_out,)

    Example:
        >>> import numpy as np
        >>> conv2d_bias_grad(np.ones((2, 3, 4, 4)))
        array([32., 32., 32.])
    """
    grad = float_arrays({"grad_output": grad_output})["grad_output"]
    if grad.ndim not in (3, 4):
        raise ShapeError(
            f"conv2d_bias_grad: grad_output must have 4 dims (N, C_out, H, W) or 3 dims, got shape {grad.shape}",
            fix="pass the gradient of the convolution's output itself",
        )
    summed: Array = grad.sum(axis=(0, 2, 3) if grad.ndim == 4 else (1, 2))
    return summed
