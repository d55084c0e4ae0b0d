"""The lesson's five labs as functions that return data; printing lives with the interface.

* ``manual_conv`` (Lab 1) and ``edge`` (Lab 2) convolve a small image with a
  small kernel and return the output values;
* ``size``, ``channel`` and ``conv2d`` (Labs 3 to 5) run a ``convlab.nn.Conv2d``
  and return the shapes of input, output, weight and bias, with the output-size
  formula worked through.

Every lab takes options so the lesson's exercises can be done on it, and can be
cross-checked against real PyTorch with :func:`cross_check`.

Example:
    >>> run("manual_conv").output
    array([[-2.,  2., -4.],
           [ 4.,  0., -1.],
           [ 0.,  0.,  1.]], dtype=float32)
    >>> run("size", stride=1).output_shape
    (1, 2, 6, 6)
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._args import Array, Pair, as_int, conv_padding, pair
from ..diagnose import unbatched_only, warn
from ..errors import ArgumentError, Call, ConvlabError
from .textmatrix import is_picture, load_matrix

__all__ = [
    "LAB_NAMES",
    "LESSON_OUTPUT",
    "VALUE_PRESETS",
    "ShapeLab",
    "ValueLab",
    "check_name",
    "cross_check",
    "options_of",
    "run",
    "shape_lab",
    "value_lab",
]

LAB_NAMES = ("manual_conv", "edge", "size", "channel", "conv2d")
_RUN = "convlab.lesson.labs.run"  # the call a fix names

VALUE_PRESETS: dict[str, tuple[list[list[int]], list[list[int]]]] = {
    "manual_conv": ([[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]], [[1, 0], [0, -1]]),
    "edge": (
        [[0, 0, 0, 0, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 0, 0, 0]],
        [[-1, 1]],
    ),
}

_SHAPE_PRESETS: dict[str, dict[str, Any]] = {
    # the lesson's settings: x = torch.randn(batch, in_channels, H, W); nn.Conv2d(in, out, k, stride, padding)
    "size": {
        "batch": 1,
        "in_channels": 1,
        "out_channels": 2,
        "kernel_size": 3,
        "stride": 2,
        "padding": 1,
        "size": (6, 6),
    },
    "channel": {
        "batch": 2,
        "in_channels": 3,
        "out_channels": 8,
        "kernel_size": 3,
        "stride": 1,
        "padding": 1,
        "size": (32, 32),
    },
    "conv2d": {
        "batch": 1,
        "in_channels": 1,
        "out_channels": 4,
        "kernel_size": 3,
        "stride": 1,
        "padding": 1,
        "size": (8, 8),
    },
}

LESSON_OUTPUT = {
    "manual_conv": "manual_conv_lab\n[[-2. 2. -4.]\n[ 4. 0. -1.]\n[ 0. 0. 1.]]",
    "edge": "edge_lab\n[[0. 0. 0. 0.]\n[0. 1. 0. 0.]\n[0. 1. 0. 0.]\n[0. 1. 0. 0.]\n[0. 0. 0. 0.]]",
    "size": "size_lab\ninput: (1, 1, 6, 6)\noutput: (1, 2, 3, 3)",
    "channel": "channel_lab\ninput: (2, 3, 32, 32)\noutput: (2, 8, 32, 32)\nweight: (8, 3, 3, 3)\nbias: (8,)",
    "conv2d": "conv2d_lab\ninput: (1, 1, 8, 8)\noutput: (1, 4, 8, 8)\nweight: (4, 1, 3, 3)\nbias: (4,)",
}
"""Each lab's "Expected output" as the lesson prints it (its text collapses NumPy's column spacing)."""


@dataclass(frozen=True)
class ValueLab:
    """Labs 1 and 2: an image, a kernel, and every output value (``out = conv2d(image, kernel)``).

    Shape:
        image (H, W), kernel (kH, kW) -> output (H_out, W_out)
    """

    name: str
    image: Array
    kernel: Array
    stride: Pair
    padding: Any
    dilation: Pair
    output: Array
    changed: bool  # the learner changed the lesson's image, kernel or settings

    @property
    def title(self) -> str:
        return f"{self.name}_lab"

    def lines(self, formula: bool = False) -> list[str]:
        """The lab's printout as the lesson shows it: its title, then ``print(out)``."""
        return [self.title, str(self.output)]

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        """The printout, and beside it image, kernel and output as grids of numbers."""
        from .._display import html
        from .grid_text import cell_text

        def matrix(values: Array, caption: str) -> str:
            return html.grid([[cell_text(v) for v in row] for row in values.tolist()], caption=caption)

        grids = matrix(self.image, "image") + matrix(self.kernel, "kernel") + matrix(self.output, "output")
        return html.block(html.lines(self.lines()), f"<div>{grids}</div>")


@dataclass(frozen=True)
class ShapeLab:
    """Labs 3 to 5: a Conv2d on a random input, and the shapes that come out."""

    name: str
    input: Array
    output: Array
    layer: Any  # the convlab.nn.Conv2d that ran
    derivation: tuple[str, str]  # the H and W output-size formulas with these numbers
    show_parameters: bool  # the size lab prints only input and output
    changed: bool

    @property
    def title(self) -> str:
        return f"{self.name}_lab"

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.input.shape)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return tuple(self.output.shape)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        return tuple(self.layer.weight.shape)

    @property
    def bias_shape(self) -> tuple[int, ...]:
        return tuple(self.layer.bias.shape)

    def lines(self, formula: bool = False) -> list[str]:
        """The lab's printout as the lesson shows it, then the layer and the output-size formula with these
        numbers when ``formula`` is asked for or the lesson's settings were changed."""
        lines = [self.title, f"input: {self.input_shape}", f"output: {self.output_shape}"]
        if self.show_parameters:
            lines += [f"weight: {self.weight_shape}", f"bias: {self.bias_shape}"]
        if formula or self.changed:
            lines += [f"  layer: {self.layer!r}", *(f"  {line}" for line in self.derivation)]
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        from .._display import html

        return html.block(html.lines(self.lines(formula=True)))


def check_name(name: str) -> None:
    """Refuse a name that is not one of the five labs, with the closest one (or the first) as the fix."""
    if name not in LAB_NAMES:
        close = difflib.get_close_matches(str(name), LAB_NAMES, n=1)
        raise ArgumentError(
            f"there is no lab {name!r}; the labs are {', '.join(LAB_NAMES)}",
            fix=Call(_RUN, (close[0],), note="the closest name") if close else Call(_RUN, ("manual_conv",)),
        )


def _matrix(value: object, name: str) -> Array:
    if isinstance(value, str):
        matrix = load_matrix(value, name)
        if is_picture(value) and matrix.size and float(matrix.max()) > 1:
            _warn_unscaled(name, f"the picture {value}", int(matrix.max()))
        return matrix
    if isinstance(value, np.ndarray) and value.dtype == np.uint8 and value.size and int(value.max()) > 1:
        _warn_unscaled(name, "a uint8 array", int(value.max()))
    array = np.asarray(value, dtype=np.float32)
    if array.ndim > 2 and all(n == 1 for n in array.shape[:-2]):
        raise unbatched_only(name, array.shape).error(ArgumentError)
    if array.ndim != 2:
        raise ArgumentError(f"{name} must be a 2-D matrix, got shape {array.shape}", fix=f'{name}="1 0; 0 -1"')
    return array


def _warn_unscaled(name: str, source: str, largest: int) -> None:
    """The lab uses pixel values as they are, as conv2d does with a uint8 image: say so, as conv2d does."""
    warn(
        "uint8-not-scaled",
        f"{name}: {source} has values up to {largest}, used as they are (0..255), so every output is 255 "
        "times what the same picture scaled to 0..1 gives",
        f"give the {name} divided by 255, e.g. np.save('{name}.npy', np.asarray(picture) / 255)",
    )


def _value_lab(
    name: str,
    image: object = None,
    kernel: object = None,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
) -> ValueLab:
    from ..functional import conv2d
    from ..functional.geometry import conv_settings

    preset_image, preset_kernel = VALUE_PRESETS[name]
    image_ = _matrix(preset_image if image is None else image, "image")
    kernel_ = _matrix(preset_kernel if kernel is None else kernel, "kernel")
    settings = conv_settings("conv2d", kernel_.shape, stride, padding, dilation)
    output = conv2d(image_[None, None], kernel_[None, None], settings=settings)
    stride_, dilation_ = settings.stride, settings.dilation
    changed = not (
        np.array_equal(image_, preset_image)
        and np.array_equal(kernel_, preset_kernel)
        and stride_ == (1, 1)
        and dilation_ == (1, 1)
        and padding in (0, (0, 0), "valid")
    )
    return ValueLab(name, image_, kernel_, stride_, padding, dilation_, output[0, 0], changed)


def _shape_lab(name: str, seed: int = 0, **options: Any) -> ShapeLab:
    from .._memory import check_fits
    from ..network.shapes import conv2d_derivation
    from ..nn import Conv2d

    settings = {**_SHAPE_PRESETS[name], **options}
    seed = as_int(seed, "seed", minimum=0)
    batch = as_int(settings["batch"], "batch", minimum=1)
    in_channels = as_int(settings["in_channels"], "in_channels", minimum=1)
    size = pair(settings["size"], "size", minimum=1)
    kernel = pair(settings["kernel_size"], "kernel_size", minimum=1)
    # the random input in float64, its float32 copy, the layer's copy, and conv2d's unfolded windows
    cells = batch * in_channels * size[0] * size[1]
    check_fits(
        f"{name} lab: a random input ({batch}, {in_channels}, {size[0]}, {size[1]}) and its windows",
        cells * (8 + 4 + 4 + 4 * kernel[0] * kernel[1]),
        fix="use a smaller size, batch or in_channels, e.g. size=32",
    )
    layer = Conv2d(
        in_channels,
        settings["out_channels"],
        settings["kernel_size"],
        stride=settings["stride"],
        padding=settings["padding"],
        seed=seed,
    )
    x = np.random.default_rng(seed).standard_normal((batch, in_channels, *size)).astype(np.float32)
    output = layer(x)
    pads = conv_padding(layer.padding, kernel_size=layer.kernel_size, stride=layer.stride, dilation=layer.dilation)
    derivation = tuple(
        conv2d_derivation(size[a], layer.kernel_size[a], layer.stride[a], pads[a], name="HW"[a]) for a in range(2)
    )
    changed = {key: settings[key] for key in _SHAPE_PRESETS[name]} != _SHAPE_PRESETS[name]
    return ShapeLab(name, x, output, layer, (derivation[0], derivation[1]), name != "size", changed)


_SHAPE_OPTIONS = frozenset(
    {"batch", "in_channels", "out_channels", "kernel_size", "stride", "padding", "size", "seed"}
)
_VALUE_OPTIONS = frozenset({"image", "kernel", "stride", "padding", "dilation"})


def options_of(name: str) -> frozenset[str]:
    """The options lab ``name`` takes (see :func:`run`)."""
    check_name(name)
    return _VALUE_OPTIONS if name in VALUE_PRESETS else _SHAPE_OPTIONS


def value_lab(name: str, **options: Any) -> ValueLab:
    """Lab 1 or 2 (``manual_conv``, ``edge``) with options; see :func:`run`."""
    lab = run(name, **options)
    if not isinstance(lab, ValueLab):
        raise ArgumentError(f"{name!r} is a shape lab, not a value lab", fix="use manual_conv or edge")
    return lab


def shape_lab(name: str, **options: Any) -> ShapeLab:
    """Lab 3, 4 or 5 (``size``, ``channel``, ``conv2d``) with options; see :func:`run`."""
    lab = run(name, **options)
    if not isinstance(lab, ShapeLab):
        raise ArgumentError(f"{name!r} is a value lab, not a shape lab", fix="use size, channel or conv2d")
    return lab


def run(name: str, **options: Any) -> ValueLab | ShapeLab:
    """Run one lab and return its data.

    Args:
        name: "manual_conv", "edge", "size", "channel" or "conv2d".
        options: for manual_conv and edge: ``image``, ``kernel`` (arrays, nested lists,
            text such as "1 0; 0 -1", or a .npy/.png path), ``stride``, ``padding``,
            ``dilation``; for size, channel and conv2d: ``batch``, ``in_channels``,
            ``out_channels``, ``kernel_size``, ``stride``, ``padding``, ``size`` (H or
            (H, W)), ``seed``. Options left out keep the lesson's values.

    Example:
        >>> run("channel", out_channels=16).weight_shape  # exercise 4
        (16, 3, 3, 3)
    """
    allowed = options_of(name)
    unknown = sorted(set(options) - allowed)
    if unknown:
        close = difflib.get_close_matches(unknown[0], allowed, n=1)
        retry = Call(_RUN, (name,), ((close[0], options[unknown[0]]),), "the closest option") if close else None
        raise ArgumentError(
            f"lab {name!r} has no option {unknown[0]!r}; its options are {', '.join(sorted(allowed))}",
            fix=retry or Call(_RUN, (name,), note="with options from the list above"),
        )
    options = {key: value for key, value in options.items() if value is not None}
    if name in VALUE_PRESETS:
        return _value_lab(name, **options)
    return _shape_lab(name, **options)


@dataclass(frozen=True)
class CrossCheck:
    """Whether PyTorch, given the same lab, agrees with convlab."""

    agree: bool
    detail: str


def cross_check(lab: ValueLab | ShapeLab) -> CrossCheck:
    """Run the same lab through PyTorch and compare values and shapes.

    Raises:
        ConvlabError: if PyTorch is not installed.
    """
    try:
        import torch
    except ImportError:
        raise ConvlabError(
            "checking a lab against PyTorch needs PyTorch, which is not installed", fix="pip install torch==2.13.0"
        ) from None
    if isinstance(lab, ValueLab):
        theirs = torch.nn.functional.conv2d(
            torch.from_numpy(lab.image[None, None]),
            torch.from_numpy(lab.kernel[None, None]),
            stride=lab.stride,
            padding=lab.padding,
            dilation=lab.dilation,
        ).numpy()[0, 0]
    else:
        theirs = lab.layer.to_torch()(torch.from_numpy(lab.input)).detach().numpy()
    if theirs.shape != lab.output.shape:
        return CrossCheck(False, f"shapes differ: convlab {lab.output.shape}, torch {tuple(theirs.shape)}")
    difference = float(np.abs(theirs - lab.output).max()) if theirs.size else 0.0
    agree = bool(np.allclose(theirs, lab.output, rtol=1e-5, atol=1e-5))
    verdict = "agree" if agree else "DIFFER"
    return CrossCheck(
        agree,
        f"torch: shapes and values {verdict} (output {tuple(theirs.shape)}, largest difference {difference:.2g})",
    )
