"""The pictures read as they claim: titles stay in their panels, non-negative maps look like the image,
the gallery is readable at its own size, and the receptive-field figure says only what is true."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.text
import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from convlab.viz import style

FEW = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _inside(inner: Any, outer: Any) -> bool:
    return bool(inner.x0 >= outer.x0 - 0.5 and inner.x1 <= outer.x1 + 0.5)


# --- feature maps -------------------------------------------------------------------------------------------


@FEW
@given(
    rows=st.integers(1, 5),
    cols=st.integers(1, 7),
    digits=st.sampled_from(["7", "0.125", "-12.5"]),
    columns=st.integers(1, 4),
)
def test_every_panel_title_and_note_stays_inside_its_panel(
    rows: int, cols: int, digits: str, columns: int
) -> None:
    from convlab.viz.features import features_figure

    typed = "; ".join(" ".join([digits] * cols) for _ in range(rows))  # a typed kernel: its name is its numbers
    figure = features_figure(np.full((24, 24), 0.5), ["laplacian", typed, "lesson_edge"], columns=columns)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    panels = [panel for panel in figure.subfigs if panel._suptitle is not None]
    assert len(panels) == 4
    for panel in panels:
        assert _inside(panel._suptitle.get_window_extent(renderer), panel.bbox), panel._suptitle.get_text()
        for axes in panel.axes:
            label = axes.xaxis.label
            if label.get_text():
                assert _inside(label.get_window_extent(renderer), panel.bbox), label.get_text()
    assert _inside(figure._suptitle.get_window_extent(renderer), figure.bbox)


def test_maps_without_negative_values_are_grey_like_the_image() -> None:
    from convlab.viz.features import colour_scale, feature_maps, features_figure

    names = ["identity", "box_blur", "gaussian", "sobel_x", "2 2; 2 2"]
    maps = feature_maps("camera", names)
    scales = [colour_scale(m.output) for m in maps]
    assert [s.cmap for s in scales] == [style.SEQUENTIAL_CMAP] * 3 + [style.DIVERGING_CMAP, style.SEQUENTIAL_CMAP]
    assert [(s.low, s.high) for s in scales[:3]] == [(0.0, 1.0)] * 3  # the input's own scale: grey 0..1
    assert scales[3].low == -scales[3].high
    assert scales[4].low == 0.0
    assert 1.0 < scales[4].high <= float(maps[4].output.max())
    figure = features_figure("camera", names)
    drawn = [axes.images[0] for axes in figure.axes if axes.images and axes.images[0].get_array().shape[0] == 224]
    identity = drawn[1]
    assert identity.get_cmap().name == "gray"
    assert identity.get_clim() == (0.0, 1.0)
    # the identity map is drawn exactly as the input is
    np.testing.assert_array_equal(identity.to_rgba(identity.get_array()), drawn[0].to_rgba(drawn[0].get_array()))
    assert [image.get_cmap().name for image in drawn[1:]] == [s.cmap for s in scales]


def test_colour_stops_are_the_colour_maps_own() -> None:
    from matplotlib import colormaps

    stops = style.colour_stops(style.DIVERGING_CMAP, 5)
    assert len(stops) == 5
    assert all(int(stops[2][k : k + 2], 16) >= 0xF0 for k in (1, 3, 5))  # the near-white middle, where zero sits
    expected = [colormaps["PuOr_r"](k / 4)[:3] for k in range(5)]
    drawn = [[int(s[k : k + 2], 16) / 255 for k in (1, 3, 5)] for s in stops]
    np.testing.assert_allclose(drawn, expected, atol=1 / 255)
    assert style.colour_stops(style.SEQUENTIAL_CMAP, 3) == ["#000000", "#808080", "#ffffff"]


# --- gallery ------------------------------------------------------------------------------------------------


def test_gallery_sheet_holds_each_frame_at_its_own_size(tmp_path: Path) -> None:
    from convlab.viz.gallery import CASES, draw_case, gallery, sheet_layout

    gallery(tmp_path / "g")
    sheet = np.asarray(Image.open(tmp_path / "g" / "gallery.png").convert("RGB"))
    frames = []
    for case in CASES:
        animation = draw_case(case)
        frames.append(np.asarray(animation.images[len(animation.images) // 2].convert("RGB")))
    # each frame's drawn part is on the sheet pixel for pixel: not scaled, so its 11-15 px text stays readable
    sizes = []
    for frame in frames:
        drawn = np.argwhere((frame != 255).any(axis=2))
        (top, left), (bottom, right) = drawn.min(axis=0), drawn.max(axis=0) + 1
        sizes.append((top, left, bottom, right))
    crops = [frame[max(0, t - 4) : b + 4, max(0, l - 4) : r + 4] for frame, (t, l, b, r) in zip(frames, sizes)]
    placements = sheet_layout([(crop.shape[1], crop.shape[0]) for crop in crops])
    for case, crop, (x, y) in zip(CASES, crops, placements):
        np.testing.assert_array_equal(sheet[y : y + crop.shape[0], x : x + crop.shape[1]], crop, err_msg=case.slug)
    assert sheet.shape[1] <= 2000  # two columns: the sheet still fits a wide screen


# --- receptive-field figure ---------------------------------------------------------------------------------


class _Block(torch.nn.Module):
    """A residual block that halves the size: a 3x3 stride-2 conv, and a 1x1 stride-2 shortcut beside it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.shortcut = torch.nn.Conv2d(1, 4, 1, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x) + self.shortcut(x))


def _pixels_reaching_the_output(model: torch.nn.Module, size: int) -> np.ndarray:
    """Which input pixels get gradient from the output's sum, by PyTorch's autograd (positive weights: no
    gradient cancels)."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.rand_like(parameter) + 0.1)
    x = torch.rand(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    model.double()(x).sum().backward()
    assert x.grad is not None
    return (x.grad[0, 0] != 0).numpy()


def test_rf_figure_says_a_shortcuts_skipped_pixels_still_reach_the_output() -> None:
    from convlab.viz.rf import rf_figure, rf_growth

    block = _Block()
    growth = rf_growth(block, "1x1x8x8")
    assert growth.shortcuts
    assert growth.dropped is not None
    assert (growth.dropped.layer, growth.dropped.rows, growth.dropped.read_by) == (
        "shortcut",
        (1, 3, 5, 7),
        ("conv",),
    )
    assert not growth.dropped.unread
    assert _pixels_reaching_the_output(block, 8).all()  # PyTorch agrees: every pixel reaches the output
    figure = rf_figure(block, "1x1x8x8", image="camera")
    words = " ".join(text.get_text() for text in figure.findobj(matplotlib.text.Text))
    assert "they still reach the output" in words
    assert "cannot change" not in words
    assert "larger branch at each merge" in figure._suptitle.get_text()
    resnet = rf_growth("resnet18")
    assert resnet.dropped is not None
    assert resnet.dropped.read_by == ("layer2.0.conv1",)


def test_rf_figure_says_unread_pixels_are_unread_and_leaves_out_an_empty_panel() -> None:
    from convlab.viz.rf import rf_figure, rf_growth

    stack = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, stride=2), torch.nn.Conv2d(2, 2, 3, stride=2))
    growth = rf_growth(stack, "1x1x12x12")
    assert growth.dropped is not None
    assert growth.dropped.unread
    reached = _pixels_reaching_the_output(stack, 12)
    assert not reached[:, 11].any()
    assert not reached[11, :].any()
    assert growth.dropped.rows == (11,) == growth.dropped.cols
    figure = rf_figure(stack, "1x1x12x12", image="camera")
    words = " ".join(text.get_text() for text in figure.findobj(matplotlib.text.Text))
    assert "cannot change" in words
    full = rf_figure("conv3x3(4,p1) relu conv3x3(4,p1)", "1x16x16", image="camera")
    assert all(axes.axison for axes in full.axes)  # no panel left blank: two panels (the chart has a twin axis)
    assert len([axes for axes in full.axes if axes.get_title()]) == 2
