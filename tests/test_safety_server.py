"""`convlab serve` against hostile requests: caps on work, honest lengths, only its own host names and page,
JSON in and valid JSON out, never a 500; and under load it answers everyone."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.web import api
from convlab.web.server import MAX_DEPTH, allowed_hosts, make_server

LAB = {"input": "1 2 0 0; 5 3 0 4; 2 1 3 1; 0 2 1 2", "kernel": "1 0; 0 -1"}


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def send(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, object]]:
    """One request with exactly these headers (http.client adds Host and Content-Length only if absent)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    wanted = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/json", **(headers or {})}
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in wanted.items():
        if value is not None:
            connection.putheader(name, value)
    if body is not None and "Content-Length" not in wanted:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    raw = response.read()
    connection.close()

    def refuse(constant: str) -> object:
        raise AssertionError(f"the response holds {constant}, which is not JSON")

    return response.status, json.loads(raw, parse_constant=refuse)


def post(port: int, body: object, path: str = "/api/conv", **headers: str) -> tuple[int, dict[str, object]]:
    return send(port, "POST", path, json.dumps(body).encode(), headers)


def message(answer: dict[str, object]) -> str:
    return f"{answer['error']} (fix: {answer['fix']})"


# Work caps


@pytest.mark.parametrize(
    ("settings_", "phrase"),
    [
        ({"padding": 100}, "the padded input's height or width is 202, more than this page allows (160)"),
        ({"padding": [0, 200]}, "is 402, more than this page allows (160)"),
        ({"dilation": 10**6, "padding": 10**6}, "more than this page allows (160)"),
        ({"padding": 10**20}, "padding is 100000000000000000000, more than convlab accepts"),
        ({"stride": 10**20}, "stride is 100000000000000000000, more than convlab accepts"),
    ],
)
def test_padding_and_dilation_are_capped(port: int, settings_: dict[str, object], phrase: str) -> None:
    status, answer = post(port, {"input": [[1, 2], [3, 4]], "kernel": [[1]], **settings_})
    assert status == 400
    assert phrase in message(answer)


def test_the_number_of_explained_products_is_capped(port: int) -> None:
    body = {"input": [[[0.0] * 64] * 64] * 8, "kernel": [[[[1.0] * 15] * 15] * 8] * 8, "padding": 7}
    status, answer = post(port, body)
    assert status == 400
    limit = api.LIMITS["products"]
    # 8 output channels x 64 x 64 outputs x 15 x 15 cells x 8 input channels
    assert f"is {8 * 64 * 64 * 15 * 15 * 8}, more than this page allows ({limit})" in message(answer)


def test_work_just_under_the_caps_is_answered(port: int) -> None:
    status, answer = post(port, {"input": [[1.0] * 4] * 4, "kernel": [[1.0]], "padding": 78})
    assert status == 200
    assert len(answer["padded"][0]) == 160  # type: ignore[index]


# Content-Length


@pytest.mark.parametrize(
    ("length", "status", "phrase"),
    [
        ("-1", 400, "Content-Length '-1' is not a whole number"),
        ("abc", 400, "Content-Length 'abc' is not a whole number"),
        ("1e3", 400, "Content-Length '1e3' is not a whole number"),
        ("+5", 400, "Content-Length '+5' is not a whole number"),
        (None, 411, "the request has no Content-Length"),
    ],
)
def test_content_length_must_be_a_whole_number(port: int, length: str | None, status: int, phrase: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.putrequest("POST", "/api/conv", skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", f"127.0.0.1:{port}")
    connection.putheader("Content-Type", "application/json")
    if length is not None:
        connection.putheader("Content-Length", length)
    connection.endheaders()
    connection.send(b'{"input": [[1]], "kernel": [[1]]}')
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    assert response.status == status
    assert phrase in message(answer)


# Host, Content-Type and Origin


@pytest.mark.parametrize("host", ["evil.example", "", "evil.example:{port}", "127.0.0.2:{port}", "localhost.evil"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_foreign_host_names_are_refused(port: int, host: str, method: str) -> None:
    path, body = ("/", None) if method == "GET" else ("/api/conv", json.dumps(LAB).encode())
    status, answer = send(port, method, path, body, {"Host": host.format(port=port)})
    assert status == 403
    assert "this server answers only to 127.0.0.1, localhost, [::1]" in message(answer)


@pytest.mark.parametrize(
    "host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST", "[::1]:{port}", "127.0.0.1"]
)
def test_its_own_host_names_are_answered(port: int, host: str) -> None:
    assert send(port, "GET", "/api/presets", headers={"Host": host.format(port=port)})[0] == 200


def test_the_host_it_is_told_to_bind_is_answered_too() -> None:
    server = make_server("localhost", 0)
    server.server_close()
    assert server.allowed_hosts == ("127.0.0.1", "localhost", "[::1]")
    assert allowed_hosts("192.168.1.5") == ("127.0.0.1", "localhost", "[::1]", "192.168.1.5")
    assert allowed_hosts("My-Laptop.local")[-1] == "my-laptop.local"
    assert allowed_hosts("fe80::1")[-1] == "[fe80::1]"


@pytest.mark.parametrize(
    "kind", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]
)
def test_posts_must_be_json(port: int, kind: str) -> None:
    status, answer = post(port, LAB, **{"Content-Type": kind})
    assert status == 415
    assert f"Content-Type is {kind.split(';')[0]!r}, not 'application/json'" in message(answer)


def test_json_with_a_charset_is_json(port: int) -> None:
    assert post(port, LAB, **{"Content-Type": "application/json; charset=utf-8"})[0] == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1", "https://localhost"])
def test_posts_from_other_sites_are_refused(port: int, origin: str) -> None:
    status, answer = post(port, LAB, Origin=origin)
    assert status == 403
    assert f"a page at {origin!r} may not post to this server" in message(answer)


def test_posts_from_the_page_itself_are_answered(port: int) -> None:
    assert post(port, LAB, Origin=f"http://127.0.0.1:{port}")[0] == 200


# Bodies


@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        (b"[" * 100_000, "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (b'{"input": ' + b"[" * (MAX_DEPTH + 1) + b"1" + b"]" * (MAX_DEPTH + 1) + b"}", "more than 16 deep"),
        (b'{"input": [[1]], "kernel": [[1]], "bias": NaN}', "not JSON"),
        (b'{"input": [[1]], "kernel": [[1]], "bias": Infinity}', "not JSON"),
        (b'{"input": [[1]], "kernel": [[1]], "bias": 1e39}', "bias holds 1e+39: not a finite float32 number"),
        (b'{"input": [[1]], "kernel": [[1]], "bias": [1, 2]}', "bias must be a number or a list of 1 numbers"),
        (b'{"input": [[1]], "kernel": [[1]], "bias": "1"}', "bias must be a number or a list of 1 numbers"),
        (b'{"input": [[1]], "kernel": [[1]], "bias": [[1]]}', "bias must be a number or a list of 1 numbers"),
        (b'{"input": [[1]], "kernel": [[1]], "bias": true}', "bias must be a number or a list of 1 numbers"),
        (b'{"input": [[3e38]], "kernel": [[3e38]]}', "the result holds values beyond float32"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_bad_bodies_get_400_and_valid_json(port: int, body: bytes, phrase: str) -> None:
    status, answer = send(port, "POST", "/api/conv", body)
    assert status == 400
    assert phrase in message(answer)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
_KEYS = ["input", "kernel", "bias", "stride", "padding", "dilation", "padding_mode", "model", "image", "kernels"]
_FIELDS = st.fixed_dictionaries({}, optional=dict.fromkeys(_KEYS, _JSON))


@settings(max_examples=150)
@given(
    st.sampled_from(["conv", "network", "features", "presets", "nothing"]),
    st.one_of(_FIELDS, _JSON),
)
def test_no_body_gets_a_500_or_invalid_json(port: int, call: str, body: object) -> None:
    status, answer = post(port, body, path=f"/api/{call}")
    assert status in (200, 400, 404), answer
    assert status == 200 or answer["error"]


# Load


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS line")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the server's memory from /proc")
def test_under_load_everyone_is_answered_and_memory_stays_flat() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "convlab", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().split()[3]
            port = int(url.rstrip("/").rsplit(":", 1)[1])

            # 50 slow clients: each sends half a request and holds its connection for 10 s
            slow = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(50)]
            for client in slow:
                client.sendall(b"POST /api/conv HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            held_since = time.monotonic()

            started = time.monotonic()
            assert post(port, LAB)[0] == 200
            assert time.monotonic() - started < 5

            with ThreadPoolExecutor(max_workers=60) as pool:
                codes = list(pool.map(lambda _: post(port, LAB)[0], range(300)))
            assert codes == [200] * 300

            for _ in range(200):  # warm-up: imports and caches settle
                post(port, LAB)
            before = _rss_bytes(process.pid)
            for _ in range(2000):
                post(port, LAB)
            grown = _rss_bytes(process.pid) - before
            assert grown < 50 * 2**20, f"the server grew by {grown / 2**20:.1f} MB over 2000 requests"

            time.sleep(max(0.0, 10 - (time.monotonic() - held_since)))
            started = time.monotonic()
            assert post(port, LAB)[0] == 200  # still answering with the slow clients held for 10 s
            assert time.monotonic() - started < 5
            for client in slow:
                client.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
