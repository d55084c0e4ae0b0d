"""``convlab serve``'s HTTP server: the standard library's threading server, the static page, the JSON API.

Safety, on purpose:

* it binds 127.0.0.1 unless told otherwise;
* it serves only the files shipped in ``static/``, looked up by exact name in a
  table built at start-up, so no request path ever reaches the file system;
* request bodies above MAX_BODY are refused with 413 before they are read, and
  the API caps sizes and work (see :data:`convlab.web.api.LIMITS`);
* errors answer 400 (convlab's own message) or 500 (a generic one), always as
  JSON, never a traceback; slow clients time out instead of holding a thread.
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

__all__ = ["MAX_BODY", "STATIC", "make_server", "serve"]

MAX_BODY = 4 * 2**20
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
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _error(self, status: int, message: str, fix: str | None = None) -> None:
        self._json(status, {"error": message, "fix": fix})

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path in STATIC:
            file = STATIC[path]
            self._send(HTTPStatus.OK, file.read_bytes(), TYPES[file.suffix])
        elif path == "/api/presets":
            self._call("presets", {})
        else:
            self._error(HTTPStatus.NOT_FOUND, f"nothing at {path[:80]!r}", "open / for the page")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if not path.startswith("/api/"):
            self._error(HTTPStatus.NOT_FOUND, f"nothing to post to at {path[:80]!r}", "post to /api/<call>")
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            self._error(HTTPStatus.BAD_REQUEST, "Content-Length is not a number")
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
            request = json.loads(self.rfile.read(length) or b"{}")
        except (ValueError, UnicodeDecodeError):
            self._error(HTTPStatus.BAD_REQUEST, "the request body is not JSON", 'send e.g. {"model": "resnet18"}')
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


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # connections waiting to be accepted (the default 5 resets a burst of requests)
    verbose = False


def make_server(host: str = "127.0.0.1", port: int = 8000, verbose: bool = False) -> Server:
    """A server bound to ``host:port`` (port 0: any free port), not yet serving."""
    server = Server((host, port), Handler)
    server.verbose = verbose
    return server


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False, verbose: bool = False) -> int:
    """Serve until Ctrl-C; prints the URL first."""
    from ..errors import ArgumentError

    if not 0 <= port <= 65535:
        raise ArgumentError(
            f"port {port} is not a port number (0 to 65535)", fix="--port 8000, or 0 for any free one"
        )
    try:
        server = make_server(host, port, verbose)
    except socket.gaierror as error:
        raise ArgumentError(
            f"cannot listen on {host}: {error.strerror}", fix="--host 127.0.0.1, or an address of this machine"
        ) from None
    except OSError as error:
        raise ArgumentError(
            f"cannot listen on {host}:{port}: {error.strerror}",
            fix="pick another port with --port, or 0 for any free one",
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
