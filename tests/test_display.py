"""Rich display in a notebook: every result's HTML parses, says what its text says, escapes names; pictures decode.

The HTML is read back with the standard library's parser (tags must nest and close), and its numbers are
compared with the text form and with values computed here from the objects, PyTorch or the lesson.
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
import sys
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import convlab
import convlab.functional as F
from convlab._display import html
from convlab.lesson import exercises, labs
from convlab.lesson.explain import explain
from convlab.lesson.explain_text import equation
from convlab.lesson.flatten_cost import flatten_vs_conv
from convlab.lesson.grid_text import cell_text
from convlab.network.check import check
from convlab.train.history import History
from convlab.train.kernel import learn_edge_kernel
from tests.oracle import torch_conv2d
from tests.strategies import ConvConfig, conv_configs

VOID = {"img", "br", "hr", "meta", "input"}
HOSTILE = '<script>alert("x")</script> & <b>'


@dataclass
class Cell:
    text: str = ""
    style: str = ""


@dataclass
class Table:
    caption: str = ""
    rows: list[list[Cell]] = field(default_factory=list)

    def texts(self) -> list[list[str]]:
        return [[cell.text for cell in row] for row in self.rows]

    def marked(self) -> list[tuple[int, int, str]]:
        """(row, col, text) of the highlighted cells (a window)."""
        return [
            (r, c, cell.text)
            for r, row in enumerate(self.rows)
            for c, cell in enumerate(row)
            if "outline" in cell.style
        ]


class Page(HTMLParser):
    """What a fragment shows: its tables (cells with their styles), preformatted blocks, images and all text."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tables: list[Table] = []
        self.pres: list[str] = []
        self.images: list[dict[str, str]] = []
        self.text: list[str] = []
        self._tables: list[Table] = []
        self._cell: Cell | None = None
        self._in: str | None = None
        self.feed(fragment)
        self.close()
        assert not self.open, f"tags left open: {self.open}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "img":
            self.images.append(attributes)
        if tag in VOID:
            return
        self.open.append(tag)
        if tag == "table":
            self._tables.append(Table())
        elif tag == "tr":
            self._tables[-1].rows.append([])
        elif tag in ("td", "th"):
            self._cell = Cell(style=attributes.get("style", ""))
            self._tables[-1].rows[-1].append(self._cell)
        elif tag in ("pre", "caption"):
            self._in = tag
            if tag == "pre":
                self.pres.append("")

    def handle_endtag(self, tag: str) -> None:
        assert self.open[-1:] == [tag], f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()
        if tag == "table":
            self.tables.append(self._tables.pop())
        elif tag in ("td", "th"):
            self._cell = None
        elif tag in ("pre", "caption"):
            self._in = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.text += data
        elif self._in == "pre":
            self.pres[-1] += data
        elif self._in == "caption":
            self._tables[-1].caption += data

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def _columns(line: str) -> list[str]:
    """A text table's line split into its cells (columns are two or more spaces apart)."""
    return re.split(r"\s{2,}", line.strip())


# --- the helpers ---------------------------------------------------------------------------------------


@given(st.text(min_size=1, max_size=30))
def test_any_text_is_escaped_and_reads_back_the_same(text: str) -> None:
    fragment = html.block(html.table([text], [[text]], caption=text), html.lines([text]), html.heading(text))
    page = Page(fragment)
    assert page.tables[0].caption == text
    assert page.tables[0].texts() == [[text], [text]]
    assert page.pres == [text]


def test_the_display_helpers_never_import_ipython() -> None:
    code = (
        "import sys, convlab, convlab._display.html, convlab._display.plot; "
        "convlab.summary('conv3x3(4) relu', '1x8x8')._repr_html_(); "
        "assert not any(name.startswith('IPython') for name in sys.modules), 'IPython imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- tables ---------------------------------------------------------------------------------------------

NETWORKS = [
    ("conv3x3(8,p1) relu maxpool2 flatten linear(10)", "1x8x8"),
    ("conv5x5(6) relu maxpool2 conv5x5(16) relu maxpool2 flatten linear(120) linear(10)", "1x32x32"),
    ("conv3x3(16,s2,p1) bn relu conv3x3(32,s2,p1) relu avgpool2", "3x32x32"),
    ("resnet18", None),
    ("lenet5", None),
]


@pytest.mark.parametrize(("model", "shape"), NETWORKS)
def test_summary_html_is_the_text_table(model: str, shape: str | None) -> None:
    result = convlab.summary(model, shape)
    text = str(result).splitlines()
    page = Page(result._repr_html_())
    table = page.tables[0]
    assert table.caption == text[0]  # "<model> on input (1, 3, 32, 32)"
    assert table.texts()[0] == _columns(text[1])  # the same columns as the terminal
    assert len(table.rows) == 1 + len(result.layers)
    for row, layer in zip(table.texts()[1:], result.layers):
        assert row[0] == layer.name
        assert row[3] == str(layer.output_shape)
        assert row[5] == f"{layer.params:,}"
    assert f"total: {result.total_params:,} params" in page.pres[0]


@pytest.mark.parametrize(("model", "shape"), [n for n in NETWORKS if "linear" not in n[0] or n[1] is None])
def test_receptive_field_html_is_the_text_table(model: str, shape: str | None) -> None:
    result = convlab.receptive_field(model, shape)
    text = str(result).splitlines()
    table = Page(result._repr_html_()).tables[0]
    assert table.texts()[0] == _columns(text[1])
    final = next(row for row in table.texts() if row[0] == result.final.name)
    assert final[3] == text[-2 if result.path else -1].split(": ")[1].split(" ")[0]  # the RF the text ends with


def test_names_given_by_the_user_are_escaped_in_tables() -> None:
    result = replace(convlab.summary("conv3x3(4) relu", "1x8x8"), model=HOSTILE)
    fragment = result._repr_html_()
    assert "<script>" not in fragment
    assert HOSTILE not in fragment
    assert Page(fragment).tables[0].caption.startswith(HOSTILE)  # shown as text, read back intact
    report = replace(check("lenet5", "3x32x32"), model=HOSTILE)
    assert "<script>" not in report._repr_html_()
    assert HOSTILE in Page(report._repr_html_()).all_text


# --- check reports ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "shape"),
    [("lenet5", "3x32x32"), ("conv3x3(8) relu flatten linear(10)", "1x8x8"), ("conv3x3(6) conv3x3(4)", "1x5x5")],
)
def test_a_check_report_shows_each_problem_and_its_fix(model: str, shape: str) -> None:
    report = check(model, shape)
    page = Page(report._repr_html_())
    assert report.verdict in page.all_text
    assert str(report).splitlines()[-1] == report.verdict
    rows = page.tables[0].texts()[1:] if report.problems else []
    assert len(rows) == len(report.problems)
    for row, problem in zip(rows, report.problems):
        assert row[1] == problem.layer
        assert row[4] == problem.message
        assert row[5] == problem.diagnosis.fix
        assert problem.diagnosis.fix in str(report)


# --- the explanation trace --------------------------------------------------------------------------------


def test_lab_1s_top_left_value_as_the_lesson_writes_it() -> None:
    image = labs.VALUE_PRESETS["manual_conv"][0]
    page = Page(explain(image, [[1, 0], [0, -1]], at=(0, 0))._repr_html_())
    assert "1*1 + 2*0 + 5*0 + 3*(-1) = -2" in page.pres
    assert [text for _, _, text in page.tables[0].marked()] == ["1", "2", "5", "3"]  # the lesson's patch
    assert "out[0, 0] = -2" in page.all_text


@settings(max_examples=60)
@given(conv_configs(allow_empty_batch=False), st.data())
def test_a_traces_html_highlights_the_window_it_read(cfg: ConvConfig, data: st.DataObject) -> None:
    x, w, b = cfg.arrays()
    shape = F.conv2d(x, w, b, **cfg.kwargs()).shape
    theirs = torch_conv2d(cfg, x, w, b, np.zeros(shape))["output"]
    o = cfg.seed % cfg.out_channels
    out = theirs[o] if cfg.batch is None else theirs[0, o]
    i = data.draw(st.integers(0, out.shape[0] - 1))
    j = data.draw(st.integers(0, out.shape[1] - 1))
    trace = explain(x, w, b, at=(i, j), out_channel=o, **cfg.kwargs())
    page = Page(trace._repr_html_())
    (sh, sw), (dh, dw) = trace.stride, trace.dilation
    kh, kw = w.shape[2:]
    expected = sorted((i * sh + m * dh, j * sw + n * dw) for m in range(kh) for n in range(kw))
    inputs = [table for table in page.tables if table.caption.startswith("input channel")]
    assert len(inputs) == len(trace.terms)
    for table, term in zip(inputs, trace.terms):
        marked = table.marked()
        assert sorted((r, c) for r, c, _ in marked) == expected  # the window, placed by hand from the settings
        assert [text for _, _, text in marked] == [cell_text(v) for v in term.patch.ravel()]
        assert equation(term) in page.pres
    assert f"out[{i}, {j}] = {cell_text(out[i, j])}" in page.all_text  # PyTorch's value


def test_a_trace_repr_is_one_readable_line() -> None:
    trace = explain(labs.VALUE_PRESETS["manual_conv"][0], [[1, 0], [0, -1]], at=(1, 0))
    assert repr(trace) == "<Trace out[1, 0] = 4: 5*1 + 3*0 + 2*0 + 1*(-1) = 4>"


# --- labs, exercises, flatten --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", labs.LAB_NAMES)
def test_labs_show_what_the_lesson_prints(name: str) -> None:
    lab = labs.run(name)
    page = Page(lab._repr_html_())
    printed = page.pres[0].splitlines()
    lesson = labs.LESSON_OUTPUT[name].splitlines()
    assert " ".join(printed[: len(lesson)]).split() == " ".join(lesson).split()  # NumPy's spacing aside
    assert " ".join(str(lab).split()) == " ".join(labs.LESSON_OUTPUT[name].split())


def test_value_lab_grids_hold_the_image_kernel_and_pytorchs_output() -> None:
    torch = pytest.importorskip("torch")
    image, kernel = (np.array(m, dtype=np.float32) for m in labs.VALUE_PRESETS["edge"])
    theirs = torch.nn.functional.conv2d(torch.from_numpy(image[None, None]), torch.from_numpy(kernel[None, None]))
    tables = {t.caption: t.texts() for t in Page(labs.run("edge")._repr_html_()).tables}
    assert tables["output"] == [[cell_text(v) for v in row] for row in theirs[0, 0].tolist()]
    assert tables["image"] == [[cell_text(v) for v in row] for row in image.tolist()]


@pytest.mark.parametrize(("stride", "size"), [(1, 6), (2, 6), (3, 7)])
def test_a_changed_shape_lab_shows_its_formula(stride: int, size: int) -> None:
    lab = labs.run("size", stride=stride, size=size)
    out = (size + 2 * 1 - 3) // stride + 1  # the lesson's formula with padding 1, kernel 3
    text = Page(lab._repr_html_()).pres[0]
    assert f"output: (1, 2, {out}, {out})" in text
    assert f"= {out}" in text


@pytest.mark.parametrize(("number", "answer"), [(3, "1,2,6,6"), (3, "1,2,3,3"), (2, "4"), (2, "5")])
def test_an_exercise_verdict_shows_its_message(number: int, answer: str) -> None:
    verdict = exercises.check(number, answer)
    page = Page(verdict._repr_html_())
    assert page.pres == [verdict.message]
    assert ("right" in page.all_text) == verdict.correct
    assert str(verdict).endswith(verdict.message)


def test_flatten_cost_shows_the_lessons_numbers() -> None:
    cost = flatten_vs_conv(32, 32)
    assert f"{32 * 32 * 512:,}" in Page(cost._repr_html_()).pres[0]  # the lesson's 524288 weights
    assert Page(cost._repr_html_()).pres[0] == str(cost)


# --- pictures --------------------------------------------------------------------------------------------


def _decoded(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def test_a_history_draws_a_small_png() -> None:
    history = History([1.0, 0.5, 0.3], [0.6, 0.8, 0.9], [0.9, 0.6, 0.5], [0.7, 0.75, 0.8], [1.0] * 3, [1.0] * 3)
    png = history._repr_png_()
    assert png is not None
    assert _decoded(png).format == "PNG"
    assert History()._repr_png_() is None  # nothing to draw before the first epoch
    assert str(history).splitlines()[1].startswith("epoch 2: train loss 0.5000, accuracy 80.0%")


def test_the_learned_kernel_run_draws_a_png() -> None:
    run = learn_edge_kernel(steps=10)
    assert _decoded(run._repr_png_()).format == "PNG"
    assert f"{run.kernels[-1][0]:.4f}" in str(run)


def test_a_window_animation_shows_inline_as_its_gif() -> None:
    from convlab.viz import window_animation

    animation = window_animation(*labs.VALUE_PRESETS["manual_conv"])
    (img,) = Page(animation._repr_html_()).images
    mime, encoded = img["src"].removeprefix("data:").split(";base64,")
    gif = _decoded(base64.b64decode(encoded))
    assert mime == "image/gif"
    assert gif.format == "GIF"
    assert gif.n_frames == len(animation.frames) == 9  # Lab 1's 3x3 outputs
    assert gif.size == animation.size


def test_an_explain_picture_shows_as_png() -> None:
    from convlab.viz import explain_picture

    picture = explain_picture(*labs.VALUE_PRESETS["manual_conv"], at=(1, 0))
    png = _decoded(picture._repr_png_())
    assert png.format == "PNG"
    assert png.size == picture.image.size


def test_figures_show_as_png_without_pyplot() -> None:
    """The viz figures are drawn without pyplot, so a notebook's matplotlib hook never sees them: they show
    themselves."""
    from convlab.viz import params_figure

    figure = params_figure()
    png = _decoded(figure._repr_png_())
    assert png.format == "PNG"
    assert png.size == tuple(round(inches * figure.dpi) for inches in figure.get_size_inches())
