"""The pictures read as they claim: titles stay in their panels, non-negative maps look like the image,
the gallery is readable at its own size, and the receptive-field figure says only what is true."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
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
