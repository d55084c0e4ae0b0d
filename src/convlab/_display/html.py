"""HTML fragments as plain strings, every piece of text escaped: tables, number grids, text blocks, images.

Styles are written inline on each element, so a fragment looks the same in JupyterLab, classic Jupyter
and a plain HTML file, and nothing leaks into the page around it.

Example:
    >>> table(["layer", "params"], [["conv1", "80"]], right={1})[:7]
    '<table '
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence

__all__ = ["block", "escape", "grid", "heading", "image", "lines", "table"]

FONT = "font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px"
CELL = "padding: 2px 8px; border: 1px solid #ccc"
WINDOW = "background: #FFE08A; font-weight: bold; outline: 2px solid #D55E00"  # the cells a window reads
PADDING = "color: #888; background: repeating-linear-gradient(45deg, #f4f4f4 0 4px, #e4e4e4 4px 8px)"


def escape(value: object) -> str:
    """Any value as text safe inside HTML (``<``, ``&`` and quotes escaped)."""
    return html.escape(str(value), quote=True)


def heading(text: str) -> str:
    return f'<div style="font-weight: bold; margin: 4px 0">{escape(text)}</div>'


def lines(text: Iterable[str]) -> str:
    """Lines of text kept as they are (a terminal's output), in a monospace block."""
    body = escape("\n".join(text))
    return f'<pre style="{FONT}; margin: 4px 0; white-space: pre-wrap">{body}</pre>'


def block(*parts: str) -> str:
    """Fragments one under another, as one result."""
    return f'<div class="convlab" style="{FONT}">{"".join(parts)}</div>'


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    right: Iterable[int] = (),
    caption: str | None = None,
) -> str:
    """A table with one header row; columns whose index is in ``right`` are right-aligned (numbers)."""
    aligned = set(right)

    def cell(tag: str, index: int, value: object) -> str:
        align = "right" if index in aligned else "left"
        return f'<{tag} style="{CELL}; text-align: {align}">{escape(value)}</{tag}>'

    head = "".join(cell("th", index, name) for index, name in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, value) for i, value in enumerate(row)) + "</tr>" for row in rows)
    title = f'<caption style="text-align: left; font-weight: bold">{escape(caption)}</caption>' if caption else ""
    return f'<table style="border-collapse: collapse; {FONT}">{title}<tr>{head}</tr>{body}</table>'


def grid(
    values: Sequence[Sequence[str]],
    *,
    window: Iterable[tuple[int, int]] = (),
    padding: Iterable[tuple[int, int]] = (),
    caption: str | None = None,
) -> str:
    """A matrix of already written numbers, cells in ``window`` highlighted and cells in ``padding`` hatched."""
    marked, padded = set(window), set(padding)

    def style(r: int, c: int) -> str:
        extra = WINDOW if (r, c) in marked else PADDING if (r, c) in padded else ""
        return f"{CELL}; text-align: right; min-width: 2em; {extra}"

    body = "".join(
        "<tr>" + "".join(f'<td style="{style(r, c)}">{escape(v)}</td>' for c, v in enumerate(row)) + "</tr>"
        for r, row in enumerate(values)
    )
    title = f'<caption style="text-align: left">{escape(caption)}</caption>' if caption else ""
    layout = "border-collapse: collapse; display: inline-table; margin: 4px 12px 4px 0"
    return f'<table style="{layout}">{title}{body}</table>'


def image(data: bytes, mime: str, alt: str) -> str:
    """A PNG or GIF shown inline from its bytes (a data URI: nothing is fetched, so it works offline)."""
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img src="data:{mime};base64,{encoded}" alt="{escape(alt)}">'
