"""The one reader of the files a user names: ``.npy`` arrays and pictures (PNG, JPEG, ...).

Every command that takes a file goes through here, so a broken, truncated,
empty, pickled or enormous file gets the same one-line convlab error everywhere,
and a file that would need more memory than the machine has is refused from its
header, before anything is allocated.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._memory import check_fits
from .errors import ArgumentError

if TYPE_CHECKING:
    from ._args import Array

__all__ = ["IMAGE_SUFFIXES", "MAX_PIXELS", "read_npy", "read_picture"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MAX_PIXELS = 64_000_000
"""Pictures above this many pixels are refused (a 8000 x 8000 photo fits; a decompression bomb does not)."""


def _existing(source: str | Path, name: str) -> Path:
    path = Path(source)
    if not path.is_file():
        raise ArgumentError(f"{name} file {str(source)!r} does not exist", fix="check the path")
    return path


def _reason(error: Exception) -> str:
    """The first line of a library's error, short enough for a one-line message."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:160]


def read_npy(source: str | Path, name: str = "array", max_ndim: int = 4) -> Array:
    """A ``.npy`` file's array of real numbers, never pickled objects, with 1 to ``max_ndim`` axes.

    Raises:
        ArgumentError: missing, unreadable, truncated, empty, object or string arrays, too many axes.
        ResourceError: the header declares more values than fit in memory.
    """
    import numpy as np

    path = _existing(source, name)
    shown = f"{name} file {str(source)!r}"
    try:
        with path.open("rb") as file:
            version = np.lib.format.read_magic(file)
            header = (
                np.lib.format.read_array_header_1_0(file)
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0(file)
            )
            shape, _, dtype = header
            if dtype.kind not in "biuf":
                raise ArgumentError(
                    f"{shown} holds {dtype} values, not real numbers", fix="save numbers, e.g. np.save(path, x)"
                )
            if len(shape) > max_ndim or not shape:
                raise ArgumentError(
                    f"{shown} holds an array of shape {shape}: expected 1 to {max_ndim} axes",
                    fix="save the array you mean with np.save",
                )
            count = 1
            for length in shape:
                count *= length
            if count == 0:
                raise ArgumentError(
                    f"{shown} holds an empty array of shape {shape}", fix="save an array with values"
                )
            check_fits(f"{shown}, shape {shape} {dtype}", count * dtype.itemsize, fix="use a smaller array")
            file.seek(0)
            array = np.load(file, allow_pickle=False)
    except ArgumentError:
        raise
    except (ValueError, OSError, EOFError, TypeError) as error:  # what NumPy raises for a bad or short file
        raise ArgumentError(
            f"{shown} is not a readable .npy array: {_reason(error)}", fix="save it again with np.save(path, x)"
        ) from None
    result: Array = array
    return result


def read_picture(source: str | Path, name: str = "image", mode: str | None = "RGB") -> Array:
    """A picture file as uint8 (H, W) for ``mode="L"``, (H, W, 3) for ``"RGB"``, or as stored for None.

    Raises:
        ArgumentError: missing, not a picture, truncated or corrupt, or more than MAX_PIXELS pixels.
        ResourceError: its pixels would not fit in memory.
    """
    import numpy as np

    path = _existing(source, name)
    shown = f"{name} file {str(source)!r}"
    try:
        from PIL import Image
    except ImportError:
        raise ArgumentError(
            f"reading {shown} needs pillow", fix="pip install pillow, or pass a .npy file"
        ) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # MAX_PIXELS below says it plainly
            with Image.open(path) as opened:
                width, height = opened.size
                if width * height > MAX_PIXELS:
                    raise ArgumentError(
                        f"{shown} has {width}x{height} = {width * height} pixels, more than convlab reads "
                        f"({MAX_PIXELS})",
                        fix="shrink it first, e.g. to 1024 pixels a side",
                    )
                bands = len(mode) if mode else len(opened.getbands())
                check_fits(f"{shown} ({width}x{height}, {bands} bands)", width * height * bands, fix="shrink it")
                picture = opened.convert(mode) if mode else opened
                array: Any = np.asarray(picture)
    except ArgumentError:
        raise
    except (
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ArgumentError(
            f"cannot read the {shown}: {reason[:160]}", fix="pass a complete PNG or JPEG file"
        ) from None
    result: Array = array
    return result
