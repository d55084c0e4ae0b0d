"""How ``convlab apply`` reads its --image as a dask array (N, C, H, W), never whole in memory.

* ``.npy``: memory-mapped; each chunk reads its own cells from the file.
* ``.zarr``: read chunk by chunk by dask (its own chunks, then ``--chunk``).
* ``.tif``/``.tiff``: memory-mapped when stored uncompressed and contiguous, else read whole (if it fits).
* pictures (``.png``, ``.jpg``, ...): read whole, so only when they fit in memory; 0..255 becomes 0..1.

Arrays of 2 axes are (H, W), of 3 axes (C, H, W), of 4 axes (N, C, H, W).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._readers import IMAGE_SUFFIXES, read_picture
from ..errors import ArgumentError

__all__ = ["IMAGE_FORMATS", "read_image"]

IMAGE_FORMATS = (".npy", ".zarr", ".tif", ".tiff", *(s for s in IMAGE_SUFFIXES if s not in (".tif", ".tiff")))


@dataclass(frozen=True)
class _Mapped:
    """A file's array opened on each read: a task that reads a chunk carries the path, not the array."""

    path: str
    kind: str  # "npy" or "tif"
    shape: tuple[int, ...]
    dtype: np.dtype[Any]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __getitem__(self, where: Any) -> Any:
        if self.kind == "npy":
            array = np.load(self.path, mmap_mode="r", allow_pickle=False)
        else:
            import tifffile

            array = tifffile.memmap(self.path, mode="r")
        return np.array(array[where])


def _cannot_read(path: Path, error: Exception, fix: str) -> ArgumentError:
    reason = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
    return ArgumentError(f"cannot read --image {str(path)!r}: {reason}", fix=fix)


def _opened(path: Path) -> Any:
    """The file as an array-like: memory-mapped, a zarr array, or (pictures) in memory."""
    suffix = path.suffix.lower()
    if suffix == ".zarr":
        import zarr

        try:
            return zarr.open_array(str(path), mode="r")
        except Exception as error:  # zarr raises many kinds for a folder that is not an array
            raise _cannot_read(
                path, error, "pass a zarr array folder, e.g. written by dask.array.to_zarr"
            ) from None
    if suffix == ".npy":
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as error:
            raise _cannot_read(path, error, "pass a .npy file written by numpy.save") from None
        return _Mapped(str(path), "npy", array.shape, array.dtype)
    if suffix in (".tif", ".tiff"):
        import tifffile

        try:
            mapped = tifffile.memmap(str(path), mode="r")
            return _Mapped(str(path), "tif", mapped.shape, mapped.dtype)
        except ValueError:  # compressed or tiled: not mappable, read whole below
            pass
        except OSError as error:
            raise _cannot_read(path, error, "pass a TIFF file") from None
        try:
            return tifffile.imread(str(path))
        except Exception as error:
            raise _cannot_read(path, error, "pass a TIFF file") from None
    picture = read_picture(path, "--image", mode=None)  # (H, W) or (H, W, C), uint8
    scaled = picture.astype(np.float32) / (255 if picture.dtype == np.uint8 else 1)
    return scaled if scaled.ndim == 2 else np.moveaxis(scaled, -1, 0)


def read_image(source: str, chunk: int) -> Any:
    """--image as a lazy dask array (N, C, H, W), chunked ``chunk`` x ``chunk`` in space, whole in channels."""
    import dask.array as da

    path = Path(source)
    if not path.exists():
        raise ArgumentError(f"--image {source!r} does not exist", fix="check the path")
    if path.suffix.lower() not in IMAGE_FORMATS:
        raise ArgumentError(
            f"--image {source!r}: convlab apply reads {', '.join(IMAGE_FORMATS)}",
            fix="save the image as .npy or .zarr",
        )
    array = _opened(path)
    if array.ndim not in (2, 3, 4) or np.dtype(array.dtype).kind not in "biuf":
        raise ArgumentError(
            f"--image {source!r} holds {np.dtype(array.dtype)} values in {array.ndim} axes; "
            "apply reads numbers as (H, W), (C, H, W) or (N, C, H, W)",
            fix="save the image as (C, H, W), e.g. numpy.save(path, image.transpose(2, 0, 1))",
        )
    lazy = da.from_array(array, chunks=(-1,) * (array.ndim - 2) + (chunk, chunk), asarray=True)
    while lazy.ndim < 4:
        lazy = lazy[None]
    return lazy.rechunk({0: 1, 1: -1})
