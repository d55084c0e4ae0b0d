"""``convlab serve``'s HTTP server: the standard library's threading server, the static page, the JSON API.

Safety, on purpose:

* it binds 127.0.0.1 unless told otherwise;
* it serves only the files shipped in ``static/``, looked up by exact name in a
  table built at start-up, so no request path ever reaches the file system;
* it answers only requests addressed to a name it is bound to (127.0.0.1,
  localhost, [::1] or the --host given), so a web page elsewhere cannot reach it
  through DNS rebinding; POSTs must be ``application/json`` and come from the
  page itself (no foreign Origin), so another site cannot post a plain form;
* request bodies need a Content-Length; above MAX_BODY they are refused with
  413 before they are read, JSON nested deeper than MAX_DEPTH or holding
  NaN/Infinity is refused, and the API caps sizes and work (see
  :data:`convlab.web.api.LIMITS`);
* errors answer 4xx (convlab's own message) or 500 (a generic one), always as
  valid JSON, never a traceback; slow clients time out instead of holding a thread.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["LOCAL_HOSTS", "MAX_BODY", "MAX_DEPTH", "STATIC", "allowed_hosts", "make_server", "serve"]

MAX_BODY = 4 * 2**20
MAX_DEPTH = 16  # nesting of JSON arrays and objects; the API's deepest value, a 4-D kernel, needs 4
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
STATIC_DIR = Path(__file__).parent / "static"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
STATIC = {f"/{path.name}": path for path in STATIC_DIR.iterdir() if path.suffix in TYPES}
STATIC["/"] = STATIC_DIR / "index.html"
STATIC["/favicon.ico"] = STATIC_DIR / "favicon.svg"  # where a browser looks when a page names no icon


class Handler(BaseHTTPRequestHandler):
    """One request: a static file by exact name, or a JSON API call."""

    server_version = "convlab"
    timeout = 15  # seconds a client may take to send its request

    def log_message(self, format: str, *args: Any) -> None:
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: object) -> None:
        try:
            body = json.dumps(payload, allow_nan=False)  # NaN and Infinity are not JSON: never send them
        except ValueError:
            status = HTTPStatus.BAD_REQUEST
            body = json.dumps(
                {
                    "error": "the result holds values beyond float32 (inf or nan)",
                    "fix": "use smaller numbers in the input, kernel or bias",
                }
            )
        self._send(status, body.encode(), "application/json")

    def _error(self, status: int, message: str, fix: str | None = None) -> None:
        self._json(status, {"error": message, "fix": fix})

    def _host_refused(self) -> bool:
        """Answer 403 and return True unless the Host header names this server (DNS rebinding guard)."""
        host = self.headers.get("Host", "")
        allowed: tuple[str, ...] = getattr(self.server, "allowed_hosts", LOCAL_HOSTS)
        if _host_name(host).lower() in allowed:
            return False
        self.close_connection = True
        self._error(
            HTTPStatus.FORBIDDEN,
            f"this server answers only to {', '.join(allowed)}, not to the host {host[:80]!r}",
            "open the page at http://127.0.0.1:<port>/",
        )
        return True

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if self._host_refused():
            return
        path = urlsplit(self.path).path
        if path in STATIC:
            file = STATIC[path]
            self._send(HTTPStatus.OK, file.read_bytes(), TYPES[file.suffix])
        elif path == "/api/presets":
            self._call("presets", {})
        else:
            self._error(HTTPStatus.NOT_FOUND, f"nothing at {path[:80]!r}", "open / for the page")

    def _post_refused(self) -> bool:
        """Answer 415/403 and return True for a POST another site could send: not JSON, or a foreign Origin."""
        kind = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            self.close_connection = True
            self._error(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                f"the request's Content-Type is {kind[:80]!r}, not 'application/json'",
                "send the body as JSON with Content-Type: application/json",
            )
            return True
        origin = self.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc.lower() != self.headers.get("Host", "").lower():
            self.close_connection = True
            self._error(
                HTTPStatus.FORBIDDEN,
                f"a page at {origin[:80]!r} may not post to this server",
                "use the page this server serves",
            )
            return True
        return False

    def _length(self) -> int | None:
        """The body's declared length, or None after answering 411/400 for a missing, negative or odd one."""
        text = self.headers.get("Content-Length")
        if text is None:
            self.close_connection = True
            self._error(HTTPStatus.LENGTH_REQUIRED, "the request has no Content-Length", "send the body's length")
            return None
        if not (text.isascii() and text.strip().isdigit()):  # refuses "-1", "1e3", "0x10", " "
            self.close_connection = True
            self._error(
                HTTPStatus.BAD_REQUEST,
                f"Content-Length {text[:40]!r} is not a whole number of bytes",
                "send the body's length in bytes",
            )
            return None
        return int(text)

    def do_POST(self) -> None:
        if self._host_refused():
            return
        path = urlsplit(self.path).path
        if not path.startswith("/api/"):
            self._error(HTTPStatus.NOT_FOUND, f"nothing to post to at {path[:80]!r}", "post to /api/<call>")
            return
        if self._post_refused():
            return
        length = self._length()
        if length is None:
            return
        if length > MAX_BODY:
            self.close_connection = True
            if length <= 4 * MAX_BODY:  # read and drop it, so the client sees the answer instead of a reset
                self.rfile.read(length)
            self._error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the request has {length} bytes, more than {MAX_BODY // 2**20} MB",
                "send less",
            )
            return
        try:
            request = json.loads(self.rfile.read(length) or b"{}", parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nesting beyond the parser
            self._error(HTTPStatus.BAD_REQUEST, "the request body is not JSON", 'send e.g. {"model": "resnet18"}')
            return
        if _nesting(request) > MAX_DEPTH:
            self._error(
                HTTPStatus.BAD_REQUEST,
                f"the request nests arrays or objects more than {MAX_DEPTH} deep",
                "send matrices as rows of numbers",
            )
            return
        self._call(path.removeprefix("/api/"), request)

    def _call(self, name: str, request: object) -> None:
        from ..errors import ConvlabError
        from .api import handle

        try:
            self._json(HTTPStatus.OK, handle(name, request))
        except ConvlabError as error:
            status = (
                HTTPStatus.NOT_FOUND
                if error.message.startswith("there is no API call")
                else HTTPStatus.BAD_REQUEST
            )
            self._error(status, error.message, error.fix)
        except Exception:  # never a traceback to the page; the server log keeps the details when verbose
            if getattr(self.server, "verbose", False):
                import traceback

                traceback.print_exc()
            self._error(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                "the server failed on this request",
                "check the values; if they look right, this is a bug in convlab",
            )


def _nesting(value: object) -> int:
    """How deep lists and dicts nest in a parsed JSON value (walked without recursion)."""
    deepest, level = 0, [value]
    while level:
        containers = [v for v in level if isinstance(v, (list, dict))]
        if not containers:
            break
        deepest += 1
        if deepest > MAX_DEPTH:
            break
        level = [item for c in containers for item in (c.values() if isinstance(c, dict) else c)]
    return deepest


def _host_name(host: str) -> str:
    """The name in a Host header without its port: ``"[::1]:8000"`` -> ``"[::1]"``, ``"a:80"`` -> ``"a"``."""
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0]


def _refuse_constant(name: str) -> float:
    """json.loads hook for NaN, Infinity and -Infinity, which JSON itself does not have."""
    raise ValueError(f"{name} is not JSON")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # connections waiting to be accepted (the default 5 resets a burst of requests)
    verbose = False
    allowed_hosts: tuple[str, ...] = LOCAL_HOSTS


def make_server(host: str = "127.0.0.1", port: int = 8000, verbose: bool = False) -> Server:
    """A server bound to ``host:port`` (port 0: any free port), not yet serving.

    It answers requests whose Host header names 127.0.0.1, localhost, [::1] or ``host`` itself.
    """
    server = Server((host, port), Handler)
    server.verbose = verbose
    server.allowed_hosts = allowed_hosts(host)
    return server


def allowed_hosts(host: str) -> tuple[str, ...]:
    """The names a Host header may carry for a server bound to ``host``: the loopback names and ``host``.

    Example:
        >>> allowed_hosts("::1"), allowed_hosts("192.168.1.5")[-1]
        (('127.0.0.1', 'localhost', '[::1]'), '192.168.1.5')
    """
    named = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return tuple(dict.fromkeys((*LOCAL_HOSTS, named.lower())))


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False, verbose: bool = False) -> int:
    """Serve until Ctrl-C; prints the URL first."""
    from ..errors import ArgumentError

    if not 0 <= port <= 65535:
        raise ArgumentError(
            f"port {port} is not a port number (0 to 65535)", fix="port=8000, or port=0 for any free one"
        )
    try:
        server = make_server(host, port, verbose)
    except socket.gaierror as error:
        raise ArgumentError(
            f"cannot listen on {host}: {error.strerror}", fix='host="127.0.0.1", or an address of this machine'
        ) from None
    except OSError as error:
        raise ArgumentError(
            f"cannot listen on {host}:{port}: {error.strerror}",
            fix="pick another port, e.g. port=8001, or port=0 for any free one",
        ) from None
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    url = f"http://{'127.0.0.1' if bound_host in ('0.0.0.0', '') else bound_host}:{bound_port}/"
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: listening on {host}, so other machines on the network can reach this page", file=sys.stderr
        )
    print(f"convlab explorer at {url}  (Ctrl-C to stop)", flush=True)
    if open_browser:
        import webbrowser

        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.server_close()
    return 0
