"""Python overhead per call: the lesson's Lab 1 (a 4x4 image, a 2x2 kernel), called many times in one process.

At this size the arithmetic is a dozen multiply-adds, so the time per call is
almost all argument checking, dispatch and array creation: the cost a learner
pays on every small experiment. Two calls are timed for each library: the
function (``conv2d``) and a layer's forward (``Conv2d``, with its bias). Both
libraries run in the same process, their blocks interleaved, so a busy machine
slows both alike; each figure is the fastest block's time per call. Run as
``python -m convlab.bench.overhead convlab torch``; prints one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["CALLS", "LAB1_IMAGE", "LAB1_KERNEL", "TARGET_RATIO", "TARGET_US", "main", "per_call_us"]

LAB1_IMAGE = [[[[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]]]
"""The lesson's Lab 1 input, shape 1x1x4x4."""
LAB1_KERNEL = [[[[1, 0], [0, -1]]]]
"""The lesson's Lab 1 kernel, shape 1x1x2x2."""
TARGET_US = 30.0
"""convlab's goal for one tiny conv2d call, in microseconds."""
TARGET_RATIO = 3.0
"""convlab's goal for one tiny call against PyTorch's, as a ratio of times."""
CALLS = ("conv2d", "Conv2d")
"""What is timed: the functional call, and a layer's forward."""


def _calls(peer: str) -> dict[str, Callable[[], object]]:
    import numpy as np

    x, w = np.array(LAB1_IMAGE, dtype=np.float32), np.array(LAB1_KERNEL, dtype=np.float32)
    if peer == "torch":
        import torch

        torch.set_num_threads(2)
        xt, wt = torch.from_numpy(x), torch.from_numpy(w)
        layer = torch.nn.Conv2d(1, 1, 2)
        return {"conv2d": lambda: torch.nn.functional.conv2d(xt, wt), "Conv2d": lambda: layer(xt)}
    import convlab.functional as F
    import convlab.nn as nn

    conv = nn.Conv2d(1, 1, 2)
    return {"conv2d": lambda: F.conv2d(x, w), "Conv2d": lambda: conv(x)}


def per_call_us(peers: list[str], calls: int = 20_000, blocks: int = 5) -> dict[str, Any]:
    """Microseconds per call on Lab 1's float32 arrays, for each peer and call (:data:`CALLS`), and the ratio.

    Blocks of ``calls`` calls run in turn for every peer and call; each figure is the fastest of ``blocks``.
    """
    timed = {(peer, name): call for peer in peers for name, call in _calls(peer).items()}
    for call in timed.values():
        for _ in range(min(calls, 1000)):  # warm up
            call()
    best = dict.fromkeys(timed, float("inf"))
    for _ in range(blocks):
        for key, call in timed.items():
            start = time.perf_counter()
            for _ in range(calls):
                call()
            best[key] = min(best[key], (time.perf_counter() - start) / calls * 1e6)
    result: dict[str, Any] = {"calls": calls * blocks}
    for peer in peers:
        result[peer] = {"us_per_call": best[peer, "conv2d"], "layer_us_per_call": best[peer, "Conv2d"]}
    if "convlab" in peers and "torch" in peers:
        result["ratio"] = best["convlab", "conv2d"] / best["torch", "conv2d"]
        result["layer_ratio"] = best["convlab", "Conv2d"] / best["torch", "Conv2d"]
    return result


def main(argv: list[str] | None = None) -> int:
    """Measure the peers and print the JSON."""
    parser = argparse.ArgumentParser(prog="python -m convlab.bench.overhead", description=__doc__.splitlines()[0])
    parser.add_argument("peers", nargs="+", choices=["convlab", "torch"])
    parser.add_argument("--calls", type=int, default=20_000, help="calls per block")
    parser.add_argument("--blocks", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps(per_call_us(list(dict.fromkeys(args.peers)), args.calls, args.blocks)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
