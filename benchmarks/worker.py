"""One measurement in a fresh process; the code lives in convlab.bench.worker (`python -m convlab.bench.worker`).

Usage: python benchmarks/worker.py PEER OP CASE_JSON [--repeat N] [--warmup N] [--budget S] [--memory-limit BYTES]
"""

from __future__ import annotations

import sys

from convlab.bench.worker import main

if __name__ == "__main__":
    sys.exit(main())
