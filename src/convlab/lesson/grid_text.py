"""Number grids as text, with a highlighted window: in brackets, or in terminal colours when asked.

Brackets read in plain text and in greyscale; whether a terminal takes colour is the
command's to decide.
"""

from __future__ import annotations

from collections.abc import Collection

from .._args import Array, Pad2d

HIGHLIGHT = "\x1b[30;43m"  # black on yellow
DIM = "\x1b[2m"
RESET = "\x1b[0m"


def cell_text(value: float, digits: int = 4) -> str:
    """A value in at most ``digits`` significant digits, never ``-0``: ``4``, ``-0.5``, ``0.3333``."""
    text = f"{float(value):.{digits}g}"
    return "0" if text == "-0" else text


def grid(
    values: Array,
    padding: Pad2d = ((0, 0), (0, 0)),
    highlight: Collection[tuple[int, int]] = (),
    colour: bool = False,
    indent: str = "  ",
    blank: Collection[tuple[int, int]] = (),
) -> list[str]:
    """Lines showing a 2-D array; padding is fenced off with | and -, highlighted cells get [ ] or colour.

    Cells in ``blank`` (not computed yet) are shown as a dot.
    """
    (top, bottom), (left, right) = padding
    rows, cols = values.shape
    texts = [["·" if (r, c) in blank else cell_text(values[r, c]) for c in range(cols)] for r in range(rows)]
    width = max((len(text) for row in texts for text in row), default=1)
    lines = []
    for r in range(rows):
        cells = []
        for c in range(cols):
            text = texts[r][c].rjust(width)
            inside = top <= r < rows - bottom and left <= c < cols - right
            if (r, c) in highlight:
                cell = f"{HIGHLIGHT} {text} {RESET}" if colour else f"[{text}]"
            else:
                cell = f" {text} "
                if colour and not inside:
                    cell = f"{DIM}{cell}{RESET}"
            if c == left and left:
                cells.append("|")
            if c == cols - right and right:
                cells.append("|")
            cells.append(cell)
        line = (indent + "".join(cells)).rstrip()
        if r == top and top:
            lines.append(indent + _rule(cells, width))
        if r == rows - bottom and bottom:
            lines.append(indent + _rule(cells, width))
        lines.append(line)
    return lines


def _rule(cells: list[str], width: int) -> str:
    return "".join("+" if cell == "|" else "-" * (width + 2) for cell in cells)
