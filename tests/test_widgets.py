"""The notebook widgets without a browser: traits in, the engine's numbers out, PyTorch as the oracle.

A cell's edits arrive as messages ({"edit": setting, "text": typed text}); ``_type`` sends one the way the
widget's JavaScript does, so typing in the cell is tested here too (the JupyterLab test types for real).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("anywidget", reason='the notebook extra is not installed (pip install -e ".[notebook]")')
torch = pytest.importorskip("torch")

import convlab.functional as F  # noqa: E402
from convlab.widgets import Channels, Playground  # noqa: E402
from tests.conftest import environment_for_the_convlab_under_test  # noqa: E402

LAB1_IMAGE = [[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]
LAB1_OUTPUT = [[-2, 2, -4], [4, 0, -1], [0, 0, 1]]  # the lesson's Lab 1 expected output


def _type(widget: object, setting: str, text: str) -> None:
    """What the cell sends when a learner types ``text`` into the control of ``setting``."""
    widget._edit(widget, {"edit": setting, "text": text}, [])  # type: ignore[attr-defined]


def _torch_conv(image: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None = None, **kw: object) -> np.ndarray:
    """PyTorch's conv2d in float64 on (C, H, W) and (O, C, kH, kW): the output (H_out, W_out) of channel 0."""
    b = None if bias is None else torch.from_numpy(bias)
    out = torch.nn.functional.conv2d(torch.from_numpy(image)[None], torch.from_numpy(kernel), b, **kw)
    return out[0, 0].numpy()


def _drawn(widget: Playground | Channels) -> np.ndarray:
    """The output grid the cell draws: the answer's first output channel."""
    return np.array(widget.answer["output"][0], dtype=np.float64)


def test_the_playground_starts_on_lab_1_with_the_lessons_output() -> None:
    w = Playground()
    assert w.image == LAB1_IMAGE
    np.testing.assert_array_equal(w.output, LAB1_OUTPUT)
    np.testing.assert_array_equal(_drawn(w), LAB1_OUTPUT)
    assert w.error == ""
    # the lesson's worked value: out[1, 0] = 4, written as the page writes it
    assert w.answer["cells"][0][1][0]["terms"][0]["equation"] == "5*1 + 3*0 + 2*0 + 1*(-1) = 4"


def test_setting_a_trait_from_python_recomputes_the_output() -> None:
    w = Playground()
    w.stride = 2
    expected = F.conv2d(np.array(LAB1_IMAGE, float)[None, None], np.array([[[[1.0, 0], [0, -1]]]]), stride=2)
    np.testing.assert_array_equal(w.output, expected[0, 0])
    np.testing.assert_array_equal(_drawn(w), [[-2, -4], [0, 1]])
    w.image = np.arange(36.0).reshape(6, 6)  # arrays become plain rows the cell can receive
    assert w.image[1] == [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    assert w.output.shape == (3, 3)


def test_typing_in_the_cell_updates_the_traits_and_the_output() -> None:
    w = Playground()
    _type(w, "stride", "2")
    assert w.stride == 2
    assert w.output.shape == (2, 2)
    _type(w, "padding", "same")
    assert w.padding == "same"
    assert w.error  # "same" with stride 2 is refused, as PyTorch refuses it
    _type(w, "stride", "1")
    assert w.error == ""
    assert w.output.shape == (4, 4)
    _type(w, "padding", "1, 0")
    assert w.padding == [1, 0]
    assert w.output.shape == (5, 3)
    _type(w, "kernel", "1 1; 1 1")
    assert w.kernel == [[1.0, 1.0], [1.0, 1.0]]
    _type(w, "padding_mode", "reflect")
    expected = F.conv2d(
        np.array(LAB1_IMAGE, float)[None, None], np.ones((1, 1, 2, 2)), padding=(1, 0), padding_mode="reflect"
    )
    np.testing.assert_array_equal(w.output, expected[0, 0])


@pytest.mark.parametrize(
    ("setting", "text", "words"),
    [
        ("stride", "0", ["stride", "fix"]),
        ("stride", "two", ["'two'", "not a whole number", "stride box"]),
        ("dilation", "-1", ["dilation", "fix"]),
        ("padding", "middle", ["'middle'", "or same, or valid"]),
        ("image", "1 2; 3", ["image", "different lengths", "image box"]),
        ("kernel", "1 x", ["'x'", "kernel box"]),
        ("kernel", "1 1 1 1 1 1 1 1 1", ["kernel"]),  # wider than the 4x4 input
        ("padding_mode", "mirror", ["mirror", "fix"]),
    ],
)
def test_bad_settings_become_the_error_trait_never_an_exception(setting: str, text: str, words: list[str]) -> None:
    w = Playground()
    _type(w, setting, text)
    assert all(word in w.error for word in words), w.error
    assert w.output is None
    assert w.answer == {}  # nothing of the last answer stays to be read as the new one's
    _type(
        w,
        setting,
        {"stride": "1", "dilation": "1", "padding": "0", "padding_mode": "zeros"}.get(setting, "1 0; 0 -1"),
    )
    assert w.error == ""
    assert w.output is not None


def test_bad_values_from_python_are_errors_in_the_trait_too() -> None:
    w = Playground()
    w.stride = 0
    assert "stride" in w.error
    assert "fix" in w.error
    w.stride = 1
    w.image = [[1, float("nan")], [2, 3]]
    assert "not finite" in w.error
    w.image = [[1, 2, 3]]
    w.kernel = [[[1]]]
    assert "kernel must have 2 axes" in w.error
    w.kernel = [[1]]
    assert w.error == ""


def test_an_output_beyond_float64_is_an_error_not_an_infinity_sent_to_the_cell() -> None:
    w = Playground(image=[[1e308, 1e308], [1e308, 1e308]], kernel=[[1, 1], [1, 1]])
    assert "beyond float64" in w.error
    assert w.answer == {}


def test_the_widget_refuses_more_products_than_it_can_show() -> None:
    w = Playground(image=np.zeros((80, 80)), kernel=np.ones((9, 9)))
    assert "products" in w.error
    assert "conv2d" in w.error
    assert w.output is None


PADDINGS = st.one_of(
    st.integers(0, 2), st.sampled_from(["valid", "same"]), st.tuples(st.integers(0, 2), st.integers(0, 2))
)


@settings(max_examples=40, deadline=None)
@given(
    size=st.tuples(st.integers(1, 7), st.integers(1, 7)),
    kernel_size=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.integers(1, 3),
    padding=PADDINGS,
    dilation=st.integers(1, 2),
    seed=st.integers(0, 2**16),
)
def test_the_playgrounds_output_is_pytorchs(
    size: tuple[int, int], kernel_size: tuple[int, int], stride: int, padding: object, dilation: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    image, kernel = rng.integers(-5, 6, size).astype(float), rng.integers(-3, 4, kernel_size).astype(float)
    w = Playground(image=image, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    try:
        expected = _torch_conv(image[None], kernel[None, None], stride=stride, padding=padding, dilation=dilation)
    except RuntimeError:  # PyTorch refuses the settings (a kernel larger than the padded input, same with stride)
        assert w.error
        assert w.output is None
        return
    assert w.error == ""
    np.testing.assert_allclose(w.output, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_drawn(w), expected, rtol=0, atol=1e-12)
    cells = w.answer["cells"][0]
    assert [[cell["value"] for cell in row] for row in cells] == _drawn(w).tolist()  # each value explained


@settings(max_examples=30, deadline=None)
@given(
    channels=st.integers(1, 3),
    size=st.tuples(st.integers(2, 5), st.integers(2, 5)),
    kernel_size=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    bias=st.one_of(st.none(), st.integers(-4, 4).map(float)),
    seed=st.integers(0, 2**16),
)
def test_channels_sums_and_bias_add_up_to_the_multi_channel_conv2d(
    channels: int, size: tuple[int, int], kernel_size: tuple[int, int], bias: float | None, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    image = rng.integers(-4, 5, (channels, *size)).astype(float)
    kernels = rng.integers(-2, 3, (channels, *kernel_size)).astype(float)
    w = Channels(image=image, kernels=kernels, bias=bias)
    expected = _torch_conv(image, kernels[None], None if bias is None else np.array([bias]))
    assert w.error == ""
    np.testing.assert_allclose(w.output, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_drawn(w), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(w.channel_sums.sum(axis=0) + (bias or 0.0), expected, rtol=0, atol=1e-12)
    for c in range(channels):  # each channel's sum is that channel alone under its kernel
        np.testing.assert_allclose(
            w.channel_sums[c], _torch_conv(image[c : c + 1], kernels[None, c : c + 1]), atol=1e-12
        )
    cell = w.answer["cells"][0][0][0]  # the cell explains out[0, 0] with the same per-channel totals
    assert [term["total"] for term in cell["terms"]] == pytest.approx(w.channel_sums[:, 0, 0].tolist(), abs=1e-12)
    assert cell["bias"] == bias


def test_channels_starts_on_the_pages_example_and_takes_typed_planes() -> None:
    w = Channels()
    assert w.bias == 0.5
    assert np.asarray(w.image).shape == (3, 3, 3)
    np.testing.assert_allclose(w.channel_sums.sum(axis=0) + 0.5, w.output)
    _type(w, "kernels", "1 0; 0 1 | 0 0; 0 0")
    assert "2 kernels for an image of 3 channels" in w.error
    _type(w, "image", "1 2; 3 4 | 5 6; 7 8")
    assert w.error == ""
    np.testing.assert_array_equal(w.output, [[1 + 4 + 0.5]])
    _type(w, "image", "1 2; 3 4 | 5 6")
    assert "different shapes" in w.error
    _type(w, "bias", "a lot")
    assert "bias" in w.error
    assert "not a number" in w.error
    _type(w, "bias", "")
    assert w.bias is None


def test_the_widget_draws_with_the_pages_own_javascript_and_styles() -> None:
    static = Path(F.__file__).parents[1] / "web" / "static"
    w = Playground()
    assert w._esm.startswith((static / "grids.js").read_text())  # the page's file, not a copy of it
    assert (static / "grids.css").read_text() in w._css
    assert "https://" not in w._esm
    assert "http://" not in w._esm
    assert '<script src="/grids.js"></script>' in (static / "index.html").read_text()


def test_without_anywidget_the_import_names_the_extra_to_install() -> None:
    code = (
        "import sys; sys.modules['anywidget'] = None\n"
        "try:\n    import convlab.widgets\n"
        "except ImportError as error:\n    print(type(error).__name__, error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment_for_the_convlab_under_test()
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("DependencyError convlab.widgets needs anywidget")
    assert 'pip install -e ".[notebook]"' in result.stdout
