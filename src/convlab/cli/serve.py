"""``convlab serve``: the explorer page in a browser, served from this machine."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "serve",
        help="open the explorer page: edit input, kernel and settings, hover any value",
        description="Serve the explorer page (plain HTML/CSS/JavaScript, works offline) and its JSON API. "
        "Binds 127.0.0.1 unless --host says otherwise. Stop with Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free one; default 8000)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)"
    )
    parser.add_argument("--open", action="store_true", help="open the page in the default browser")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.set_defaults(run=run, flags={"open_browser": "--open"})


def run(args: argparse.Namespace) -> int:
    from ..web.server import serve

    return serve(args.host, args.port, args.open, args.verbose)
