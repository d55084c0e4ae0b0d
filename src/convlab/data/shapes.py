"""Generated images of simple shapes: lines at four orientations, rectangles, circles and crosses.

A data set whose classes differ by edges and their orientation, so a small CNN trained on it learns
first-layer kernels that look like oriented edge detectors, the lesson's point about early layers.
Every image is drawn from the seed, and drawn so that only edges tell the classes apart:

- strokes are thick (2.5 to 5 pixels), so each side of a stroke is a step edge of its own, and soft
  (each pixel covered in part is shaded in part), so an edge at any angle is an edge, not a staircase;
- rectangles and crosses are turned to any angle and circles have every orientation, so edges of
  every orientation are about equally common, not only the four of the line classes;
- the background's brightness and the stroke's contrast are drawn at random, and half of the strokes
  are darker than their background: a kernel that measures brightness learns little, one that finds
  edges (whichever side is bright) does;
- Gaussian noise is added, which a smooth kernel averages away and a speckled one does not.
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
_CONTRAST = (0.4, 0.8)  # how much brighter (or darker) than its background a stroke is


def shapes(n: int, size: int = 28, seed: int = 0) -> tuple[Array, Array, tuple[str, ...]]:
    """``n`` generated images of shapes, each class equally often, in a seeded random order.

    Each image is one shape, a stroke of random thickness, place, size and angle (the line classes
    keep theirs, within 8 degrees), brighter or darker than a background of random brightness, with
    Gaussian noise (sigma 0.08).

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
        half = rng.uniform(1.25, 2.5) * side / 28  # half the stroke's thickness
        distance = _distance(int(label), rows, columns, side, rng)
        ink = np.clip(half + 0.5 - distance, 0, 1)  # the share of each pixel the stroke covers
        contrast = rng.uniform(*_CONTRAST) * rng.choice((-1, 1))
        background = rng.uniform(0, 1 - contrast) if contrast > 0 else rng.uniform(-contrast, 1)
        image = background + contrast * ink + rng.normal(0, _NOISE, ink.shape)
        images[index, 0] = np.clip(image, 0, 1)
    return images, labels, SHAPE_CLASSES


def _distance(label: int, rows: Any, columns: Any, side: int, rng: Any) -> Any:
    """Each pixel's distance from the shape's centre line (the stroke is drawn around it)."""
    import numpy as np

    if label in _ANGLES:
        length = rng.uniform(0.45, 0.8) * side
        angle = math.radians(_ANGLES[label] + rng.uniform(-8, 8))
        centre = _centre(length / 2 * abs(math.cos(angle)), length / 2 * abs(math.sin(angle)), side, rng)
        return _from_segment(rows, columns, centre, angle, length)
    turn = rng.uniform(0, math.pi)  # rectangles and crosses at any angle
    if label == 4:  # rectangle outline: the distance from the nearest of its four sides
        height, width = rng.uniform(0.4, 0.6, 2) * side
        reach = math.hypot(height, width) / 2
        centre = _centre(reach, reach, side, rng)
        along, across = _turned(rows, columns, centre, turn)
        outside = np.hypot(np.maximum(np.abs(along) - width / 2, 0), np.maximum(np.abs(across) - height / 2, 0))
        inside = np.minimum(width / 2 - np.abs(along), height / 2 - np.abs(across))
        return np.where(outside > 0, outside, np.abs(inside))
    if label == 5:  # circle outline
        radius = rng.uniform(0.24, 0.36) * side
        cy, cx = _centre(radius, radius, side, rng)
        return np.abs(np.hypot(rows - cy, columns - cx) - radius)
    length = rng.uniform(0.45, 0.8) * side  # cross: two strokes through one centre, at right angles
    centre = _centre(length / 2, length / 2, side, rng)
    return np.minimum(
        _from_segment(rows, columns, centre, turn, length),
        _from_segment(rows, columns, centre, turn + math.pi / 2, length),
    )


def _centre(half_width: float, half_height: float, side: int, rng: Any) -> tuple[float, float]:
    """A random (row, column) centre that keeps a shape of that half-extent inside the image (2 pixel margin)."""
    margin_x, margin_y = min(half_width + 2.5, side / 2), min(half_height + 2.5, side / 2)
    return rng.uniform(margin_y, side - margin_y), rng.uniform(margin_x, side - margin_x)


def _turned(rows: Any, columns: Any, centre: tuple[float, float], angle: float) -> tuple[Any, Any]:
    """Each pixel's coordinates from ``centre`` along and across the direction ``angle`` (counter-clockwise
    from the x axis; rows grow downwards, so y is -row)."""
    dy, dx = rows - centre[0], columns - centre[1]
    return dx * math.cos(angle) - dy * math.sin(angle), dx * math.sin(angle) + dy * math.cos(angle)


def _from_segment(rows: Any, columns: Any, centre: tuple[float, float], angle: float, length: float) -> Any:
    """Each pixel's distance from the segment of ``length`` through ``centre`` at ``angle``."""
    import numpy as np

    along, across = _turned(rows, columns, centre, angle)
    return np.hypot(np.maximum(np.abs(along) - length / 2, 0), across)
