"""The machine and the library versions a set of numbers belongs to.

Read without importing PyTorch or SciPy (versions come from the installed
packages' metadata); NumPy is imported for the name of its BLAS.
"""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["describe", "summary_line"]


def _cpu() -> tuple[str, list[str]]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine(), []
    model = next(
        (line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), ""
    )
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    simd = [name for flag, name in (("avx2", "AVX2"), ("fma", "FMA"), ("avx512f", "AVX-512")) if flag in flags]
    return model or platform.machine(), simd


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        return None
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _blas() -> str | None:
    try:
        import numpy as np

        config: Any = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')}".strip()
    except Exception:  # an older NumPy without mode="dicts", or a different layout: not worth failing over
        return None


def _commit() -> str | None:
    """The convlab checkout's commit, with "+changes" when its working tree differs from it."""
    root = Path(__file__).resolve().parents[3]
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+changes" if dirty else "")


def describe() -> dict[str, Any]:
    """CPU, SIMD, cores, memory, OS, Python and the versions of every library the suite runs."""
    from .. import __version__

    model, simd = _cpu()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": model,
        "simd": simd,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gb": _memory_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "convlab": __version__,
        "convlab_commit": _commit(),
        "numpy": _version("numpy"),
        "blas": _blas(),
        "torch": _version("torch"),
        "scipy": _version("scipy"),
    }


def summary_line(machine: dict[str, Any]) -> str:
    """One sentence: the CPU, its SIMD, cores and memory, then the versions."""
    simd = " + ".join(machine["simd"]) or "no AVX2"
    memory = f", {machine['memory_gb']:.0f} GB" if machine.get("memory_gb") else ""
    blas = f" ({machine['blas']})" if machine.get("blas") else ""
    commit = f" at {machine['convlab_commit']}" if machine.get("convlab_commit") else ""
    versions = [f"NumPy {machine['numpy']}{blas}"]
    versions += [
        f"{name} {machine[key]}" for name, key in (("PyTorch", "torch"), ("SciPy", "scipy")) if machine[key]
    ]
    return (
        f"{machine['cpu']}, {simd}, {machine['cores']} cores ({machine['usable_cores']} usable){memory}; "
        f"{machine['os']}, Python {machine['python']}, "
        + ", ".join(versions)
        + f"; convlab {machine['convlab']}{commit}"
    )
