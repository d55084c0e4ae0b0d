"""The trained-model view's API: every layer equals PyTorch's, each explained value adds up, bad requests 400.

The oracle is the same model in PyTorch (``model.to_torch()``), run layer by layer; receptive fields are
checked against windows walked back through the layers by hand, and against torch's gradients.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.data import digits
from convlab.web import api, model_api
from convlab.web.server import make_server


@pytest.fixture(scope="module")
def digits_model() -> Any:
    """The digits model shipped with convlab (eval mode), the one the page shows."""
    return model_api.trained_model()


@pytest.fixture(scope="module")
def torch_model(digits_model: Any) -> Any:
    return digits_model.to_torch().eval()


def _torch_outputs(model: Any, image: np.ndarray) -> list[np.ndarray]:
    outputs, value = [], torch.from_numpy(image)
    with torch.no_grad():
        for layer in model:
            value = layer(value)
            outputs.append(value[0].numpy())
    return outputs


def test_every_layer_and_the_probabilities_equal_pytorch(digits_model: Any, torch_model: Any) -> None:
    images, labels = digits("test")
    answer = api.handle("model", {"digit": 17})
    assert (answer["digit"], answer["label"]) == (17, int(labels[17]))
    np.testing.assert_array_equal(answer["input"], images[17, 0])
    expected = _torch_outputs(torch_model, images[17:18])
    assert [layer["name"] for layer in answer["layers"]][:2] == ["0.conv2d", "1.batchnorm2d"]
    for layer, want in zip(answer["layers"], expected, strict=True):
        got = np.array(layer["maps"] if want.ndim == 3 else layer["values"])
        assert list(got.shape) == layer["shape"] == list(want.shape)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max(), err_msg=layer["name"])
    probabilities = torch.softmax(torch.from_numpy(expected[-1]).double(), 0).numpy()
    np.testing.assert_allclose(answer["probabilities"], probabilities, rtol=1e-5, atol=1e-7)
    assert answer["prediction"] == int(np.argmax(probabilities))
    assert [layer["explainable"] for layer in answer["layers"]] == [
        type(layer).__name__ == "Conv2d" for layer in digits_model
    ]


def test_a_drawing_runs_like_a_test_digit() -> None:
    images, _ = digits("test")
    drawn = api.handle("model", {"image": images[5, 0].tolist()})
    picked = api.handle("model", {"digit": 5})
    assert (drawn["digit"], drawn["label"]) == (None, None)
    assert drawn["probabilities"] == picked["probabilities"]
    blank = api.handle("model", {"image": [[0] * 8] * 8})
    assert sum(blank["probabilities"]) == pytest.approx(1.0)


def _field_by_hand(model: Any, layer: int, row: int, col: int, size: int) -> tuple[list[int], list[int]]:
    """The input rows and columns unit (row, col) of torch ``model``'s ``layer`` reads, walked back by window."""
    spans = [[row, row], [col, col]]
    for module in reversed(list(model)[: layer + 1]):
        if isinstance(module, (torch.nn.Conv2d, torch.nn.MaxPool2d)):
            kernel, stride, padding, dilation = (
                torch.nn.modules.utils._pair(getattr(module, name))
                for name in ("kernel_size", "stride", "padding", "dilation")
            )
            spans = [
                [first * s - p, last * s - p + d * (k - 1)]
                for (first, last), k, s, p, d in zip(spans, kernel, stride, padding, dilation)
            ]
    return [max(0, spans[0][0]), min(size - 1, spans[0][1])], [max(0, spans[1][0]), min(size - 1, spans[1][1])]


@settings(max_examples=40)
@given(data=st.data(), digit=st.integers(0, 449))
def test_any_convolution_value_is_its_windows_times_kernels_plus_bias(
    digits_model: Any, torch_model: Any, data: st.DataObject, digit: int
) -> None:
    images, _ = digits("test")
    convs = [i for i, layer in enumerate(digits_model) if type(layer).__name__ == "Conv2d"]
    layer = data.draw(st.sampled_from(convs), "layer")
    outputs = _torch_outputs(torch_model, images[digit : digit + 1])
    channels, height, width = outputs[layer].shape
    channel, row, col = (data.draw(st.integers(0, n - 1)) for n in (channels, height, width))
    unit = api.handle("model_unit", {"digit": digit, "layer": layer, "channel": channel, "row": row, "col": col})
    assert unit["value"] == pytest.approx(float(outputs[layer][channel, row, col]), rel=1e-5, abs=1e-5)
    conv = digits_model[layer]
    source = images[digit, :, :, :] if layer == 0 else outputs[layer - 1]
    assert unit["source"] == (
        "input" if layer == 0 else f"{layer - 1}.{type(digits_model[layer - 1]).__name__.lower()}"
    )
    assert unit["source_shape"] == list(source.shape)
    padded = np.pad(source, ((0, 0), *[(p, p) for p in conv.padding]))
    top, left = row * conv.stride[0], col * conv.stride[1]
    for term in unit["terms"]:
        c = term["channel"]
        window = padded[c, top : top + conv.kernel_size[0], left : left + conv.kernel_size[1]]
        np.testing.assert_allclose(term["window"], window, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(term["kernel"], conv.weight[channel, c])
        np.testing.assert_allclose(
            term["products"], np.array(term["window"]) * np.array(term["kernel"]), rtol=1e-6
        )
        assert term["total"] == pytest.approx(float(np.sum(term["products"])), rel=1e-5, abs=1e-6)
    assert [term["channel"] for term in unit["terms"]] == list(range(conv.in_channels))
    assert unit["bias"] == pytest.approx(float(conv.bias[channel]))
    total = sum(term["total"] for term in unit["terms"]) + unit["bias"]
    assert total == pytest.approx(unit["value"], rel=1e-4, abs=1e-4)
    assert unit["input_rows"] == list(range(top - conv.padding[0], top - conv.padding[0] + conv.kernel_size[0]))
    rows, cols = _field_by_hand(torch_model, layer, row, col, 8)
    assert unit["field"] == {"rows": rows, "cols": cols}


def test_the_field_holds_every_pixel_the_value_depends_on(torch_model: Any) -> None:
    images, _ = digits("test")
    x = torch.from_numpy(images[3:4]).requires_grad_(True)
    value = x
    for module in list(torch_model)[:5]:
        value = module(value)
    value[0, 2, 1, 2].backward()
    reached = np.argwhere(x.grad[0, 0].numpy() != 0)
    unit = api.handle("model_unit", {"digit": 3, "layer": 4, "channel": 2, "row": 1, "col": 2})
    (top, bottom), (left, right) = unit["field"]["rows"], unit["field"]["cols"]
    assert len(reached) > 0
    assert reached[:, 0].min() >= top
    assert reached[:, 0].max() <= bottom
    assert reached[:, 1].min() >= left
    assert reached[:, 1].max() <= right


def test_the_test_digits_come_a_page_at_a_time() -> None:
    images, labels = digits("test")
    first, last = api.handle("model_digits", {}), api.handle("model_digits", {"start": 440})
    assert first["total"] == len(images) == 450
    assert [d["index"] for d in first["digits"]] == list(range(model_api.PAGE))
    assert [d["index"] for d in last["digits"]] == list(range(440, 450))
    assert [d["label"] for d in last["digits"]] == labels[440:].tolist()
    np.testing.assert_array_equal(first["digits"][9]["image"], images[9, 0])


def _at(layer: int, channel: int = 0, row: int = 0, col: int | None = 0) -> dict[str, int | None]:
    return {"layer": layer, "channel": channel, "row": row, "col": col}


# The layer numbers are the shipped digits_cnn's: convolutions at 0 (16 channels) and 4 (32), 10 layers in all.
@pytest.mark.parametrize(
    ("call", "request_", "message", "fix"),
    [
        ("model", {"digit": 450}, "digit must be a whole number from 0 to 449, got 450", "digit: 449"),
        ("model", {"digit": True}, "got True", "digit: 0"),
        ("model", {"digit": "3"}, "got '3'", "digit: 0"),
        (
            "model",
            {"image": [[0] * 8] * 7},
            "image must be 8 rows of 8 numbers",
            "8 rows of 8 numbers from 0 to 1",
        ),
        ("model", {"image": [[0] * 7] * 8}, "got a row [0, 0, 0, 0, 0, 0, 0]", "from 0 to 1"),
        ("model", {"image": [[0.5] * 8] * 7 + [[0] * 7 + [16]]}, "image holds 16.0", "divide counts 0..16 by 16"),
        ("model", {"image": [[0] * 8] * 7 + [[0] * 7 + [True]]}, "got a row", "from 0 to 1"),
        ("model", {"image": "0 1; 1 0"}, "image must be 8 rows", "from 0 to 1"),
        ("model_digits", {"start": -1}, "start must be a whole number from 0 to 449", "start: 0"),
        ("model_unit", _at(2), "layer 2 (relu) is not a convolution", "0, 4"),
        ("model_unit", _at(10), "layer must be a whole number from 0 to 9", "9"),
        ("model_unit", _at(4, channel=32), "channel must be a whole number from 0 to 31", "31"),
        ("model_unit", _at(4, row=4), "row must be a whole number from 0 to 3", "3"),
        ("model_unit", _at(0, col=None), "col must be a whole number from 0 to 7, got None", "col: 0"),
    ],
)
def test_bad_requests_name_the_argument_and_a_fix(call: str, request_: dict, message: str, fix: str) -> None:
    from convlab.errors import ConvlabError

    with pytest.raises(ConvlabError) as caught:
        api.handle(call, request_)
    assert message in caught.value.message
    assert caught.value.fix is not None
    assert fix in caught.value.fix


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _post(base: str, name: str, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base}/api/{name}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read(), parse_constant=lambda name: pytest.fail(name))
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_server_answers_json_and_400s_with_the_fix(base: str) -> None:
    status, answer = _post(base, "model", {"digit": 2})
    assert status == 200
    assert len(answer["probabilities"]) == 10
    status, answer = _post(base, "model_unit", {"digit": 2, "layer": 0, "channel": 1, "row": 7, "col": 7})
    assert status == 200
    assert answer["input_rows"] == [6, 7, 8]
    status, answer = _post(base, "model_unit", {"digit": 2, "layer": 3, "channel": 0, "row": 0, "col": 0})
    assert status == 400
    assert answer["error"].startswith("layer 3 (maxpool 2) is not a convolution")
    assert answer["fix"] == "layer: one of 0, 4 (the convolutions)"
    status, answer = _post(base, "model", {"image": [[0.1] * 8] * 8, "digit": 3})
    assert status == 200
    assert answer["digit"] is None


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 40) | st.floats(-2, 2) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=9),
    max_leaves=90,
)


_KEYS = ["digit", "image", "layer", "channel", "row", "col", "start"]


@settings(max_examples=60)
@given(call=st.sampled_from(sorted(model_api.HANDLERS)), request_=st.dictionaries(st.sampled_from(_KEYS), _JSON))
def test_any_json_gets_an_answer_or_a_convlab_error(call: str, request_: dict) -> None:
    from convlab.errors import ConvlabError

    try:
        answer = api.handle(call, request_)
    except ConvlabError as error:
        fix = error.fix  # every refusal says what to send instead
    else:
        fix = json.dumps(answer, allow_nan=False)  # what the server sends: never NaN
    assert fix
