"""The lesson notebook: stored without outputs, the same as its script writes, and run top to bottom here.

The executed cells must raise nothing and print what the lesson prints (Lab 1, Lab 2, the size lab), and
their numbers must equal PyTorch's for the same inputs (the edge lab on the photograph, the output sizes).
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from convlab import data
from convlab.lesson.labs import LESSON_OUTPUT

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "convolution-basics.ipynb"
SCRIPT = ROOT / "notebooks" / "make_convolution_basics.py"


def _same_text(a: str, b: str) -> bool:
    """Equal but for spacing (the lesson's text collapses NumPy's column spacing)."""
    return a.split() == b.split()


def _stored() -> Any:
    nbformat = pytest.importorskip("nbformat", reason="reading the notebook needs nbformat (the notebook extra)")
    return nbformat.read(NOTEBOOK, as_version=4)


def test_the_stored_notebook_has_no_outputs() -> None:
    notebook = json.loads(NOTEBOOK.read_text())  # the file as stored, read without nbformat
    assert notebook["nbformat"] == 4
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)


def test_the_stored_notebook_is_valid_and_what_its_script_writes() -> None:
    stored = _stored()
    import nbformat

    nbformat.validate(stored)
    spec = importlib.util.spec_from_file_location("make_convolution_basics", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build()
    assert [(c.cell_type, c.source, c.metadata) for c in built.cells] == [
        (c.cell_type, c.source, c.metadata) for c in stored.cells
    ]


def test_the_playground_has_its_place() -> None:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    marked = [cell for cell in cells if "playground-here" in cell["metadata"].get("tags", [])]
    assert [cell["cell_type"] for cell in marked] == ["markdown"]
    assert "".join(marked[0]["source"]).startswith("## The playground")


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The notebook run top to bottom by a python3 kernel on this interpreter, with this tree's src first."""
    pytest.importorskip("nbclient", reason="running the notebook needs nbclient (the notebook extra)")
    kernelspec = pytest.importorskip("ipykernel.kernelspec", reason="running the notebook needs ipykernel")
    from nbclient import NotebookClient

    folder = tmp_path_factory.mktemp("notebook")
    kernelspec.write_kernel_spec(folder / "kernels" / "python3")  # argv: this interpreter
    notebook = _stored()
    source = str(ROOT / "src")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(folder))
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])))
        client = NotebookClient(
            notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
        )
        client.execute()
    cells = {}
    for cell in notebook.cells:
        for tag in cell.metadata.get("tags", []):
            cells[tag] = cell
    return {"notebook": notebook, "cells": cells}


def _printed(cell: Any) -> str:
    return "".join(output.text for output in cell.outputs if output.output_type == "stream")


def _shown(cell: Any, mime: str) -> str:
    """What the cell's displayed result holds in ``mime`` (its last one)."""
    found = [
        o.data[mime]
        for o in cell.outputs
        if o.output_type in ("execute_result", "display_data") and mime in o.data
    ]
    assert found, f"no {mime} output in {cell.source[:60]!r}"
    return str(found[-1])


def _text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "\n", fragment))


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)]


def test_every_cell_runs_without_an_error(executed: dict[str, Any]) -> None:
    errors = [
        f"{output.ename}: {output.evalue} in {cell.source[:60]!r}"
        for cell in executed["notebook"].cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors
    assert all(cell.execution_count for cell in executed["notebook"].cells if cell.cell_type == "code")


def test_lab_1_prints_the_lessons_output_and_pytorchs_values(executed: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    by_hand = _printed(executed["cells"]["lab1-by-hand"])
    assert _same_text(by_hand, LESSON_OUTPUT["manual_conv"])
    image = torch.tensor([[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]], dtype=torch.float64)
    kernel = torch.tensor([[1, 0], [0, -1]], dtype=torch.float64)
    theirs = torch.nn.functional.conv2d(image[None, None], kernel[None, None])[0, 0].numpy()
    assert _numbers(by_hand.split("\n", 1)[1]) == theirs.ravel().tolist()
    engine = _printed(executed["cells"]["lab1-conv2d"])
    assert "conv2d output shape: (1, 1, 3, 3)" in engine
    assert "same as the loop: True" in engine
    assert "1*1 + 2*0 + 5*0 + 3*(-1) = -2" in _shown(executed["cells"]["explain"], "text/html")


def test_the_edge_lab_prints_the_lessons_output(executed: dict[str, Any]) -> None:
    assert _same_text(_printed(executed["cells"]["edge-lab"]), LESSON_OUTPUT["edge"])


def test_the_edge_lab_on_the_photograph_is_pytorchs(executed: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    photo = torch.from_numpy(data.load_image("camera").astype(np.float32) / 255)[None, None]
    across = torch.nn.functional.conv2d(photo, torch.tensor([[[[-1.0, 1.0]]]]))[0, 0].numpy()
    down = torch.nn.functional.conv2d(photo, torch.tensor([[[[-1.0], [1.0]]]]))[0, 0].numpy()
    printed = _printed(executed["cells"]["edge-image"])
    assert f"left-right edges: {across.shape}" in printed
    assert f"top-bottom edges: {down.shape}" in printed
    strongest = re.search(r"step left to right: (\S+) at row (\d+), col (\d+)", printed)
    assert strongest is not None
    r, c = np.unravel_index(np.argmax(across), across.shape)
    assert (int(strongest[2]), int(strongest[3])) == (r, c)
    assert float(strongest[1]) == pytest.approx(across[r, c], abs=1e-4)
    means = re.search(r"left-right (\S+), top-bottom (\S+)", printed)
    assert means is not None
    assert float(means[1]) == pytest.approx(np.abs(across).mean(), abs=1e-4)
    assert float(means[2]) == pytest.approx(np.abs(down).mean(), abs=1e-4)


def test_output_sizes_are_pytorchs(executed: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    printed = _printed(executed["cells"]["output-sizes"])
    answers = re.findall(r"input (\d+), kernel (\d+), stride (\d+), padding (\d+) -> (\d+)", printed)
    assert len(answers) == 5
    for size, kernel, stride, padding, answer in (tuple(int(n) for n in row) for row in answers):
        layer = torch.nn.Conv2d(1, 1, kernel, stride=stride, padding=padding)
        assert layer(torch.zeros(1, 1, size, size)).shape[-1] == answer
    assert "input 6, kernel 3, stride 2, padding 1 -> 3" in printed  # the lesson's example
    assert printed.rstrip().endswith("= 3")


@pytest.mark.parametrize(("tag", "lab"), [("size-lab", "size"), ("channel-lab", "channel")])
def test_shape_labs_show_the_lessons_output(executed: dict[str, Any], tag: str, lab: str) -> None:
    shown = _text_of(_shown(executed["cells"][tag], "text/html"))
    assert " ".join(LESSON_OUTPUT[lab].split()) in " ".join(shown.split())


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5])
def test_each_exercise_is_answered_and_checked_right(executed: dict[str, Any], number: int) -> None:
    verdict = _shown(executed["cells"][f"exercise-{number}"], "text/plain")
    assert verdict.startswith("Verdict(correct=True")


def test_the_mistakes_are_caught_and_shown(executed: dict[str, Any]) -> None:
    printed = _printed(executed["cells"]["mistakes"])
    headlines = re.findall(r"^(\w+Error): ", printed, flags=re.MULTILINE)
    assert headlines == ["ShapeError", "ShapeError", "ArgumentError", "ArgumentError"]
    assert printed.count("fix: ") == 4
    assert "error(s)" in _text_of(_shown(executed["cells"]["check"], "text/html"))


def test_the_kernel_is_learned_and_the_pictures_show(executed: dict[str, Any]) -> None:
    cells = executed["cells"]
    assert _numbers(_printed(cells["learned-kernel"])) == [-1.0, 1.0]
    for tag in ("learned-kernel", "fit", "shipped-model"):
        _shown(cells[tag], "image/png")
    assert re.search(r"epoch 3: train loss \d", _printed(cells["fit"]))
    shipped = data.trained_digits_model()
    images, labels = data.digits("test")
    accuracy = float((shipped(images).argmax(axis=1) == labels).mean())
    assert f"test accuracy: {accuracy:.1%}" in _printed(cells["shipped-model"])


def test_the_window_animation_shows_as_a_gif(executed: dict[str, Any]) -> None:
    first_code = next(cell for cell in executed["notebook"].cells if "window_animation(IMAGE" in cell.source)
    assert "data:image/gif;base64," in _shown(first_code, "text/html")
