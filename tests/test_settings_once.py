"""A convolution's settings are normalised where they are first given, and checked and warned about only there."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import convlab
import convlab.functional as F
from convlab import nn
from convlab.cli import main
from convlab.errors import ConvlabWarning, ShapeError
from convlab.functional import geometry
from convlab.functional.geometry import ConvSettings, conv_settings


def _convlab_warnings(run: object) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()  # type: ignore[operator]
    return [str(w.message) for w in caught if issubclass(w.category, ConvlabWarning)]


def test_explain_warns_once_about_a_stride_that_skips_pixels() -> None:
    image, kernel = np.arange(36.0).reshape(1, 6, 6), np.ones((1, 1, 2, 2))
    said = _convlab_warnings(lambda: convlab.explain(image, kernel, at=(0, 1), stride=3))
    assert len(said) == 1
    assert "[stride-skips-pixels]" in said[0]


@pytest.mark.parametrize("out_channels", [1, 3])
def test_every_channel_explained_warns_once_and_matches_torch(out_channels: int) -> None:
    """The page's and widgets' explanation of every channel: its settings are normalised once, not per
    channel, and each channel's values are PyTorch's."""
    from convlab.lesson.explain_cells import explain_cells

    image, kernel = np.arange(36.0).reshape(1, 6, 6), np.arange(out_channels * 4.0).reshape(out_channels, 1, 2, 2)
    made: list[dict[str, Any]] = []
    said = _convlab_warnings(lambda: made.append(explain_cells(image, kernel, stride=3)))
    assert len(said) == 1
    assert "[stride-skips-pixels]" in said[0]
    theirs = torch.nn.functional.conv2d(torch.from_numpy(image[None]), torch.from_numpy(kernel), stride=3)[0]
    np.testing.assert_allclose(np.array(made[0]["output"]), theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_a_layer_warns_at_construction_and_not_again_when_it_runs() -> None:
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    made: list[nn.Conv2d] = []
    said = _convlab_warnings(lambda: made.append(nn.Conv2d(1, 1, 2, padding="same", dtype=np.float64, seed=0)))
    assert len(said) == 1
    assert "[even-kernel-same]" in said[0]
    layer = made[0]
    out: list[np.ndarray] = []
    assert _convlab_warnings(lambda: out.append(layer(x))) == []
    assert _convlab_warnings(lambda: layer.backward(np.ones_like(out[0]))) == []

    theirs = layer.to_torch()
    np.testing.assert_allclose(out[0], theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-12, atol=1e-12)


def test_a_setting_changed_after_construction_is_normalised_again() -> None:
    layer = nn.Conv2d(1, 2, 2, dtype=np.float64, seed=1)
    layer.stride = (3, 3)
    x = np.random.default_rng(0).normal(size=(1, 1, 7, 7))
    said = _convlab_warnings(lambda: layer(x))
    assert len(said) == 1
    assert "[stride-skips-pixels]" in said[0]
    expected = torch.nn.functional.conv2d(
        torch.from_numpy(x), torch.from_numpy(np.array(layer.weight)), torch.from_numpy(np.array(layer.bias)), 3
    )
    np.testing.assert_allclose(layer(x), expected.numpy(), rtol=1e-12, atol=1e-12)


def test_settings_made_for_another_kernel_are_refused() -> None:
    made = conv_settings("conv2d", 3)
    with pytest.raises(ShapeError, match=r"\(3, 3\) kernel, but the weight's is \(2, 2\)"):
        F.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 2, 2)), settings=made)


@settings(max_examples=60)
@given(
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    seed=st.integers(0, 2**16),
)
def test_carried_settings_compute_what_torch_computes(
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=(2, 2, 9, 9)), rng.normal(size=(3, 2, *kernel))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvlabWarning)
        made = conv_settings("conv2d", kernel, stride, padding, dilation)
    expected = torch.nn.functional.conv2d(
        torch.from_numpy(x), torch.from_numpy(w), None, stride, padding, dilation
    )
    said = _convlab_warnings(
        lambda: np.testing.assert_allclose(F.conv2d(x, w, settings=made), expected.numpy(), rtol=1e-10, atol=1e-10)
    )
    assert said == []


IMAGE_6X6 = "; ".join(["1 2 3 4 5 6"] * 6)


@pytest.mark.parametrize(
    ("flags", "code"),
    [
        (["--padding", "same"], "[even-kernel-same]"),
        (["--stride", "3", "--padding", "1"], "[stride-skips-pixels]"),
    ],
)
def test_draw_window_warns_once(
    flags: list[str], code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["draw", "window", "--image", IMAGE_6X6, "--kernel", "1 1; 1 1", *flags, "--no-strip"]
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main([*argv, "--out", str(tmp_path / "w.gif")]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("convlab: warning:")]
    assert len(said) == 1  # the command prints each warning as one line
    assert code in said[0]


@pytest.mark.parametrize(
    "flags",
    [
        ["--stride", "2", "--padding", "1"],
        ["--padding", "1,0,2,1", "--padding-mode", "reflect"],
        ["--transposed", "--stride", "2", "--padding", "1", "--output-padding", "1"],
    ],
    ids=["padding", "explicit padding", "transposed"],
)
def test_draw_window_normalises_its_settings_once(
    flags: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    made: list[ConvSettings] = []

    def counted(*args: Any, **kwargs: Any) -> ConvSettings:
        made.append(geometry.conv_settings.__wrapped__(*args, **kwargs))  # type: ignore[attr-defined]
        return made[-1]

    counted.__wrapped__ = geometry.conv_settings  # type: ignore[attr-defined]
    monkeypatch.setattr(geometry, "conv_settings", counted)
    argv = ["draw", "window", "--image", IMAGE_6X6, "--kernel", "1 0 1; 0 1 0; 1 0 1", *flags, "--no-strip"]
    assert main([*argv, "--out", str(tmp_path / "w.gif")]) == 0
    assert len(made) == 1
    title = capsys.readouterr().out.splitlines()[0]
    if "--transposed" in flags:
        # the one convolution drawn is the gather over the zero-inserted grid: stride 1, no padding
        assert made[0].stride == (1, 1)
        assert made[0].padding == ((0, 0), (0, 0))
        assert title.endswith("-> output 12x12")  # (6 - 1) * 2 - 2 * 1 + (3 - 1) + 1 + 1
    else:
        assert made[0].kernel_size == (3, 3)
        assert title.endswith("-> output 3x3" if "2" in flags else "-> output 5x7")
