"""Generated images of simple shapes: lines at four orientations, rectangles, circles and crosses.

A data set whose classes differ by edges and their orientation, so a small CNN trained on it learns
first-layer kernels that look like oriented edge detectors, the lesson's point about early layers.
Every image is drawn from the seed: random size, place, thickness and brightness, plus noise.
"""

from __future__ import annotations

import math
from typing import Any

from .._args import Array, as_int

__all__ = ["SHAPE_CLASSES", "shapes"]

SHAPE_CLASSES = (
    "horizontal line",
    "vertical line",
    "diagonal line /",
    "diagonal line \\",
    "rectangle",
    "circle",
    "cross",
)
_ANGLES = {0: 0.0, 1: 90.0, 2: 45.0, 3: 135.0}  # degrees counter-clockwise from the x axis, as seen
_NOISE = 0.08  # standard deviation of the added Gaussian noise


def shapes(n: int, size: int = 28, seed: int = 0) -> tuple[Array, Array, tuple[str, ...]]:
    """``n`` generated images of shapes, each class equally often, in a seeded random order.

    Returns:
        images: (n, 1, size, size) float32 in [0, 1];
        labels: (n,) int64 indices into ``class_names``;
        class_names: the names of the 7 classes (:data:`SHAPE_CLASSES`).

    Example:
        >>> images, labels, names = shapes(14, size=16)
        >>> images.shape, sorted(labels.tolist()) == sorted(list(range(7)) * 2), names[5]
        ((14, 1, 16, 16), True, 'circle')
    """
    import numpy as np

    count = as_int(n, "n", minimum=1)
    side = as_int(size, "size", minimum=12)
    rng = np.random.default_rng(as_int(seed, "seed", minimum=0))
    labels = rng.permutation(np.arange(count) % len(SHAPE_CLASSES)).astype(np.int64)
    rows, columns = np.mgrid[0:side, 0:side].astype(np.float64) + 0.5
    images = np.empty((count, 1, side, side), dtype=np.float32)
    for index, label in enumerate(labels):
        ink = _draw(int(label), rows, columns, side, rng)
        image = ink * rng.uniform(0.6, 1.0) + rng.normal(0, _NOISE, ink.shape)
        images[index, 0] = np.clip(image, 0, 1)
    return images, labels, SHAPE_CLASSES


def _draw(label: int, rows: Any, columns: Any, side: int, rng: Any) -> Any:
    """The shape's pixels as 0/1 (float): a stroke of random thickness at a random place and size."""
    import numpy as np

    half = rng.uniform(1.0, max(1.2, side / 18))  # half the stroke's thickness
    if label in _ANGLES:
        length = rng.uniform(0.45, 0.8) * side
        angle = math.radians(_ANGLES[label] + rng.uniform(-8, 8))
        centre = _centre(length / 2 * abs(math.cos(angle)), length / 2 * abs(math.sin(angle)), side, rng)
        return _segment(rows, columns, centre, angle, length, half)
    if label == 4:  # rectangle outline
        height, width = rng.uniform(0.3, 0.75, 2) * side
        cy, cx = _centre(width / 2, height / 2, side, rng)
        top, left = cy - height / 2, cx - width / 2
        inside = (rows >= top) & (rows <= top + height) & (columns >= left) & (columns <= left + width)
        border = np.minimum.reduce(
            [
                np.abs(rows - top),
                np.abs(rows - top - height),
                np.abs(columns - left),
                np.abs(columns - left - width),
            ]
        )
        return (inside & (border <= half)).astype(float)
    if label == 5:  # circle outline
        radius = rng.uniform(0.18, 0.38) * side
        cy, cx = _centre(radius, radius, side, rng)
        return (np.abs(np.hypot(rows - cy, columns - cx) - radius) <= half).astype(float)
    length = rng.uniform(0.45, 0.8) * side  # cross: a horizontal and a vertical stroke through one centre
    centre = _centre(length / 2, length / 2, side, rng)
    return np.maximum(
        _segment(rows, columns, centre, 0.0, length, half),
        _segment(rows, columns, centre, math.pi / 2, length, half),
    )


def _centre(half_width: float, half_height: float, side: int, rng: Any) -> tuple[float, float]:
    """A random (row, column) centre that keeps a shape of that half-extent inside the image (1 pixel margin)."""
    margin_x, margin_y = min(half_width + 1.5, side / 2), min(half_height + 1.5, side / 2)
    return rng.uniform(margin_y, side - margin_y), rng.uniform(margin_x, side - margin_x)


def _segment(
    rows: Any, columns: Any, centre: tuple[float, float], angle: float, length: float, half: float
) -> Any:
    """Pixels within ``half`` of a segment through ``centre`` at ``angle`` (from the x axis, counter-clockwise)."""
    import numpy as np

    dy, dx = rows - centre[0], columns - centre[1]
    along = dx * math.cos(angle) - dy * math.sin(angle)  # rows grow downwards, so y is -row
    across = dx * math.sin(angle) + dy * math.cos(angle)
    return ((np.abs(along) <= length / 2) & (np.abs(across) <= half)).astype(float)
