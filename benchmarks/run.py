"""convlab against PyTorch, side by side, on the layers in cases.py.

Usage: python benchmarks/run.py [--rounds 3] [--only SUBSTRING]

Hygiene (measured on 2-core machines): each measurement runs in its own
process, convlab and torch alternate A B A B, both get 2 threads, and glibc is
told to keep freed memory (re-faulting returned pages distorts timings). The
reported number is the median over rounds of each process's median; the ratio
is convlab time / torch time, so below 1 means convlab is faster.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

from cases import CASES

HERE = Path(__file__).parent
ENV = {
    **os.environ,
    "OMP_NUM_THREADS": "2",
    "OPENBLAS_NUM_THREADS": "2",
    "MALLOC_MMAP_MAX_": "0",
    "MALLOC_TRIM_THRESHOLD_": "68719476736",
    "MALLOC_TOP_PAD_": "268435456",
}


def measure(engine: str, index: int) -> float:
    out = subprocess.run(
        [sys.executable, str(HERE / "worker.py"), engine, str(index)],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
        cwd=HERE,
    ).stdout
    return float(json.loads(out)["median"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    flags = Path("/proc/cpuinfo").read_text()
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE"
    print(f"# {cpu}, {simd}, {os.cpu_count()} cores, float32, 2 threads each, {args.rounds} rounds")
    print(f"| {'layer':42} | convlab ms | torch ms | ratio | convlab GFLOP/s | torch GFLOP/s |")
    print(f"|{'-' * 44}|-----------:|---------:|------:|----------------:|--------------:|")
    for index, case in enumerate(CASES):
        if args.only not in case.name:
            continue
        ours, theirs = [], []
        for _ in range(args.rounds):  # A B A B
            ours.append(measure("convlab", index))
            theirs.append(measure("torch", index))
        a, b = statistics.median(ours), statistics.median(theirs)
        print(
            f"| {case.name:42} | {a * 1e3:10.2f} | {b * 1e3:8.2f} | {a / b:5.2f} | "
            f"{case.flops / a / 1e9:15.1f} | {case.flops / b / 1e9:13.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
