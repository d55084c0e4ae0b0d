"""convlab.dask against dask_image.ndfilters.convolve on the same image and kernel, and a network at scale.

Usage: python benchmarks/dask_scale.py [--size 8192] [--chunk 2048] [--kernel 15] [--workers 2]
                                      [--memory-limit 1.5GB] [--rounds 3] [--folder DIR]
                                      [--rows N] [--network-only] [--estimate]

1. The image, float32 (1, 1, size, size), is written to DIR/image.zarr once (chunk x chunk).
2. Side by side on one LocalCluster (processes, --workers workers, --memory-limit each), A B A B
   over --rounds: convlab.dask.conv2d (padding k//2, reflect) and dask_image.ndfilters.convolve
   (mode "mirror", the same padding, with the kernel flipped: scipy convolves, convlab correlates),
   each reading the zarr and reducing its output to one number so nothing but the convolution is
   timed. The two outputs are compared on sampled tiles.
3. A 3-layer network of 8 channels (conv k x k 8, relu, conv3x3 8, relu, conv3x3 1) through
   convlab.dask.apply into DIR/out.zarr; tiles sampled from the output are compared with the
   in-memory model on those tiles' input regions, and each worker's peak memory is printed
   against its limit.

The issue's scale run is --size 32768 (a 4 GiB image); CI runs --size 8192. --rows N runs steps 2
and 3 on the image's first N rows only (a band of the image on disk, its own edges padded as an
image's), where the whole image would take too long on the machine at hand; --network-only skips step 2.
--estimate runs nothing on a cluster: it times one chunk of each step in this process, on one thread
as each worker runs, and prints the whole run's computing time (a lower bound) and the disk it needs.

The whole scale run, in one command (about 8 GiB of disk under DIR; --estimate first says how long):

    python benchmarks/dask_scale.py --size 32768 --rounds 1 --folder DIR
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

try:
    import convlab
except ImportError:  # a checkout that is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import convlab.dask
from convlab import nn


def _peak_bytes() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _write_image(path: Path, size: int, chunk: int) -> None:
    import dask.array as da

    if path.exists():
        return
    image = da.random.default_rng(0).standard_normal(
        (1, 1, size, size), dtype=np.float32, chunks=(1, 1, chunk, chunk)
    )
    image.to_zarr(str(path))


def _network(k: int) -> Any:
    """The 3-layer network of 8 channels: k x k to 8 channels, ReLU, 3x3, ReLU, 3x3 back to 1."""
    return nn.Sequential(
        nn.Conv2d(1, 8, k, padding=k // 2, seed=0),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1, seed=1),
        nn.ReLU(),
        nn.Conv2d(8, 1, 3, padding=1, seed=2),
    ).eval()


def _warm_up(weight: np.ndarray, kernel: np.ndarray, chunk: int) -> None:
    """Each library once on a chunk-sized image in this worker, so their first-call costs are not timed."""
    import scipy.ndimage

    image = np.zeros((1, 1, chunk, chunk), dtype=np.float32)
    convlab.functional.conv2d(image, weight, padding=kernel.shape[0] // 2, padding_mode="reflect")
    scipy.ndimage.convolve(image[0, 0], kernel, mode="mirror")


def _cpu_seconds() -> float:
    """This process's CPU time (user and system): what a run costs whatever else loads the machine."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return float(usage.ru_utime + usage.ru_stime)


def _timed(client: Any, lazy: Any, cpu: list[float]) -> float:
    """The wall time of computing ``lazy`` on the cluster; the workers' CPU time, all added, goes to ``cpu``."""
    before = client.run(_cpu_seconds)
    started = time.perf_counter()
    client.compute(lazy.sum()).result()
    seconds = time.perf_counter() - started
    cpu.append(sum(after - before.get(name, 0.0) for name, after in client.run(_cpu_seconds).items()))
    return seconds


def _sampled_tiles(shape: tuple[int, int], tile: int, count: int, seed: int = 1) -> list[tuple[int, int]]:
    """Top-left corners of ``count`` tiles in an image of ``shape``: the first and last corner, then drawn."""
    rng = np.random.default_rng(seed)
    tops = [0, shape[0] - tile, *rng.integers(0, shape[0] - tile + 1, count - 2)]
    lefts = [0, shape[1] - tile, *rng.integers(0, shape[1] - tile + 1, count - 2)]
    return [(int(a), int(b)) for a, b in zip(tops, lefts)]


def _side_by_side(client: Any, x: Any, weight: np.ndarray, kernel: np.ndarray, args: Any, rows: int) -> None:
    """convlab.dask.conv2d and dask_image's convolve timed A B A B, and compared on sampled tiles."""
    from dask_image.ndfilters import convolve

    k, pad = args.kernel, args.kernel // 2
    ours = convlab.dask.conv2d(x, weight, padding=pad, padding_mode="reflect")
    theirs = convolve(x[0, 0], kernel[::-1, ::-1].copy(), mode="mirror")
    # one chunk of each first: imports and compiled kernels load in every worker outside the timing
    client.run(_warm_up, weight, kernel, args.chunk)
    times: dict[str, list[float]] = {"convlab.dask.conv2d": [], "dask_image convolve": []}
    cpu: dict[str, list[float]] = {name: [] for name in times}
    for _ in range(args.rounds):
        times["convlab.dask.conv2d"].append(_timed(client, ours, cpu["convlab.dask.conv2d"]))
        times["dask_image convolve"].append(_timed(client, theirs, cpu["dask_image convolve"]))
    print(f"{rows} x {args.size} float32, {k}x{k} kernel, chunks {args.chunk}, {args.workers} workers:")
    for name, seconds in times.items():
        rate = rows * args.size / min(seconds) / 1e6
        every = [round(s, 2) for s in seconds]
        print(
            f"  {name:22s} best {min(seconds):7.2f} s  ({rate:6.1f} Mpixel/s)  all {every}; "
            f"workers' CPU time, least {min(cpu[name]):.1f} s"
        )
    ratio = min(times["convlab.dask.conv2d"]) / min(times["dask_image convolve"])
    print(f"  convlab / dask_image time: {ratio:.2f}")
    worst = 0.0
    for top, left in _sampled_tiles((rows, args.size), min(512, rows), 4):
        window = (slice(None), slice(None), slice(top, top + 512), slice(left, left + 512))
        # computed here, not on the cluster: one run through the client failed with a KeyError for a zarr task
        a, b = ours[window].compute(scheduler="threads"), theirs[window[2:]].compute(scheduler="threads")
        worst = max(worst, float(np.abs(a[0, 0] - b).max()))
    print(f"  largest difference on sampled tiles: {worst:.3g}")


def _best_of(function: Any, repeats: int = 3) -> float:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    return min(seconds)


def _estimate(args: Any, model: Any, weight: np.ndarray, kernel: np.ndarray) -> None:
    """The whole run's time on an idle machine from one chunk of each step timed here on one thread; its disk."""
    import scipy.ndimage

    from convlab.dask.forward import forward

    convlab.functional.algorithms.threads.set_num_threads(1)
    rows = min(args.size, args.rows or args.size)
    chunk, halo = args.chunk, args.kernel + 4
    image = np.random.default_rng(0).standard_normal((1, 1, chunk + 2 * halo, chunk + 2 * halo)).astype(np.float32)
    inner = image[
        :,
        :,
        halo - args.kernel // 2 : -halo + args.kernel // 2,
        halo - args.kernel // 2 : -halo + args.kernel // 2,
    ]
    forward(model, image)  # compiled loops and each worker's algorithm choices, outside the timing
    steps = {
        "convlab.dask.conv2d": _best_of(lambda: convlab.functional.conv2d(inner, weight)),
        "dask_image convolve": _best_of(lambda: scipy.ndimage.convolve(inner[0, 0], kernel, mode="mirror")),
        "network through apply": _best_of(lambda: forward(model, image)),
    }
    tiles = -(-rows // chunk) * -(-args.size // chunk)
    per_worker = tiles / args.workers
    total = 0.0
    print(f"estimate for {rows} x {args.size} float32 in {tiles} chunks of {chunk}, {args.workers} workers:")
    for name, seconds in steps.items():
        rounds = 1 if name.startswith("network") else args.rounds
        whole = seconds * per_worker * rounds
        total += whole
        print(f"  {name:22s} {seconds:6.2f} s a chunk on one thread -> {whole / 60:6.1f} min ({rounds} round(s))")
    print(
        f"  total {total / 60:.1f} min of computing alone, a lower bound: reading, moving and writing the chunks "
        "come on top (a --rows run prints the workers' CPU time, from which the whole run scales)"
    )
    pixels = rows * args.size
    print(
        f"  disk: {pixels * 4 / 2**30:.1f} GiB for image.zarr (random values barely compress) and "
        f"{pixels * 4 / 2**30:.1f} GiB for out.zarr under {args.folder or 'a temporary folder'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--chunk", type=int, default=2048)
    parser.add_argument("--kernel", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="1.5GB")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--rows", type=int, default=None, help="run on the image's first N rows only")
    parser.add_argument("--network-only", action="store_true", help="skip the side by side with dask_image")
    parser.add_argument("--estimate", action="store_true", help="time one chunk of each step here; run nothing")
    args = parser.parse_args()
    k = args.kernel
    kernel = np.random.default_rng(2).standard_normal((k, k)).astype(np.float32) / k
    model = _network(k)
    if args.estimate:
        _estimate(args, model, kernel[None, None], kernel)
        return 0

    import dask.array as da
    import distributed

    folder = args.folder or Path(tempfile.mkdtemp(prefix="convlab-dask-"))
    folder.mkdir(parents=True, exist_ok=True)
    image_path = folder / "image.zarr"
    _write_image(image_path, args.size, args.chunk)
    weight = kernel[None, None]
    with (
        distributed.LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=args.memory_limit,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        cores = convlab.functional.algorithms.threads.usable_cores()
        client.run(convlab.functional.algorithms.threads.set_num_threads, max(1, cores // args.workers))
        x = da.from_zarr(str(image_path))
        rows = min(args.size, args.rows or args.size)
        x = x[:, :, :rows]
        if not args.network_only:
            _side_by_side(client, x, weight, kernel, args, rows)
        out_path = folder / "out.zarr"
        shutil.rmtree(out_path, ignore_errors=True)
        pids = client.run(os.getpid)
        cpu = client.run(_cpu_seconds)
        started = time.perf_counter()
        client.compute(convlab.dask.apply(model, x).to_zarr(str(out_path), compute=False)).result()
        seconds = time.perf_counter() - started
        busy = [after - cpu.get(name, 0.0) for name, after in client.run(_cpu_seconds).items()]
        macs = rows * args.size * (8 * k * k + 8 * 8 * 9 + 8 * 9)
        print(
            f"3-layer network of 8 channels into {out_path}: {seconds:.1f} s ({macs / seconds / 1e9:.2f} GMAC/s)"
        )
        print(
            f"  CPU time per worker {', '.join(f'{b:.1f} s' for b in busy)}: "
            f"{macs / sum(busy) / 1e9:.2f} GMAC per CPU-second (idle, the wall time is about the largest)"
        )
        limits = {name: w["memory_limit"] for name, w in client.scheduler_info()["workers"].items()}
        for name, peak in client.run(_peak_bytes).items():
            print(f"  peak memory {name}: {peak / 1e9:.2f} GB (limit {limits[name] / 1e9:.2f} GB)")
        restarted = sorted(set(pids.items()) ^ set(client.run(os.getpid).items()))
        print(f"  workers restarted during the run (a worker over its limit is): {len(restarted) // 2}")
    written = da.from_zarr(str(out_path))
    halo = k + 4
    worst = 0.0
    for top, left in _sampled_tiles((rows, args.size), 256, 4, seed=3):
        r0, c0 = max(0, top - halo), max(0, left - halo)
        region = np.asarray(x[:, :, r0 : top + 256 + halo, c0 : left + 256 + halo].compute())
        expected = model(region)[:, :, top - r0 : top - r0 + 256, left - c0 : left - c0 + 256]
        got = np.asarray(written[:, :, top : top + 256, left : left + 256].compute())
        # the crop reaches k + 4 cells past the tile, more than any output sees (k // 2 + 2 each side),
        # so its own padding never reaches the tile: the whole tile compares
        worst = max(worst, float(np.abs(got - expected).max()))
    print(f"  largest difference on sampled tiles against the model in memory: {worst:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
