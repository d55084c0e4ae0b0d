"""convlab against PyTorch, SciPy and a naive NumPy im2col, side by side: the suite in convlab.bench.

Usage: python benchmarks/run.py [--quick] [--only SUBSTRING] [--out DIR] [--write-docs]

The same suite as `convlab bench` (see src/convlab/bench/ for the method: a
worker process per library and measurement, A B A B over rounds, 2 threads,
glibc keeping freed memory). Results go to benchmarks/results/<timestamp>.json,
.md and .png; --write-docs also rewrites the marked section of
docs/performance.md and docs/performance.png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

try:
    import convlab  # noqa: F401
except ImportError:  # a checkout that is not installed
    sys.path.insert(0, str(ROOT / "src"))

from convlab.cli.bench import add_arguments, run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.set_defaults(
        out=HERE / "results", docs=ROOT / "docs" / "performance.md", program="python benchmarks/run.py"
    )
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
