"""How much of each engine call runs on one thread whatever the setting: what bounds it on many cores.

Usage: python benchmarks/serial_part.py [--threads N] [--calls N]

At one thread, each layer of the many-core check (benchmarks/cores.py) is timed
whole and inside its parallel regions: the compiled parallel kernels and the
products, copies and checks that :mod:`convlab.functional.algorithms.parallel`
splits over the threads. What is left (argument checks, allocations, NumPy calls
on the calling thread, Python) runs serially at any thread count, so with a
share s of the call, N threads can speed the call up at most 1 / (s + (1 - s) / N)
(Amdahl's law). This needs no many-core machine: it tells which serial parts to
move onto the threads before one is at hand.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

try:
    import convlab
except ImportError:  # a checkout that is not installed
    sys.path.insert(0, str(HERE.parent / "src"))
    import convlab

from convlab.bench import peers, worker  # noqa: E402
from convlab.bench.cases import CASES, Case  # noqa: E402
from convlab.functional.algorithms import compiled, parallel  # noqa: E402

LAYERS = ("resnet18", "depthwise", "dilated")
"""The cases measured (name prefixes): the engine's layers, as in benchmarks/cores.py."""

PARALLEL_HELPERS = ("run", "matmul", "copy", "equal", "finite", "zero_padded", "zeros")
"""The functions of the ``parallel`` module that split their work over the threads."""


class _Clock:
    """Seconds spent inside parallel regions; a region inside another counts once."""

    def __init__(self) -> None:
        self.inside = 0.0
        self._depth = 0

    def timed(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def region(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return function(*args, **kwargs)
            self._depth += 1
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.inside += time.perf_counter() - start
                self._depth -= 1

        return region


@contextlib.contextmanager
def _timing_parallel_regions() -> Iterator[_Clock]:
    """Within the block, every parallel kernel call and parallel helper adds its time to the clock."""
    clock = _Clock()
    kernel_call = compiled.Kernel.__call__
    helpers = {name: getattr(parallel, name) for name in PARALLEL_HELPERS}
    timed_kernel_call = clock.timed(kernel_call)

    def call(self: compiled.Kernel[Any], *args: Any) -> Any:
        return timed_kernel_call(self, *args) if self.parallel else kernel_call(self, *args)

    compiled.Kernel.__call__ = call  # type: ignore[method-assign]
    for name, function in helpers.items():
        setattr(parallel, name, clock.timed(function))
    try:
        yield clock
    finally:
        compiled.Kernel.__call__ = kernel_call  # type: ignore[method-assign]
        for name, function in helpers.items():
            setattr(parallel, name, function)


def measure(case: Case, op: str, calls: int = 7) -> tuple[float, float]:
    """(seconds, seconds outside parallel regions) of convlab's fastest of ``calls`` calls, at one thread."""
    x, w, grad = worker.inputs(case)
    timed = peers.prepare("convlab", case, op, x, w, grad)
    old = convlab.get_num_threads()
    convlab.set_num_threads(1)
    try:
        timed.call()  # compiles, transforms the weight, borrows the workspaces
        best = (float("inf"), 0.0)
        with _timing_parallel_regions() as clock:
            for _ in range(calls):
                clock.inside = 0.0
                start = time.perf_counter()
                timed.call()
                total = time.perf_counter() - start
                best = min(best, (total, total - clock.inside))
        return best
    finally:
        convlab.set_num_threads(old)


def amdahl(serial_share: float, threads: int) -> float:
    """The most ``threads`` threads can speed up a call of which ``serial_share`` runs on one thread.

    Example:
        >>> round(amdahl(0.02, 16), 1)
        12.9
    """
    return 1 / (serial_share + (1 - serial_share) / threads)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=16, help="threads the bound is for (default 16)")
    parser.add_argument("--calls", type=int, default=7, help="calls per pass; the fastest counts (default 7)")
    args = parser.parse_args()
    if args.threads < 1 or args.calls < 1:
        parser.error(f"--threads and --calls must be at least 1, got {args.threads} and {args.calls}")
    print(f"| layer (one thread) | pass | ms | serial ms | serial share | bound at {args.threads} threads |")
    print("|---|---|---:|---:|---:|---:|")
    for case in (case for case in CASES if case.name.startswith(LAYERS)):
        for op in case.ops:
            total, serial = measure(case, op, args.calls)
            share = serial / total
            print(
                f"| {case.name} | {op} | {1e3 * total:.2f} | {1e3 * serial:.2f} | {100 * share:.1f}% "
                f"| {amdahl(share, args.threads):.1f}x |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
