"""The explorer's API and server: answers equal convlab's functions, bad requests get clear 4xx, no traversal."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from convlab.network.summary import summary
from convlab.web import api
from convlab.web.server import MAX_BODY, make_server
from tests.conftest import environment_for_the_convlab_under_test


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def request(base: str, path: str, body: object = None, raw: bytes | None = None) -> tuple[int, dict]:
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        base + path,
        data=data,
        method="POST" if data is not None else "GET",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_conv_answers_equal_conv2d_and_explain() -> None:
    image = np.random.default_rng(0).integers(-3, 4, (3, 7, 6)).astype(np.float32)
    kernel = np.random.default_rng(1).integers(-2, 3, (2, 3, 3, 2)).astype(np.float32)
    answer = api.handle(
        "conv",
        {
            "input": image.tolist(),
            "kernel": kernel.tolist(),
            "bias": [0.5, -1.0],
            "stride": [2, 1],
            "padding": 1,
            "dilation": 1,
            "padding_mode": "reflect",
        },
    )
    padded = torch.nn.functional.pad(torch.from_numpy(image)[None], (1, 1, 1, 1), mode="reflect")
    bias = torch.tensor([0.5, -1.0])
    expected = torch.nn.functional.conv2d(padded, torch.from_numpy(kernel), bias, stride=(2, 1))[0].numpy()
    np.testing.assert_allclose(answer["output"], expected, rtol=1e-6)  # PyTorch's values, not the engine's
    cell = answer["cells"][1][2][0]
    assert cell["value"] == pytest.approx(float(expected[1, 2, 0]))
    assert sum(term["total"] for term in cell["terms"]) + cell["bias"] == pytest.approx(cell["value"], rel=1e-5)
    assert answer["formula"][0].startswith("H_out = floor((7 + 2*1 - 3) / 2) + 1")


def test_the_lessons_out_1_0() -> None:
    answer = api.handle("conv", {"input": "1 2 0 0; 5 3 0 4; 2 1 3 1; 0 2 1 2", "kernel": "1 0; 0 -1"})
    assert answer["cells"][0][1][0]["terms"][0]["equation"] == "5*1 + 3*0 + 2*0 + 1*(-1) = 4"


def test_network_answers_equal_summary() -> None:
    answer = api.handle("network", {"model": "resnet18"})
    assert answer["total_params"] == summary("resnet18").total_params == 11_689_512
    assert tuple(answer["final"]["rf"]) == (435.0, 435.0)
    answer = api.handle(
        "network", {"model": "conv5x5(6) maxpool2 conv5x5(16) maxpool2 conv5x5(4)", "input": "1x16x16"}
    )
    assert answer["layers"] == []
    errors = [p["line"] for p in answer["problems"] if p["severity"] == "error"]
    assert "layer 5 (5.conv, conv)" in errors[0]
    assert "overshoots by 4" in errors[0]
    flat = api.handle("network", {"model": "conv3x3(8) linear(4)", "input": "3x8x8"})["problems"][0]
    assert "flatten it first" in flat["line"]


def test_features_of_a_bundled_and_an_uploaded_image() -> None:
    import base64
    import io

    from PIL import Image

    answer = api.handle("features", {"image": "camera", "kernels": ["sobel_x"]})
    assert len(answer["image"]) <= api.LIMITS["image_side"]
    buffer = io.BytesIO()
    Image.fromarray(np.tile(np.arange(0, 250, 5, dtype=np.uint8), (40, 1))).save(buffer, format="PNG")
    upload = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    answer = api.handle("features", {"image": upload, "kernels": ["sobel_x"]})
    edges = np.array(answer["maps"][0]["map"])
    assert edges.shape == (40, 50)
    assert np.all(edges[5:-5, 5:-5] > 0)  # a left-to-right ramp: the vertical-edge kernel answers positive


@pytest.mark.parametrize(
    ("path", "body", "status", "phrase"),
    [
        ("/api/conv", {"input": "1 2; 3", "kernel": "1"}, 400, "different lengths"),
        ("/api/conv", {"input": "1 2; 3 4 | 5 6", "kernel": "1"}, 400, "input channels have different shapes"),
        ("/api/conv", {"input": "1 2 | 3 x", "kernel": "1"}, 400, "input channel 1 row 1 has 'x'"),
        ("/api/conv", {"input": [[1, 2], [3, 4]], "kernel": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]}, 400, "overshoots"),
        ("/api/conv", {"input": np.zeros((65, 65)).tolist(), "kernel": [[1]]}, 400, "more than this page allows"),
        ("/api/conv", {"input": [[1, 2], [3, 4]], "kernel": [[1]], "stride": 0}, 400, "stride must be positive"),
        ("/api/conv", {"input": "../../etc/passwd", "kernel": "1"}, 400, "not a number"),
        ("/api/conv", {"input": "photo.png", "kernel": "1"}, 400, "not a number"),
        ("/api/conv", [1, 2], 400, "JSON object"),
        ("/api/network", {"model": "resnet19"}, 400, "did you mean resnet18"),
        ("/api/network", {"model": "relu", "input": "3x0x8"}, 400, "below 1"),
        ("/api/features", {"image": "/etc/passwd"}, 400, "not an image"),
        ("/api/features", {"image": "camera", "kernels": ["blurry"]}, 400, "unknown kernel"),
        ("/api/nothing", {}, 404, "no API call"),
    ],
)
def test_bad_requests_get_the_clis_message(base: str, path: str, body: object, status: int, phrase: str) -> None:
    code, answer = request(base, path, body)
    assert code == status
    assert phrase in f"{answer['error']} (fix: {answer['fix']})"
    assert "Traceback" not in json.dumps(answer)


def test_not_json_and_too_large(base: str) -> None:
    assert request(base, "/api/conv", raw=b"{not json")[0] == 400
    code, answer = request(base, "/api/conv", raw=b" " * (MAX_BODY + 1))
    assert code == 413
    assert "more than" in answer["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "//etc/passwd",
        "/static/../server.py",
        "/..%2fserver.py",
        "/api.py",
        "/etc/passwd",
    ],
)
def test_only_the_pages_own_files_are_served(base: str, path: str) -> None:
    import http.client

    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", path)  # sent as is, not normalised by a client library
    response = connection.getresponse()
    body = response.read()
    assert response.status == 404
    assert b"root:" not in body
    assert b"import" not in body


def test_the_page_and_its_files(base: str) -> None:
    for path, kind in (("/", "text/html"), ("/app.js", "text/javascript"), ("/style.css", "text/css")):
        with urllib.request.urlopen(base + path, timeout=10) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith(kind)
    with urllib.request.urlopen(base + "/", timeout=10) as response:
        page = response.read().decode()
    assert "http://" not in page  # no CDN: it works offline
    assert "https://" not in page


def test_two_hundred_concurrent_requests(base: str) -> None:
    body = {"input": "1 2 0 0; 5 3 0 4; 2 1 3 1; 0 2 1 2", "kernel": "1 0; 0 -1"}

    def one(_: int) -> int:
        return request(base, "/api/conv", body)[0]

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(one, range(200)))
    assert codes == [200] * 200
    assert request(base, "/api/presets")[0] == 200  # no stuck worker afterwards


def _first_lines(*args: str) -> tuple[str, str]:
    """Start `convlab serve` with ``args``, read its first stdout line (or give up after 60 s), stop it."""
    import queue
    import subprocess
    import sys

    with subprocess.Popen(
        [sys.executable, "-m", "convlab", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment_for_the_convlab_under_test(),
    ) as process:
        assert process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()  # type: ignore[union-attr]
        try:
            line = lines.get(timeout=60)  # a hung server fails the test instead of hanging the run
        except queue.Empty:
            line = ""
        process.terminate()
        _, errors = process.communicate(timeout=30)
    return line, errors


def test_serve_binds_localhost_by_default_and_warns_for_other_hosts() -> None:
    line, errors = _first_lines()
    assert line.startswith("convlab explorer at http://127.0.0.1:")
    assert "warning" not in errors
    # another loopback address: not one of the names it trusts, so it warns, yet nothing is exposed
    line, errors = _first_lines("--host", "127.0.0.2")
    assert line.startswith("convlab explorer at http://127.0.0.2:")
    assert "warning: listening on 127.0.0.2" in errors


@pytest.mark.parametrize(
    ("options", "phrase"),
    [
        (["--port", "99999"], "port 99999 is not a port number (0 to 65535)"),
        (["--port", "-1"], "port -1 is not a port number"),
        # a documentation address (RFC 5737) that no machine has: refused without resolving any name
        (["--host", "192.0.2.1", "--port", "0"], "cannot listen on 192.0.2.1:0: Cannot assign requested address"),
    ],
)
def test_serve_refuses_addresses_it_cannot_bind(
    options: list[str], phrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from convlab.cli import main

    assert main(["serve", *options]) == 2
    error = capsys.readouterr().err
    assert phrase in error
    assert error.count("\n") == 1


def test_serve_names_a_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    from convlab.cli import main
    from convlab.web.server import make_server

    busy = make_server("127.0.0.1", 0)
    try:
        port = busy.server_address[1]
        assert main(["serve", "--port", str(port)]) == 2
        assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in capsys.readouterr().err
    finally:
        busy.server_close()
