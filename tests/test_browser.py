"""The explorer page in a real headless Chromium: values and arithmetic on the page equal convlab's conv2d.

Needs Debian's chromium (`apt-get install -y chromium`) and the playwright package (never `playwright install`).
Skipped when they are missing on a developer's machine; CI installs them and runs this.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import convlab.functional as F
from convlab.web.server import make_server

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Screenshots go to a scratch folder; CONVLAB_SCREENSHOTS=docs/gallery refreshes the committed ones.
GALLERY = Path(os.environ.get("CONVLAB_SCREENSHOTS") or tempfile.mkdtemp(prefix="convlab-screens-"))


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[object, str]]:
    """One server and one browser for the module: (browser, the page's address)."""
    server = make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser, f"http://127.0.0.1:{server.server_address[1]}/"
        browser.close()
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(site: tuple[object, str]) -> Iterator[object]:
    """A fresh page for each test, so no test sees the tabs and fields another one changed."""
    browser, address = site
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(address)
    tab.wait_for_selector("body[data-ready=true]", timeout=30000)
    yield tab
    context.close()
    assert errors == [], errors


def _grid(page: object, selector: str) -> np.ndarray:
    script = "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
    rows = page.eval_on_selector_all(f"{selector} tr", script)
    return np.array([[float(v) for v in row] for row in rows])


def test_playground_shows_the_lessons_lab_1(page: object) -> None:
    np.testing.assert_array_equal(_grid(page, "#output"), [[-2, 2, -4], [4, 0, -1], [0, 0, 1]])
    page.hover("#output td[data-i='1'][data-j='0']")
    assert page.text_content("#arithmetic") == "5*1 + 3*0 + 2*0 + 1*(-1) = 4   →   out[1, 0] = 4"
    window = page.eval_on_selector_all("#padded td.window", "cells => cells.map(c => c.textContent)")
    assert window == ["5", "3", "2", "1"]
    page.screenshot(path=str(GALLERY / "web-playground.png"))


def test_changing_kernel_stride_and_padding_updates_every_value(page: object) -> None:
    image = np.array([[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]], dtype=np.float32)
    kernel = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=np.float32)
    page.fill("#kernel", "1 2 1; 0 0 0; -1 -2 -1")
    page.fill("#stride", "2")
    page.select_option("#padding-kind", "number")
    page.fill("#padding", "1")
    page.wait_for_function("document.querySelectorAll('#output tr').length === 2")
    expected = F.conv2d(image[None, None], kernel[None, None], stride=2, padding=1)[0, 0]
    np.testing.assert_allclose(_grid(page, "#output"), expected, rtol=1e-4)
    page.focus("#output td[data-i='1'][data-j='1']")  # keyboard reachable: focus shows the same explanation
    assert page.text_content("#arithmetic").endswith(f"out[1, 1] = {expected[1, 1]:g}")
    assert "floor((4 + 2*1 - 3) / 2) + 1" in page.text_content("#formula")
    page.fill("#kernel", "1 2; 3")  # a ragged kernel: the CLI's message, on the page
    page.wait_for_selector("#error:not([hidden])")
    assert "rows have different lengths" in page.text_content("#error")
    page.fill("#kernel", "1 0; 0 -1")
    page.fill("#stride", "1")
    page.fill("#padding", "0")
    page.wait_for_selector("#error", state="hidden")


def test_channels_add_up_with_the_bias(page: object) -> None:
    page.click("#tab-channels")
    page.hover("#mc-output td[data-i='0'][data-j='0']")
    text = page.text_content("#mc-sum")
    assert "sum over channels: -2 + 2 + 4 + bias 0.5 = 4.5" in text
    page.screenshot(path=str(GALLERY / "web-channels.png"))


def test_image_upload_and_feature_maps(page: object, tmp_path: Path) -> None:
    from PIL import Image

    page.click("#tab-image")
    page.wait_for_selector("#maps canvas[data-kernel='sobel_x']")
    page.screenshot(path=str(GALLERY / "web-image.png"))
    Image.fromarray(np.tile(np.arange(0, 250, 5, dtype=np.uint8), (30, 1))).save(tmp_path / "ramp.png")
    page.set_input_files("#upload", str(tmp_path / "ramp.png"))
    page.wait_for_function("document.querySelector('#maps figure small').textContent.startsWith('30 x 50')")


def test_network_table_and_problems(page: object) -> None:
    page.click("#tab-network")
    page.fill("#model", "resnet18")
    page.press("#model", "Tab")  # leaving the field picks the preset's own input shape
    assert page.input_value("#net-input") == "3x224x224"
    page.click("#summarize")
    page.wait_for_function("document.querySelector('#net-table').textContent.includes('layer4.1.conv2')")
    total = page.text_content("#net-table tr:last-child")
    assert "11,689,512" in total
    assert "receptive field 435x435" in page.text_content("#rf-text")
    page.screenshot(path=str(GALLERY / "web-network.png"))
    page.fill("#model", "conv5x5(6) maxpool2 conv5x5(16) maxpool2 flatten linear(10) conv3x3(4)")
    page.press("#model", "Tab")
    page.fill("#net-input", "1x28x28")
    page.click("#summarize")
    page.wait_for_function("document.querySelector('#problems').textContent.includes('error')")
    assert "fix:" in page.text_content("#problems")


def test_readable_on_a_narrow_window(page: object) -> None:
    page.set_viewport_size({"width": 420, "height": 900})
    page.click("#tab-playground")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 440  # nothing forces sideways scrolling
    page.set_viewport_size({"width": 1280, "height": 800})


def test_network_view_reports_a_presets_wrong_input(page: object) -> None:
    page.click("#tab-network")
    page.fill("#model", "resnet18")
    page.press("#model", "Tab")
    page.fill("#net-input", "1x224x224")
    page.click("#summarize")
    page.wait_for_function("document.querySelector('#problems').textContent.includes('expects 3 channels')")
    problems = page.text_content("#problems")
    assert "resnet18 expects 3 channels; got 1; did you mean 3x224x224?" in problems
    assert "fix: set Input to 3x224x224" in problems
    assert "11,689,512" not in page.text_content("#net-table")  # no table for a network that does not fit
    page.screenshot(path=str(GALLERY / "web-network-wrong-input.png"))
