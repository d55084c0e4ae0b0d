"""convlab on Dask: exact tiled convolution and whole-network inference for arrays larger than memory.

Needs the optional extra ``dask`` (``pip install -e ".[dask]"``); ``import convlab``
never imports dask, only ``import convlab.dask`` does.

Each output chunk is computed from its input chunk plus a halo: for one convolution the
cells its windows reach past the chunk, for a network the cells its receptive field
reaches (:mod:`convlab.network.receptive_field`). The graphs are dask's own, so any dask
scheduler runs them: threads, processes, or a ``distributed`` cluster.
"""

from __future__ import annotations

from typing import Any

__all__ = ["apply", "conv2d"]


def __getattr__(name: str) -> Any:
    """``conv2d`` and ``apply`` on first use: the tile arithmetic in :mod:`.tiles` needs no dask to be read."""
    if name == "conv2d":
        from .conv import conv2d

        return conv2d
    if name == "apply":
        from .model import apply

        return apply
    raise AttributeError(f"module 'convlab.dask' has no attribute {name!r}")
