"""Measuring inside a worker: the process environment, wall time of repeated calls, peak memory of one call.

Memory is the peak *extra* memory one call needs on top of its inputs:

- resident set: freed memory is first handed back to the kernel (glibc's
  ``malloc_trim``), then the kernel's high-water mark (``VmHWM``) is reset to
  the current resident size through ``/proc/self/clear_refs``, and read after
  the call; where that is not allowed, ``ru_maxrss`` before and after. This sees
  every library's memory, PyTorch's too.
- traced: ``tracemalloc``'s peak over one call. NumPy reports its array buffers
  to tracemalloc, so this counts exactly the arrays a NumPy engine allocates;
  PyTorch's allocator does not report, so it is not measured for torch.
"""

from __future__ import annotations

import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from ..functional.algorithms.threads import usable_cores

__all__ = [
    "THREADS",
    "WORKER_ENV",
    "limit_memory",
    "peak_extra_rss",
    "summarize",
    "time_calls",
    "traced_peak",
    "worker_env",
]

THREADS = usable_cores()
"""Threads for every library by default: the cores this process may use."""


def worker_env(threads: int) -> dict[str, str]:
    """Environment of every worker process, on top of the caller's: the thread count, nothing else.

    No malloc settings: a user never sets them, so the headline numbers include what
    fresh arrays cost in a plain process (re-faulting their pages on each call).
    """
    return {"OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


WORKER_ENV = worker_env(THREADS)
"""The default worker environment."""

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_bytes(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # reported in kB
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    try:
        _CLEAR_REFS.write_text("5")  # Linux: reset VmHWM to the current resident size
    except OSError:
        return False
    return True


def _release_free_memory() -> None:
    """Return the heap's free pages to the kernel, so the next call's pages count as new (glibc only)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


def peak_extra_rss(call: Callable[[], object]) -> tuple[int, str]:
    """Run ``call`` once; return how far the resident set rose above its size before, and the method used."""
    _release_free_memory()
    if _reset_peak_rss():
        before = _status_bytes("VmRSS")
        call()
        after = _status_bytes("VmHWM")
        if before is not None and after is not None:
            return max(0, after - before), "VmHWM"
    before = _max_rss()
    call()
    return max(0, _max_rss() - before), "ru_maxrss"


def traced_peak(call: Callable[[], object]) -> int:
    """Run ``call`` once under tracemalloc; return the peak of traced memory above what was live before."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return max(0, peak - base)


def time_calls(
    call: Callable[[], object], setup: Callable[[], object], repeat: int, budget: float, least: int = 1
) -> list[float]:
    """Seconds of ``repeat`` calls, each after an untimed ``setup``.

    Fewer once ``budget`` seconds have passed, but never fewer than ``least``.
    """
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < repeat and (len(times) < least or time.perf_counter() - started < budget):
        setup()
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def summarize(times: list[float]) -> dict[str, float | int]:
    """Median, spread (min, max, quartiles) and count of a list of seconds."""
    quartiles = statistics.quantiles(times, n=4, method="inclusive") if len(times) > 1 else [times[0]] * 3
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "q1": quartiles[0],
        "q3": quartiles[2],
        "n": len(times),
    }


def limit_memory(limit: int) -> None:
    """Cap this process's address space at ``limit`` bytes, so a runaway allocation fails as MemoryError.

    Without it, an unchunked im2col of a large image (16 GB for 2048x2048 with a
    31x31 kernel) would push the shared machine into swap or the OOM killer.
    """
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
