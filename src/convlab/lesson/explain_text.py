"""One output cell's explanation as text: the window on the padded input, patch and kernel, the sum, and
the pieces every interface writes it with (``equation``, ``number``, ``span``).

``convlab explain`` prints it and the explanation picture quotes its lines, so
both say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._args import Array
from .._display import html
from .grid_text import cell_text, grid

if TYPE_CHECKING:  # the data it writes; explain.py shows its traces with these words
    from .explain import ChannelTerm, Trace

__all__ = ["equation", "number", "span", "trace_html", "trace_line", "trace_text"]


def trace_text(trace: Trace, colour: bool = False, done: Sequence[Trace] | None = None) -> list[str]:
    """The explanation as lines of text; with ``done`` (the traces before this one) also the output filling in.

    ``colour`` marks the window with terminal colours instead of brackets.
    """
    i, j = trace.position
    (top, bottom), (left, right) = trace.padding
    channels = trace.padded.shape[0]
    kh, kw = trace.terms[0].kernel.shape
    height, width = trace.padded.shape[1] - top - bottom, trace.padded.shape[2] - left - right
    Ho, Wo = trace.output.shape
    pad_text = (
        "no padding"
        if top == bottom == left == right == 0
        else (f"padded ({trace.padding_mode}) by top {top}, bottom {bottom}, left {left}, right {right}")
    )
    lines = [
        f"input {channels}x{height}x{width} ({pad_text}), kernel {kh}x{kw}, stride {trace.stride}, "
        f"dilation {trace.dilation} -> output {Ho}x{Wo}"
    ]
    window = {(r, c) for r in trace.rows for c in trace.cols}
    where = (
        f"out[{i}, {j}] reads input rows {span(trace.input_rows)}, cols {span(trace.input_cols)} "
        f"(window start = {i}*{trace.stride[0]}, {j}*{trace.stride[1]}"
    )
    where += f"; dilation {trace.dilation} spaces the kernel cells)" if trace.dilation != (1, 1) else ")"
    lines.append(where)
    name = "channel" if trace.out_channel == 0 else f"output channel {trace.out_channel}, input channel"
    for term in trace.terms:
        if len(trace.terms) > 1:
            lines.append(f"{name} {term.channel}:")
        lines += grid(trace.padded[term.channel], trace.padding, window, colour)
        patch_lines = grid(term.patch, colour=False, indent="")
        kernel_lines = grid(term.kernel, colour=False, indent="")
        column = max(len(line) for line in patch_lines) + 4
        lines.append("  patch".ljust(column + 2) + "kernel")
        lines += [f"  {p.ljust(column)}{k}" for p, k in zip(patch_lines, kernel_lines)]
        lines.append(f"  {equation(term)}")
    if len(trace.terms) > 1 or trace.bias is not None:
        parts = [number(term.total) for term in trace.terms]
        if trace.bias is not None:
            parts.append(f"bias {number(trace.bias)}")
        label = "sum over channels" if len(trace.terms) > 1 else "sum"
        lines.append(f"{label}: {' + '.join(parts)} = {number(trace.total).strip('()')}")
    lines.append(f"out[{i}, {j}] = {cell_text(trace.value)}")
    if done is not None:
        filled = {t.position for t in done} | {trace.position}
        blank = {(r, c) for r in range(Ho) for c in range(Wo)} - filled
        lines.append("output so far:")
        lines += grid(trace.output, highlight={trace.position}, colour=colour, blank=blank)
    return lines


def number(value: float, digits: int = 4) -> str:
    """A value as the lesson writes it: ``3``, ``0.5``, and ``(-1)`` in parentheses when negative."""
    text = cell_text(value, digits)
    return f"({text})" if text.startswith("-") else text


def span(values: tuple[int, ...]) -> str:
    """The rows (or columns) a window read: ``0..2`` when neighbouring, ``0, 2, 4`` when dilation skips some."""
    if len(values) == 1:
        return f"{values[0]}"
    if values[1] - values[0] == 1:
        return f"{values[0]}..{values[-1]}"
    return ", ".join(str(value) for value in values)


def equation(term: ChannelTerm) -> str:
    """The lesson's arithmetic for one channel: ``1*1 + 2*0 + 5*0 + 3*(-1) = -2``.

    Example:
        >>> from convlab.lesson.explain import explain
        >>> trace = explain([[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]], [[1, 0], [0, -1]], at=(1, 0))
        >>> equation(trace.terms[0])
        '5*1 + 3*0 + 2*0 + 1*(-1) = 4'
    """
    products = " + ".join(
        f"{number(p)}*{number(k)}" for p, k in zip(term.patch.ravel().tolist(), term.kernel.ravel().tolist())
    )
    return f"{products} = {number(term.total).strip('()')}"


def trace_line(trace: Trace) -> str:
    """One line a terminal can show: where the value is and its arithmetic."""
    i, j = trace.position
    sums = "; ".join(equation(term) for term in trace.terms)
    return f"<Trace out[{i}, {j}] = {number(trace.value).strip('()')}: {sums}>"


def trace_html(trace: Trace) -> str:
    """A trace as HTML: each channel's padded input with the window highlighted (padding hatched), its
    patch and kernel, the arithmetic line, then the sum with the bias and the value."""

    def cells(values: Array) -> list[list[str]]:
        return [[cell_text(v) for v in row] for row in values.tolist()]

    i, j = trace.position
    (top, bottom), (left, right) = trace.padding
    height, width = trace.padded.shape[1:]
    padding = {
        (r, c)
        for r in range(height)
        for c in range(width)
        if not (top <= r < height - bottom and left <= c < width - right)
    }
    window = {(r, c) for r in trace.rows for c in trace.cols}
    parts = [
        html.heading(
            f"out[{i}, {j}] reads input rows {span(trace.input_rows)}, cols {span(trace.input_cols)} "
            f"(stride {trace.stride}, dilation {trace.dilation})"
        )
    ]
    for term in trace.terms:
        caption = f"input channel {term.channel}" + (" (padded)" if padding else "")
        parts.append(
            "<div>"
            + html.grid(cells(trace.padded[term.channel]), window=window, padding=padding, caption=caption)
            + html.grid(cells(term.patch), caption="patch")
            + html.grid(cells(term.kernel), caption="kernel")
            + "</div>"
        )
        parts.append(html.lines([equation(term)]))
    if len(trace.terms) > 1 or trace.bias is not None:
        shares = [number(term.total) for term in trace.terms]
        shares += [f"bias {number(trace.bias)}"] if trace.bias is not None else []
        parts.append(html.lines([f"sum: {' + '.join(shares)} = {number(trace.total).strip('()')}"]))
    parts.append(html.heading(f"out[{i}, {j}] = {cell_text(trace.value)}"))
    return html.block(*parts)
