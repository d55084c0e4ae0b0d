"""convlab on Dask: exact tiled convolution and whole-network inference for arrays larger than memory.

Needs the optional extra ``dask`` (``pip install "convlab[dask]"``); ``import convlab``
never imports dask, only ``import convlab.dask`` does.

Each output chunk is computed from its input chunk plus a halo: for one convolution the
cells its windows reach past the chunk, for a network the cells its receptive field
reaches (:mod:`convlab.network.receptive_field`). The graphs are dask's own, so any dask
scheduler runs them: threads, processes, or a ``distributed`` cluster.
"""

from __future__ import annotations

from .conv import conv2d
from .model import apply

__all__ = ["apply", "conv2d"]
