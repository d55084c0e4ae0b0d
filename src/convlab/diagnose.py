"""Common mistakes, recognised from the values of the failing call, each with one fix to paste.

A detector takes plain values (shapes, settings, dtypes) and returns a
:class:`Diagnosis`: what is wrong, the evidence, the likely cause, and a fix as
code, for NumPy and for PyTorch. The engine and the layers raise these as their
errors, so every user gets them; :mod:`convlab.network.torch_errors` gives
PyTorch users the same explanations for PyTorch's own errors.

This module depends only on :mod:`convlab.errors`, so the engine can use it
without importing anything above it.

Example:
    >>> d = channel_mismatch("conv2d", (1, 224, 224, 3), (8, 3, 3, 3), groups=1)
    >>> d.code, d.fix
    ('channels-last', 'x = x.transpose(0, 3, 1, 2)')
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .errors import Blank, Call, ConvlabError, ConvlabWarning, ShapeError, with_note

__all__ = [
    "Diagnosis",
    "bias_length",
    "channel_mismatch",
    "dtype_mismatch",
    "groups_mismatch",
    "kernel_too_large",
    "linear_mismatch",
    "norm_mismatch",
    "quiet",
    "quiet_traps",
    "rank_mismatch",
    "same_with_stride",
    "unbatched_only",
    "warn",
]


@dataclass(frozen=True)
class Diagnosis:
    """One recognised mistake.

    Attributes:
        code: a stable name, e.g. "channels-last".
        what: the first line of the message; it stands alone and restates the values.
        evidence: the shapes and numbers behind it.
        cause: the likely cause, in a sentence.
        fix: the change for NumPy users, as code.
        torch_fix: the same change for PyTorch users.
        also: another way, a call that works out the exact answer; the fix names it after ``# or``, and
            each interface writes it in its own language (the command line as a command).
    """

    code: str
    what: str
    evidence: tuple[str, ...]
    cause: str
    fix: str
    torch_fix: str
    also: Call | None = None

    def error(self, kind: type[ConvlabError] = ShapeError, torch: bool = False) -> ConvlabError:
        """The error to raise: first line, evidence, cause, then the fix (and the other way, if any)."""
        fix = self.torch_fix if torch else self.fix
        return kind(
            self.what,
            evidence=(*self.evidence, f"likely cause: {self.cause}"),
            fix=fix if self.also is None else with_note(fix, f"or {self.also}"),
            diagnosis=self,
        )


# ---------------------------------------------------------------------------------------------------------------
# Channel and layout mistakes: the input's channel axis does not hold what the layer expects.


def channel_mismatch(
    op: str,
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    groups: int,
    original_shape: tuple[int, ...] | None = None,
) -> Diagnosis:
    """Why ``input_shape`` (N, C, H, W) does not fit ``weight_shape`` (O, C/groups, kH, kW), and the fix.

    ``original_shape`` is the input as the user passed it, before an unbatched
    (C, H, W) input got its batch axis: it tells an HWC image from a CHW one.
    """
    given = original_shape or input_shape
    expected = weight_shape[1] * groups
    C = input_shape[1]
    O, per_group, kh, kw = weight_shape
    evidence = (
        f"input shape {given} is read as {'(C, H, W)' if len(given) == 3 else '(N, C, H, W)'}: C = {C}",
        f"weight shape {weight_shape} is (out_channels, in_channels/groups, kH, kW): "
        f"{per_group} x groups {groups} = {expected} input channels",
    )
    if weight_shape[2] == C and weight_shape[0] == weight_shape[1] <= 11 and per_group != C:
        # (kH, kW, in, out): TensorFlow/Keras's layout
        return Diagnosis(
            "weight-hwio",
            f"{op}: the weight {weight_shape} looks like (kH, kW, in, out), TensorFlow's layout; "
            f"convlab and PyTorch want (out, in, kH, kW)",
            evidence,
            "weights exported from TensorFlow/Keras keep the kernel size first",
            "weight = weight.transpose(3, 2, 0, 1)",
            "weight = weight.permute(3, 2, 0, 1)",
        )
    if groups > 1 and groups == C and per_group == C:
        return Diagnosis(
            "depthwise-weight",
            f"{op}: a depthwise convolution (groups={groups}) needs a weight of shape ({O}, 1, {kh}, {kw}), "
            f"got {weight_shape}",
            evidence,
            "with groups = channels every kernel sees one input channel, so axis 1 of the weight is 1",
            f"weight = weight[:, :1]   # or build it as nn.Conv2d({C}, {O}, {kh}, groups={C})",
            f"nn.Conv2d({C}, {O}, {kh}, groups={C})",
        )
    if len(given) == 3 and _channels_last(given, expected):
        return Diagnosis(
            "hwc-image",
            f"{op}: the image {given} looks like (H, W, C) with C = {expected}, as PIL and Matplotlib read "
            f"images; convlab and PyTorch want (N, C, H, W)",
            evidence,
            "image libraries put the channels last and give no batch axis",
            "x = x.transpose(2, 0, 1)[None]   # (H, W, C) -> (1, C, H, W)",
            "x = x.permute(2, 0, 1).unsqueeze(0)",
        )
    if len(given) == 4 and _channels_last(given[1:], expected):
        return Diagnosis(
            "channels-last",
            f"{op}: the input {given} looks like (N, H, W, C) with C = {expected}; "
            f"convlab and PyTorch want (N, C, H, W)",
            evidence,
            "a batch from an image library or TensorFlow keeps the channels last (NHWC)",
            "x = x.transpose(0, 3, 1, 2)",
            "x = x.permute(0, 3, 1, 2)",
        )
    if len(given) == 3 and expected == 1 and given[0] != 1:
        return Diagnosis(
            "grayscale-without-channel",
            f"{op}: the input {given} looks like {given[0]} grayscale images without their channel axis; "
            f"the layer expects 1 channel",
            evidence,
            "a batch of grayscale images (N, H, W) is read as one image with N channels",
            "x = x[:, None]   # (N, H, W) -> (N, 1, H, W)",
            "x = x.unsqueeze(1)",
        )
    if C == 1 and expected == 3:
        return Diagnosis(
            "grayscale-into-rgb",
            f"{op}: a grayscale input (1 channel) goes into a layer built for RGB (3 channels)",
            evidence,
            "the first layer was made (or trained) for colour images",
            f"x = np.repeat(x, 3, axis={len(given) - 3})   # or build the layer with in_channels=1",
            f"x = x.expand(-1, 3, -1, -1)   # or nn.Conv2d(1, {O}, {kh})",
        )
    if C == 3 and expected == 1:
        return Diagnosis(
            "rgb-into-grayscale",
            f"{op}: an RGB input (3 channels) goes into a layer built for grayscale (1 channel)",
            evidence,
            "the first layer was made (or trained) for grayscale images",
            f"x = x.mean(axis={len(given) - 3}, keepdims=True)   # or build the layer with in_channels=3",
            f"x = x.mean(dim=1, keepdim=True)   # or nn.Conv2d(3, {O}, {kh})",
        )
    if C == 4 and expected == 3:
        return Diagnosis(
            "rgba-into-rgb",
            f"{op}: an RGBA input (4 channels) goes into a layer built for RGB (3 channels)",
            evidence,
            "PNG files often carry an alpha channel",
            "x = x[:, :3]   # drop the alpha channel",
            "x = x[:, :3]",
        )
    layer = f"nn.Conv2d({C}, {O}, {kh if kh == kw else (kh, kw)}{f', groups={groups}' if groups > 1 else ''})"
    return Diagnosis(
        "in-channels",
        f"{op}: input has {C} channels but the layer expects {expected}",
        evidence,
        "in_channels of the layer does not match the C axis of its input",
        f"{layer}   # in_channels = C of the input",
        layer,
    )


def _channels_last(image: tuple[int, ...], channels: int) -> bool:
    """Whether an image's three axes read as (H, W, C) with C = ``channels`` rather than (C, H, W).

    The last axis must be the channel count and the first must not; when both could be, a square image
    tells: its equal H and W axes are the spatial ones.
    """
    first, middle, last = image
    return last == channels and first != channels and (first == middle or middle != last)


def kernel_too_large(
    op: str, dim: str, size: int, kernel: int, padding: tuple[int, int], dilation: int
) -> Diagnosis:
    """A kernel (or its dilated span) larger than the padded input: the output would be empty."""
    padded = size + sum(padding)
    span = dilation * (kernel - 1) + 1
    least = (span - size + 1) // 2
    evidence = (
        f"input {dim} = {size}, padding (before, after) = {padding}, kernel {kernel}, dilation {dilation}",
    )
    if dilation > 1 and kernel <= padded:
        return Diagnosis(
            "dilation-too-large",
            f"{op}: dilation {dilation} spreads the {kernel}-cell kernel over {span} = {dilation}*({kernel}-1)+1 "
            f"cells along {dim}, but the padded input has only {padded}: it overshoots by {span - padded}",
            evidence,
            "dilation spaces the kernel cells apart, so the window grows",
            f"dilation={max(1, (padded - 1) // max(kernel - 1, 1))}   # or pad by {least} on each side",
            f"dilation={max(1, (padded - 1) // max(kernel - 1, 1))}",
        )
    return Diagnosis(
        "kernel-larger-than-input",
        f"{op}: the kernel spans {span} cells along {dim} but the padded input has only {padded}: "
        f"it overshoots by {span - padded}",
        evidence,
        "kernel_size is the window, not the output size; or the feature map shrank earlier",
        f"padding={least}   # pad by at least {least} on each side along {dim}, or use a smaller kernel",
        f"padding={least}",
    )


def rank_mismatch(op: str, name: str, shape: tuple[int, ...]) -> Diagnosis:
    """An input with the wrong number of axes for a convolution."""
    evidence = (f"{name} shape {shape} has {len(shape)} axes; a convolution takes (N, C, H, W) or (C, H, W)",)
    if len(shape) == 2:
        return Diagnosis(
            "missing-batch-and-channel",
            f"{op}: {name} has 2 dims {shape}, a bare (H, W) image; it needs (N, C, H, W) or (C, H, W)",
            evidence,
            "a grayscale image has no channel axis, and a single image no batch axis",
            f"{name} = {name}[None, None]   # (H, W) -> (1, 1, H, W)",
            f"{name} = {name}[None, None]",
        )
    if len(shape) == 5 and shape[0] == 1:
        return Diagnosis(
            "extra-axis",
            f"{op}: {name} has 5 dims {shape}: one axis too many",
            evidence,
            "a batch axis was added to something that already had one",
            f"{name} = {name}[0]",
            f"{name} = {name}.squeeze(0)",
        )
    return Diagnosis(
        "rank",
        f"{op}: {name} must have 4 dims (N, C, H, W) or 3 dims (C, H, W), "
        f"got shape {shape} with {len(shape)} dims",
        evidence,
        "the array is not an image batch",
        f"reshape {name} to (N, C, H, W)",
        f"reshape {name} to (N, C, H, W)",
    )


def linear_mismatch(in_features: int, out_features: int, input_shape: tuple[int, ...]) -> Diagnosis:
    """A Linear layer whose in_features does not match what reaches it."""
    evidence = (
        f"Linear(in_features={in_features}, out_features={out_features}) got an input of shape {input_shape}",
    )
    if len(input_shape) == 4:
        _, c, h, w = input_shape
        flat = c * h * w
        return Diagnosis(
            "linear-on-image",
            f"Linear(in_features={in_features}) got an image batch {input_shape}: flatten it first"
            + ("" if flat == in_features else f", and then it has {flat} = {c} * {h} * {w} features"),
            evidence,
            "a fully connected layer takes (N, features); an image keeps (C, H, W) apart",
            "add nn.Flatten() before the Linear layer"
            + ("" if flat == in_features else f", and make it nn.Linear({flat}, {out_features})"),
            "add nn.Flatten() before it"
            + ("" if flat == in_features else f", and nn.Linear({flat}, {out_features})"),
        )
    if len(input_shape) == 2 and input_shape[0] > 1 and input_shape[0] * input_shape[1] == in_features:
        return Diagnosis(
            "flatten-without-batch",
            f"Linear(in_features={in_features}) got {input_shape}: the image had no batch axis, so Flatten "
            f"kept its {input_shape[0]} channels apart",
            evidence,
            "an unbatched (C, H, W) image: Flatten(start_dim=1) flattens only H and W",
            "x = x[None]   # give the image a batch axis before the model",
            "x = x.unsqueeze(0)",
        )
    features = input_shape[-1] if input_shape else 1
    return Diagnosis(
        "linear-in-features",
        f"Linear(in_features={in_features}) gets {features} features",
        evidence,
        "in_features was computed for another input size, or before a layer changed",
        f"nn.Linear({features}, {out_features})",
        f"nn.Linear({features}, {out_features})",
    )


def norm_mismatch(num_features: int, input_shape: tuple[int, ...]) -> Diagnosis:
    """A BatchNorm2d built for another number of channels."""
    channels = input_shape[1]
    return Diagnosis(
        "batchnorm-features",
        f"BatchNorm2d({num_features}) gets {channels} channels",
        (f"its input is {input_shape}, so C = {channels}",),
        "num_features must equal the channels of the convolution before it",
        f"nn.BatchNorm2d({channels})",
        f"nn.BatchNorm2d({channels})",
    )


def quiet_traps(
    op: str,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    pads: tuple[tuple[int, int], tuple[int, int]],
    dilation: tuple[int, int],
) -> list[Diagnosis]:
    """Legal settings that are probably mistakes: a stride that skips pixels, padding no window can use.

    A 1x1 kernel with a stride is exempt: it is the usual way to downsample a shortcut (as in ResNet).
    """
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    found = []
    skipping = [axis for axis in range(2) if stride[axis] > spans[axis] > 1]
    if skipping:
        axis = skipping[0]
        found.append(
            Diagnosis(
                "stride-skips-pixels",
                f"{op}: stride {stride} is larger than the kernel's span {spans}: "
                f"{stride[axis] - spans[axis]} of every {stride[axis]} input "
                f"{'rows' if axis == 0 else 'columns'} are never read",
                (f"kernel {kernel}, stride {stride}, dilation {dilation}",),
                "windows step further than they reach, so they never touch the pixels in between",
                f"stride={spans[axis]}   # or a larger kernel",
                f"stride={spans[axis]}",
            )
        )
    unused = [axis for axis in range(2) if max(pads[axis]) >= spans[axis]]
    if unused:
        axis = unused[0]
        found.append(
            Diagnosis(
                "padding-unused",
                f"{op}: padding {max(pads[axis])} along {'HW'[axis]} is at least the kernel's span {spans[axis]}: "
                f"the border outputs see only padding",
                (f"kernel {kernel}, padding ((top, bottom), (left, right)) {pads}",),
                "padding wider than the kernel adds outputs computed from zeros alone",
                f"padding={(spans[axis] - 1) // 2}",
                f"padding={(spans[axis] - 1) // 2}",
            )
        )
    return found


def same_with_stride(kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]) -> Diagnosis:
    """padding="same" asked of a strided convolution, which PyTorch refuses."""
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    explicit = (totals[0] // 2, totals[1] // 2)
    return Diagnosis(
        "same-with-stride",
        f"padding='same' is not supported with stride={stride} (PyTorch refuses it too)",
        (
            "'same' keeps H and W unchanged, which a stride above 1 cannot do",
            f"padding={explicit} gives about H/stride; exactly ceil(H/stride) may need more padding on one "
            "side than the other, which solve_padding finds",
        ),
        "'same' was meant as TensorFlow's ceil(H/stride), which PyTorch does not offer",
        f"padding={explicit}",
        f"padding={explicit}",
        also=Call(
            "convlab.shapes.solve_padding",
            kwargs=(
                ("input_size", Blank("(H, W)")),
                ("kernel_size", kernel),
                ("stride", stride),
                *([("dilation", dilation)] if dilation != (1, 1) else []),
                ("output_size", "same"),
            ),
        ),
    )


def groups_mismatch(op: str, out_channels: int, groups: int, weight_shape: tuple[int, ...]) -> Diagnosis:
    """Output channels that do not split into ``groups``."""
    nearest = max(groups, out_channels - out_channels % groups)
    return Diagnosis(
        "groups",
        f"{op}: groups={groups} must divide the {out_channels} output channels (weight shape {weight_shape})",
        (f"{out_channels} output channels cannot be split into {groups} equal groups",),
        "every group needs the same number of input and output channels",
        f"out_channels={nearest}   # or groups=1",
        f"out_channels={nearest}   # or groups=1",
    )


def bias_length(op: str, bias_shape: tuple[int, ...], out_channels: int) -> Diagnosis:
    return Diagnosis(
        "bias-length",
        f"{op}: bias must have shape ({out_channels},), one value per output channel, got {bias_shape}",
        (f"the weight makes {out_channels} output channels",),
        "the bias was made for another number of output channels",
        f"bias = np.zeros({out_channels}, dtype=np.float32)   # or bias=None",
        f"bias = torch.zeros({out_channels})",
    )


def unbatched_only(name: str, shape: tuple[int, ...]) -> Diagnosis:
    """A batch (or channel) axis on an image where one plain (H, W) matrix is expected."""
    index = "[" + ", ".join("0" for _ in shape[:-2]) + "]"
    return Diagnosis(
        "extra-batch-axis",
        f"{name} must be one (H, W) matrix, got shape {shape}: it still has its batch/channel axes",
        (f"{name} shape {shape}",),
        "an image taken from a batch kept its (N, C) axes",
        f"{name} = {name}{index}",
        f"{name} = {name}{index}",
    )


def dtype_mismatch(strong: dict[str, Any]) -> Diagnosis:
    """float32 and float64 arrays in one call."""
    listed = ", ".join(f"{name} is {dtype}" for name, dtype in strong.items())
    cast = next(name for name, dtype in strong.items() if str(dtype) == "float64")
    return Diagnosis(
        "float64-with-float32",
        f"arrays must share one float dtype, but {listed}",
        ("convlab, like PyTorch, does not mix float32 and float64 in one convolution",),
        "NumPy makes float64 arrays by default, while layers hold float32 weights",
        f"{cast} = {cast}.astype(np.float32)",
        f"{cast} = {cast}.float()",
    )


# ---------------------------------------------------------------------------------------------------------------
# Quiet traps: legal, probably unintended. Reported as ConvlabWarning, switchable off.

_ENABLED = [os.environ.get("CONVLAB_WARNINGS", "1") != "0"]


@contextmanager
def quiet() -> Iterator[None]:
    """Switch convlab's warnings off inside a ``with`` block (or set CONVLAB_WARNINGS=0)."""
    previous = _ENABLED[0]
    _ENABLED[0] = False
    try:
        yield
    finally:
        _ENABLED[0] = previous


def warn(code: str, message: str, fix: str) -> None:
    if _ENABLED[0]:
        warnings.warn(
            f"{message} [{code}] (fix: {fix}; silence: convlab.diagnose.quiet())", ConvlabWarning, stacklevel=4
        )
