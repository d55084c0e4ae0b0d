"""``convlab apply``: a fully convolutional network over an image larger than memory, streamed to zarr on Dask."""

from __future__ import annotations

import argparse
from typing import Any

from .options import positive_int

SCHEDULERS = "threads, processes or tcp://ADDRESS"


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "apply",
        help="run a network over an image larger than memory, tile by tile on Dask, into a .zarr",
        description="Run the convolutional layers of MODEL over --image tile by tile (each tile reads its "
        "chunk plus the network's receptive field around it) and stream the result into --out, a zarr "
        "array written under a temporary name and renamed when complete. MODEL is a layer string or a "
        "preset (initial weights drawn from --seed, or a state saved by module.save given as --weights), "
        "or a torch model file (.pt/.pth saved with torch.save(model, path)). Needs the extra: "
        'pip install -e ".[dask]".',
        epilog="examples:\n"
        '  convlab apply "conv3x3(8,p1) relu conv3x3(8,p1) relu conv3x3(1,p1)" --image big.npy --out out.zarr\n'
        "  convlab apply net.pt --image scan.tif --out out.zarr --scheduler processes --workers 2\n"
        "  convlab apply net.pt --image scan.zarr --out out.zarr --scheduler tcp://10.0.0.5:8786",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="a layer string, a preset, or a torch model file")
    parser.add_argument(
        "--image", required=True, help="(N, C, H, W), (C, H, W) or (H, W): .npy, .zarr, .tif, .png"
    )
    parser.add_argument("--out", required=True, help="the output zarr array, e.g. out.zarr")
    parser.add_argument("--chunk", type=positive_int, default=2048, help="tile side in input pixels (2048)")
    parser.add_argument("--scheduler", default="threads", help=f"{SCHEDULERS} (threads)")
    parser.add_argument("--workers", type=positive_int, help="workers (threads: the cores; processes: 2)")
    parser.add_argument("--memory-limit", default="auto", help="per worker with processes, e.g. 1.5GB (auto)")
    parser.add_argument("--weights", metavar="FILE.npz", help="a state saved by module.save, for a layer string")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights of a layer string (0)")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")
    parser.set_defaults(run=run)


def _output_path(text: str, force: bool) -> Any:
    from pathlib import Path

    from .._files import make_folder
    from ..errors import ArgumentError

    path = Path(text)
    if path.suffix.lower() != ".zarr":
        raise ArgumentError(
            f"--out {text!r} must name a .zarr array", fix=f"--out {path.with_suffix('.zarr').name}"
        )
    if path.exists() and not force:
        raise ArgumentError(f"--out {text!r} exists already", fix="--force to replace it, or another --out")
    make_folder(path.parent if str(path.parent) else ".", "--out")
    return path


def _check_disk(out: Any, where: Any) -> None:
    """Refuse before starting when the output, uncompressed, would not fit on the disk that holds --out."""
    import shutil

    from .._memory import shown_bytes
    from ..errors import ResourceError

    free = shutil.disk_usage(where.parent.resolve()).free
    if out.nbytes > free:
        raise ResourceError(
            f"--out {str(where)!r}: the output {out.shape} {out.dtype} takes up to {shown_bytes(out.nbytes)}, "
            f"more than the {shown_bytes(free)} free on its disk",
            fix="--out on a disk with more room, or a smaller --image",
        )


def _set_threads(threads: int) -> int:
    """Run in each worker: convlab's kernels on ``threads`` threads there."""
    from ..functional.algorithms.threads import set_num_threads

    set_num_threads(threads)
    return threads


def _peak_bytes() -> int:
    """The largest resident memory this process has had, in bytes (Linux reports kilobytes)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def _cluster(args: argparse.Namespace, cores: int) -> Any:
    """A distributed client for --scheduler processes or tcp://..., with convlab's threads set in each worker."""
    import logging

    import distributed

    from ..errors import ArgumentError

    if args.scheduler == "processes":
        workers = args.workers or min(2, cores)
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=args.memory_limit,
            dashboard_address=":0",  # any free port: 8787 may belong to another cluster
            silence_logs=logging.ERROR,  # its notes on closing workers are not the user's business
        )
        client = distributed.Client(cluster)
    elif args.scheduler.startswith("tcp://"):
        try:
            client = distributed.Client(args.scheduler, timeout=10)
        except OSError as error:
            raise ArgumentError(
                f"--scheduler {args.scheduler}: no Dask scheduler answers there ({error})",
                fix="start one (dask scheduler; dask worker ADDRESS) or use --scheduler processes",
            ) from None
    else:
        raise ArgumentError(f"--scheduler {args.scheduler!r} is not {SCHEDULERS}", fix="--scheduler threads")
    info = client.scheduler_info()["workers"]
    per_host: dict[str, int] = {}
    for worker in info.values():
        per_host[worker["host"]] = per_host.get(worker["host"], 0) + worker["nthreads"]
    for address, worker in info.items():  # workers x threads on a host never exceed its cores
        client.run(_set_threads, max(1, cores // per_host[worker["host"]]), workers=[address])
    return client


def _compute(store: Any, args: argparse.Namespace, cores: int) -> dict[str, int]:
    """Write the output with a progress bar; the peak memory of each worker, by name."""
    from .._memory import shown_bytes

    if args.scheduler == "threads":
        from dask.diagnostics.progress import ProgressBar

        workers = args.workers or cores
        _set_threads(max(1, cores // workers))
        with ProgressBar(dt=1.0):
            store.compute(scheduler="threads", num_workers=workers)
        print()
        return {f"this process ({workers} threads)": _peak_bytes()}
    from distributed import progress

    client = _cluster(args, cores)
    try:
        future = client.compute(store)
        progress(future)
        print()
        future.result()
        limits = {name: worker["memory_limit"] for name, worker in client.scheduler_info()["workers"].items()}
        return {
            f"{name} (limit {shown_bytes(limits[name]) if limits.get(name) else 'none'})": int(peak)
            for name, peak in client.run(_peak_bytes).items()
        }
    finally:
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()


def run(args: argparse.Namespace) -> int:
    import time
    import warnings

    try:
        import dask.array as da
    except ImportError:
        from ..errors import ArgumentError

        raise ArgumentError("convlab apply needs Dask", fix='pip install -e ".[dask]"') from None
    from .._files import atomic_folder
    from .._memory import shown_bytes
    from ..dask import apply
    from ..functional.algorithms.threads import usable_cores
    from .apply_images import read_image
    from .apply_model import read_model

    target = _output_path(args.out, args.force)
    image = read_image(args.image, args.chunk)
    model, note = read_model(args.model, int(image.shape[1]), args.seed, args.weights)
    print(f"model: {note}")
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        out = apply(model, image)
    for warning in said:
        print(f"note: {str(warning.message).split(' [')[0]}")
    print(f"image {image.shape} {image.dtype} in tiles of {args.chunk} -> output {out.shape} {out.dtype}")
    _check_disk(out, target)
    cores = usable_cores()
    started = time.perf_counter()
    with atomic_folder(target, replace=args.force) as temporary:
        # zarr stores chunks of one size: the tiles' output chunks (about --chunk / jump each) are evened out
        regular = out.rechunk({axis: max(out.chunks[axis]) for axis in range(out.ndim)})
        store = da.to_zarr(regular, str(temporary), compute=False)
        peaks = _compute(store, args, cores)
    print(f"wrote {target} in {time.perf_counter() - started:.1f} s")
    for name, peak in peaks.items():
        print(f"peak memory {name}: {shown_bytes(peak)}")
    return 0
