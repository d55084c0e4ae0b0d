"""Shared test set-up: hypothesis profiles, the seed a run draws from, and what the run checked."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Every run draws fresh examples, CI included: a fixed set would re-check the same examples forever. CI passes
# --hypothesis-seed (from the commit hash, see .ci/run) so that a failure there replays with the same flag;
# examples that once failed are kept as explicit @example cases beside their tests.
settings.register_profile("ci", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

EXAMPLES: Counter[str] = Counter()
"""How many hypothesis-drawn configurations each property checked in this run."""


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.getoption("hypothesis_seed", None)
    if seed is None:
        return "hypothesis seed: random (pass --hypothesis-seed=N to replay a run)"
    return f"hypothesis seed: {seed} (replay with: pytest --hypothesis-seed={seed})"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if EXAMPLES:
        total = sum(EXAMPLES.values())
        terminalreporter.write_sep("-", f"hypothesis checked {total} drawn configurations")
        for name, count in sorted(EXAMPLES.items()):
            terminalreporter.write_line(f"  {count:5d}  {name}")
    oracle = sys.modules.get("tests.oracle")
    worst = getattr(oracle, "WORST", {})
    if worst:
        terminalreporter.write_sep("-", "largest error per algorithm (against PyTorch or the lesson's loop)")
    for key, (error, where) in sorted(worst.items()):
        absolute = getattr(oracle, "WORST_ABSOLUTE", {}).get(key, 0.0)
        terminalreporter.write_line(f"  {key}: {error:.3g} of scale ({where}); largest absolute {absolute:.3g}")


def environment_for_the_convlab_under_test(**changes: str) -> dict[str, str]:
    """os.environ plus ``changes``, with PYTHONPATH leading to the convlab these tests imported.

    A child process (``python -m convlab``) then runs this checkout's code whatever else is installed.
    """
    import convlab

    source = str(Path(convlab.__file__).resolve().parents[1])
    paths = [source, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), **changes}
