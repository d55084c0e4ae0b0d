"""The "Trained model" view in headless Chromium: the page shows what the API computes, and explains any value.

Uses the browser and server of tests/test_browser.py (skipped, like it, without chromium).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from convlab.web import api
from tests.test_browser import GALLERY, page, site  # noqa: F401  (fixtures)


def _open(page: Any) -> None:  # noqa: F811
    page.click("#tab-model")
    page.wait_for_selector("#view-model[data-ready=true]", timeout=30000)


def _verdict_starts(page: Any, text: str) -> None:  # noqa: F811
    page.wait_for_function(f"document.querySelector('#model-verdict').textContent.startsWith({text!r})")


def _short(value: float) -> str:
    """A number as the page writes it: three significant digits."""
    text = f"{float(f'{value:.3g}'):g}"
    return "0" if text == "-0" else text


def test_every_layer_is_drawn_and_the_bars_are_the_probabilities(page: Any) -> None:  # noqa: F811
    _open(page)
    answer = api.handle("model", {"digit": 0})
    layers = answer["layers"]
    assert page.eval_on_selector_all("#model-layers .model-layer h3", "hs => hs.map(h => h.textContent)") == [
        "input",
        *[layer["description"] for layer in layers],
        "probabilities",
    ]
    for index, layer in enumerate(layers):
        drawn = page.eval_on_selector_all(f'#model-layers canvas[data-layer="{index}"]', "cs => cs.length")
        assert drawn == (len(layer["maps"]) if "maps" in layer else 1)
    widths = page.eval_on_selector_all("#model-bars .bar", "bars => bars.map(b => parseFloat(b.style.width))")
    np.testing.assert_allclose(widths, 100 * np.array(answer["probabilities"]), atol=0.051)
    predicted = answer["prediction"]
    assert page.text_content("#model-bars li.predicted span").strip() == str(predicted)
    assert f"test digit #0, a {answer['label']}: the model says {predicted}" in page.text_content("#model-verdict")
    page.screenshot(path=str(GALLERY / "web-model.png"))
    page.set_viewport_size({"width": 420, "height": 900})  # a phone: the layers scroll in their own row
    assert page.evaluate("document.documentElement.scrollWidth") <= 440
    page.set_viewport_size({"width": 1280, "height": 800})


def test_hovering_a_value_explains_it_and_outlines_its_field(page: Any) -> None:  # noqa: F811
    _open(page)
    answer = api.handle("model", {"digit": 0})
    conv = [i for i, layer in enumerate(answer["layers"]) if layer["explainable"]][-1]
    maps = np.array(answer["layers"][conv]["maps"])
    height, width = maps.shape[1:]
    canvas = f'#model-layers canvas[data-layer="{conv}"][data-channel="1"]'
    box = page.eval_on_selector(canvas, "c => [c.clientWidth, c.clientHeight]")
    page.hover(canvas, position={"x": box[0] * 2.5 / width, "y": box[1] * 1.5 / height})  # the value at (1, 2)
    heading = f"channel 1, out[1, 2] = {_short(maps[1, 1, 2])}"
    page.wait_for_function(f"document.querySelector('#model-explain h3').textContent.endsWith({heading!r})")
    unit = api.handle("model_unit", {"digit": 0, "layer": conv, "channel": 1, "row": 1, "col": 2})
    assert page.locator("#model-explain .term").count() == len(unit["terms"])
    values = [term["total"] for term in unit["terms"]] + [unit["bias"]]
    signed = [f"({_short(v)})" if v < 0 else _short(v) for v in values]  # negative in parentheses, as the lesson
    parts = [*signed[:-1], f"bias {signed[-1]}"]
    assert page.text_content("#model-sum") == f"sum over channels: {' + '.join(parts)} = {_short(unit['value'])}"
    rows, cols = unit["field"]["rows"], unit["field"]["cols"]
    assert f"sees input pixels rows {rows[0]}..{rows[1]}, columns {cols[0]}..{cols[1]}" in page.text_content(
        "#model-explain"
    )
    # The field is outlined on the input: its pixels are tinted yellow (more red than blue), the rest stay grey.
    tint = page.evaluate(
        """() => { const c = document.getElementById('model-input'), s = c.width / 8, x = c.getContext('2d');
                   return [...Array(8)].map((_, i) => [...Array(8)].map((_, j) => {
                     const p = x.getImageData(j * s + s / 2, i * s + s / 2, 1, 1).data;
                     return p[0] - p[2]; })); }"""
    )
    inside = np.zeros((8, 8), dtype=bool)
    inside[rows[0] : rows[1] + 1, cols[0] : cols[1] + 1] = True
    assert np.all(np.array(tint)[inside] > 20)
    assert np.all(np.abs(np.array(tint)[~inside]) <= 2)
    page.screenshot(path=str(GALLERY / "web-model-explain.png"), full_page=True)


def test_the_keyboard_reaches_every_value(page: Any) -> None:  # noqa: F811
    _open(page)
    page.focus('#model-layers canvas[data-layer="0"][data-channel="3"]')
    page.wait_for_function(
        "document.querySelector('#model-explain h3').textContent.includes('channel 3, out[0, 0]')"
    )
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "document.querySelector('#model-explain h3').textContent.includes('channel 3, out[1, 1]')"
    )
    assert "reads input rows 0, 1, 2 and columns 0, 1, 2" in page.text_content("#model-explain")


def test_picking_and_drawing_a_digit(page: Any, tmp_path: Path) -> None:  # noqa: F811
    _open(page)
    page.click("#model-more")
    page.wait_for_selector('#model-gallery button[data-index="40"]')
    page.click('#model-gallery button[data-index="47"]')
    _verdict_starts(page, f"test digit #47, a {api.handle('model', {'digit': 47})['label']}")
    assert page.input_value("#model-digit") == "47"
    for start in [*range(80, 450, 40), 0]:  # 450 digits, 40 a page: after the last page, the first again
        page.click("#model-more")
        page.wait_for_selector(f'#model-gallery button[data-index="{start}"]')
    assert page.locator("#model-gallery button").count() == 40
    page.click('#model-gallery button[data-index="7"]')
    _verdict_starts(page, f"test digit #7, a {api.handle('model', {'digit': 7})['label']}")
    page.click("#model-clear")
    _verdict_starts(page, "your drawing")
    assert page.input_value("#model-digit") == ""
    sent: list[Any] = []
    page.on(
        "request", lambda request: sent.append(request.post_data_json) if request.url.endswith("/model") else None
    )
    pad = page.locator("#model-draw").bounding_box()
    page.mouse.move(pad["x"] + 70, pad["y"] + 10)
    page.mouse.down()
    for step in range(1, 11):  # a vertical stroke down column 3: a 1
        page.mouse.move(pad["x"] + 70, pad["y"] + 10 + step * 13)
    page.mouse.up()
    _verdict_starts(page, "your drawing")
    page.wait_for_timeout(300)
    drawn = np.array(sent[-1]["image"])
    assert drawn.shape == (8, 8)
    assert drawn[:, 3].min() == 1.0
    assert drawn[:, 3].sum() == 8
    assert drawn[:, 2].max() <= 1.0
    assert drawn[:, :2].max() == 0.0
    answer = api.handle("model", {"image": drawn.tolist()})
    percent = f"{100 * answer['probabilities'][answer['prediction']]:.1f}%"
    page.wait_for_function(
        f"document.querySelector('#model-verdict').textContent.endsWith('says {answer['prediction']} ({percent})')"
    )
    page.screenshot(path=str(tmp_path / "web-model-drawn.png"), full_page=True)


def test_a_refused_request_shows_the_servers_message(page: Any) -> None:  # noqa: F811
    _open(page)
    page.fill("#model-digit", "4500")
    page.press("#model-digit", "Tab")
    page.wait_for_selector("#error:not([hidden])")
    assert "digit must be a whole number from 0 to 449, got 4500" in page.text_content("#error")
    assert "fix: digit: 449" in page.text_content("#error")
