"""Read a matrix the way a learner types it, or from a file.

Accepted forms:

* rows separated by ``;`` or new lines, values by spaces or commas: ``"1 0; 0 -1"``;
* nested brackets, as NumPy prints or Python writes them: ``"[[1, 0], [0, -1]]"``;
* a path to a ``.npy`` file (any 2-D array) or an image (``.png``, ``.jpg``, ...,
  read as grayscale with values 0..255).

Example:
    >>> parse_matrix("1 0; 0 -1")
    array([[ 1.,  0.],
           [ 0., -1.]], dtype=float32)
"""

from __future__ import annotations

import re
from pathlib import Path

from .._args import Array
from .._readers import read_npy, read_picture
from ..errors import ArgumentError, ArgumentTypeError

__all__ = ["is_picture", "load_array", "load_matrix", "parse_channels", "parse_matrix"]

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def parse_matrix(text: str, name: str = "matrix") -> Array:
    """Parse ``"1 0; 0 -1"`` (or bracketed rows) into a float32 array of shape (rows, cols).

    Raises:
        ArgumentError: empty text, a value that is not a number, or rows of different lengths.
    """
    import numpy as np

    stripped = text.strip()
    if stripped.startswith("["):  # [[1, 0], [0, -1]] or NumPy's [[ 1.  0.] [ 0. -1.]]
        rows_text = re.findall(r"\[([^\[\]]*)\]", stripped)
    else:
        rows_text = re.split(r"[;\n]", stripped)
    rows_text = [row for row in rows_text if row.strip()]
    if not rows_text:
        raise ArgumentError(f"{name} is empty", fix='write it row by row, e.g. "1 0; 0 -1"')
    rows = []
    for number, row in enumerate(rows_text, start=1):
        values = [value for value in re.split(r"[\s,]+", row.strip()) if value]
        try:
            rows.append([float(value) for value in values])
        except ValueError:
            bad = next(value for value in values if not _is_number(value))
            raise ArgumentError(
                f"{name} row {number} has {bad!r}, which is not a number",
                fix='separate values by spaces and rows by ";", e.g. "1 0; 0 -1"',
            ) from None
    lengths = [len(row) for row in rows]
    if len(set(lengths)) > 1:
        raise ArgumentError(
            f"{name} rows have different lengths {lengths}: every row needs the same number of values",
            fix=f"give each of the {len(rows)} rows {max(lengths)} values",
        )
    with np.errstate(over="ignore"):  # an overflow is reported below, with the value
        matrix = np.array(rows, dtype=np.float32)
    if not np.isfinite(matrix).all():  # nan, inf, or beyond float32's range: every output would be lost
        row, col = np.argwhere(~np.isfinite(matrix))[0]
        raise ArgumentError(
            f"{name} row {row + 1} has {rows[row][col]!r}, which is not a finite float32 number",
            fix='use finite values (float32 reaches about 3.4e38), e.g. "1 0; 0 -1"',
        )
    return matrix


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def is_picture(source: str) -> bool:
    """Whether ``source`` names a picture file (by its suffix), read as grayscale 0..255."""
    return Path(source).suffix.lower() in _IMAGE_SUFFIXES


def load_matrix(source: str, name: str = "matrix") -> Array:
    """A matrix from text, or from a ``.npy`` or image file if ``source`` names one.

    Shape:
        -> (rows, cols), float32 (an image keeps its 0..255 values)
    """
    import numpy as np

    path = Path(source)
    looks_like_file = path.suffix.lower() in (".npy", *_IMAGE_SUFFIXES)
    if not looks_like_file:
        return parse_matrix(source, name)
    if not path.is_file():
        raise ArgumentError(f"{name} file {source!r} does not exist", fix="check the path, or type the values")
    if path.suffix.lower() == ".npy":
        array = read_npy(path, name)
        while array.ndim > 2 and array.shape[0] == 1:  # (1, 1, H, W) -> (H, W); a 1-row matrix stays 2-D
            array = array[0]
        if array.ndim != 2:
            raise ArgumentError(
                f"{name} file {source!r} holds an array of shape {array.shape}, not a 2-D matrix",
                fix="save a single 2-D array, e.g. np.save(path, image[0, 0])",
            )
        if array.dtype.kind not in "biuf":
            raise ArgumentTypeError(
                f"{name} file {source!r} holds {array.dtype} values, not numbers", fix="save numbers"
            )
        return np.asarray(array, dtype=np.float32)
    return np.asarray(read_picture(path, name, "L"), dtype=np.float32)


def load_array(source: str, name: str = "matrix", max_ndim: int = 4) -> Array:
    """Like :func:`load_matrix`, but also channels: ``"1 2; 3 4 | 5 6; 7 8"`` is (2, 2, 2), and a
    ``.npy`` file may hold up to ``max_ndim`` axes.

    Example:
        >>> load_array("1 2; 3 4 | 5 6; 7 8").shape
        (2, 2, 2)
    """
    import numpy as np

    if Path(source).suffix.lower() == ".npy" and Path(source).is_file():
        return np.asarray(read_npy(source, name, max_ndim), dtype=np.float32)
    if "|" in source:
        return parse_channels(source, name)
    return load_matrix(source, name)


def parse_channels(text: str, name: str = "matrix") -> Array:
    """Typed text with channels split by ``|``: ``"1 2; 3 4 | 5 6; 7 8"`` -> (2, 2, 2); without a ``|``, the
    one matrix (rows, cols). Text only: it never reads a file.

    Raises:
        ArgumentError: a channel :func:`parse_matrix` refuses, or channels of different shapes.
    """
    import numpy as np

    if "|" not in text:
        return parse_matrix(text, name)
    channels = [parse_matrix(part, f"{name} channel {c}") for c, part in enumerate(text.split("|"))]
    if len({channel.shape for channel in channels}) > 1:
        raise ArgumentError(
            f"{name} channels have different shapes {[channel.shape for channel in channels]}",
            fix="give every channel (between the | signs) the same rows and columns",
        )
    return np.stack(channels)
