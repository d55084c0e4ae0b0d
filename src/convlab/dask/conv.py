"""conv2d on a dask array: every output chunk from its input chunk plus the halo the geometry implies.

The input is padded lazily at its edges only (:mod:`.edges`), in the padding mode, so
every tile then runs a plain unpadded convolution on its region. Along each axis output
unit ``i`` reads padded cells ``i * stride`` to ``i * stride + span - 1`` (``span = dilation
* (kernel - 1) + 1``): a tile's region starts on its first unit's window, so strides stay
aligned whatever the chunk offsets are, and reaches ``span - 1`` cells past its last
unit's window start (the halo).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from .._arrays import float_arrays
from ..functional.conv import conv2d as conv2d_in_memory
from ..functional.geometry import ConvArgs, ConvGeometry, ConvSettings, conv2d_geometry, with_batch_axis
from .checks import dask_input
from .edges import pad_edges
from .stitch import plan, stitch
from .tiles import Reach, Tile

__all__ = ["conv2d"]

OP = "dask.conv2d"


def _reaches(geometry: ConvGeometry) -> tuple[Reach, Reach]:
    reaches = []
    for axis in range(2):
        span = geometry.dilation[axis] * (geometry.kernel_size[axis] - 1) + 1
        before = geometry.padding[axis][0]
        reaches.append(Reach(geometry.stride[axis], -before, span - 1 - before))
    return reaches[0], reaches[1]


def _tile(
    block: Any, rows: Tile, cols: Tile, *, weight: Any, bias: Any, settings: ConvSettings, algorithm: str
) -> Any:
    """One tile: its region was padded already, so the convolution itself pads nothing."""
    return conv2d_in_memory(block, weight, bias, settings=settings, algorithm=algorithm)


def conv2d(
    input: object,
    weight: object,
    bias: object = None,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    padding_mode: str = "zeros",
    *,
    algorithm: str = "auto",
) -> Any:
    """:func:`convlab.functional.conv2d` on a dask array, chunk by chunk, with the same meaning and checks.

    Args:
        input: a dask array (N, C_in, H, W) or (C_in, H, W), chunked along any axes, unevenly too.
        weight, bias, stride, padding, dilation, groups, padding_mode, algorithm: as in
            :func:`convlab.functional.conv2d` (NumPy arrays or lists for the weight and bias).

    Returns:
        A lazy dask array (N, C_out, H_out, W_out); nothing is computed until it is.

    Output chunks follow the input's:
        - N keeps the input's chunks; C_out is one chunk (every output channel needs all the
          input channels of its group, so the input's channels are read as one chunk);
        - along H and W, output unit ``i`` belongs to the input chunk holding the centre of its
          window, so an input chunk of ``n`` cells gives about ``n / stride`` output units;
        - a spatial chunk smaller than the halo (``dilation * (kernel - 1)``) or than the stride is
          first merged with its neighbour (the input is rechunked): a smaller chunk would read more
          halo than data, or hold no output unit at all.

    Each output chunk reads its input chunk plus the halo only; the padding (any mode) is
    applied at the array's edges only, so the result equals ``conv2d`` on the whole array
    (the tiles may take another algorithm than the whole array would: within the engine's
    documented tolerance).

    Example:
        >>> import dask.array as da
        >>> x = da.ones((1, 1, 6, 6), chunks=(1, 1, 4, 2))
        >>> conv2d(x, np.ones((1, 1, 3, 3)), padding=1).compute()[0, 0, :2]
        array([[4., 6., 6., 6., 6., 4.],
               [6., 9., 9., 9., 9., 6.]])
    """
    x: Any = dask_input(input, OP)
    arrays = float_arrays({"input": np.empty((0,), dtype=x.dtype), "weight": weight, "bias": bias})
    dtype = arrays["input"].dtype
    w, b = arrays["weight"], arrays.get("bias")
    x, unbatched = with_batch_axis(  # a dask array has the ndim and indexing this needs
        x.astype(dtype) if x.dtype != dtype else x, "input", OP
    )
    geometry = conv2d_geometry(
        OP,
        tuple(int(n) for n in x.shape),
        w.shape,
        ConvArgs(stride, padding, dilation, groups, padding_mode),
        None if b is None else b.shape,
        original_shape=tuple(int(n) for n in input.shape),  # type: ignore[attr-defined]
    )
    x, rows, cols = plan(x, _reaches(geometry), geometry.output_size)
    padded = pad_edges(x, geometry.padding, geometry.padding_mode)
    unpadded = ConvSettings(
        geometry.kernel_size, geometry.stride, ((0, 0), (0, 0)), geometry.dilation, geometry.groups, "zeros"
    )
    function = partial(_tile, weight=w, bias=b, settings=unpadded, algorithm=algorithm)
    offset = (geometry.padding[0][0], geometry.padding[1][0])
    out = stitch(padded, rows, cols, function, geometry.out_channels, dtype, offset)
    return out[0] if unbatched else out
