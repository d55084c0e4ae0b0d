"""A suite result as people read it: markdown tables, a bar chart of the ratios, and docs/performance.md.

The tables give time (with the spread of the timed calls), GFLOP/s and peak
extra memory for every library; the chart shows each library's time relative to
PyTorch's on a log scale, with PyTorch at 1.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .._files import atomic_path, write_text
from .cases import PEERS
from .machine import summary_line

__all__ = ["MARKERS", "chart", "markdown", "write_docs"]

MARKERS = ("<!-- bench:start -->", "<!-- bench:end -->")
"""The part of docs/performance.md that :func:`write_docs` owns; everything outside stays as written."""

_OTHERS = ("scipy", "naive")
_COLOURS = {"convlab": "#1f77b4", "scipy": "#2ca02c", "naive": "#9a9a9a"}


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def _missing(result: dict[str, Any] | None) -> str | None:
    """How a cell reads when there is no number: not applicable, skipped, or why it failed."""
    if result is None:
        return "n/a"
    if "skipped" in result:
        return "skipped"
    if "error" in result:
        return "out of memory" if "out of memory" in result["error"] else "failed"
    return None


def _time(result: dict[str, Any] | None, spread: bool) -> str:
    missing = _missing(result)
    if missing or result is None:
        return missing or ""
    cell = _ms(result["seconds"])
    return f"{cell} ({_ms(result['min_s'])}–{_ms(result['max_s'])})" if spread else cell


def _one_thread(result: dict[str, Any] | None, key: str) -> str:
    """The 1-thread time in ms, or the speed-up from 1 thread to all (time with 1 / time with all)."""
    if not result or key not in result:
        return "–"
    return f"{result[key] * 1e3:.2f}" if key == "one_thread_s" else f"{result[key]:.2f}×"


def _rate(result: dict[str, Any] | None) -> str:
    missing = _missing(result)
    if missing or result is None:
        return missing or ""
    return f"{result['gflops']:.1f}"


def _memory(result: dict[str, Any] | None) -> str:
    missing = _missing(result)
    if missing or result is None:
        return missing or ""
    rss = f"{result['rss_extra_bytes'] / 2**20:.0f}"
    traced = result.get("traced_peak_bytes")
    return rss if traced is None else f"{rss} / {traced / 2**20:.0f}"


def _later_call(result: dict[str, Any] | None) -> str:
    later = (result or {}).get("rss_call_bytes")
    return "–" if later is None else f"{later / 2**20:.0f}"


def _table(header: list[str], rows: list[list[str]], right_from: int = 2) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    rule = ["-" * w + (":" if i >= right_from else "-") for i, w in enumerate(widths)]

    def line(cells: list[str]) -> str:
        padded = (
            cell.ljust(w) if i < right_from else cell.rjust(w) for i, (cell, w) in enumerate(zip(cells, widths))
        )
        return "| " + " | ".join(padded) + " |"

    return [line(header), "|" + "|".join("-" + r for r in rule) + "|", *(line(row) for row in rows)]


def _peers_in(result: dict[str, Any]) -> list[str]:
    present = {peer for row in result["rows"] for peer in row["peers"]}
    return [peer for peer in PEERS if peer in present]


def markdown(result: dict[str, Any], chart_path: str | None = None) -> str:
    """The whole result as markdown: set-up, reproducing command, chart, three tables and the overhead."""
    settings, rows = result["settings"], result["rows"]
    others = [peer for peer in _OTHERS if peer in _peers_in(result)]
    lines = [
        f"Machine: {summary_line(result['machine'])}.",
        "",
        f"Method: float32; each library in its own plain worker process (no malloc settings) with "
        f"{settings.get('threads', 2)} threads (OMP/OpenBLAS/MKL, `torch.set_num_threads`); libraries "
        f"alternate A B A B over {settings['rounds']} round(s); each worker warms up "
        f"({settings['warmup']} call(s) after the first) "
        f"and times up to {settings['repeat']} calls (at least {settings['least']}); the number is the median "
        f"over rounds of each worker's median. Backward = input gradient + weight gradient (torch: "
        f"`out.backward(grad)` through autograd, forward untimed); its FLOPs count twice the forward's. "
        f"Run {result['created']}, {result['wall_seconds'] / 60:.1f} min"
        + (
            f", load average {load:.2f} at the start"
            if (load := result.get("load_average_at_start")) is not None
            else ""
        )
        + (", quick mode" if settings.get("quick") else "")
        + ".",
        "",
        f"Reproduce: `{result['command']}`" if result.get("command") else "",
        "",
    ]
    if chart_path:
        lines += [f"![time relative to PyTorch, per layer and pass]({chart_path})", ""]
    lines += [
        "**Time** in ms: median (fastest–slowest timed call). "
        "ratio = convlab time / torch time; below 1, convlab is faster.",
        "",
    ]
    header = [
        "layer",
        "pass",
        "GFLOP",
        "convlab ms",
        "torch ms",
        "ratio",
        "convlab 1-thread ms",
        "torch 1-thread ms",
        "convlab speed-up",
        "torch speed-up",
        *(f"{peer} ms" for peer in others),
    ]
    body = []
    for row in rows:
        peers = row["peers"]
        ratio = f"**{row['ratio']:.2f}**" if row["ratio"] is not None else "–"
        body.append(
            [
                row["case"],
                row["op"],
                f"{row['flops'] / 1e9:.2f}",
                _time(peers.get("convlab"), True),
                _time(peers.get("torch"), True),
                ratio,
                *(_one_thread(peers.get(peer), "one_thread_s") for peer in ("convlab", "torch")),
                *(_one_thread(peers.get(peer), "speedup") for peer in ("convlab", "torch")),
                *(_time(peers.get(peer), False) for peer in others),
            ]
        )
    lines += _table(header, body)
    lines += ["", "**Throughput** in GFLOP/s (2 x multiply-adds per second).", ""]
    peers_all = _peers_in(result)
    lines += _table(
        ["layer", "pass", *peers_all],
        [[row["case"], row["op"], *(_rate(row["peers"].get(peer)) for peer in peers_all)] for row in rows],
    )
    lines += [
        "",
        "**Peak extra memory** per call in MB: rise of the resident set over the worker's first full-size call "
        "(VmHWM), then / tracemalloc's peak (NumPy's arrays; PyTorch's allocator is invisible to it). "
        "The last columns: the rise over a later call, once convlab's workspaces are cached, and its ratio "
        "convlab / torch (target: at most 1.5).",
        "",
    ]
    lines += _table(
        ["layer", "pass", *peers_all, "later call convlab / torch", "ratio"],
        [
            [
                row["case"],
                row["op"],
                *(_memory(row["peers"].get(peer)) for peer in peers_all),
                " / ".join(_later_call(row["peers"].get(peer)) for peer in ("convlab", "torch")),
                f"{row['memory_ratio']:.2f}" if row.get("memory_ratio") is not None else "–",
            ]
            for row in rows
        ],
    )
    kernels = result.get("kernels")
    if kernels:
        lines += ["", "**Compiled kernels**, first large call of each compiled algorithm in a fresh process:", ""]
        for when, label in (("first", "first run (compiles unless already cached)"), ("cached", "from the cache")):
            entry = kernels.get(when, {})
            seconds = entry.get("seconds", {})
            shown = ", ".join(f"{name} {value:.2f} s" for name, value in seconds.items())
            shown = shown or entry.get("error", "?")
            lines.append(f"- {label}: {shown}")
    overhead = result.get("overhead")
    if overhead:
        lines += ["", f"**Python overhead per call**, {overhead['shape']}, in one process:", ""]
        for peer in ("convlab", "torch"):
            entry = overhead.get(peer, {})
            if "us_per_call" not in entry:
                lines.append(f"- {peer}: failed ({entry.get('error')})")
                continue
            layer = entry.get("layer_us_per_call")
            shown = f"{entry['us_per_call']:.1f} µs per `conv2d` call"
            lines.append(f"- {peer}: {shown}" + (f", {layer:.1f} µs per `Conv2d` forward" if layer else ""))
        if "ratio" in overhead:
            layer_ratio = overhead.get("layer_ratio")
            lines.append(
                f"- ratio convlab / torch: {overhead['ratio']:.2f} for `conv2d`"
                + (f", {layer_ratio:.2f} for `Conv2d`" if layer_ratio else "")
                + f" (target: at most {overhead.get('target_ratio', 3.0):.0f})"
            )
    notes = sorted(
        {error for row in rows for peer in row["peers"].values() for error in peer.get("errors", [])}
        | {peer["error"] for row in rows for peer in row["peers"].values() if "error" in peer}
    )
    if notes:
        lines += ["", "Failures: " + "; ".join(notes) + "."]
    return "\n".join(lines).replace("\n\n\n", "\n\n").strip()


def _times(ratio: float) -> str:
    return f"{ratio:.0f}×" if ratio >= 10 else f"{ratio:.2f}×" if ratio >= 0.1 else f"{ratio:.3f}×"


def chart(result: dict[str, Any], path: Path) -> bool:
    """Horizontal bars of each library's time / torch's time, log scale, torch = 1; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter
    except ImportError:
        return False
    rows = result["rows"]
    peers = [peer for peer in _peers_in(result) if peer != "torch"]
    values = [row["peers"][p]["vs_torch"] for row in rows for p in peers if "vs_torch" in row["peers"].get(p, {})]
    low, high = min([*values, 1.0]) / 1.8, max([*values, 1.0]) * 3
    fig, ax = plt.subplots(figsize=(11, 1.6 + 0.5 * len(rows)), layout="constrained")
    labelled: set[str] = set()
    for i, row in enumerate(rows):
        present = [peer for peer in peers if peer in row["peers"]]  # a slot for each library that applies
        height = 0.8 / max(1, len(present))
        for k, peer in enumerate(present):
            entry, y = row["peers"][peer], i + (k - (len(present) - 1) / 2) * height
            if "vs_torch" in entry:
                label = None if peer in labelled else f"{peer} time / torch time"
                labelled.add(peer)
                ax.barh(
                    y, entry["vs_torch"], height=height * 0.9, color=_COLOURS.get(peer, "#ff7f0e"), label=label
                )
                weight = "bold" if peer == "convlab" else "normal"
                ax.text(
                    entry["vs_torch"] * 1.07,
                    y,
                    _times(entry["vs_torch"]),
                    va="center",
                    fontsize=7.5,
                    fontweight=weight,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.3, "alpha": 0.8},
                )
            else:
                ax.text(low * 1.1, y, f"{peer}: {_missing(entry)}", va="center", fontsize=7.5, color="#b00000")
    ax.axvline(1.0, color="black", linewidth=1.3)
    ax.text(1.06, -0.85, "torch = 1", fontsize=8.5, va="center")
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    ax.set_ylim(len(rows) - 0.5, -1.2)
    ax.set_yticks(range(len(rows)), [f"{row['case']} · {row['op']}" for row in rows], fontsize=8.5)
    ax.set_xlabel("time / PyTorch's time (log scale; left of 1: faster than PyTorch)")
    machine = result["machine"]
    ax.set_title(
        f"convlab {machine['convlab']} vs PyTorch {machine['torch']}: float32, 2 threads each, {machine['cpu']}"
        + (" (quick mode)" if result["settings"].get("quick") else ""),
        fontsize=10,
    )
    ax.grid(axis="x", which="major", alpha=0.3)
    for i in range(1, len(rows)):
        ax.axhline(i - 0.5, color="#dddddd", linewidth=0.6)
    fig.legend(loc="outside lower center", ncol=len(labelled), fontsize=8.5, frameon=False)
    with atomic_path(path) as temporary:
        fig.savefig(temporary, dpi=110)
    plt.close(fig)
    return True


def write_docs(result: dict[str, Any], doc: Path, chart_path: Path) -> None:
    """Replace the text between :data:`MARKERS` in ``doc`` by this result; the chart goes to ``chart_path``."""
    text = doc.read_text()
    start, end = MARKERS
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise ValueError(f"{doc} needs exactly one {start} ... {end} section")
    drew = chart(result, chart_path)
    relative = os.path.relpath(chart_path, doc.parent) if drew else None
    before, rest = text.split(start)
    after = rest.split(end)[1]
    write_text(doc, f"{before}{start}\n{markdown(result, chart_path=relative)}\n{end}{after}")
