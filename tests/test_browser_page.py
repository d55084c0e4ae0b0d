"""The explorer page says nothing stale or misleading, in a real headless Chromium: errors clear old answers,
hidden fields stay hidden, map colours and legends are the PNGs', and keyboard users get one Tab stop a widget.

Uses the server, browser and page fixtures of tests/test_browser.py (skipped with it when chromium is missing).
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

from convlab.viz import style
from convlab.web import api
from tests import test_browser

# the module's server and browser, and a fresh page a test, shared with tests/test_browser.py
site = test_browser.site
page = test_browser.page
_grid = test_browser._grid

LAB1_OUTPUT = [[-2, 2, -4], [4, 0, -1], [0, 0, 1]]


def _text(page: object, selector: str) -> str:
    return str(page.text_content(selector)).strip()  # type: ignore[attr-defined]


def _box(page: object, selector: str) -> dict[str, float]:
    return page.eval_on_selector(selector, "e => e.getBoundingClientRect().toJSON()")  # type: ignore[attr-defined]


# --- errors clear what the last answer showed ---------------------------------------------------------------


def test_an_error_clears_the_playgrounds_old_grids_and_arithmetic(page: object) -> None:
    np.testing.assert_array_equal(_grid(page, "#output"), LAB1_OUTPUT)
    assert _text(page, "#arithmetic")
    page.fill("#kernel", "1 2; 3")
    page.wait_for_selector("#error:not([hidden])")
    for selector in ("#padded", "#output", "#where", "#arithmetic", "#formula"):
        assert _text(page, selector) == "", selector
    assert page.eval_on_selector_all("#padded td, #output td", "cells => cells.length") == 0
    page.click("#step")  # nothing to step through: no stale explanation comes back
    assert _text(page, "#arithmetic") == ""
    page.fill("#kernel", "1 0; 0 -1")
    page.wait_for_selector("#error", state="hidden")
    np.testing.assert_array_equal(_grid(page, "#output"), LAB1_OUTPUT)


def test_an_error_clears_the_channels_and_the_network(page: object) -> None:
    page.click("#tab-channels")
    page.fill("#mc-input", "1 2; 3 4 | 5 6 7")
    page.wait_for_selector("#error:not([hidden])")
    for selector in ("#mc-channels", "#mc-output", "#mc-sum"):
        assert _text(page, selector) == "", selector
    page.click("#tab-network")
    assert "no problems" in _text(page, "#problems")
    assert _text(page, "#rf-text")
    page.fill("#model", "conv3x3(16) bogus(3)")
    page.click("#summarize")
    page.wait_for_function("document.querySelector('#net-table').rows.length === 0")
    assert _text(page, "#error")
    assert _text(page, "#problems") == ""  # no "no problems" left beside an error
    assert _text(page, "#rf-text") == ""
    assert not page.is_visible("#rf-canvas")


# --- the padding-size field -----------------------------------------------------------------------------------


def test_padding_size_is_hidden_unless_padding_is_a_number(page: object) -> None:
    assert page.is_visible("#padding")
    for kind in ("same", "valid"):
        page.select_option("#padding-kind", kind)
        page.wait_for_selector("#padding", state="hidden")
        assert page.eval_on_selector(".padding-number", "e => getComputedStyle(e).display") == "none"
    page.select_option("#padding-kind", "number")
    page.wait_for_selector("#padding", state="visible")


# --- feature maps: colours and legends as in the PNGs ---------------------------------------------------------


def _pixel(page: object, kernel: str, i: int, j: int) -> list[int]:
    selector = "#maps canvas" if kernel == "input" else f"#maps canvas[data-kernel='{kernel}']"
    script = f"c => [...c.getContext('2d').getImageData({j}, {i}, 1, 1).data.slice(0, 3)]"
    return list(page.eval_on_selector(selector, script))  # type: ignore[attr-defined]


def _rgb(colour: str) -> list[int]:
    return [int(colour[k : k + 2], 16) for k in (1, 3, 5)]


def test_non_negative_maps_look_like_the_image_and_every_map_has_the_pngs_legend(page: object) -> None:
    page.click("#tab-image")
    for name in ("identity", "box_blur"):
        page.check(f"#kernel-bank input[value={name}]")
    page.click("#apply-kernels")
    page.wait_for_selector("#maps canvas[data-kernel='identity']")
    answer = api.handle("features", {"image": "camera", "kernels": ["identity", "box_blur", "sobel_x"]})
    legends = page.eval_on_selector_all("#maps .colour-legend", "ls => ls.map(l => l.dataset.cmap)")
    figures = page.eval_on_selector_all("#maps figure", "fs => fs.length")
    assert len(legends) == figures  # every map, and the input, has a colour legend
    cmaps = dict(
        zip(
            page.eval_on_selector_all("#maps canvas", "cs => cs.map(c => c.dataset.kernel || 'input')"),
            legends,
        )
    )
    assert cmaps["identity"] == cmaps["box_blur"] == cmaps["gaussian"] == style.SEQUENTIAL_CMAP
    assert cmaps["sobel_x"] == cmaps["laplacian"] == style.DIVERGING_CMAP
    for i, j in [(10, 10), (80, 40), (150, 120)]:  # identity: drawn exactly as the input is
        assert _pixel(page, "identity", i, j) == _pixel(page, "input", i, j)
        grey = round(255 * answer["image"][i][j])
        assert all(abs(value - grey) <= 1 for value in _pixel(page, "input", i, j))
    sobel = np.array(answer["maps"][2]["map"])
    scale = answer["maps"][2]["scale"]
    assert scale["stops"] == style.colour_stops(style.DIVERGING_CMAP)
    for value, stop in [(sobel.max(), -1), (sobel.min(), 0)]:  # past the ends: the end colours of PuOr_r
        i, j = np.unravel_index(np.argmax(sobel == value), sobel.shape)
        assert _pixel(page, "sobel_x", int(i), int(j)) == _rgb(scale["stops"][stop])
    ticks = page.eval_on_selector_all(
        "#maps figure:nth-child(2) .colour-legend .ticks span", "ts => ts.map(t => t.textContent)"
    )
    assert ticks == ["0", "1"]  # identity: grey from 0 to 1, like the input
    gradient = page.eval_on_selector("#maps .colour-legend .bar", "b => getComputedStyle(b).backgroundImage")
    assert gradient.startswith("linear-gradient")
    assert "rgb(0, 0, 0)" in gradient


def test_unchecking_every_kernel_shows_no_map(page: object) -> None:
    page.click("#tab-image")
    page.wait_for_selector("#maps canvas[data-kernel]")
    for box in page.query_selector_all("#kernel-bank input:checked"):
        box.uncheck()
    page.click("#apply-kernels")
    page.wait_for_function("document.querySelectorAll('#maps canvas[data-kernel]').length === 0")
    assert page.eval_on_selector_all("#maps figure", "fs => fs.length") == 1  # the input alone


def test_an_upload_says_it_was_shrunk(page: object, tmp_path: Path) -> None:
    page.click("#tab-image")
    wide = np.tile(np.linspace(0, 255, 400, dtype=np.uint8), (300, 1))
    Image.fromarray(wide).save(tmp_path / "wide.png")
    page.set_input_files("#upload", str(tmp_path / "wide.png"))
    page.wait_for_function("document.querySelector('#maps figure small').textContent.includes('300 x 400')")
    note = _text(page, "#maps figure small")
    assert note.startswith("shrunk from 300 x 400 to 120 x 160 grey")
    assert "160 pixels a side" in note
    small = np.zeros((30, 50), dtype=np.uint8)
    Image.fromarray(small).save(tmp_path / "small.png")
    page.set_input_files("#upload", str(tmp_path / "small.png"))
    page.wait_for_function("document.querySelector('#maps figure small').textContent === '30 x 50 grey'")


# --- channels, network table, large inputs ----------------------------------------------------------------------


def test_channels_label_each_input_channel_and_its_kernel(page: object) -> None:
    page.click("#tab-channels")
    labels = page.eval_on_selector_all("#mc-channels .part-label", "ls => ls.map(l => l.textContent)")
    assert labels == [text for c in range(3) for text in (f"input channel {c}", f"kernel for channel {c}")]
    typed = ["1 0; 0 -1", "0 1; 1 0", "1 1; 0 0"]
    for c, kernel in enumerate(typed):
        expected = [[float(v) for v in row.split()] for row in kernel.split(";")]
        np.testing.assert_array_equal(_grid(page, f"#mc-kernel-{c}"), expected)
        assert page.get_attribute(f"#mc-kernel-{c}", "aria-label") == f"kernel for channel {c}"


def test_the_network_table_fits_a_1280_pixel_window(page: object) -> None:
    page.click("#tab-network")
    page.fill("#model", "resnet18")
    page.press("#model", "Tab")
    page.click("#summarize")
    page.wait_for_function("document.querySelector('#net-table').textContent.includes('layer4.1.conv2')")
    assert page.eval_on_selector(".table-wrap", "w => w.scrollWidth <= w.clientWidth")
    assert _box(page, "#net-table")["right"] <= 1280
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_a_30x30_input_keeps_the_explanation_beside_the_grids(page: object) -> None:
    image = (np.arange(900).reshape(30, 30) * 7 % 10).astype(np.float32)
    page.fill("#input", "; ".join(" ".join(str(int(v)) for v in row) for row in image))
    page.wait_for_function("document.querySelectorAll('#output tr').length === 29")
    grids, explanation = _box(page, ".grids"), _box(page, ".explanation")
    assert explanation["left"] >= grids["right"] - 1  # beside, not under
    assert explanation["top"] < grids["top"] + 50
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    expected = image[:-1, :-1] - image[1:, 1:]  # the lesson's kernel [[1, 0], [0, -1]]
    np.testing.assert_array_equal(_grid(page, "#output"), expected)


# --- keyboard: one Tab stop a widget ----------------------------------------------------------------------------


def _focused(page: object) -> dict[str, str | None]:
    script = (
        "() => { const e = document.activeElement;"
        " return {id: e.id, role: e.getAttribute('role'), i: e.dataset.i ?? null, j: e.dataset.j ?? null}; }"
    )
    return page.evaluate(script)  # type: ignore[attr-defined]


def test_the_tab_bar_is_one_tab_stop_with_arrows_inside(page: object) -> None:
    assert page.eval_on_selector_all("[role=tab]", "ts => ts.filter(t => t.tabIndex >= 0).length") == 1
    page.focus("#tab-playground")
    page.keyboard.press("ArrowRight")
    assert _focused(page)["id"] == "tab-channels"
    assert page.get_attribute("#tab-channels", "aria-selected") == "true"
    assert page.is_visible("#view-channels")
    page.keyboard.press("End")
    last = page.eval_on_selector_all("[role=tab]", "ts => ts[ts.length - 1].id")
    assert _focused(page)["id"] == last
    page.keyboard.press("Home")
    assert _focused(page)["id"] == "tab-playground"
    page.keyboard.press("Tab")  # one press leaves the tab bar
    assert _focused(page)["role"] != "tab"
    page.keyboard.press("Shift+Tab")
    assert _focused(page)["id"] == "tab-playground"


def test_the_output_grid_is_one_tab_stop_with_arrows_inside(page: object) -> None:
    assert page.get_attribute("#output", "role") == "grid"
    assert set(page.eval_on_selector_all("#output tr", "rs => rs.map(r => r.getAttribute('role'))")) == {"row"}
    assert page.eval_on_selector_all("#output td", "cs => cs.filter(c => c.tabIndex === 0).length") == 1
    page.focus("#output td[tabindex='0']")
    page.keyboard.press("ArrowRight")
    assert _focused(page)["i"] == "0"
    assert _focused(page)["j"] == "1"
    assert _text(page, "#arithmetic").endswith("out[0, 1] = 2")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # stops at the edge
    assert (_focused(page)["i"], _focused(page)["j"]) == ("2", "1")
    assert _text(page, "#arithmetic").endswith("out[2, 1] = 0")
    assert page.eval_on_selector_all("#output td", "cs => cs.filter(c => c.tabIndex === 0).length") == 1
    page.keyboard.press("Tab")  # one press leaves the grid
    assert _focused(page)["role"] != "gridcell"
    page.keyboard.press("Shift+Tab")  # and comes back to the cell last explained
    assert (_focused(page)["i"], _focused(page)["j"]) == ("2", "1")


# --- favicon ----------------------------------------------------------------------------------------------


def test_the_page_has_a_small_favicon(page: object) -> None:
    href = page.eval_on_selector("link[rel=icon]", "l => l.href")
    for address in (href, page.url + "favicon.ico"):
        with urllib.request.urlopen(address) as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"] == "image/svg+xml"
            body = answer.read()
        assert body.startswith(b"<svg")
        assert len(body) < 2048
    size = page.evaluate(
        "href => new Promise(done => { const i = new Image(); i.onload = () => done(i.naturalWidth);"
        " i.onerror = () => done(0); i.src = href; })",
        href,
    )
    assert size > 0  # the browser draws it
