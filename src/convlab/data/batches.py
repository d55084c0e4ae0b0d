"""Mini-batches: a data set cut into batches in a seeded random order, one pass (an epoch) per call."""

from __future__ import annotations

from collections.abc import Iterator

from .._args import Array, as_int
from ..errors import ArgumentError, ShapeError

__all__ = ["batches"]


def batches(
    images: Array, labels: Array, batch_size: int, *, shuffle: bool = True, seed: int = 0
) -> Iterator[tuple[Array, Array]]:
    """One epoch of (images, labels) batches of ``batch_size`` (the last may be smaller).

    The order is a permutation drawn from ``seed``; pass a different seed each epoch (e.g. the
    epoch number) for a new order that is still repeatable. ``shuffle=False`` keeps the data's order.

    Shape:
        images (N, ...), labels (N,) -> batches (B, ...), (B,) with B <= batch_size.

    Example:
        >>> import numpy as np
        >>> [y.tolist() for _, y in batches(np.zeros((5, 1)), np.arange(5), 2, shuffle=False)]
        [[0, 1], [2, 3], [4]]
    """
    import numpy as np

    size = as_int(batch_size, "batch_size", minimum=1)
    x, y = np.asarray(images), np.asarray(labels)
    if len(x) == 0:
        raise ArgumentError("batches: the data set is empty", fix="pass at least one image and its label")
    if y.ndim < 1 or len(x) != len(y):
        raise ShapeError(
            f"batches: {len(x)} images but labels of shape {y.shape}",
            fix="pass one label per image: labels of shape (N,) for images (N, C, H, W)",
        )
    order = np.random.default_rng(seed).permutation(len(x)) if shuffle else np.arange(len(x))
    for start in range(0, len(x), size):
        chosen = order[start : start + size]
        yield x[chosen], y[chosen]
