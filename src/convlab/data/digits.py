"""The UCI handwritten digits: 1,797 greyscale 8x8 images of the digits 0-9, small enough to train on in seconds.

The bundled ``digits.npz`` holds them split once into 1,347 training and 450 test images (see
README.md in this folder for the source, the licence and how the split was made).
"""

from __future__ import annotations

from pathlib import Path

from .._args import Array
from ..errors import ArgumentError

__all__ = ["digits"]

_FILE = Path(__file__).parent / "digits.npz"
_LEVELS = 16  # the pixels count 4x4 blocks of a 32x32 bitmap, so each is 0..16


def digits(split: str = "train") -> tuple[Array, Array]:
    """The ``"train"`` (1,347) or ``"test"`` (450) digits: (images, labels).

    Returns:
        images: (N, 1, 8, 8) float32 in [0, 1] (the original counts 0..16 divided by 16);
        labels: (N,) int64, the digit shown, 0..9.

    Example:
        >>> images, labels = digits("test")
        >>> images.shape, images.dtype, labels[:5].tolist()
        ((450, 1, 8, 8), dtype('float32'), [8, 6, 2, 5, 9])
    """
    import numpy as np

    if split not in ("train", "test"):
        raise ArgumentError(f"digits: split={split!r} is not a split", fix='use split="train" or split="test"')
    with np.load(_FILE, allow_pickle=False) as archive:
        counts, labels = archive[f"{split}_images"], archive[f"{split}_labels"]
    images: Array = (counts[:, None].astype(np.float32) / _LEVELS).astype(np.float32)
    return images, labels.astype(np.int64)
