"""The suite: every (case, pass) timed in every library over rounds, each measurement in a fresh worker process.

For each case and pass the libraries alternate, A B A B, round after round, so
a slow spell on a shared machine falls on all of them rather than on one. Each
worker reports the median of its timed calls; the suite reports the median of
those over rounds, the spread over all timed calls, GFLOP/s, peak extra memory
and ratio = convlab time / torch time (below 1: convlab is faster).

Workers are plain processes: only the thread count is set (``--threads``, by
default the cores this process may use). convlab and PyTorch are also run with
one thread, alternating the same way, for the speed-up each gets from its threads.
Before measuring, convlab's compiled kernels are made ready once (compiled, or
loaded from the disk cache), and both latencies are reported.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .._files import write_text
from .cases import CASES, PEERS, Case
from .measure import THREADS, worker_env
from .training import TRAINING_CASES, TrainingCase

__all__ = ["FULL", "QUICK", "Settings", "default_out", "run_suite", "save"]


@dataclass(frozen=True)
class Settings:
    """How thoroughly to measure."""

    rounds: int = 3
    """Worker processes per library for each case and pass, alternating with the other libraries."""
    repeat: int = 11
    """Timed calls per worker at most."""
    warmup: int = 1
    """Untimed calls per worker after the first (which measures memory)."""
    budget: float = 5.0
    """Seconds of timed calls after which a worker stops early..."""
    least: int = 3
    """...but not before this many timed calls."""
    naive_limit: int | None = None
    """Skip the naive peer when its window matrix would exceed this many bytes (None: never skip)."""
    memory_limit: int = 0
    """Address-space cap per worker in bytes (0: :func:`default_memory_limit` of this machine)."""
    only: str = ""
    """Run only cases whose name contains this."""
    peers: tuple[str, ...] = PEERS
    """The libraries to run, where a case applies to them."""
    overhead_calls: int = 10_000
    """Calls per block in the per-call overhead measurement (0: skip it)."""
    overhead_blocks: int = 9
    timeout: float = 1800.0
    """Seconds before a worker is given up on."""
    quick: bool = False
    threads: int = THREADS
    """Threads for every library in the headline numbers."""
    single_thread: bool = True
    """Also time convlab and torch with one thread, for the speed-up from 1 to ``threads``."""


FULL = Settings()
"""The numbers for docs/performance.md: 3 rounds, up to 11 timed calls each, every peer on every case."""

QUICK = Settings(
    rounds=1,
    warmup=0,
    repeat=5,
    budget=1.0,
    least=1,
    naive_limit=256 * 2**20,
    overhead_calls=5000,
    overhead_blocks=5,
    quick=True,
)
"""A check that everything runs and a first look, in under 2 minutes on 2 cores: one round, the naive peer
only where its window matrix stays under 256 MB."""


def default_out() -> Path:
    """benchmarks/results when run from a convlab checkout, else ./convlab-bench."""
    return Path("benchmarks/results") if Path("benchmarks").is_dir() else Path("convlab-bench")


def default_memory_limit() -> int:
    """60% of the machine's memory, or 80% of what is free now if less.

    A runaway worker then fails with MemoryError and the machine stays up.
    """
    fields: dict[str, int] = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            name, value = line.split(":", 1)
            fields[name] = int(value.split()[0]) * 1024
    except (OSError, ValueError):
        return 0
    if "MemTotal" not in fields:
        return 0
    return int(min(0.6 * fields["MemTotal"], 0.8 * fields.get("MemAvailable", fields["MemTotal"])))


def _env(threads: int) -> dict[str, str]:
    """The worker environment; PYTHONPATH finds this convlab even when it is not installed."""
    package_parent = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (package_parent, os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, **worker_env(threads), "PYTHONPATH": path}


def _run_worker(module: str, args: Sequence[str], timeout: float, threads: int = THREADS) -> dict[str, Any]:
    """Run ``python -m convlab.bench.<module> args`` with ``threads`` threads; its last output line as JSON."""
    command = [sys.executable, "-m", f"convlab.bench.{module}", *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=_env(threads), timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        detail = (done.stderr.strip().splitlines() or [""])[-1][:200]
        killed = " (killed: out of memory?)" if done.returncode == -9 else ""
        return {"error": f"worker exited with code {done.returncode}{killed}: {detail}".rstrip(": ")}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _skip_reason(peer: str, case: Case | TrainingCase, settings: Settings) -> str | None:
    if (
        peer == "naive"
        and isinstance(case, Case)
        and settings.naive_limit is not None
        and case.columns_bytes > settings.naive_limit
    ):
        return f"skipped in quick mode: its window matrix would be {case.columns_bytes / 2**30:.1f} GB"
    return None


def _aggregate(case: Case | TrainingCase, op: str, rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One library's numbers for one case and pass, from its workers' reports."""
    good = [r for r in rounds if "error" not in r and "skipped" not in r]
    if not good:
        first = rounds[0] if rounds else {"error": "not run"}
        return {key: first[key] for key in ("error", "skipped") if key in first}
    seconds = statistics.median(r["median"] for r in good)
    traced = [r["traced_peak_bytes"] for r in good if r.get("traced_peak_bytes") is not None]
    return {
        "seconds": seconds,
        "min_s": min(r["min"] for r in good),
        "max_s": max(r["max"] for r in good),
        "q1_s": statistics.median(r["q1"] for r in good),
        "q3_s": statistics.median(r["q3"] for r in good),
        "round_medians_s": [r["median"] for r in good],
        "timed_calls": sum(r["n"] for r in good),
        "gflops": case.flops(op) / seconds / 1e9,
        "rss_extra_bytes": int(statistics.median(r["rss_extra_bytes"] for r in good)),
        "rss_method": good[0]["rss_method"],
        "rss_call_bytes": int(statistics.median(r["rss_call_bytes"] for r in good)),
        "traced_peak_bytes": int(statistics.median(traced)) if traced else None,
        "errors": [r["error"] for r in rounds if "error" in r],
        "workers": rounds,
    }


def _measure_row(
    case: Case | TrainingCase,
    op: str,
    settings: Settings,
    memory_limit: int,
    say: Callable[[str], None],
    step: str,
) -> dict[str, Any]:
    peers = [peer for peer in case.peers() if peer in settings.peers]
    reports: dict[str, list[dict[str, Any]]] = {peer: [] for peer in peers}
    worker_args = [
        f"--repeat={settings.repeat}",
        f"--warmup={settings.warmup}",
        f"--budget={settings.budget}",
        f"--least={settings.least}",
        f"--memory-limit={memory_limit}",
    ]
    one_thread = [p for p in ("convlab", "torch") if p in peers] if settings.single_thread else []
    runs = [(peer, settings.threads) for peer in peers]
    runs += [(peer, 1) for peer in one_thread if settings.threads > 1]
    single: dict[str, list[dict[str, Any]]] = {peer: [] for peer in one_thread}
    for round_ in range(settings.rounds):
        for peer, threads in runs:  # A B A B: every library once per round, in the same order
            into = reports[peer] if threads == settings.threads else single[peer]
            reason = _skip_reason(peer, case, settings)
            if reason:
                if round_ == 0 and into is reports[peer]:
                    reports[peer].append({"skipped": reason})
                    say(f"{step} {case.name}, {op}, {peer}: {reason}")
                continue
            if any("error" in r for r in into):  # a failure repeats; don't pay for it again
                continue
            args = [peer, op, json.dumps(case.to_json()), *worker_args]
            report = _run_worker("worker", args, settings.timeout, threads)
            into.append(report)
            shown = f"{report['median'] * 1e3:.2f} ms" if "median" in report else report.get("error", "?")
            label = f"{peer}, {threads} thread{'s' if threads > 1 else ''}"
            say(f"{step} {case.name}, {op}, round {round_ + 1}/{settings.rounds}, {label}: {shown}")
    results = {peer: _aggregate(case, op, reports[peer]) for peer in peers}
    for peer, singles in single.items():
        alone = _aggregate(case, op, singles) if singles else {}
        if "seconds" in alone and "seconds" in results[peer]:
            results[peer]["one_thread_s"] = alone["seconds"]
            results[peer]["speedup"] = alone["seconds"] / results[peer]["seconds"]
    torch_s = results.get("torch", {}).get("seconds")
    for result in results.values():
        if torch_s and "seconds" in result:
            result["vs_torch"] = result["seconds"] / torch_s
    ours = results.get("convlab", {}).get("seconds")
    our_memory, torch_memory = (results.get(peer, {}).get("rss_call_bytes") for peer in ("convlab", "torch"))
    return {
        "case": case.name,
        "op": op,
        "shape": case.to_json(),
        "flops": case.flops(op),
        "ratio": ours / torch_s if ours and torch_s else None,
        "memory_ratio": our_memory / torch_memory if our_memory is not None and torch_memory else None,
        "peers": results,
    }


def _overhead(settings: Settings, say: Callable[[str], None]) -> dict[str, Any]:
    """Per-call overhead on Lab 1, both libraries in each worker; the median over rounds of each figure."""
    from .overhead import TARGET_RATIO, TARGET_US

    peers = [p for p in ("convlab", "torch") if p in settings.peers]
    args = [*peers, f"--calls={settings.overhead_calls}", f"--blocks={settings.overhead_blocks}"]
    reports = [_run_worker("overhead", args, settings.timeout, settings.threads) for _ in range(settings.rounds)]
    good = [report for report in reports if "error" not in report]
    result: dict[str, Any] = {
        "shape": "input 1x1x4x4, kernel 1x1x2x2 (Lab 1), float32",
        "target_us": TARGET_US,
        "target_ratio": TARGET_RATIO,
    }
    for peer in peers:
        if not good:
            result[peer] = {"error": reports[0].get("error")}
            continue
        result[peer] = {
            key: statistics.median(report[peer][key] for report in good)
            for key in ("us_per_call", "layer_us_per_call")
        }
    for key in ("ratio", "layer_ratio"):
        if good and key in good[0]:
            result[key] = statistics.median(report[key] for report in good)
    say(f"per-call overhead: {json.dumps(result)}")
    return result


def _kernels_ready(settings: Settings, say: Callable[[str], None]) -> dict[str, Any]:
    """Make convlab's compiled kernels ready once, timing it, then time loading them from the disk cache."""
    say("compiling convlab's kernels (only on the first run after install or a change; cached on disk after)...")
    first = _run_worker("kernels", [], settings.timeout, settings.threads)
    cached = _run_worker("kernels", [], settings.timeout, settings.threads)
    say(f"kernels ready: first {json.dumps(first)}, cached {json.dumps(cached)}")
    return {"first": first, "cached": cached}


def run_suite(
    settings: Settings,
    cases: Iterable[Case | TrainingCase] = (*CASES, *TRAINING_CASES),
    command: str = "",
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Measure everything ``settings`` asks for; the whole result as a JSON-ready dict."""
    from .machine import describe

    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    memory_limit = settings.memory_limit or default_memory_limit()
    settings = replace(settings, memory_limit=memory_limit)
    chosen = [case for case in cases if settings.only in case.name]
    started = time.perf_counter()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    kernels = _kernels_ready(settings, say) if "convlab" in settings.peers else None
    rows = []
    passes = [(case, op) for case in chosen for op in case.ops]
    for index, (case, op) in enumerate(passes):
        rows.append(_measure_row(case, op, settings, memory_limit, say, f"[{index + 1}/{len(passes)}]"))
    run_overhead = settings.overhead_calls > 0 and (not settings.only or settings.only in "overhead")
    overhead = _overhead(settings, say) if run_overhead else None
    return {
        "schema": "convlab-bench/1",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "machine": describe(),
        "settings": asdict(settings),
        "worker_env": worker_env(settings.threads),
        "kernels": kernels,
        "rows": rows,
        "overhead": overhead,
        "wall_seconds": time.perf_counter() - started,
        "load_average_at_start": load_before,  # 1-minute; well above 0 on 2 cores: someone else was busy
    }


def save(result: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write ``<timestamp>.json``, ``.md`` and ``.png`` (if matplotlib is installed) into ``out``."""
    from .report import chart, markdown

    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromisoformat(result["created"]).strftime("%Y%m%dT%H%M%SZ")
    paths = {"json": out / f"{stamp}.json", "markdown": out / f"{stamp}.md", "chart": out / f"{stamp}.png"}
    write_text(paths["json"], json.dumps(result, indent=1) + "\n")
    if not chart(result, paths["chart"]):
        del paths["chart"]
    chart_name = paths["chart"].name if "chart" in paths else None
    write_text(paths["markdown"], markdown(result, chart_path=chart_name) + "\n")
    return paths
