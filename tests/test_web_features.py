"""The page's feature-map call: the kernels asked for (none means none), the shrinking said, and each map's
colours the same as the PNG's."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from convlab.viz import style
from convlab.viz.features import colour_scale, feature_maps
from convlab.web import api


def _upload(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_an_empty_kernel_list_gives_no_maps_and_a_missing_one_the_default() -> None:
    assert api.handle("features", {"image": "camera", "kernels": []})["maps"] == []
    names = [m["name"] for m in api.handle("features", {"image": "camera"})["maps"]]
    assert names == ["sobel_x", "sobel_y"]


def test_the_answer_says_whether_and_from_what_the_image_was_shrunk() -> None:
    side = api.LIMITS["image_side"]
    big = api.handle("features", {"image": _upload(np.zeros((300, 400), np.uint8)), "kernels": []})
    assert (big["original_size"], big["shrunk"]) == ([300, 400], True)
    assert np.array(big["image"]).shape == (side * 3 // 4, side)
    small = api.handle("features", {"image": _upload(np.zeros((30, 50), np.uint8)), "kernels": []})
    assert (small["original_size"], small["shrunk"]) == ([30, 50], False)


def test_each_map_carries_the_colour_scale_its_png_uses() -> None:
    answer = api.handle("features", {"image": "camera", "kernels": ["gaussian", "laplacian"]})
    image = np.array(answer["image"], dtype=np.float32)
    for sent, expected in zip(answer["maps"], feature_maps(image, ["gaussian", "laplacian"])):
        scale = colour_scale(expected.output)
        assert sent["scale"]["cmap"] == scale.cmap
        assert sent["scale"]["stops"] == style.colour_stops(scale.cmap)
        # the answer's image is rounded to 4 decimals, so maps of it differ from the sent ones in the 4th digit
        sent_range = [sent["scale"]["low"], sent["scale"]["high"]]
        np.testing.assert_allclose(sent_range, [scale.low, scale.high], rtol=2e-3)
    assert [m["scale"]["cmap"] for m in answer["maps"]] == [style.SEQUENTIAL_CMAP, style.DIVERGING_CMAP]
    assert answer["scale"]["stops"][0] == "#000000"
    assert answer["scale"]["stops"][-1] == "#ffffff"
