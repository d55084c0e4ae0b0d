"""Refuse work that cannot fit in memory before allocating it, naming the bytes it would need.

NumPy would try the allocation and fail with a bare ``MemoryError`` (or, on a
machine that overcommits, start swapping); a learner who typed ``padding=100000``
deserves to hear what that asks for instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from .errors import ResourceError

__all__ = ["available_bytes", "check_fits", "shown_bytes"]

SURELY_FITS = 64 << 20
"""Requests below this many bytes are not checked: reading /proc/meminfo would cost more than the call."""


def available_bytes() -> int | None:
    """Memory this process could still allocate: Linux's MemAvailable, else the physical size, else None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def shown_bytes(count: int) -> str:
    """``3_200_000_000`` -> ``"3.2 GB"``: a size as a reader compares it with the machine's memory."""
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} bytes"


def check_fits(what: str | Callable[[], str], needed: int, fix: str) -> None:
    """Raise :class:`~convlab.errors.ResourceError` if ``needed`` bytes exceed the memory available now.

    Args:
        what: what would be allocated, e.g. "conv2d: the padded input (1, 1, 200003, 200003) float64", or a
            function that says it (called only when refusing: every convolution asks, most fit).
        needed: its size in bytes.
        fix: one concrete change that makes it smaller.
    """
    if needed < SURELY_FITS:
        return
    available = available_bytes()
    if available is not None and needed > available:
        described = what() if callable(what) else what
        raise ResourceError(
            f"{described} needs {shown_bytes(needed)}, more than the {shown_bytes(available)} of memory available",
            evidence=[f"{needed} bytes needed"],
            fix=fix,
        )
