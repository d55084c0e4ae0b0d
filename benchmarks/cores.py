"""The many-core check: convlab against PyTorch on every usable core, in a few minutes.

Usage: python benchmarks/cores.py [--threads N] [--rounds N] [--out DIR]

The targets for a large machine (16 cores): the ResNet-18 3x3 layers' ratio
convlab / torch at most 1.5 as a geometric mean, depthwise at most 2.0. This
runs the suite's workers (plain processes, libraries alternating, see
src/convlab/bench/) on those layers and the other engine layers, convlab and
PyTorch only, with N threads and with one, and prints the table, the speed-up
each library gets from its threads, and the verdict on each target. The full
result goes to DIR as .json and .md named by the time of the run, the verdicts
in <time>-cores-<N>.md beside them.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

try:
    import convlab  # noqa: F401
except ImportError:  # a checkout that is not installed
    sys.path.insert(0, str(ROOT / "src"))

from convlab._files import write_text  # noqa: E402
from convlab.bench import runner  # noqa: E402
from convlab.bench.cases import CASES  # noqa: E402
from convlab.bench.machine import summary_line  # noqa: E402
from convlab.bench.report import markdown  # noqa: E402

LAYERS = ("resnet18", "depthwise", "dilated")
"""Which cases run (name prefixes): the engine's layers; the large-kernel and training cases stay out."""

TARGETS = {"resnet18 3x3": 1.5, "depthwise": 2.0}
"""Geometric mean of the ratio (forward and backward together) that each group must stay under."""


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(value) for value in values) / len(values))


def verdicts(result: dict[str, Any]) -> list[str]:
    """One line per target: the group's ratios, their geometric mean and whether it is met."""
    lines = []
    for group, target in TARGETS.items():
        rows = [row for row in result["rows"] if row["case"].startswith(group) and row["ratio"] is not None]
        if not rows:
            lines.append(f"{group}: no ratio measured")
            continue
        ratios = [row["ratio"] for row in rows]
        mean = _geomean(ratios)
        listed = ", ".join(f"{row['op'][:3]} {row['ratio']:.2f}" for row in rows)
        verdict = "met" if mean <= target else "NOT met"
        lines.append(f"{group}: geomean {mean:.2f} (target <= {target}): {verdict} [{listed}]")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    parser.add_argument("--threads", type=int, default=usable, help=f"threads per library (default {usable})")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of alternating workers (default 2)")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="folder for the .json and .md")
    args = parser.parse_args()
    if args.threads < 1 or args.rounds < 1:
        parser.error(f"--threads and --rounds must be at least 1, got {args.threads} and {args.rounds}")
    settings = replace(
        runner.QUICK,
        peers=("convlab", "torch"),
        threads=args.threads,
        rounds=args.rounds,
        warmup=1,  # a first call's page faults and weight transforms stay out of the timed calls
        overhead_calls=0,
    )
    cases = [case for case in CASES if case.name.startswith(LAYERS)]
    result = runner.run_suite(settings, cases, command=" ".join(["python benchmarks/cores.py", *sys.argv[1:]]))
    report = "\n".join([markdown(result), "", "**Targets**", "", *(f"- {line}" for line in verdicts(result))])
    saved = runner.save(result, args.out)
    named = saved["json"].with_name(f"{saved['json'].stem}-cores-{args.threads}.md")  # beside the run's files
    write_text(named, report + "\n")
    print(report)
    print(f"\n{summary_line(result['machine'])}", file=sys.stderr)
    print(f"saved {named} and {saved['json']}; wall time {result['wall_seconds']:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
