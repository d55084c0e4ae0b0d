"""Wall time of starting the convlab command, against starting Python with NumPy, measured in one run.

Usage: python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def wall_time(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    convlab = shutil.which("convlab") or sys.exit("install convlab first: pip install -e .")
    commands = {
        'python -c "pass"': [sys.executable, "-c", "pass"],
        'python -c "import numpy"': [sys.executable, "-c", "import numpy"],
        "convlab --help": [convlab, "--help"],
        "convlab lab": [convlab, "lab"],
        "convlab summary resnet50": [convlab, "summary", "resnet50"],
    }
    print(f"| command | median wall time of {args.runs} runs |")
    print("|---|---:|")
    for name, command in commands.items():
        print(f"| `{name}` | {wall_time(command, args.runs) * 1e3:.0f} ms |", flush=True)


if __name__ == "__main__":
    main()
