"""The playground widget in a real JupyterLab, driven in headless Chromium.

Starts ``python -m jupyterlab`` on 127.0.0.1 (a free port, a token, no browser) over a scratch folder
holding a copy of notebooks/convolution-basics.ipynb, with PYTHONPATH leading to this checkout; opens the
notebook, runs the cell tagged "playground", changes the stride in the widget's own control and checks the
grid it shows against convlab.functional.conv2d, then runs the next cell to read ``playground.stride``
back in Python. Needs Debian's chromium, the playwright package and the notebook extra; skipped without
them. CONVLAB_SCREENSHOTS=docs/gallery refreshes docs/gallery/jupyterlab-playground.png.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import convlab.functional as F
from tests.conftest import environment_for_the_convlab_under_test

pytest.importorskip("jupyterlab", reason='JupyterLab is not installed (pip install -e ".[notebook]")')
pytest.importorskip("anywidget", reason='anywidget is not installed (pip install -e ".[notebook]")')
sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None and not os.environ.get("CI"):  # CI installs it, so there a missing one fails
    pytest.skip("chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

pytestmark = pytest.mark.slow  # starting JupyterLab and its kernel takes tens of seconds

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "convolution-basics.ipynb"
GALLERY = Path(os.environ.get("CONVLAB_SCREENSHOTS") or tempfile.mkdtemp(prefix="convlab-screens-"))
LAB1_IMAGE = np.array([[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]], dtype=np.float64)
LAB1_KERNEL = np.array([[1, 0], [0, -1]], dtype=np.float64)
# the Channels widget's defaults, the explorer page's channels view
CHANNELS_IMAGE = np.array(
    [[[1, 2, 0], [5, 3, 0], [2, 1, 3]], [[0, 1, 1], [1, 0, 2], [3, 1, 0]], [[2, 2, 1], [0, 1, 0], [1, 0, 1]]],
    dtype=float,
)
CHANNELS_KERNELS = np.array([[[1, 0], [0, -1]], [[0, 1], [1, 0]], [[1, 1], [0, 0]]], dtype=float)
WAIT_MS = 120_000  # JupyterLab's first load and a kernel's start on a busy two-core machine


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except (urllib.error.URLError, OSError):
        return 0


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running JupyterLab over a scratch root holding the notebook; yields the notebook's URL."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    home = tmp_path_factory.mktemp("jupyter-home")  # no user settings, workspaces or news get in
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port, token = _free_port(), secrets.token_hex(16)
    env = environment_for_the_convlab_under_test(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
        CONVLAB_WARNINGS="0",
    )
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly",
        *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),  # containers run as root
    ]  # fmt: skip
    log = (home / "server.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while _get(f"{base}/api/status?token={token}") != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start:\n{(home / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield f"{base}/lab/tree/{NOTEBOOK.name}?token={token}"
    finally:
        # the server's own shutdown: kernels stopped, then the process ends
        request = urllib.request.Request(f"{base}/api/shutdown", method="POST")
        request.add_header("Authorization", f"token {token}")
        try:
            urllib.request.urlopen(request, timeout=10).close()
            server.wait(timeout=30)
        except (urllib.error.URLError, OSError, subprocess.TimeoutExpired):
            server.terminate()
            server.wait(timeout=30)
        log.close()


def _cell(page: object, tag_text: str) -> object:
    """The notebook cell whose code contains ``tag_text``."""
    return page.locator(".jp-CodeCell", has_text=tag_text).first  # type: ignore[attr-defined]


def _run(page: object, cell: object) -> None:
    cell.locator(".jp-InputArea-editor").click()  # type: ignore[attr-defined]
    page.keyboard.press("Shift+Enter")  # type: ignore[attr-defined]


def _shown_output(widget: object) -> np.ndarray:
    rows = widget.locator("table.output").evaluate(  # type: ignore[attr-defined]
        "t => [...t.rows].map(r => [...r.cells].map(c => Number(c.textContent)))"
    )
    return np.array(rows, dtype=np.float64)


def _screenshots(page: object, playground: object, channels: object) -> None:
    """The notebook with the file browser folded away: each widget under its code, one value explained."""
    page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()  # type: ignore[attr-defined]
    GALLERY.mkdir(parents=True, exist_ok=True)
    for name, widget, code, value in (
        ("playground", playground, "Playground()", "td[data-i='1'][data-j='0']"),
        ("channels", channels, "Channels()", "td[data-i='0'][data-j='1']"),
    ):
        _cell(page, code).evaluate("cell => cell.scrollIntoView({ block: 'start' })")
        widget.locator(f"table.output {value}").hover()  # type: ignore[attr-defined]
        page.screenshot(path=str(GALLERY / f"jupyterlab-{name}.png"))  # type: ignore[attr-defined]


def test_the_playground_widget_in_jupyterlab_follows_its_stride(lab: str) -> None:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(WAIT_MS)
            page.goto(lab)
            page.wait_for_selector(".jp-Notebook .jp-CodeCell")
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")  # the kernel is up
            _run(page, _cell(page, "Playground()"))
            widget = page.locator(".convlab-playground").first
            widget.locator("table.output td").first.wait_for()
            expected = F.conv2d(LAB1_IMAGE[None, None], LAB1_KERNEL[None, None])[0, 0]
            np.testing.assert_array_equal(_shown_output(widget), expected)

            stride = widget.locator("input[aria-label='stride']")
            stride.fill("0")  # refused: convlab's message inside the widget, no old numbers left
            error = widget.locator(".error-box")
            error.wait_for(state="visible")
            assert error.text_content().startswith("stride must be positive, got 0")
            assert widget.locator("table.output td").count() == 0
            stride.fill("2")  # typed in the widget, read by Python
            page.wait_for_function(
                "() => document.querySelectorAll('.convlab-playground table.output td').length === 4"
            )
            expected = F.conv2d(LAB1_IMAGE[None, None], LAB1_KERNEL[None, None], stride=2)[0, 0]
            np.testing.assert_array_equal(_shown_output(widget), expected)

            widget.locator("table.output td[data-i='1'][data-j='0']").hover()  # out[1, 0] explained
            arithmetic = widget.locator(".arithmetic")
            assert arithmetic.text_content() == "2*1 + 1*0 + 0*0 + 2*(-1) = 0   →   out[1, 0] = 0"

            channels = _cell(page, "Channels()")  # the second widget: per-channel sums and the bias
            _run(page, channels)
            mixed = page.locator(".convlab-channels").first
            mixed.locator("table.output td").first.wait_for()
            expected = F.conv2d(CHANNELS_IMAGE[None], CHANNELS_KERNELS[None], np.array([0.5]))[0, 0]
            np.testing.assert_array_equal(_shown_output(mixed), expected)
            mixed.locator("table.output td[data-i='0'][data-j='1']").hover()
            sums = [
                F.conv2d(CHANNELS_IMAGE[None, c : c + 1], CHANNELS_KERNELS[None, c : c + 1])[0, 0, 0, 1]
                for c in range(3)
            ]
            last = mixed.locator(".math p").last.text_content()
            assert (
                last == f"sum over channels: {' + '.join(f'{s:g}' for s in sums)} + bias 0.5 = {expected[0, 1]:g}"
            )

            readback = _cell(page, "playground.stride")
            _run(page, readback)
            output = readback.locator(".jp-OutputArea-output")
            output.first.wait_for()
            assert "stride: 2" in output.first.text_content()
            _screenshots(page, widget, mixed)
        finally:
            browser.close()
