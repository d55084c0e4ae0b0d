"""Shared test set-up: hypothesis profiles and a count of the configurations they drew."""

from __future__ import annotations

import os
import sys
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings

# "ci" is deterministic so that main stays green on every run; "dev" explores new examples each run.
settings.register_profile(
    "ci", derandomize=True, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

EXAMPLES: Counter[str] = Counter()
"""How many hypothesis-drawn configurations each property checked in this run."""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if EXAMPLES:
        total = sum(EXAMPLES.values())
        terminalreporter.write_sep("-", f"hypothesis checked {total} drawn configurations")
        for name, count in sorted(EXAMPLES.items()):
            terminalreporter.write_line(f"  {count:5d}  {name}")
    oracle = sys.modules.get("tests.oracle")
    for dtype, (error, where) in sorted(getattr(oracle, "WORST", {}).items()):
        absolute = getattr(oracle, "WORST_ABSOLUTE", {}).get(dtype, 0.0)
        terminalreporter.write_line(
            f"largest {dtype} error against PyTorch: {error:.3g} of scale ({where}); "
            f"largest absolute {absolute:.3g}"
        )
