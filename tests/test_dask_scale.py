"""The scale benchmark's path at 8,192 x 8,192: a zarr image on disk, two worker processes with a memory limit.

benchmarks/dask_scale.py runs the same at 32,768 x 32,768 (4 GiB) and times it; here nothing is
timed: the outputs written to zarr are compared, on sampled tiles, with the in-memory computation
of those tiles, and each worker's peak memory with its limit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="convlab.dask needs the optional extra: pip install -e '.[dask]'")
distributed = pytest.importorskip("distributed")
pytest.importorskip("zarr")

import convlab.functional as F  # noqa: E402
from convlab import nn  # noqa: E402
from convlab.dask import apply, conv2d  # noqa: E402
from convlab.functional.algorithms.threads import set_num_threads, usable_cores  # noqa: E402
from tests.oracle import check  # noqa: E402
from tests.test_dask import two_worker_processes  # noqa: E402
from tests.test_dask_apply import ANY_ALGORITHM, magnitude_model  # noqa: E402

SIZE, CHUNK, KERNEL, TILE = 8192, 2048, 15, 256
# The in-memory crops read this far around each sampled tile: more than any output here sees (15 + 2 + 2
# cells), so the crop's own padding never reaches the tile, whatever the receptive-field arithmetic says.
MARGIN = 32


def three_layer_network() -> nn.Sequential:
    """The benchmark's network: a 15x15 convolution to 8 channels, a 3x3 one, and a 3x3 one back to 1."""
    return nn.Sequential(
        nn.Conv2d(1, 8, KERNEL, padding=KERNEL // 2, seed=0),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1, seed=1),
        nn.ReLU(),
        nn.Conv2d(8, 1, 3, padding=1, seed=2),
    ).eval()


def sampled_corners() -> list[tuple[int, int]]:
    """Tiles' top-left corners: the image's corners, tiles across chunk borders, and drawn ones."""
    border = CHUNK - TILE // 2
    drawn = np.random.default_rng(5).integers(0, SIZE - TILE, (3, 2))
    return [(0, 0), (SIZE - TILE, SIZE - TILE), (border, 2 * border), (0, 3 * border), *map(tuple, drawn)]


def in_memory(function: Any, x: Any, top: int, left: int) -> tuple[np.ndarray, np.ndarray]:
    """``function`` on the tile's input plus MARGIN cells around it (clipped to the image), cut to the tile;
    and that input region."""
    r0, c0 = max(0, top - MARGIN), max(0, left - MARGIN)
    region = np.asarray(x[:, :, r0 : top + TILE + MARGIN, c0 : left + TILE + MARGIN])
    out = function(region)
    return out[:, :, top - r0 : top - r0 + TILE, left - c0 : left - c0 + TILE], region


def _peak_bytes() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # Linux reports KiB


@pytest.mark.slow
def test_an_8192_image_on_disk_through_two_limited_workers_equals_its_tiles_in_memory(tmp_path: Path) -> None:
    image_path, conv_path, net_path = (str(tmp_path / name) for name in ("image.zarr", "conv.zarr", "net.zarr"))
    da.random.default_rng(0).standard_normal(
        (1, 1, SIZE, SIZE), dtype=np.float32, chunks=(1, 1, CHUNK, CHUNK)
    ).to_zarr(image_path)
    rng = np.random.default_rng(2)
    weight = (rng.standard_normal((1, 1, KERNEL, KERNEL)) / KERNEL).astype(np.float32)
    model = three_layer_network()
    with two_worker_processes("1.5GB") as cluster, distributed.Client(cluster) as client:
        client.run(set_num_threads, max(1, usable_cores() // 2))
        started = client.run(os.getpid)
        x = da.from_zarr(image_path)
        convolved = conv2d(x, weight, padding=KERNEL // 2, padding_mode="reflect")
        client.compute(convolved.to_zarr(conv_path, compute=False)).result()
        client.compute(apply(model, x).to_zarr(net_path, compute=False)).result()
        limits = {name: worker["memory_limit"] for name, worker in client.scheduler_info()["workers"].items()}
        peaks = client.run(_peak_bytes)
        # a worker that outgrew its limit would have been restarted under another process id
        assert client.run(os.getpid) == started
    assert len(peaks) == 2
    for name, peak in peaks.items():
        assert peak < limits[name], f"{name} peaked at {peak / 1e9:.2f} GB, over its {limits[name] / 1e9:.2f} GB"

    image, conv_out, net_out = (da.from_zarr(path) for path in (image_path, conv_path, net_path))
    assert conv_out.shape == net_out.shape == image.shape
    reflect = {"padding": KERNEL // 2, "padding_mode": "reflect"}
    magnitudes = magnitude_model(model)
    for top, left in sampled_corners():
        tile = (slice(None), slice(None), slice(top, top + TILE), slice(left, left + TILE))
        expected, region = in_memory(lambda crop: F.conv2d(crop, weight, **reflect), image, top, left)
        scale, _ = in_memory(lambda crop: F.conv2d(np.abs(crop), np.abs(weight), **reflect), image, top, left)
        check("conv2d tile", np.asarray(conv_out[tile]), expected, scale, inputs=(region, weight), algorithm="fft")
        expected, region = in_memory(model, image, top, left)
        scale, _ = in_memory(lambda crop: magnitudes(np.abs(crop)), image, top, left)
        tiled = np.asarray(net_out[tile])
        check("network tile", tiled, expected, scale, inputs=(region,), algorithm=ANY_ALGORITHM)
