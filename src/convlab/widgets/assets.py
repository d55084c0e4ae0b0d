"""The widgets' JavaScript and styles: the explorer page's shared files with each widget's own code after them.

anywidget loads ``_esm`` as one ES module and ``_css`` as one style sheet; both are built here from files
that ship with convlab, so a notebook needs no network and the page and the cell draw grids the same way.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["module", "styles"]

_PAGE = Path(__file__).parent.parent / "web" / "static"  # the explorer page's files: read, not imported
_HERE = Path(__file__).parent


def module(name: str) -> str:
    """``grids.js`` (number, drawGrid, explainValue, ...), the widgets' ``controls.js``, then the widget's
    ``name`` (its render and the module's default export)."""
    parts = [_PAGE / "grids.js", _HERE / "controls.js", _HERE / name]
    return "\n".join(path.read_text(encoding="utf-8") for path in parts)


def styles() -> str:
    """``grids.css`` (the grids, the window, the padding) followed by the widgets' layout."""
    return (
        (_PAGE / "grids.css").read_text(encoding="utf-8")
        + "\n"
        + (_HERE / "widgets.css").read_text(encoding="utf-8")
    )
