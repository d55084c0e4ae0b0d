"""Draw the reference pictures shown in docs/pictures.md into docs/gallery/ and report each render time.

Usage: python docs/make_pictures.py

Every picture is drawn by convlab.viz, the same code `convlab draw` runs. Files
are overwritten (they are generated); other files in docs/gallery/ are left alone.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from convlab.lesson.labs import value_lab
from convlab.viz import draw_gallery, explain_picture, features_figure, params_figure, rf_figure, window_animation

GALLERY = Path(__file__).with_name("gallery")


def _timed(name: str, draw: Callable[[], object]) -> None:
    start = time.perf_counter()
    draw()
    print(f"{name}: {time.perf_counter() - start:.2f} s")


def main() -> None:
    GALLERY.mkdir(exist_ok=True)
    lab = value_lab("manual_conv")
    _timed(
        "window-lab1.gif + strip",
        lambda: window_animation(
            lab.image, lab.kernel, out=GALLERY / "window-lab1.gif", strip=GALLERY / "window-lab1-strip.png"
        ),
    )
    seven = (np.arange(49).reshape(7, 7) * 3 % 8).astype(np.float32)
    _timed(
        "window-7x7-30-frames.gif",
        lambda: window_animation(seven, [[1, 0], [0, -1], [1, 1]], out=GALLERY / "window-7x7-30-frames.gif"),
    )
    _timed(
        "window-stride-asymmetric.gif + strip",
        lambda: window_animation(
            seven[:6, :6],
            [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
            stride=2,
            padding=((1, 0), (1, 0)),
            out=GALLERY / "window-stride-asymmetric.gif",
            strip=GALLERY / "window-stride-asymmetric-strip.png",
        ),
    )
    _timed(
        "window-transposed.gif + strip",
        lambda: window_animation(
            [[1, 2], [3, 4]],
            [[1, 1, 1], [1, 0, 1], [1, 1, 1]],
            transposed=True,
            stride=2,
            padding=1,
            output_padding=1,
            out=GALLERY / "window-transposed.gif",
            strip=GALLERY / "window-transposed-strip.png",
        ),
    )
    _timed(
        "explain-lab1.png",
        lambda: explain_picture(lab.image, lab.kernel, at=(1, 0), out=GALLERY / "explain-lab1.png"),
    )
    _timed("features-camera.png", lambda: features_figure("camera", out=GALLERY / "features-camera.png"))
    _timed(
        "features-astronaut.png",
        lambda: features_figure(
            "astronaut",
            ["sobel_x", "sobel_y", "lesson_edge", "1 0; 0 -1", "box_blur"],
            columns=3,
            out=GALLERY / "features-astronaut.png",
        ),
    )
    _timed("rf-resnet18.png", lambda: rf_figure("resnet18", out=GALLERY / "rf-resnet18.png"))
    _timed(
        "rf-stack.png",
        lambda: rf_figure(
            "conv3x3(8,s2) conv3x3(16,s2) conv3x3(32,s2)", "1x28x28", image="camera", out=GALLERY / "rf-stack.png"
        ),
    )
    _timed("params.png", lambda: params_figure(out=GALLERY / "params.png"))
    arithmetic = GALLERY / "conv-arithmetic"
    shutil.rmtree(arithmetic, ignore_errors=True)
    _timed("conv-arithmetic/ (8 GIFs + gallery.png)", lambda: draw_gallery(arithmetic))


if __name__ == "__main__":
    main()
