"""Aligned text tables for summaries and receptive fields (``str(summary)``, the ``convlab`` commands)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .receptive_field import ReceptiveField
    from .summary import Summary


def count(value: float) -> str:
    """1234567 -> '1.23M': a count of parameters or multiply-adds."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= scale:
            return f"{value / scale:.2f}{unit}"
    return f"{value:g}"


def size_in_bytes(value: float) -> str:
    """3 * 2**20 -> '3.0 MiB'."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if value >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value:g} B"


def _whole_or_tenths(value: float) -> str:
    """3.0 -> '3', 2.5 -> '2.5': a field's size or jump, whole where it is."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def pair_text(value: tuple[float, float] | str | None, joiner: str = "x") -> str:
    """A pair as one number when both are equal (``3``), else ``3x5``; a word ("same") as it is; None (a
    field that covers everything) as "global"."""
    if value is None:
        return "global"
    if isinstance(value, str):
        return value
    first, second = (_whole_or_tenths(v) for v in value)
    return first if value[0] == value[1] else f"{first}{joiner}{second}"


def aligned(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = []
    for row in (header, *rows):
        cells = [
            cell.rjust(width) if index in right else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def share(part: int, whole: int) -> str:
    """A part of a total as a percentage: ``'12.3%'``, ``'<0.1%'`` for a small non-zero part, ``'-'`` for none."""
    if not part or not whole:
        return "-"
    percent = 100 * part / whole
    return "<0.1%" if percent < 0.1 else f"{percent:.1f}%"


class Table(NamedTuple):
    """A table's parts, written once and rendered as text (the terminal) or HTML (a notebook)."""

    title: str
    header: tuple[str, ...]
    rows: Sequence[Sequence[str]]
    right: set[int]  # right-aligned columns (numbers)
    footer: list[str]

    def text(self) -> str:
        return "\n".join([self.title, *aligned(self.header, self.rows, self.right), *self.footer])

    def html(self) -> str:
        from .._display import html

        footer = html.lines(self.footer) if self.footer else ""
        return html.block(html.table(self.header, self.rows, right=self.right, caption=self.title), footer)


def summary_parts(summary: Summary) -> Table:
    header: tuple[str, ...] = (
        "layer", "kind", "input shape", "output shape", "kernel", "params", "params %", "MACs", "memory", "RF",
        "jump", "start",
    )  # fmt: skip
    total = summary.total_params
    rows: list[tuple[str, ...]] = [
        (
            layer.name,
            layer.description,
            str(layer.input_shape),
            str(layer.output_shape),
            f"{layer.kernel[0]}x{layer.kernel[1]}" if layer.kernel else "-",  # 3x3, as the kind column writes it
            f"{layer.params:,}",
            share(layer.params, total),
            count(layer.macs) if layer.macs else "-",
            size_in_bytes(layer.memory_bytes),
            pair_text(layer.rf),
            pair_text(layer.jump) if layer.rf else "-",
            pair_text(layer.start, ",") if layer.rf else "-",
        )
        for layer in summary.layers
    ]
    if not summary.fields_known:  # read by running the model: no wiring, so no receptive fields to show
        header, rows = header[:-3], [row[:-3] for row in rows]
    footer = [
        f"total: {summary.total_params:,} params ({summary.trainable_params:,} trainable), "
        f"{count(summary.total_macs)} MACs, {size_in_bytes(summary.total_memory_bytes)} of activations "
        f"(float32, batch {summary.input_shape[0]})"
    ]
    footer += [f"note: {note}" for note in summary.notes]
    return Table(f"{summary.model} on input {summary.input_shape}", header, rows, set(range(5, 12)), footer)


def summary_table(summary: Summary) -> str:
    return summary_parts(summary).text()


def receptive_parts(result: ReceptiveField) -> Table:
    header = ("layer", "kind", "output shape", "RF", "jump", "start", "via")
    rows = [
        (
            layer.name,
            layer.description,
            str(layer.output_shape),
            pair_text(layer.rf),
            pair_text(layer.jump) if layer.rf else "-",
            pair_text(layer.start, ",") if layer.rf else "-",
            layer.via or "",
        )
        for layer in result.layers
    ]
    final = result.final
    footer = [f"receptive field of {final.name}: {pair_text(final.rf)} input pixels, jump {pair_text(final.jump)}"]
    if result.path:
        footer.append(f"set by the path: {' -> '.join(result.path)}")
    if result.check is not None:
        footer.append(result.check.text)
    return Table(f"{result.model} on input {result.input_shape}", header, rows, {3, 4, 5}, footer)


def receptive_table(result: ReceptiveField) -> str:
    return receptive_parts(result).text()
