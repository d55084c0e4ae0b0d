"""Bundled data (see README.md and LICENSE in this folder): small public-domain images, the UCI digits,
generated shapes, a seeded batch iterator, and a digits model convlab trained.

Example:
    >>> load_image("camera").shape, load_image("astronaut").shape
    ((224, 224), (224, 224, 3))
"""

from __future__ import annotations

from pathlib import Path

from .._args import Array
from ..errors import ArgumentError
from .batches import batches
from .digits import digits
from .shapes import SHAPE_CLASSES, shapes
from .trained import trained_digits_model

__all__ = [
    "IMAGES",
    "SHAPE_CLASSES",
    "batches",
    "digits",
    "load_image",
    "read_image",
    "shapes",
    "trained_digits_model",
]

IMAGES = ("camera", "astronaut", "cat")

_HERE = Path(__file__).parent
_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def load_image(name: str) -> Array:
    """A bundled image by name, as uint8: (224, 224) for ``camera``, (224, 224, 3) for the colour ones."""
    import numpy as np

    if name not in IMAGES:
        raise ArgumentError(
            f"no bundled image called {name!r}; there are {', '.join(IMAGES)}",
            fix="pass one of those names, or the path of a PNG or JPEG file",
        )
    with np.load(_HERE / f"{name}.npz", allow_pickle=False) as archive:
        image: Array = archive["image"]
    return image


def read_image(source: str, grey: bool = False) -> Array:
    """A bundled image by name, or a PNG/JPEG/... file, as uint8 (H, W) or (H, W, 3).

    Raises:
        ArgumentError: an unknown name, a missing file, or a file PIL cannot read.
    """
    import numpy as np

    if source in IMAGES:
        image = load_image(source)
    else:
        path = Path(source)
        if path.suffix.lower() not in _SUFFIXES and not path.exists():
            raise ArgumentError(
                f"image {source!r} is neither a bundled image ({', '.join(IMAGES)}) nor a file",
                fix='image="camera", or the path of a PNG or JPEG file',
            )
        from .._readers import read_picture

        image = read_picture(path, "image", "RGB")
    if grey and image.ndim == 3:
        weights = np.array([0.299, 0.587, 0.114])  # ITU-R 601, as PIL's convert("L")
        image = np.clip(np.rint(image @ weights), 0, 255).astype(np.uint8)
    return image
