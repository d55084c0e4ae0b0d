"""Python overhead per call: the lesson's Lab 1 (a 4x4 image, a 2x2 kernel), called many times in one process.

At this size the arithmetic is a dozen multiply-adds, so the time per call is
almost all argument checking, dispatch and array creation: the cost a learner
pays on every small experiment. Run as ``python -m convlab.bench.overhead PEER``;
prints one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["LAB1_IMAGE", "LAB1_KERNEL", "TARGET_US", "main", "per_call_us"]

LAB1_IMAGE = [[[[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]]]
"""The lesson's Lab 1 input, shape 1x1x4x4."""
LAB1_KERNEL = [[[[1, 0], [0, -1]]]]
"""The lesson's Lab 1 kernel, shape 1x1x2x2."""
TARGET_US = 30.0
"""convlab's goal for one tiny conv2d call, in microseconds."""


def _call(peer: str) -> Callable[[], object]:
    import numpy as np

    x, w = np.array(LAB1_IMAGE, dtype=np.float32), np.array(LAB1_KERNEL, dtype=np.float32)
    if peer == "torch":
        import torch

        torch.set_num_threads(2)
        xt, wt = torch.from_numpy(x), torch.from_numpy(w)
        return lambda: torch.nn.functional.conv2d(xt, wt)
    import convlab.functional as F

    return lambda: F.conv2d(x, w)


def per_call_us(peer: str, calls: int = 20_000, blocks: int = 5) -> dict[str, Any]:
    """Microseconds per ``conv2d`` call on Lab 1's float32 arrays: the median and range over ``blocks`` blocks."""
    call = _call(peer)
    for _ in range(min(calls, 1000)):  # warm up
        call()
    blocks_us = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        blocks_us.append((time.perf_counter() - start) / calls * 1e6)
    return {
        "peer": peer,
        "us_per_call": statistics.median(blocks_us),
        "min_us": min(blocks_us),
        "max_us": max(blocks_us),
        "calls": calls * blocks,
    }


def main(argv: list[str] | None = None) -> int:
    """Measure one peer and print the JSON."""
    parser = argparse.ArgumentParser(prog="python -m convlab.bench.overhead", description=__doc__.splitlines()[0])
    parser.add_argument("peer", choices=["convlab", "torch"])
    parser.add_argument("--calls", type=int, default=20_000, help="calls per block")
    parser.add_argument("--blocks", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps(per_call_us(args.peer, args.calls, args.blocks)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
