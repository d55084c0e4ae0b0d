"""How many threads the engine uses, for its compiled kernels and for BLAS alike.

The default is the number of cores this process may run on (its CPU affinity),
or ``OMP_NUM_THREADS`` when that is set, as PyTorch does. The setting reaches
Numba and convlab's own pool (:mod:`.parallel`) lazily: the first convolution
that needs them applies it, and it is applied again only after
:func:`set_num_threads` changes it, never on every call. Numba keeps its thread
count per calling thread, so every thread that calls convlab (a web server's, a
thread pool's) gets it on its first call.

BLAS is set once per process to one thread per caller (with threadpoolctl):
convlab splits its matrix products over its own threads instead, because BLAS
waking its threads for each of many small products is slow, and on a machine
shared with other work, many times slower. NumPy code outside convlab in the
same process then also runs BLAS on one thread; ``threadpoolctl`` can raise it.

Small calls stay on the calling thread. Handing work to other threads costs a
wake-up and a join whatever the size: about 40 µs for a Python hand-off to
convlab's pool and 5-10 µs for a Numba parallel loop (both measured on a 2-core
AVX2 machine, median over calls with other Python work between them, as in a
training step). :func:`worth_splitting` is the one rule every parallel path asks:
split only when the time saved is at least twice that cost. Each path
estimates its time from its size with the rates below.

Importing this module imports neither Numba nor threadpoolctl.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from typing import Any

from ...errors import ArgumentError

__all__ = [
    "apply_to_blas",
    "apply_to_numba",
    "get_num_threads",
    "set_num_threads",
    "usable_cores",
    "worth_splitting",
]

# What handing work to the other threads and waiting for them costs, once per split (see the module docstring).
POOL_HAND_OFF_SECONDS = 40e-6
NUMBA_HAND_OFF_SECONDS = 8e-6
# How fast one thread works, to turn a size into time (2-core AVX2 machine, float32).
MULTIPLY_ADDS_PER_SECOND = 40e9  # BLAS products (sgemm near its peak)
BYTES_COPIED_PER_SECOND = 5e9  # NumPy copies between strided views
VALUES_PER_SECOND = 1e9  # a compiled loop, per value of its arrays (read or written)


def usable_cores() -> int:
    """Cores this process may use: ``OMP_NUM_THREADS`` when it is a positive int, else the CPU affinity."""
    told = os.environ.get("OMP_NUM_THREADS", "").strip()
    if told.isdigit() and int(told) > 0:
        return int(told)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # no affinity on this platform
        return os.cpu_count() or 1


class _Setting:
    """The thread count, and a generation that grows on each change so stale copies are spotted cheaply."""

    def __init__(self) -> None:
        self.count = usable_cores()
        self.generation = 1
        self.blas_applied = False  # whether BLAS has been set to one thread per caller
        self.lock = threading.Lock()
        self.per_thread = threading.local()  # .generation: what this thread last handed to Numba


_SETTING = _Setting()


def get_num_threads() -> int:
    """The number of threads convlab's kernels and BLAS run on.

    Example:
        >>> get_num_threads() >= 1
        True
    """
    return _SETTING.count


def worth_splitting(seconds_on_one_thread: float, hand_off_seconds: float) -> bool:
    """Whether work this long on one thread runs faster split over the threads, after paying the hand-off.

    The time saved, ``seconds * (1 - 1/threads)``, must be at least twice ``hand_off_seconds``.

    Example:
        >>> worth_splitting(1e-6, POOL_HAND_OFF_SECONDS)
        False
    """
    count = _SETTING.count
    return count > 1 and seconds_on_one_thread * (1 - 1 / count) >= 2 * hand_off_seconds


def set_num_threads(n: object) -> None:
    """Run convlab's kernels and BLAS on ``n`` threads (default: the cores this process may use).

    Raises:
        ArgumentError: ``n`` is not a positive whole number.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ArgumentError(
            f"set_num_threads: n must be a positive int, got {n!r}",
            fix=f"pass a thread count such as {usable_cores()} (the cores this process may use)",
        )
    with _SETTING.lock:
        if n != _SETTING.count:
            _SETTING.count = n
            _SETTING.generation += 1


def apply_to_blas() -> None:
    """Set BLAS to one thread per caller, once per process (cheap after that)."""
    if _SETTING.blas_applied:
        return
    with _SETTING.lock:
        if not _SETTING.blas_applied:
            from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # on first large call

            threadpool_limits(limits=1, user_api="blas")
            _SETTING.blas_applied = True


def apply_to_numba(numba: Any) -> None:
    """Hand the setting to Numba for the calling thread, once per thread and change.

    Numba cannot run more threads than it started with (all usable cores), so a
    larger setting is capped there.
    """
    local = _SETTING.per_thread
    if getattr(local, "generation", 0) != _SETTING.generation:
        numba.set_num_threads(min(_SETTING.count, numba.config.NUMBA_NUM_THREADS))
        local.generation = _SETTING.generation


def prepare_threading_layer(numba: Any) -> None:
    """Ask Numba for its TBB layer, which lets several Python threads run parallel kernels at once.

    pip's ``tbb`` package puts libtbb in the environment's ``lib`` folder, which the
    loader does not search, so it is loaded here first. Without it Numba falls back
    to its ``workqueue`` layer, and :mod:`.compiled` lets one parallel kernel run at a time.
    """
    library = os.path.join(sys.prefix, "lib", "libtbb.so.12")
    if os.path.exists(library):
        try:
            ctypes.CDLL(library, mode=ctypes.RTLD_GLOBAL)
        except OSError:  # a broken install: the fallback layer still works
            return
    numba.config.THREADING_LAYER_PRIORITY = ["tbb", "workqueue", "omp"]  # GNU OpenMP hangs after fork


def _reset_in_child() -> None:
    """After fork the child has only the forking thread: every setting must be handed over again."""
    _SETTING.lock = threading.Lock()
    _SETTING.per_thread = threading.local()
    _SETTING.blas_applied = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_in_child)
