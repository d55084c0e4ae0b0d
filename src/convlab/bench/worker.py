"""One measurement in a fresh process: one library, one case, one pass; prints one line of JSON.

Run by :mod:`convlab.bench.runner` as ``python -m convlab.bench.worker`` with
the environment of :data:`convlab.bench.measure.WORKER_ENV`, so convlab's
OpenBLAS threads and PyTorch's OpenMP threads never share a process, and no
library's memory high-water mark leaks into another's.

In order: a call on a tiny input of the same layer (loads the code paths and
starts the thread pools), then the first full-size call with its peak extra
resident memory, then ``--warmup`` more calls, then up to ``--repeat`` timed
calls (fewer once ``--budget`` seconds are spent, never fewer than
``--least``), then one more call's peak extra resident memory (the cost of every
call once the first has filled the workspace cache) and, for NumPy-based
libraries, one call under tracemalloc.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from typing import Any

from .._args import Array
from .cases import OPS, PEERS, Case
from .measure import limit_memory, peak_extra_rss, summarize, time_calls, traced_peak

__all__ = ["inputs", "main", "measure"]


def inputs(case: Case, seed: int = 0) -> tuple[Array, Array, Array]:
    """Input, weight and output gradient for ``case``: standard normal float32, the same for every library."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case.input_shape, dtype=np.float32)
    w = rng.standard_normal(case.weight_shape, dtype=np.float32)
    grad = rng.standard_normal(case.output_shape, dtype=np.float32)
    return x, w, grad


def _tiny(case: Case) -> Case:
    """The same layer on one image just big enough for one output per stride step."""
    span = case.dilation * (case.weight_shape[2] - 1) + 1
    side = max(1, span - 2 * case.padding) + case.stride
    return replace(case, input_shape=(1, case.input_shape[1], side, side))


def measure(
    peer: str, case: Case, op: str, repeat: int, warmup: int = 1, budget: float = 10.0, least: int = 1
) -> dict[str, Any]:
    """Measure ``peer`` on ``case`` in this process (see the module's docstring); a JSON-ready dict."""
    from .peers import prepare

    tiny = prepare(peer, _tiny(case), op, *inputs(_tiny(case)))
    tiny.setup()
    tiny.call()
    timed = prepare(peer, case, op, *inputs(case))
    timed.setup()
    start = time.perf_counter()
    rss, rss_method = peak_extra_rss(timed.call)
    first = time.perf_counter() - start
    for _ in range(warmup):
        timed.setup()
        timed.call()
    times = time_calls(timed.call, timed.setup, repeat, budget, least)
    timed.setup()
    rss_call, _ = peak_extra_rss(timed.call)  # a later call: what every call needs once workspaces are cached
    traced = None
    if timed.numpy:
        timed.setup()
        traced = traced_peak(timed.call)
    return {
        "peer": peer,
        "case": case.name,
        "op": op,
        "first_call_s": first,
        "times_s": times,
        **summarize(times),
        "rss_extra_bytes": rss,
        "rss_method": rss_method,
        "rss_call_bytes": rss_call,
        "traced_peak_bytes": traced,
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, measure, print the JSON; failures become ``{"error": ...}`` with exit code 0."""
    parser = argparse.ArgumentParser(prog="python -m convlab.bench.worker", description=__doc__.splitlines()[0])
    parser.add_argument("peer", choices=PEERS)
    parser.add_argument("op", choices=(*OPS, "train step"))
    parser.add_argument("case", help="the case as JSON (Case.to_json)")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--budget", type=float, default=10.0, help="seconds of timed calls before stopping early")
    parser.add_argument("--least", type=int, default=1, help="timed calls even past the budget")
    parser.add_argument("--memory-limit", type=int, default=0, help="address-space cap in bytes (0: none)")
    args = parser.parse_args(argv)
    data = json.loads(args.case)
    if args.memory_limit:
        limit_memory(args.memory_limit)
    try:
        if data.get("training"):
            from .training import TrainingCase, measure_training

            steps = TrainingCase.from_json(data)
            result = measure_training(args.peer, steps, args.repeat, args.warmup, args.budget, args.least)
        else:
            case = Case.from_json(data)
            result = measure(args.peer, case, args.op, args.repeat, args.warmup, args.budget, args.least)
    except MemoryError:
        gb = args.memory_limit / 2**30
        result = {"error": "out of memory" + (f" (address space capped at {gb:.1f} GB)" if gb else "")}
    except Exception as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        if "can't allocate memory" in message or "not enough memory" in message:
            result = {"error": f"out of memory ({message[:160]})"}
        else:
            result = {"error": f"{type(error).__name__}: {message[:200]}"}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
