"""The page's JSON API as plain functions: a request dict in, a response dict out, no HTTP here.

Every handler checks sizes before doing work (the page is for learning, not for
batch jobs) and lets convlab's own errors through; the server turns those into
400 answers with the same message the CLI prints.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

from ..errors import ArgumentError, ConvlabError
from . import model_api

__all__ = ["HANDLERS", "LIMITS", "presets"]

LIMITS = {
    "side": 64,  # input height or width
    "channels": 8,  # input or output channels
    "kernel": 15,  # kernel height or width
    "image_side": 160,  # images are downscaled to at most this many pixels a side
    "image_bytes": 3 * 2**20,  # an uploaded image, decoded from base64
    "layers": 400,  # nodes of a network
    "padded_side": 160,  # the padded input's height or width: padding and dilation drive the work
    "products": 250_000,  # output values x kernel cells x input channels: each product is explained
}


def _limit(value: int, key: str, what: str) -> None:
    if value > LIMITS[key]:
        raise ArgumentError(
            f"{what} is {value}, more than this page allows ({LIMITS[key]})",
            fix=f"use at most {LIMITS[key]}; the Python API has no such limit",
        )


def _matrix(value: object, name: str, max_ndim: int) -> Any:
    """A nested list from the page as a float32 array, or a "1 2; 3 4" string."""
    import numpy as np

    from ..lesson.textmatrix import parse_channels

    if isinstance(value, str):  # typed text only: a request never names a file on the server
        array = parse_channels(value, name)
    else:
        try:
            array = np.asarray(value, dtype=np.float32)
        except (ValueError, TypeError):
            raise ArgumentError(
                f"{name} must be rows of numbers of equal length", fix=f"{name}: [[1, 0], [0, -1]]"
            ) from None
    if array.ndim < 2 or array.ndim > max_ndim:
        raise ArgumentError(
            f"{name} must have 2 to {max_ndim} axes, got shape {array.shape}", fix=f"{name}: [[1, 0], [0, -1]]"
        )
    if not np.all(np.isfinite(array)):
        raise ArgumentError(f"{name} holds values that are not finite numbers", fix="use ordinary numbers")
    return array


def _bias(value: object, channels: int) -> Any:
    """The request's bias: None, one number, or one number per output channel, all finite float32 values."""
    import numpy as np

    if value is None:
        return None
    numbers = value if isinstance(value, list) else [value]
    if not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in numbers) or len(numbers) not in (
        1,
        channels,
    ):
        raise ArgumentError(
            f"bias must be a number or a list of {channels} numbers (one per output channel), got {value!r:.80}",
            fix="bias: 0.5",
        )
    array = np.array(numbers, dtype=np.float64)
    if not np.all(np.abs(array) <= np.finfo(np.float32).max):  # also refuses nan
        raise ArgumentError(
            f"bias holds {value!r:.80}: not a finite float32 number", fix="use ordinary numbers, e.g. bias: 0.5"
        )
    return np.broadcast_to(array.astype(np.float32), (channels,)).copy()


def _check_work(image: Any, kernel: Any, settings: dict[str, Any]) -> None:
    """Refuse settings whose padded input or number of explained products exceed the page's limits."""
    from .._args import conv_padding, pair
    from ..functional.geometry import output_length

    kernel_size = (int(kernel.shape[2]), int(kernel.shape[3]))
    stride = pair(settings["stride"], "stride", minimum=1)
    dilation = pair(settings["dilation"], "dilation", minimum=1)
    (top, bottom), (left, right) = conv_padding(
        settings["padding"], kernel_size=kernel_size, stride=stride, dilation=dilation
    )
    padded = (image.shape[1] + top + bottom, image.shape[2] + left + right)
    _limit(max(padded), "padded_side", "the padded input's height or width")
    outputs = [max(0, n) for n in output_length(padded, kernel_size, stride, (0, 0), dilation)]
    products = kernel.shape[0] * outputs[0] * outputs[1] * image.shape[0] * kernel_size[0] * kernel_size[1]
    _limit(products, "products", "the number of products to explain (outputs x kernel cells x channels)")


def _settings(request: dict[str, Any]) -> dict[str, Any]:
    def number_or_pair(key: str, default: object) -> object:
        value = request.get(key, default)
        return tuple(value) if isinstance(value, list) else value

    return {
        "stride": number_or_pair("stride", 1),
        "padding": number_or_pair("padding", 0),
        "dilation": number_or_pair("dilation", 1),
        "padding_mode": request.get("padding_mode", "zeros"),
    }


def conv(request: dict[str, Any]) -> dict[str, Any]:
    """Convolve and explain every output value: see :func:`_conv`.

    float32 overflow gives inf here rather than a warning; the server refuses to send inf as JSON.
    """
    import numpy as np

    with np.errstate(over="ignore", invalid="ignore"):
        return _conv(request)


def _conv(request: dict[str, Any]) -> dict[str, Any]:
    """Convolve and explain every output value.

    Request: ``input`` (H, W) or (C, H, W); ``kernel`` (kH, kW), (C, kH, kW) or (O, C, kH, kW); ``bias``
    (a number or one per output channel); ``stride``, ``padding`` (number, [h, w], "same", "valid"),
    ``dilation``, ``padding_mode``.

    Response: ``output`` (O, H_out, W_out), ``padded`` (C, H_pad, W_pad), ``padding``, ``formula`` (the
    output-size derivation for H and W), and ``cells[o][i][j]``: the window's padded rows and columns,
    each input channel's products written as the lesson writes them, the bias and the value.
    """
    import numpy as np

    from ..lesson.explain_cells import explain_cells

    image = _matrix(request.get("input"), "input", 3)
    kernel = _matrix(request.get("kernel"), "kernel", 4)
    image = image if image.ndim == 3 else image[None]
    kernel = (
        kernel
        if kernel.ndim == 4
        else kernel[None]
        if kernel.ndim == 3
        else np.broadcast_to(kernel, (image.shape[0], *kernel.shape))[None]
    )
    _limit(max(image.shape[1:]), "side", "the input's height or width")
    _limit(max(image.shape[0], kernel.shape[0]), "channels", "the number of channels")
    _limit(max(kernel.shape[2:]), "kernel", "the kernel's height or width")
    bias = _bias(request.get("bias"), kernel.shape[0])
    settings = _settings(request)
    _check_work(image, kernel, settings)
    return explain_cells(image, kernel, bias, **settings)


def _on_the_page(text: str) -> str:
    """A preset's Python fix (``input="3x224x224"``) in the page's words: the Input field."""
    import re

    return re.sub(r'\binput="([^"]+)"', r"set Input to \1", text)


def network(request: dict[str, Any]) -> dict[str, Any]:
    """Summary, receptive fields and the stack check of a preset or layer string."""
    from dataclasses import asdict

    from ..network.check import check
    from ..network.receptive_field import receptive_field

    model = request.get("model", "")
    if not isinstance(model, str) or not model.strip():
        raise ArgumentError("model must be a preset name or a layer string", fix='model: "resnet18"')
    if len(model) > 2000:
        raise ArgumentError("the layer string is longer than 2000 characters", fix="describe a shorter stack")
    shape = request.get("input") or None
    report = check(model, shape)  # first: it reports every problem, where the summary would stop at one
    problems = [
        {
            "severity": p.severity,
            "line": _on_the_page(p.line()),
            "code": p.diagnosis.code,
            "fix": _on_the_page(p.diagnosis.fix),
        }
        for p in report.problems
    ]
    if not report.ok:
        return {
            "model": report.model,
            "input_shape": list(report.input_shape),
            "layers": [],
            "problems": problems,
            "total_params": 0,
            "total_macs": 0,
            "final": None,
            "path": [],
            "inferred": list(report.inferred),
        }
    result = receptive_field(model, shape)
    _limit(len(result.layers), "layers", "the number of layers")
    return {
        "model": result.model,
        "input_shape": list(result.input_shape),
        "layers": [asdict(layer) for layer in result.layers],
        "total_params": sum(layer.params for layer in result.layers),
        "total_macs": sum(layer.macs for layer in result.layers),
        "final": asdict(result.final),
        "path": list(result.path),
        "problems": problems,
        "inferred": list(report.inferred),  # the sizes a layer string's layers took from their input
    }


def _uploaded(data: str) -> Any:
    """A PNG/JPEG sent as a data URL or base64, decoded and checked."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    encoded = data.split(",", 1)[1] if data.startswith("data:") else data
    if len(encoded) * 3 // 4 > LIMITS["image_bytes"]:
        raise ArgumentError(
            f"the image is larger than {LIMITS['image_bytes'] // 2**20} MB", fix="send a smaller image"
        )
    try:
        raw = base64.b64decode(encoded, validate=True)
        with Image.open(io.BytesIO(raw)) as opened:
            if opened.width * opened.height > 40_000_000:
                raise ArgumentError("the image has too many pixels", fix="send a smaller image")
            return np.asarray(opened.convert("L"), dtype=np.float32)
    except (ValueError, UnidentifiedImageError, OSError):
        raise ArgumentError("the upload is not an image PIL can read", fix="send a PNG or JPEG file") from None


def _downscaled(image: Any) -> Any:
    """Shrink so the longer side is at most LIMITS["image_side"] (area averaging, via PIL)."""
    import numpy as np
    from PIL import Image

    side = LIMITS["image_side"]
    height, width = image.shape
    if max(height, width) <= side:
        return image
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(image.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX))


def features(request: dict[str, Any]) -> dict[str, Any]:
    """Feature maps of a bundled or uploaded image under kernels from the bank, as in ``convlab draw features``.

    Request: ``image`` (a bundled name or an uploaded PNG/JPEG as a data URL), ``kernels`` (names from the
    bank; an empty list gives no maps, a missing one sobel_x and sobel_y).

    Response: ``image`` (H, W) grey 0..1 after shrinking, ``original_size`` [H, W] before it, ``shrunk``,
    ``scale`` (the input's colours) and ``maps``: name, note, kernel, map and ``scale``, the colours the PNGs
    use for it (colour map name, its colour stops low to high, the values at both ends, and whether values
    go past them).
    """
    import numpy as np

    from ..data import IMAGES, load_image
    from ..viz.features import KERNELS, ColourScale, colour_scale, feature_maps

    source = request.get("image", "camera")
    if not isinstance(source, str):
        raise ArgumentError("image must be a bundled image name or an uploaded file", fix='image: "camera"')
    if source in IMAGES:  # names only: a request never names a file on the server
        image = load_image(source).astype(np.float32)
        image = image[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32) if image.ndim == 3 else image
    else:
        image = _uploaded(source)
    original = list(image.shape)
    image = _downscaled(image) / np.float32(255)
    names = request.get("kernels", ["sobel_x", "sobel_y"])
    if not isinstance(names, list) or len(names) > 12 or any(not isinstance(n, str) for n in names):
        raise ArgumentError(
            "kernels must be a list of at most 12 kernel names", fix='kernels: ["sobel_x", "gaussian"]'
        )
    unknown = [name for name in names if name not in KERNELS]
    if unknown:
        raise ArgumentError(
            f"unknown kernel {unknown[0]!r}; the bank has {', '.join(KERNELS)}", fix="pick from the bank"
        )
    maps = feature_maps(image.astype(np.float32), names) if names else []
    return {
        "image": np.round(image, 4).tolist(),
        "original_size": original,
        "shrunk": list(image.shape) != original,
        "scale": _scale(ColourScale("gray", 0.0, 1.0, False, False)),
        "maps": [
            {
                "name": m.name,
                "note": m.description,
                "kernel": m.kernel.tolist(),
                "map": np.round(m.output, 4).tolist(),
                "scale": _scale(colour_scale(m.output)),
            }
            for m in maps
        ],
    }


def _scale(scale: Any) -> dict[str, Any]:
    """A map's colour scale as the page draws it: the stops of the PNG's own colour map, and its range."""
    from ..viz.style import colour_stops

    return {
        "cmap": scale.cmap,
        "stops": colour_stops(scale.cmap),
        "low": scale.low,
        "high": scale.high,
        "above": scale.above,
        "below": scale.below,
    }


def presets(request: dict[str, Any]) -> dict[str, Any]:
    """What the page offers in its menus: lab matrices, the kernel bank, images, networks, limits."""
    from ..data import IMAGES
    from ..lesson.labs import VALUE_PRESETS
    from ..network.presets import PRESETS
    from ..viz.features import KERNELS

    return {
        "labs": {name: {"image": image, "kernel": kernel} for name, (image, kernel) in VALUE_PRESETS.items()},
        "kernels": {
            name: {"matrix": [[value / divisor for value in row] for row in matrix], "note": note}
            for name, (matrix, divisor, note) in KERNELS.items()
        },
        "images": list(IMAGES),
        "models": {name: "x".join(map(str, shape)) for name, (_, shape) in PRESETS.items()},
        "limits": LIMITS,
    }


HANDLERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "conv": conv,
    "network": network,
    "features": features,
    "presets": presets,
    **model_api.HANDLERS,  # the trained model's view
}


def handle(name: str, request: object) -> dict[str, Any]:
    """Run one API call; convlab errors propagate (the server answers 400 with their text)."""
    if not isinstance(request, dict):
        raise ArgumentError("the request body must be a JSON object", fix='send {"input": [[1, 2], [3, 4]], ...}')
    if name not in HANDLERS:
        raise ConvlabError(f"there is no API call {name!r}", fix=f"use one of {', '.join(HANDLERS)}")
    return HANDLERS[name](request)
