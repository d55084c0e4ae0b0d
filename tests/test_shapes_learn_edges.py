"""`convlab train shapes` learns what the lesson says early layers learn: oriented edge detectors.

Trained briefly (8 epochs instead of the command's 20: the first layer has settled by then), for
several seeds, the 5x5 first-layer kernels are measured by how much of each an oriented edge explains
(convlab.lesson.edge_likeness). Random 5x5 kernels reach the edge-like share 0.6 about once in 500, so
a first layer of 8 with five or more edge-like kernels, at more than one orientation, is no accident.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convlab.cli import main
from convlab.lesson.edge_likeness import EDGE_LIKE_SHARE

pytestmark = pytest.mark.slow  # about 20 s a seed on 2 cores


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_the_shapes_models_first_layer_learns_oriented_edges(
    seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "shapes", "--epochs", "8", "--seed", str(seed), "--out", str(tmp_path)]
    assert main(argv) == 0
    capsys.readouterr()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.95
    fits = metrics["first_layer"]["fits"]
    edges = [fit for fit in fits if fit["share"] >= EDGE_LIKE_SHARE]
    assert len(edges) >= 5, [round(fit["share"], 2) for fit in fits]
    # orientations, an edge and its opposite alike, in four bins of 45 degrees centred on 0, 45, 90, 135
    orientations = {round(fit["angle"] / 45) % 4 for fit in edges}
    assert len(orientations) >= 2, [fit["angle"] for fit in edges]  # 3 or 4 for most seeds
