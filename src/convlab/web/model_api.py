"""The trained-model view's API: one digit through every layer of the digits model convlab trained.

Three calls, JSON in and out like the rest of :mod:`convlab.web.api`:

* ``model_digits``: a page of the test digits to pick from (images and labels);
* ``model``: one digit, a test digit by index or an 8x8 drawing, run through the model layer by
  layer: every layer's output (feature maps, or a vector after flatten), each layer's receptive
  field, and the class probabilities (softmax of the last layer);
* ``model_unit``: one value of a convolution layer's output explained as the lesson does it:
  every input channel's window, its kernel, their products and sums, the bias, and the input
  pixels the value can see (its receptive field, clipped to the image).

Every number comes from convlab's layers (the model is a ``convlab.nn.Sequential`` in eval mode);
the explanation comes from :func:`convlab.lesson.explain.explain`, which checks itself against
the engine's own output.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from typing import Any

from ..errors import ArgumentError, ArgumentTypeError

__all__ = ["HANDLERS", "PAGE", "model", "model_digits", "model_unit", "trained_model"]

PAGE = 40  # test digits per model_digits answer
_LOCK = threading.Lock()  # a forward switches the shared model to eval and back: one at a time


@cache
def trained_model() -> Any:
    """The digits model shipped with convlab, read once (eval mode)."""
    from ..data import trained_digits_model

    return trained_digits_model()


@cache
def _test_digits() -> tuple[Any, Any]:
    from ..data import digits

    return digits("test")


def _integer(request: dict[str, Any], key: str, default: int | None, low: int, high: int) -> int:
    """``request[key]`` as a whole number in ``low..high``; a bool, a float or a string is refused."""
    value = request.get(key, default)
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    nearest = min(max(value, low), high) if isinstance(value, int) and not isinstance(value, bool) else low
    raise ArgumentError(
        f"{key} must be a whole number from {low} to {high}, got {value!r:.40}", fix=f"{key}: {nearest}"
    )


def _drawing(value: object, shape: tuple[int, int]) -> Any:
    """An (H, W) drawing from the page: rows of numbers from 0 (background) to 1 (ink)."""
    import numpy as np

    height, width = shape
    example = f"image: {height} rows of {width} numbers from 0 to 1"
    if not isinstance(value, list) or len(value) != height:
        raise ArgumentTypeError(
            f"image must be {height} rows of {width} numbers (the model reads {height}x{width} digits)",
            fix=example,
        )
    rows = []
    for row in value:
        if (
            not isinstance(row, list)
            or len(row) != width
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row)
        ):
            raise ArgumentTypeError(
                f"image must be {height} rows of {width} numbers, got a row {row!r:.60}", fix=example
            )
        rows.append(row)
    image = np.array(rows, dtype=np.float64)
    if not np.all((image >= 0) & (image <= 1)):  # also refuses nan
        worst = image.ravel()[np.argmax(np.where(np.isnan(image), np.inf, np.abs(image - 0.5)))]
        raise ArgumentError(
            f"image holds {float(worst)}: pixels go from 0 (background) to 1 (ink)",
            fix="scale the drawing into 0..1, e.g. divide counts 0..16 by 16",
        )
    return image.astype(np.float32)


def _digit(request: dict[str, Any]) -> tuple[Any, int | None, int | None]:
    """The request's digit: (image (1, 1, H, W) float32, its test index or None, its label or None)."""
    images, labels = _test_digits()
    if request.get("image") is not None:
        return _drawing(request["image"], images.shape[2:])[None, None], None, None
    index = _integer(request, "digit", 0, 0, len(images) - 1)
    return images[index : index + 1], index, int(labels[index])


def _layers(model: Any) -> list[Any]:
    from ..nn import Sequential

    return list(model) if isinstance(model, Sequential) else [model]


def _activations(model: Any, image: Any) -> list[Any]:
    """Each layer's output for ``image`` (1, C, H, W), in order, without the batch axis."""
    from ..train.activations import activations

    with _LOCK:
        return activations(model, image[0])


def _convolution(layer: Any) -> bool:
    """Whether ``layer`` is a plain convolution, the kind of layer whose values model_unit explains."""
    from ..nn import Conv2d

    return isinstance(layer, Conv2d)


def _records(model: Any, shape: tuple[int, ...]) -> Any:
    from ..network.receptive_field import receptive_field

    return receptive_field(model, shape).layers


def model_digits(request: dict[str, Any]) -> dict[str, Any]:
    """A page of the test set: ``start`` (default 0) -> ``digits``: up to PAGE of {index, label, image}."""
    images, labels = _test_digits()
    start = _integer(request, "start", 0, 0, len(images) - 1)
    return {
        "total": len(images),
        "digits": [
            {"index": index, "label": int(labels[index]), "image": images[index, 0].tolist()}
            for index in range(start, min(start + PAGE, len(images)))
        ],
    }


def model(request: dict[str, Any]) -> dict[str, Any]:
    """One digit through every layer.

    Request: ``digit`` (a test index, default 0) or ``image`` (H x W numbers in 0..1, a drawing).

    Response: ``input`` (H, W); ``digit`` and ``label`` (None for a drawing); ``layers``: per layer
    its ``name``, ``kind``, ``description``, ``shape`` (without the batch), ``maps`` (C, H, W) or
    ``values`` (F,), ``rf``/``jump``/``start`` (its receptive field, None once global) and
    ``explainable`` (a convolution: model_unit explains its values); ``probabilities`` (softmax of
    the last layer), ``prediction``.
    """
    net = trained_model()
    image, index, label = _digit(request)
    from ..train.activations import probabilities as softmax

    outputs = _activations(net, image)
    probabilities = softmax(outputs)
    layers = []
    for layer, record, output in zip(_layers(net), _records(net, image.shape), (o.output for o in outputs)):
        layers.append(
            {
                "name": record.name,
                "kind": record.kind,
                "description": record.description,
                "shape": list(output.shape),
                "maps" if output.ndim == 3 else "values": output.tolist(),
                "rf": None if record.rf is None else list(record.rf),
                "jump": list(record.jump),
                "start": list(record.start),
                "explainable": _convolution(layer),
            }
        )
    return {
        "input": image[0, 0].tolist(),
        "digit": index,
        "label": label,
        "layers": layers,
        "classes": [str(c) for c in range(len(probabilities))],
        "probabilities": probabilities.tolist(),
        "prediction": int(probabilities.argmax()),
    }


def model_unit(request: dict[str, Any]) -> dict[str, Any]:
    """One value of a convolution layer explained: patch x kernel -> sum, per input channel, plus bias.

    Request: the digit as for :func:`model`, and ``layer`` (its index), ``channel``, ``row``, ``col``.

    Response: ``value``; ``terms``: per input channel its ``window`` (the padded input under the
    kernel), ``kernel``, ``products``, ``total`` and ``equation``; ``bias``; ``input_rows`` and
    ``input_cols`` (the window in the layer input's coordinates: negative or past the end is
    padding); ``source`` (the layer whose output this convolution reads, "input" for the image) and
    ``source_shape`` (C, H, W);
    ``field``: the input image's rows and columns ([first, last]) the value can see.
    """
    from ..lesson.explain import explain
    from ..lesson.explain_text import equation

    net = trained_model()
    image, _, _ = _digit(request)
    layers = _layers(net)
    index = _integer(request, "layer", None, 0, len(layers) - 1)
    records = _records(net, image.shape)
    record = records[index]
    if not _convolution(layers[index]):
        convs = [i for i, layer in enumerate(layers) if _convolution(layer)]
        raise ArgumentError(
            f"layer {index} ({record.description}) is not a convolution; its values are not patch x kernel sums",
            fix=f"layer: one of {', '.join(map(str, convs))} (the convolutions)",
        )
    channels, height, width = record.output_shape[1:]
    channel = _integer(request, "channel", None, 0, channels - 1)
    row = _integer(request, "row", None, 0, height - 1)
    col = _integer(request, "col", None, 0, width - 1)
    source = image[0] if index == 0 else _activations(net, image)[index - 1].output
    conv = layers[index]
    trace = explain(
        source,
        conv.weight,
        conv.bias,
        at=(row, col),
        out_channel=channel,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=conv.groups,
        padding_mode=conv.padding_mode,
    )
    return {
        "layer": index,
        "name": record.name,
        "description": record.description,
        "source": "input" if index == 0 else records[index - 1].name,
        "source_shape": list(source.shape),
        "channel": channel,
        "position": [row, col],
        "value": trace.value,
        "bias": trace.bias,
        "terms": [
            {
                "channel": term.channel,
                "window": term.patch.tolist(),
                "kernel": term.kernel.tolist(),
                "products": term.products.tolist(),
                "total": term.total,
                "equation": equation(term),
            }
            for term in trace.terms
        ],
        "input_rows": list(trace.input_rows),
        "input_cols": list(trace.input_cols),
        "field": _field(record, (row, col), image.shape[2:]),
    }


def _field(record: Any, unit: tuple[int, int], size: tuple[int, int]) -> dict[str, list[int]]:
    """The input rows and columns ([first, last]) unit ``unit`` of ``record``'s output sees, within the image."""
    import math

    spans = []
    for rf, jump, start, at, extent in zip(record.rf, record.jump, record.start, unit, size):
        centre, half = start + at * jump, (rf - 1) / 2
        spans.append([max(0, math.ceil(centre - half)), min(extent - 1, math.floor(centre + half))])
    return {"rows": spans[0], "cols": spans[1]}


HANDLERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "model": model,
    "model_digits": model_digits,
    "model_unit": model_unit,
}
