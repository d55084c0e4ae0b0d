"""The notebook widgets in a real JupyterLab, driven in headless Chromium.

Starts ``python -m jupyterlab`` on 127.0.0.1 (a free port, a token, no browser) over a scratch folder
holding a copy of notebooks/convolution-basics.ipynb, with PYTHONPATH leading to this checkout; opens the
notebook and runs its widget cells (found by their code: the cells tagged playground, playground-output,
playground-set and channels). In the Playground it types a refused stride (convlab's message shows), then
stride 2, and checks the grid shown against convlab.functional.conv2d, one value's arithmetic, the arrow
keys inside the grid and that keys pressed there stay out of JupyterLab's shortcuts; it checks Channels'
sums and bias, reads ``playground.stride`` back in a cell and sets ``playground.padding = 1`` from Python.
The server stops through its shutdown API. Needs Debian's chromium, the playwright package and the notebook
extra; skipped without them outside CI. CONVLAB_SCREENSHOTS=docs/gallery refreshes
docs/gallery/jupyterlab-playground.png and jupyterlab-channels.png.
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
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A running JupyterLab over a scratch root holding the notebook; yields the notebook's URL and the URL
    of the server's sessions."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    home = tmp_path_factory.mktemp("jupyter-home")  # no user settings, workspaces or news get in
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    notebook_settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    notebook_settings.mkdir(parents=True)  # every cell in the page, however long the notebook grows
    (notebook_settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
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
        yield f"{base}/lab/tree/{NOTEBOOK.name}?token={token}", f"{base}/api/sessions?token={token}"
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


def _wait_for_an_idle_kernel(sessions: str) -> None:
    """Until the server says the notebook's kernel has started and waits for code."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        with urllib.request.urlopen(sessions, timeout=10) as response:
            states = [
                session["kernel"]["execution_state"] for session in json.load(response) if session.get("kernel")
            ]
        if "idle" in states:
            return
        time.sleep(0.5)
    pytest.fail(f"the notebook's kernel did not start within {WAIT_MS // 1000} s")


def _cell(page: object, tag_text: str) -> object:
    """The notebook cell whose code contains ``tag_text``."""
    return page.locator(".jp-CodeCell", has_text=tag_text).first  # type: ignore[attr-defined]


KERNEL_DIALOG = ".jp-Dialog .jp-mod-accept"  # "Select Kernel", which JupyterLab may ask when a start was slow


def _run(page: object, cell: object, shown: str) -> None:
    """Run ``cell`` (Shift+Enter in its editor) until ``shown`` (a selector of what it draws) is on the page.

    On a loaded machine JupyterLab may ask which kernel to use, or drop a run sent while its kernel
    connection was still settling; the test then takes the notebook's own kernel (Python 3) and runs the
    cell again, waiting longer each time.
    """
    dialog = page.locator(KERNEL_DIALOG)  # type: ignore[attr-defined]
    for attempt in range(1, 5):
        if dialog.count():  # it covers the notebook: nothing can be clicked until it is answered
            dialog.click()
        cell.locator(".jp-InputArea-editor").click()  # type: ignore[attr-defined]
        page.keyboard.press("Shift+Enter")  # type: ignore[attr-defined]
        try:
            page.wait_for_selector(f"{shown}, {KERNEL_DIALOG}", timeout=20_000 * attempt)  # type: ignore[attr-defined]
        except sync_api.TimeoutError:
            continue
        if not dialog.count():
            return
    pytest.fail(f"JupyterLab did not run the cell that shows {shown} in four tries")


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


def test_the_playground_widget_in_jupyterlab_follows_its_stride(lab: tuple[str, str]) -> None:
    notebook, sessions = lab
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(WAIT_MS)
            page.goto(notebook)
            page.wait_for_selector(".jp-Notebook .jp-CodeCell")
            _wait_for_an_idle_kernel(sessions)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")  # and the page knows
            _run(page, _cell(page, "Playground()"), ".convlab-playground table.output td")
            widget = page.locator(".convlab-playground").first
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
            widget.locator("table.output td[data-i='0'][data-j='0']").focus()
            page.keyboard.press("ArrowDown")  # a value down, not JupyterLab's next cell
            assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "out[1, 0] = 0"
            page.keyboard.press("ArrowRight")
            assert arithmetic.text_content() == "3*1 + 1*0 + 1*0 + 2*(-1) = 1   →   out[1, 1] = 1"
            cells = page.locator(".jp-Notebook .jp-Cell").count()
            page.keyboard.press("b")  # in the widget a letter is not JupyterLab's "insert a cell below"
            assert page.locator(".jp-Notebook .jp-Cell").count() == cells

            channels = _cell(page, "Channels()")  # the second widget: per-channel sums and the bias
            _run(page, channels, ".convlab-channels table.output td")
            mixed = page.locator(".convlab-channels").first
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
            _run(page, readback, ".jp-CodeCell:has-text('playground.stride') .jp-OutputArea-output")
            output = readback.locator(".jp-OutputArea-output")
            assert "stride: 2" in output.first.text_content()
            _run(page, _cell(page, "playground.padding = 1"), ".convlab-playground table.output tr:nth-child(3)")
            expected = F.conv2d(LAB1_IMAGE[None, None], LAB1_KERNEL[None, None], stride=2, padding=1)[0, 0]
            np.testing.assert_array_equal(_shown_output(widget), expected)  # set in Python, redrawn in the cell
            assert widget.locator("input[aria-label='padding']").input_value() == "1"
            assert widget.locator("table.padded td.pad").count() == 6 * 6 - 4 * 4
            _screenshots(page, widget, mixed)
        except Exception:
            GALLERY.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(GALLERY / "jupyterlab-failure.png"))  # what the page showed
            print(f"the page at the failure: {GALLERY / 'jupyterlab-failure.png'}")
            raise
        finally:
            browser.close()
