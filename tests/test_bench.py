"""The benchmark suite's machinery on one tiny layer: workers, JSON, tables, docs section. No timing asserts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import convlab
import convlab.functional as F
from convlab.bench import naive, runner, worker
from convlab.bench.cases import CASES, Case
from convlab.bench.peers import prepare
from convlab.bench.report import MARKERS, markdown, write_docs
from convlab.bench.training import TRAINING_CASES, TrainingCase, measure_training, prepare_training
from convlab.cli import main

TINY = Case("tiny 3x3 2->3 8x8", (1, 2, 8, 8), (3, 2, 3, 3), padding=1)
ONE_CALL = runner.Settings(
    rounds=1,
    repeat=1,
    warmup=0,
    least=1,
    budget=0.0,
    peers=("convlab", "torch"),
    overhead_calls=200,
    overhead_blocks=1,
    threads=2,
)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Path]]:
    """The suite run once on TINY, one timed call per worker, saved to a temporary folder."""
    pytest.importorskip("torch")
    result = runner.run_suite(ONE_CALL, [TINY], command="pytest", say=lambda line: None)
    return result, runner.save(result, tmp_path_factory.mktemp("bench"))


def test_the_json_has_ratio_gflops_and_memory(saved: tuple[dict[str, Any], dict[str, Path]]) -> None:
    result, paths = saved
    loaded = json.loads(paths["json"].read_text())
    assert loaded == json.loads(json.dumps(result))
    assert {"machine", "settings", "rows", "overhead", "command", "worker_env"} <= loaded.keys()
    assert loaded["worker_env"]["OMP_NUM_THREADS"] == "2"
    assert not any(name.startswith("MALLOC") for name in loaded["worker_env"])  # plain processes
    for when in ("first", "cached"):
        assert set(loaded["kernels"][when]["seconds"]) == {"winograd", "im2col"}
    assert [(row["case"], row["op"]) for row in loaded["rows"]] == [
        (TINY.name, "forward"),
        (TINY.name, "backward"),
    ]
    for row in loaded["rows"]:
        assert row["flops"] == TINY.flops(row["op"])
        assert set(row["peers"]) == {"convlab", "torch"}
        for peer, numbers in row["peers"].items():
            assert "error" not in numbers, numbers
            assert numbers["seconds"] > 0
            assert numbers["gflops"] > 0
            assert numbers["timed_calls"] == 1
            assert numbers["rss_extra_bytes"] >= 0
            assert numbers["rss_call_bytes"] >= 0
            assert (numbers["traced_peak_bytes"] is None) == (peer == "torch")
            assert numbers["speedup"] == pytest.approx(numbers["one_thread_s"] / numbers["seconds"])
        assert row["ratio"] == pytest.approx(row["peers"]["convlab"]["seconds"] / row["peers"]["torch"]["seconds"])
        memory = [row["peers"][peer]["rss_call_bytes"] for peer in ("convlab", "torch")]
        assert row["memory_ratio"] == (pytest.approx(memory[0] / memory[1]) if memory[1] else None)
    overhead = loaded["overhead"]
    for peer in ("convlab", "torch"):
        assert overhead[peer]["us_per_call"] > 0
        assert overhead[peer]["layer_us_per_call"] > 0
    assert overhead["ratio"] == pytest.approx(
        overhead["convlab"]["us_per_call"] / overhead["torch"]["us_per_call"]
    )
    assert loaded["machine"]["cores"] >= 1


def test_the_tables_and_chart_are_written(saved: tuple[dict[str, Any], dict[str, Path]]) -> None:
    text = saved[1]["markdown"].read_text()
    paths = saved[1]
    assert "| layer" in text
    assert "ratio" in text
    assert "later call convlab / torch" in text  # the memory ratio per layer
    assert "ratio convlab / torch:" in text  # the per-call overhead's
    assert TINY.name in text
    assert "Reproduce: `pytest`" in text
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "chart" not in paths
    else:
        assert paths["chart"].read_bytes().startswith(b"\x89PNG")


def test_write_docs_touches_only_the_marked_section(
    saved: tuple[dict[str, Any], dict[str, Path]], tmp_path: Path
) -> None:
    doc = tmp_path / "performance.md"
    start, end = MARKERS
    doc.write_text(f"# Performance\n\nBefore.\n\n{start}\nold numbers\n{end}\n\nAfter.\n")
    write_docs(saved[0], doc, tmp_path / "performance.png")
    text = doc.read_text()
    assert text.startswith("# Performance\n\nBefore.\n\n" + start)
    assert text.endswith(end + "\n\nAfter.\n")
    assert "old numbers" not in text
    assert markdown(saved[0]).splitlines()[0] in text
    doc.write_text("no markers\n")
    with pytest.raises(ValueError, match="needs exactly one"):
        write_docs(saved[0], doc, tmp_path / "performance.png")


def test_a_failing_worker_reports_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert worker.main(["scipy", "forward", json.dumps(TINY.to_json()), "--repeat=1"]) == 0
    assert "error" in json.loads(capsys.readouterr().out)


def test_cases_know_their_flops() -> None:
    stem = CASES[0]
    assert stem.output_size == (112, 112)
    assert stem.forward_flops == 2 * 8 * 64 * 112 * 112 * 3 * 7 * 7
    assert stem.flops("backward") == 2 * stem.flops("forward")
    assert Case.from_json(json.loads(json.dumps(stem.to_json()))) == stem
    assert {case.name for case in CASES if "scipy" in case.peers()} == {case.name for case in CASES if case.scipy}


@pytest.mark.parametrize(
    "hyper", [(1, 1, 1, 1), (2, 0, 1, 2), (1, 2, 2, 1), (2, 1, 1, 4)], ids=["plain", "s2g2", "d2", "depthwise"]
)
def test_the_naive_peer_computes_what_convlab_computes(hyper: tuple[int, int, int, int]) -> None:
    groups = hyper[3]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 9, 9), dtype=np.float32)
    w = rng.standard_normal((4, 4 // groups, 3, 3), dtype=np.float32)
    out = naive.conv2d(x, w, *hyper)
    g = rng.standard_normal(out.shape, dtype=np.float32)
    np.testing.assert_allclose(out, F.conv2d(x, w, None, *hyper), atol=1e-4)
    np.testing.assert_allclose(
        naive.conv2d_input_grad(x.shape, w, g, *hyper), F.conv2d_input_grad(x.shape, w, g, *hyper), atol=1e-4
    )
    np.testing.assert_allclose(
        naive.conv2d_weight_grad(x, w.shape, g, *hyper), F.conv2d_weight_grad(x, w.shape, g, *hyper), atol=1e-4
    )


def test_the_scipy_peer_computes_what_convlab_computes() -> None:
    pytest.importorskip("scipy")
    image = Case("small image", (1, 1, 20, 17), (1, 1, 5, 5), padding=2, scipy=True)
    x, w, g = worker.inputs(image)
    forward = prepare("scipy", image, "forward", x, w, g).call()
    input_grad, weight_grad = prepare("scipy", image, "backward", x, w, g).call()
    np.testing.assert_allclose(forward, F.conv2d(x, w, padding=2)[0, 0], atol=1e-4)
    np.testing.assert_allclose(input_grad, F.conv2d_input_grad(x.shape, w, g, padding=2)[0, 0], atol=1e-4)
    np.testing.assert_allclose(weight_grad, F.conv2d_weight_grad(x, w.shape, g, padding=2)[0, 0], atol=1e-3)


def test_bench_command_refuses_a_filter_that_matches_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--only", "no such layer"]) == 2
    assert "matches no case" in capsys.readouterr().err


@pytest.mark.parametrize(
    "case",
    [
        TrainingCase("tiny block", "block", (4, 8, 6, 6), 0),
        TrainingCase("tiny digits", "digits_cnn", (4, 1, 8, 8), 0),
    ],
    ids=["block", "digits"],
)
def test_a_training_step_is_the_same_step_in_both_libraries(case: TrainingCase) -> None:
    pytest.importorskip("torch")
    ours, theirs = prepare_training("convlab", case), prepare_training("torch", case)
    for _ in range(3):  # the same model, batch and optimizer: the losses agree step after step
        np.testing.assert_allclose(float(ours()), float(theirs()), rtol=1e-5)  # type: ignore[arg-type]


def test_a_training_worker_reports_its_step() -> None:
    case = TrainingCase("tiny digits", "digits_cnn", (4, 1, 8, 8), 100)
    assert TrainingCase.from_json(json.loads(json.dumps(case.to_json()))) == case
    result = measure_training("convlab", case, repeat=2, warmup=0)
    assert result["n"] == 2
    assert result["op"] == "train step"
    # the runner reads a training worker's report as it reads a layer worker's (memory per step included)
    row = runner._aggregate(case, "train step", [result])
    assert row["rss_call_bytes"] >= 0
    assert row["seconds"] > 0
    assert {c.name for c in TRAINING_CASES} == {"train resnet block 3x3 64->64 32x32", "train digits_cnn 1x8x8"}


def _benchmark_script(name: str) -> Any:
    """A script of benchmarks/ (not a package) loaded as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "benchmarks" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_many_core_check_judges_each_target_by_its_geometric_mean() -> None:
    """benchmarks/cores.py: the 3x3 layers' ratios 1.2 and 2.0 have geomean 1.55 (over 1.5), depthwise's 1.0."""
    cores = _benchmark_script("cores")
    rows = [
        {"case": "resnet18 3x3 64->64 56x56", "op": "forward", "ratio": 1.2},
        {"case": "resnet18 3x3 64->64 56x56", "op": "backward", "ratio": 2.0},
        {"case": "resnet18 conv1 7x7/2 3->64 224x224", "op": "forward", "ratio": 9.0},  # no target of its own
        {"case": "depthwise 3x3 32ch 112x112", "op": "forward", "ratio": 1.0},
        {"case": "depthwise 3x3 32ch 112x112", "op": "backward", "ratio": None},  # failed: left out
    ]
    lines = cores.verdicts({"rows": rows})
    assert lines[0].startswith("resnet18 3x3: geomean 1.55 (target <= 1.5): NOT met")
    assert lines[1].startswith("depthwise: geomean 1.00 (target <= 2.0): met")


def test_the_serial_part_counts_time_outside_parallel_regions_once() -> None:
    """benchmarks/serial_part.py: a region inside another counts once, time between regions not at all, and the
    parallel helpers are themselves again after the block."""
    import time

    from convlab.functional.algorithms import parallel

    serial_part = _benchmark_script("serial_part")
    slept: list[float] = []

    def nap(seconds: float) -> None:
        start = time.perf_counter()
        time.sleep(seconds)
        slept.append(time.perf_counter() - start)

    run, threads = parallel.run, convlab.get_num_threads()
    convlab.set_num_threads(1)  # as the script measures: every region on the calling thread
    try:
        with serial_part._timing_parallel_regions() as clock:
            start = time.perf_counter()
            parallel.run(lambda _: parallel.run(nap, [0.1]), [None])  # nested: inside once
            time.sleep(0.05)  # outside
            elapsed = time.perf_counter() - start
    finally:
        convlab.set_num_threads(threads)
    assert slept[0] <= clock.inside < 2 * slept[0]
    assert elapsed - clock.inside >= 0.05
    assert parallel.run is run


def test_a_3x3_layer_runs_mostly_inside_parallel_regions() -> None:
    """The serial part of a compiled Winograd call is small: its kernels and products are found and timed."""
    serial_part = _benchmark_script("serial_part")
    case = Case("test 3x3", (2, 32, 40, 40), (32, 32, 3, 3), padding=1)
    total, serial = serial_part.measure(case, "forward", calls=3)
    assert 0 <= serial < 0.5 * total
    assert serial_part.amdahl(serial / total, 1) == pytest.approx(1.0)
