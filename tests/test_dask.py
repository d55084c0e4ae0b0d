"""convlab.dask: tiled convolution on dask arrays equals the in-memory engine, whatever the chunking."""

from __future__ import annotations

import itertools
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

da = pytest.importorskip("dask.array", reason="convlab.dask needs the optional extra: pip install -e '.[dask]'")

import convlab.functional as F  # noqa: E402
from convlab.dask import conv2d  # noqa: E402
from convlab.errors import ArgumentError, ArgumentTypeError, ShapeError  # noqa: E402
from tests.conftest import environment_for_the_convlab_under_test  # noqa: E402
from tests.oracle import check, count, magnitude  # noqa: E402
from tests.strategies import conv_configs  # noqa: E402


def chunking(draw: Any, length: int) -> tuple[int, ...]:
    """Chunk sizes summing to ``length``: one chunk, or up to four of uneven sizes (ones included)."""
    if length <= 1:
        return (length,)
    cuts = draw(st.lists(st.integers(1, length - 1), max_size=3, unique=True))
    bounds = [0, *sorted(cuts), length]
    return tuple(b - a for a, b in itertools.pairwise(bounds))


def scale_of(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, kwargs: dict[str, Any]) -> np.ndarray:
    """conv2d(|x|, |w|) + |b|: the size of what each output summed."""
    return F.conv2d(magnitude(x), magnitude(w), magnitude(b), **kwargs, algorithm="im2col")


@st.composite
def chunked_configs(draw: Any, max_size_extra: int = 12) -> tuple[Any, tuple[tuple[int, ...], ...]]:
    cfg = draw(conv_configs(max_size_extra=max_size_extra))
    shape = cfg.input_shape
    return cfg, tuple(chunking(draw, n) for n in shape)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=100)
@given(drawn=chunked_configs())
def test_tiled_conv2d_equals_in_memory(dtype: Any, drawn: Any) -> None:
    cfg, chunks = drawn
    count(f"dask.conv2d {np.dtype(dtype)} vs in-memory")
    x, w, b = cfg.arrays(dtype)
    lazy = conv2d(da.from_array(x, chunks=chunks), w, b, **cfg.kwargs(), algorithm="im2col")
    tiled = lazy.compute(scheduler="sync")
    whole = F.conv2d(x, w, b, **cfg.kwargs(), algorithm="im2col")
    assert lazy.shape == whole.shape
    check("dask.conv2d", tiled, whole, scale_of(x, w, b, cfg.kwargs()), inputs=(x, w), algorithm="direct")


@settings(max_examples=40)
@given(chunked_configs(max_size_extra=20))
def test_tiles_may_choose_another_algorithm_within_the_transform_tolerance(drawn: Any) -> None:
    """With algorithm="auto" a tile may take FFT or Winograd where the whole image took im2col (or back)."""
    cfg, chunks = drawn
    count("dask.conv2d auto float64")
    x, w, b = cfg.arrays(np.float64)
    tiled = conv2d(da.from_array(x, chunks=chunks), w, b, **cfg.kwargs()).compute(scheduler="sync")
    whole = F.conv2d(x, w, b, **cfg.kwargs())
    check("dask.conv2d auto", tiled, whole, scale_of(x, w, b, cfg.kwargs()), inputs=(x, w), algorithm="fft")


def test_output_chunks_follow_the_input_chunks() -> None:
    x = da.zeros((2, 3, 16, 12), chunks=(1, 2, 8, (4, 4, 4)))
    out = conv2d(x, np.ones((5, 3, 3, 3)), stride=2, padding=1)
    assert out.chunks == ((1, 1), (5,), (4, 4), (2, 2, 2))


def test_chunks_smaller_than_the_halo_are_merged_with_their_neighbours() -> None:
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 1, 20, 20)), rng.standard_normal((1, 1, 7, 7))
    lazy = conv2d(da.from_array(x, chunks=(1, 1, (1, 2, 10, 2, 5), 20)), w, padding=3, padding_mode="reflect")
    assert lazy.chunks[2] == (13, 7)  # 1 + 2 + 10 reach the halo of 6, then 2 + 5
    check(
        "merged",
        lazy.compute(),
        F.conv2d(x, w, padding=3, padding_mode="reflect"),
        scale_of(x, w, None, {"padding": 3}),
        inputs=(x, w),
    )


def test_circular_padding_reads_the_far_edge() -> None:
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    w = np.zeros((1, 1, 3, 3))
    w[0, 0, 0, 1] = 1.0  # each output is the cell above it: the first row wraps to the last
    tiled = conv2d(da.from_array(x, chunks=(1, 1, 2, 3)), w, padding=1, padding_mode="circular").compute()
    np.testing.assert_array_equal(tiled[0, 0, 0], x[0, 0, 5])
    np.testing.assert_array_equal(tiled[0, 0, 1:], x[0, 0, :5])


def test_unbatched_input_comes_back_unbatched() -> None:
    x = np.random.default_rng(0).standard_normal((2, 9, 9))
    w = np.ones((4, 2, 2, 2))
    tiled = conv2d(da.from_array(x, chunks=(2, 4, 5)), w, stride=2).compute()
    np.testing.assert_allclose(tiled, F.conv2d(x, w, stride=2), rtol=0, atol=1e-12)


def test_int_input_is_computed_in_float32_as_in_memory() -> None:
    x = da.from_array(np.arange(16, dtype=np.int64).reshape(1, 1, 4, 4), chunks=2)
    out = conv2d(x, [[[[1, 0], [0, -1]]]])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(
        out.compute(), F.conv2d(np.arange(16).reshape(1, 1, 4, 4), [[[[1, 0], [0, -1]]]])
    )


def test_a_numpy_input_is_refused_with_the_line_that_wraps_it() -> None:
    with pytest.raises(ArgumentTypeError, match="must be a dask array") as caught:
        conv2d(np.zeros((1, 1, 4, 4)), np.ones((1, 1, 3, 3)))
    assert "dask.array.from_array(input" in (caught.value.fix or "")


def test_bad_settings_get_the_engines_own_errors() -> None:
    x = da.zeros((1, 3, 8, 8), chunks=4)
    with pytest.raises(ShapeError) as ours:
        conv2d(x, np.ones((4, 2, 3, 3)))
    with pytest.raises(ShapeError) as engines:
        F.conv2d(np.zeros((1, 3, 8, 8)), np.ones((4, 2, 3, 3)))
    assert ours.value.fix == engines.value.fix
    with pytest.raises(ArgumentError, match=r"reflect.*padding 8"):
        conv2d(x, np.ones((1, 3, 3, 3)), padding=8, padding_mode="reflect")
    with pytest.raises(ArgumentError, match="stride"):
        conv2d(x, np.ones((1, 3, 3, 3)), stride=0)


def test_unknown_chunk_sizes_are_refused_with_the_fix() -> None:
    x = da.zeros((1, 1, 8, 8), chunks=4)
    unknown = x.map_blocks(lambda block: block, chunks=((np.nan,), (1,), (np.nan, np.nan), (4, 4)))
    with pytest.raises(ShapeError, match="unknown chunk sizes") as caught:
        conv2d(unknown, np.ones((1, 1, 3, 3)))
    assert "compute_chunk_sizes" in (caught.value.fix or "")


def test_import_convlab_does_not_import_dask() -> None:
    code = "import sys, convlab, convlab.functional, convlab.nn; print('dask' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment_for_the_convlab_under_test()
    )
    assert done.stdout.strip() == "False", done.stderr


def two_worker_processes(memory_limit: str) -> Any:
    """A ``distributed.LocalCluster`` of two single-threaded worker processes with ``memory_limit`` each.

    Its dashboard takes any free port (8787 may belong to another cluster); its logs stay quiet.
    """
    import logging

    distributed = pytest.importorskip("distributed")
    return distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=":0",
        silence_logs=logging.CRITICAL,
    )


def test_a_local_cluster_of_two_worker_processes_gives_the_in_memory_result() -> None:
    """The real engine: two worker processes with a memory limit each, dask's own scheduler."""
    distributed = pytest.importorskip("distributed")
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((1, 2, 200, 160)), rng.standard_normal((4, 2, 5, 5)), rng.standard_normal(4)
    settings_ = {"stride": 2, "padding": 3, "dilation": 2, "padding_mode": "reflect"}
    with two_worker_processes("1GiB") as cluster, distributed.Client(cluster) as client:
        lazy = conv2d(da.from_array(x, chunks=(1, 1, (60, 140), 80)), w, b, **settings_, algorithm="im2col")
        tiled = client.compute(lazy).result()
    whole = F.conv2d(x, w, b, **settings_, algorithm="im2col")
    check("dask.conv2d on a LocalCluster", tiled, whole, scale_of(x, w, b, settings_), inputs=(x, w))


def _tasks_done(dask_scheduler: Any) -> int:
    return sum(task.state == "memory" for task in dask_scheduler.tasks.values())


@pytest.mark.slow
def test_a_worker_killed_mid_run_still_gives_the_exact_result() -> None:
    """The cluster runs the dead worker's tasks again; every task is pure, so the result does not change."""
    import os
    import signal
    import time

    distributed = pytest.importorskip("distributed")
    image = da.random.default_rng(11).standard_normal((4, 1, 256, 256), chunks=(1, 1, 32, 32))  # made by tasks
    x, w = image.compute(), np.random.default_rng(11).standard_normal((2, 1, 7, 7))
    with two_worker_processes("1GiB") as cluster, distributed.Client(cluster) as client:
        lazy = conv2d(image, w, padding=3, algorithm="im2col")
        future = client.compute(lazy)
        deadline = time.monotonic() + 120
        while client.run_on_scheduler(_tasks_done) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not future.done(), "the run ended before a worker could be killed: make it longer"
        victim = next(iter(client.scheduler_info()["workers"]))
        os.kill(client.run(os.getpid, workers=[victim])[victim], signal.SIGKILL)
        tiled = future.result()
    check(
        "killed worker",
        tiled,
        F.conv2d(x, w, padding=3, algorithm="im2col"),
        scale_of(x, w, None, {"padding": 3}),
        inputs=(x, w),
    )
