"""The engine's machinery: compiled paths against PyTorch, threads, fork, concurrent callers, workspaces,
and the Winograd weight cache never answering with a stale transform."""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import convlab
import convlab.functional as F
from convlab.errors import ArgumentError
from convlab.functional.algorithms import compiled, gemm1x1, parallel, threads, winograd, workspace
from convlab.nn import Conv2d

SRC = str(Path(convlab.__file__).parents[1])


def _run_python(code: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that imports this checkout of convlab; a hang fails at ``timeout``."""
    environment = {**os.environ, "PYTHONPATH": SRC, **env}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        check=False,
    )


@contextlib.contextmanager
def _on_threads(count: int) -> Iterator[None]:
    """convlab on ``count`` threads within the block, and back on its earlier setting after it."""
    old = convlab.get_num_threads()
    convlab.set_num_threads(count)
    try:
        yield
    finally:
        convlab.set_num_threads(old)


def _torch_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, **settings: Any) -> dict[str, np.ndarray]:
    """Output and both gradients (for an all-ones upstream gradient) from PyTorch in float64."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = None if b is None else torch.tensor(b, dtype=torch.float64)
    out = torch.nn.functional.conv2d(xt, wt, bt, **settings)
    out.backward(torch.ones_like(out))
    scale = torch.nn.functional.conv2d(xt.detach().abs(), wt.detach().abs(), None, **settings)
    return {
        "out": out.detach().numpy(),
        "input": xt.grad.numpy(),  # type: ignore[union-attr]
        "weight": wt.grad.numpy(),  # type: ignore[union-attr]
        "scale": scale.numpy(),
    }


def _assert_matches_torch(algorithm: str, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, **cfg: Any) -> None:
    """All three results of ``algorithm`` agree with PyTorch, to float64 rounding of the summed magnitudes."""
    expected = _torch_conv(x, w, b, **cfg)
    out = F.conv2d(x, w, b, algorithm=algorithm, **cfg)
    ones = np.ones_like(out)
    grad_in = F.conv2d_input_grad(x.shape, w, ones, algorithm=algorithm, **cfg)
    grad_w = F.conv2d_weight_grad(x, w.shape, ones, algorithm=algorithm, **cfg)
    tolerance = 1e-12 * (expected["scale"].max() + 1)
    np.testing.assert_allclose(out, expected["out"], rtol=0, atol=tolerance)
    np.testing.assert_allclose(grad_in, expected["input"], rtol=0, atol=1e-12 * (np.abs(w).sum() * out.size + 1))
    np.testing.assert_allclose(grad_w, expected["weight"], rtol=0, atol=1e-12 * (np.abs(x).sum() + 1))


@settings(max_examples=12, deadline=None)
@given(
    batch=st.integers(1, 3),
    channels=st.integers(1, 12),
    out_channels=st.integers(1, 12),
    height=st.integers(20, 44),
    width=st.integers(20, 44),
    kernel=st.sampled_from([(1, 1), (3, 3), (2, 5), (5, 5)]),
    stride=st.sampled_from([(1, 1), (2, 2), (1, 3)]),
    dilation=st.sampled_from([(1, 1), (2, 1)]),
    groups=st.sampled_from([1, 2]),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_compiled_im2col_matches_torch(
    batch: int,
    channels: int,
    out_channels: int,
    height: int,
    width: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    groups: int,
    bias: bool,
    seed: int,
) -> None:
    """Sizes above the compiled threshold (packing and col2im compiled), every setting the loops handle."""
    rng = np.random.default_rng(seed)
    c, o = channels * groups, out_channels * groups
    x = rng.standard_normal((batch, c, height, width))
    w = rng.standard_normal((o, channels, *kernel))
    b = rng.standard_normal(o) if bias else None
    _assert_matches_torch("im2col", x, w, b, stride=stride, padding=1, dilation=dilation, groups=groups)


@settings(max_examples=8, deadline=None)
@given(
    batch=st.integers(2, 3),
    channels=st.integers(13, 24),
    out_channels=st.integers(1, 24),
    height=st.integers(36, 45),
    width=st.integers(36, 45),
    groups=st.sampled_from([1, 2]),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_compiled_winograd_matches_torch(
    batch: int, channels: int, out_channels: int, height: int, width: int, groups: int, bias: bool, seed: int
) -> None:
    """Ragged edges (sizes that are not 4k + 2) included: the gather reads zeros there, the scatter cuts."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels * groups, height, width))
    w = rng.standard_normal((out_channels * groups, channels, 3, 3))
    b = rng.standard_normal(out_channels * groups) if bias else None
    assert x.size >= winograd.COMPILED_MIN_VALUES  # the compiled kernels, not the NumPy path
    _assert_matches_torch("winograd", x, w, b, padding=1, groups=groups)


@settings(max_examples=15, deadline=None)
@given(
    batch=st.integers(1, 5),
    channels=st.integers(1, 6),
    out_channels=st.integers(1, 6),
    size=st.tuples(st.integers(1, 13), st.integers(1, 13)),
    stride=st.sampled_from([(2, 2), (1, 2), (3, 1), (2, 3)]),
    padding=st.sampled_from([0, 1, (2, 0)]),
    groups=st.sampled_from([1, 2, 3]),
    bias=st.booleans(),
    count=st.integers(1, 3),
    workspace_bytes=st.sampled_from([None, 1, 3_000]),  # the weight gradient's runs of one, some, all images
    seed=st.integers(0, 2**16),
)
def test_strided_1x1_split_by_image_matches_torch(
    batch: int,
    channels: int,
    out_channels: int,
    size: tuple[int, int],
    stride: tuple[int, int],
    padding: Any,
    groups: int,
    bias: bool,
    count: int,
    workspace_bytes: int | None,
    seed: int,
) -> None:
    """A strided 1x1 gives each thread whole images (the bias inside the product) when the batch has enough;
    its gradients spread and gather the picked pixels in runs of planes and of images."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels * groups, *size))
    w = rng.standard_normal((out_channels * groups, channels, 1, 1))
    b = rng.standard_normal(out_channels * groups) if bias else None
    with _on_threads(count), pytest.MonkeyPatch.context() as patch:
        if workspace_bytes is not None:
            patch.setattr(gemm1x1, "WORKSPACE_BYTES", workspace_bytes)
        _assert_matches_torch("gemm1x1", x, w, b, stride=stride, padding=padding, groups=groups)
        single = [None if a is None else a.astype(np.float32) for a in (x, w, b)]
        out = F.conv2d(*single, stride=stride, padding=padding, groups=groups, algorithm="gemm1x1")
        expected = _torch_conv(x, w, b, stride=stride, padding=padding, groups=groups)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, expected["out"], rtol=0, atol=1e-5 * (expected["scale"].max() + 1))


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 3),
    channels=st.integers(1, 12),
    out_channels=st.integers(1, 12),
    size=st.tuples(st.integers(1, 23), st.integers(1, 23)),
    padding=st.sampled_from([0, 1, 2, 3, (1, 0), (0, 3)]),
    padding_mode=st.sampled_from(["zeros", "zeros", "reflect", "circular"]),
    dilation=st.sampled_from([(1, 1), (2, 2), (3, 2)]),
    groups=st.sampled_from([1, 2]),
    bias=st.booleans(),
    workspace_bytes=st.sampled_from([None, 1, 20_000, 100_000]),  # chunks of one, some, all images
    seed=st.integers(0, 2**16),
)
def test_compiled_winograd_at_any_size_matches_torch(
    batch: int,
    channels: int,
    out_channels: int,
    size: tuple[int, int],
    padding: Any,
    padding_mode: str,
    dilation: tuple[int, int],
    groups: int,
    bias: bool,
    workspace_bytes: int | None,
    seed: int,
) -> None:
    """The compiled kernels at every size (both thresholds lowered to nothing): padding read as zeros off
    the input, ragged edges, groups, dilated layers read and written phase by phase, sums over chunks of
    one, some or all images, padding modes that pad first (the padded input read in place); forward and both
    gradients for a random upstream gradient."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels * groups, *size))
    w = rng.standard_normal((out_channels * groups, channels, 3, 3))
    b = rng.standard_normal(out_channels * groups) if bias else None
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    assume(padding_mode == "zeros" or (ph < size[0] and pw < size[1]))  # the others reflect or wrap the image
    layer = {"padding": padding, "dilation": dilation, "groups": groups}
    algorithm = "winograd" if dilation == (1, 1) else "polyphase"
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    padded = xt if padding_mode == "zeros" else torch.nn.functional.pad(xt, (pw, pw, ph, ph), mode=padding_mode)
    try:
        torch_layer = {**layer, "padding": 0} if padding_mode != "zeros" else layer
        out = torch.nn.functional.conv2d(padded, wt, None if b is None else torch.tensor(b), **torch_layer)
    except RuntimeError:  # the kernel's span does not fit: nothing to compare
        return
    layer["padding_mode"] = padding_mode
    grad = rng.standard_normal(tuple(out.shape))
    out.backward(torch.tensor(grad))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(winograd, "COMPILED_MIN_VALUES", 0)
        patch.setattr(winograd, "WEIGHT_GRAD_MIN_TILES", 0)
        if workspace_bytes is not None:  # a chunk keeps all the phases of an image together
            patch.setattr(winograd, "WORKSPACE_BYTES", workspace_bytes)
        ours = F.conv2d(x, w, b, algorithm=algorithm, **layer)
        grad_in = F.conv2d_input_grad(x.shape, w, grad, algorithm=algorithm, **layer)
        grad_w = F.conv2d_weight_grad(x, w.shape, grad, algorithm=algorithm, **layer)
    scale = 1e-12 * (np.abs(x).max() + np.abs(grad).max() + 1) * (np.abs(w).sum() + np.abs(x).sum() + 1)
    np.testing.assert_allclose(ours, out.detach().numpy(), rtol=0, atol=scale)
    np.testing.assert_allclose(grad_in, xt.grad.numpy(), rtol=0, atol=scale)  # type: ignore[union-attr]
    np.testing.assert_allclose(grad_w, wt.grad.numpy(), rtol=0, atol=scale * np.abs(grad).max())  # type: ignore[union-attr]


@pytest.mark.parametrize("size", [30, 57])
def test_compiled_winograd_weight_gradient_float32_stays_within_its_bound(size: int) -> None:
    """Winograd's bound for the weight gradient too: 5e-5 of the largest sum of |x| |grad| it adds up."""
    rng = np.random.default_rng(size)
    x = rng.standard_normal((8, 32, size, size)).astype(np.float32)
    grad = rng.standard_normal((8, 24, size, size)).astype(np.float32)
    assert 8 * math.ceil(size / 4) ** 2 >= winograd.WEIGHT_GRAD_MIN_TILES  # the weight gradient in its space
    xt, gt = torch.tensor(x, dtype=torch.float64), torch.tensor(grad, dtype=torch.float64)
    expected = torch.nn.grad.conv2d_weight(xt, (24, 32, 3, 3), gt, padding=1).numpy()
    scale = torch.nn.grad.conv2d_weight(xt.abs(), (24, 32, 3, 3), gt.abs(), padding=1).numpy()
    ours = F.conv2d_weight_grad(x, (24, 32, 3, 3), grad, padding=1, algorithm="winograd")
    assert ours.dtype == np.float32
    assert np.abs(ours - expected).max() <= 5e-5 * scale.max()


@pytest.mark.parametrize("size", [30, 57])
def test_compiled_winograd_float32_stays_within_its_bound(size: int) -> None:
    rng = np.random.default_rng(size)
    x = rng.standard_normal((2, 32, size, size)).astype(np.float32)
    w = rng.standard_normal((24, 32, 3, 3)).astype(np.float32)
    expected = _torch_conv(x.astype(np.float64), w.astype(np.float64), None, padding=1)
    out = F.conv2d(x, w, padding=1, algorithm="winograd")
    assert out.dtype == np.float32
    assert np.abs(out - expected["out"]).max() <= 5e-5 * expected["scale"].max()


def test_import_and_help_do_not_load_numba_or_threadpoolctl() -> None:
    result = _run_python(
        """
        import sys, convlab
        from convlab.cli import main
        try:
            main(["--help"])
        except SystemExit:
            pass
        print(sorted(m for m in ("numba", "threadpoolctl") if m in sys.modules))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_lab_sized_calls_need_no_compiling() -> None:
    result = _run_python(
        """
        import sys
        import convlab.functional as F
        image = [[[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]]
        for algorithm in ("auto", "im2col", "winograd"):
            F.conv2d(image, [[[[1, 0, 1], [0, -1, 0], [1, 0, 1]]]], algorithm=algorithm)
        print("numba" in sys.modules)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_the_shipped_model_on_a_few_digits_needs_no_compiling() -> None:
    """What the tour and the page run: the trained digits model (conv, BatchNorm, ReLU, pooling, linear) in eval
    mode and one training step at a small batch."""
    result = _run_python(
        """
        import sys
        from convlab import data
        from convlab.data.trained import trained_digits_model
        images, labels = data.digits("test")
        model = trained_digits_model().eval()
        model(images[:8])
        model.train()
        model(images[:8])
        model.backward(model(images[:8]) * 0 + 1)
        print("numba" in sys.modules)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_small_calls_stay_on_the_calling_thread() -> None:
    """The one rule: a split must save twice its hand-off; one thread never splits, long work always does."""
    with _on_threads(2):
        assert not threads.worth_splitting(50e-6, threads.NUMBA_HAND_OFF_SECONDS * 4)  # saves 25 us, costs 32
        assert threads.worth_splitting(100e-6, threads.NUMBA_HAND_OFF_SECONDS)
        assert threads.worth_splitting(1e-3, threads.POOL_HAND_OFF_SECONDS)
        convlab.set_num_threads(1)
        assert not threads.worth_splitting(10.0, threads.POOL_HAND_OFF_SECONDS)


@settings(max_examples=30, deadline=None)
@given(
    stack=st.integers(1, 40),
    rows=st.integers(1, 64),
    inner=st.integers(1, 600),
    columns=st.integers(1, 160),
    count=st.integers(1, 16),
    shared_a=st.sampled_from(["no", "2-d", "stack of 1"]),
    flat=st.booleans(),
)
@example(stack=36, rows=64, inner=600, columns=20, count=2, shared_a="no", flat=False)  # few columns: the stack
@example(stack=2, rows=64, inner=600, columns=160, count=2, shared_a="no", flat=False)  # many columns: them
@example(stack=36, rows=64, inner=600, columns=64, count=16, shared_a="no", flat=False)  # columns and stack
@example(stack=1, rows=64, inner=2000, columns=40, count=16, shared_a="no", flat=True)  # rows of one product
@example(stack=8, rows=64, inner=600, columns=40, count=12, shared_a="2-d", flat=False)  # one a for the stack
@example(stack=8, rows=64, inner=600, columns=40, count=12, shared_a="stack of 1", flat=False)
def test_the_split_matmul_equals_numpys(
    stack: int, rows: int, inner: int, columns: int, count: int, shared_a: str, flat: bool
) -> None:
    """Split by columns when there are many, then by the stack of products (Winograd's 36 on a 7x7 image), then
    by rows: every block writes only its own part of ``out``, and all of it, as one product would; also with
    one ``a`` for the whole stack (im2col's weights) and for a plain 2-d product."""
    rng = np.random.default_rng(stack * 1000 + columns)
    stack = 1 if flat else stack
    a_shape = {"no": (stack, rows, inner), "2-d": (rows, inner), "stack of 1": (1, rows, inner)}[shared_a]
    a = rng.standard_normal((rows, inner) if flat else a_shape, dtype=np.float32)
    b = rng.standard_normal((inner, columns) if flat else (stack, inner, columns), dtype=np.float32)
    expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
    out = np.full(expected.shape, np.nan, dtype=np.float32)
    with _on_threads(count):
        parallel.matmul(a, b, out)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5 * np.sqrt(inner))


@settings(max_examples=30, deadline=None)
@given(
    size=st.integers(0, 3 * 2**18 + 5),
    changed=st.one_of(st.none(), st.floats(0, 1)),
    nan=st.booleans(),
    transposed=st.booleans(),
    count=st.integers(1, 4),
)
@example(size=3 * 2**18 + 5, changed=1.0, nan=False, transposed=False, count=2)  # the very last value
@example(size=3 * 2**18 + 5, changed=None, nan=False, transposed=False, count=3)  # large, unchanged
def test_the_parallel_comparison_equals_numpys(
    size: int, changed: float | None, nan: bool, transposed: bool, count: int
) -> None:
    """parallel.equal, which the weight cache asks, answers as np.array_equal: one changed value anywhere (in
    any block of any thread's part), a NaN (never equal), a view that is not contiguous."""
    rng = np.random.default_rng(size)
    a = rng.standard_normal(size).astype(np.float32)
    b = a.copy()
    if changed is not None and size:
        b[min(size - 1, int(changed * size))] += 1
    if nan and size:
        a[size // 2] = b[size // 2] = np.nan
    if transposed and size % 2 == 0:
        a, b = a.reshape(2, -1).T, b.reshape(2, -1).T
    with _on_threads(count):
        assert parallel.equal(a, b) == np.array_equal(a, b)


@settings(max_examples=30, deadline=None)
@given(
    size=st.integers(0, 3 * 2**18 + 5),
    where=st.floats(0, 1),
    bad=st.sampled_from([None, np.nan, np.inf, -np.inf]),
    dtype=st.sampled_from([np.float32, np.float64]),
    transposed=st.booleans(),
    count=st.integers(1, 4),
)
@example(size=3 * 2**18 + 5, where=1.0, bad=np.nan, dtype=np.float32, transposed=False, count=3)  # the last value
def test_the_parallel_finiteness_check_finds_every_nan_and_inf(
    size: int, where: float, bad: float | None, dtype: type, transposed: bool, count: int
) -> None:
    """parallel.finite, which keeps NaN and Inf off the algorithms that would spread them, says no for a NaN or
    Inf in any thread's part, from a view that is not contiguous too, and yes when every value is finite."""
    a = np.random.default_rng(size).standard_normal(size).astype(dtype)
    if bad is not None and size:
        a[min(size - 1, int(where * size))] = bad
    if transposed and size % 2 == 0:
        a = a.reshape(2, -1).T
    expected = bad is None or size == 0
    with _on_threads(count), np.errstate(all="raise"):  # and no warning reaches the caller
        assert parallel.finite(a) == expected


@settings(max_examples=15, deadline=None)
@given(values=st.integers(0, 3 * 2**20), dtype=st.sampled_from([np.float32, np.float64]), count=st.integers(1, 5))
def test_the_parallel_zeros_are_all_zero(values: int, dtype: type, count: int) -> None:
    """parallel.zeros, where im2col's input gradient adds its columns, clears every cell in any thread's part,
    also in memory just freed with other values in it."""
    with _on_threads(count):
        for _ in range(2):
            cleared = parallel.zeros((values // 7, 7), dtype)
            assert cleared.shape == (values // 7, 7)
            assert cleared.dtype == dtype
            assert not cleared.any()
            cleared[...] = np.nan
            del cleared


@settings(max_examples=20, deadline=None)
@given(
    size=st.tuples(st.integers(1, 9), st.integers(1, 40), st.integers(1, 90), st.integers(1, 90)),
    padding=st.tuples(
        st.tuples(st.integers(0, 3), st.integers(0, 3)), st.tuples(st.integers(0, 3), st.integers(0, 3))
    ),
    transposed=st.booleans(),
    count=st.integers(1, 5),
)
def test_the_parallel_zero_padding_equals_numpys(
    size: tuple[int, int, int, int], padding: tuple[tuple[int, int], tuple[int, int]], transposed: bool, count: int
) -> None:
    """parallel.zero_padded, which the padded convolutions read, equals np.pad with zeros: every frame cell zero
    (the new array's memory may hold anything), every inner cell copied, over any thread count and from a view
    whose axes are swapped too."""
    x = np.random.default_rng(sum(size)).standard_normal(size).astype(np.float32) + 1  # no zeros of its own
    if transposed:
        x = x.transpose(0, 1, 3, 2)
    expected = np.pad(x, ((0, 0), (0, 0), *padding))
    with _on_threads(count):
        for _ in range(2):  # the second may reuse the first's freed memory, which is not zero
            padded = parallel.zero_padded(x, padding)
            np.testing.assert_array_equal(padded, expected)
            padded[...] = np.nan
            del padded


@settings(max_examples=15, deadline=None)
@given(
    axis=st.integers(0, 3),
    size=st.tuples(st.integers(1, 9), st.integers(1, 70), st.integers(40, 90), st.integers(40, 90)),
    strided=st.booleans(),
    count=st.integers(1, 5),
)
def test_the_parallel_copy_writes_every_cell_once(
    axis: int, size: tuple[int, int, int, int], strided: bool, count: int
) -> None:
    """parallel.copy, sliced along any axis over any number of threads (megabytes: it splits), from a strided
    view too, equals np.copyto and leaves nothing of the destination's old contents."""
    rng = np.random.default_rng(sum(size))
    source = rng.standard_normal((*size[:3], 2 * size[3]))[..., ::2] if strided else rng.standard_normal(size)
    destination = np.full(size, np.nan)
    with _on_threads(count):
        parallel.copy(destination, source, axis=axis)
    np.testing.assert_array_equal(destination, source)


def _row_sums(values: np.ndarray, out: np.ndarray) -> None:
    for row in compiled.prange(values.shape[0]):
        out[row] = values[row].sum()


ROW_SUMS = compiled.kernel(parallel=True)(_row_sums)


def test_a_small_compiled_call_runs_the_serial_twin_with_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the rule's size the parallel kernel's serial twin runs; above it the parallel loop; both exact."""
    ran: list[str] = []
    for name in ("serial", "compiled"):
        original = getattr(compiled.Kernel, name)
        monkeypatch.setattr(compiled.Kernel, name, lambda self, o=original, n=name: ran.append(n) or o(self))
    with _on_threads(2):
        for rows, expected in ((10, "serial"), (100_000, "compiled")):
            values = np.random.default_rng(rows).standard_normal((rows, 8))
            out = np.empty(rows)
            ran.clear()
            ROW_SUMS(values, out)
            assert ran == [expected]
            bound = 1e-14 * np.abs(values).sum(axis=1).max()  # another summation order rounds differently
            np.testing.assert_allclose(out, values.sum(axis=1), rtol=0, atol=bound)


def test_editing_a_called_kernel_recompiles_its_callers(tmp_path: Path) -> None:
    """A caller's machine code has its callee inlined and is cached on disk beside the caller's own file: after
    the callee's file changes (the caller's does not), a fresh process must run the new lines, not the cached."""
    package = tmp_path / "shared_loops"
    package.mkdir()
    (package / "__init__.py").write_text("")
    callee = package / "step.py"
    callee.write_text(
        "from convlab.functional.algorithms.compiled import kernel\n\n"
        "@kernel(parallel=False)\ndef step(x):\n    return x + 1\n"
    )
    (package / "walk.py").write_text(
        "from convlab.functional.algorithms.compiled import kernel\nfrom .step import step\n\n"
        "@kernel(parallel=False)\ndef walk(x):\n    return step(step(x))\n"
    )
    run = "from shared_loops.walk import walk; print(walk(0))"
    paths = f"{SRC}{os.pathsep}{tmp_path}"
    first = _run_python(run, PYTHONPATH=paths)
    assert (first.returncode, first.stdout.strip()) == (0, "2"), first.stderr
    assert list((package / "__pycache__").glob("walk.walk*.nbi")), "the caller was not cached on disk"

    callee.write_text(callee.read_text().replace("x + 1", "x + 10"))
    second = _run_python(run, PYTHONPATH=paths)
    assert (second.returncode, second.stdout.strip()) == (0, "20"), second.stderr


def test_default_threads_follow_affinity_or_omp_num_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads.usable_cores() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.usable_cores() == 3


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, None])
def test_set_num_threads_refuses_what_is_not_a_count(bad: object) -> None:
    with pytest.raises(ArgumentError, match="set_num_threads"):
        convlab.set_num_threads(bad)


def test_the_thread_setting_reaches_numba_in_every_calling_thread() -> None:
    """Numba's count is per thread: a new thread that calls convlab must get the setting too."""
    result = _run_python(
        """
        import threading, numpy as np, numba, convlab
        import convlab.functional as F
        x = np.random.rand(2, 16, 40, 40); w = np.random.rand(16, 16, 3, 3)
        convlab.set_num_threads(1)
        F.conv2d(x, w, algorithm="winograd")
        seen = [numba.get_num_threads()]
        worker = threading.Thread(target=lambda: (F.conv2d(x, w, algorithm="winograd"),
                                                   seen.append(numba.get_num_threads())))
        worker.start(); worker.join()
        print(seen, convlab.get_num_threads())
        """,
        OMP_NUM_THREADS="2",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[1, 1] 1"


def test_a_forked_child_can_still_convolve() -> None:
    """The parent's pool threads do not exist in the child: the child must make its own, not wait forever."""
    result = _run_python(
        """
        import os, numpy as np
        import convlab.functional as F
        x = np.random.rand(8, 16, 64, 64).astype("f4"); w = np.random.rand(24, 16, 3, 3).astype("f4")
        expected = F.conv2d(x, w, stride=2)
        F.conv2d(x, w, padding=1)
        pid = os.fork()
        if pid == 0:
            same = np.array_equal(F.conv2d(x, w, stride=2), expected)
            F.conv2d(x, w, padding=1)
            os._exit(0 if same else 3)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
        """,
        timeout=240,
        OMP_NUM_THREADS="2",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def test_threads_calling_at_once_all_get_right_answers() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 16, 36, 36))
    w = rng.standard_normal((16, 16, 3, 3))
    expected = _torch_conv(x, w, None, padding=1)["out"]
    results: list[np.ndarray] = []
    errors: list[BaseException] = []

    def call(algorithm: str) -> None:
        try:
            for _ in range(5):
                results.append(F.conv2d(x, w, padding=1, algorithm=algorithm))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    workers = [threading.Thread(target=call, args=(name,)) for name in ("winograd", "im2col") * 3]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=240)
    assert not errors
    assert len(results) == 30
    for result in results:
        np.testing.assert_allclose(result, expected, rtol=0, atol=1e-10)


def test_workspaces_are_reused_and_kept_within_the_limit() -> None:
    old = workspace.get_workspace_limit()
    try:
        with workspace.borrow((100, 100), np.float32) as first, workspace.borrow((100, 100), np.float32) as second:
            assert first is not second  # a workspace lent out is never lent twice
        with workspace.borrow((100, 100), np.float32) as again:
            assert again is first or again is second  # returned ones are reused
        convlab.set_workspace_limit(50_000)
        assert workspace.cached_bytes() <= 50_000
        x = np.random.default_rng(0).standard_normal((4, 16, 40, 40))
        F.conv2d(x, np.ones((16, 16, 3, 3)), algorithm="winograd")
        assert workspace.cached_bytes() <= 50_000
        convlab.set_workspace_limit(0)
        assert workspace.cached_bytes() == 0
    finally:
        convlab.set_workspace_limit(old)


@pytest.mark.parametrize("bad", [-1, 1.5, "64MB", None])
def test_set_workspace_limit_refuses_what_is_not_a_size(bad: object) -> None:
    with pytest.raises(ArgumentError, match="set_workspace_limit"):
        convlab.set_workspace_limit(bad)


def test_winograd_never_uses_a_stale_weight_transform() -> None:
    """Same array changed in place (by hand and through nn.Conv2d), a new array, a new layer: all recomputed."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 16, 40, 40))
    w = rng.standard_normal((16, 16, 3, 3))  # wide enough that auto, inside the layer, picks Winograd too

    def expected(weight: np.ndarray) -> np.ndarray:
        return _torch_conv(x, weight, None, padding=1)["out"]

    def close(actual: np.ndarray, weight: np.ndarray) -> None:
        np.testing.assert_allclose(actual, expected(weight), rtol=0, atol=1e-10)

    close(F.conv2d(x, w, padding=1, algorithm="winograd"), w)
    close(F.conv2d(x, w, padding=1, algorithm="winograd"), w)  # reused
    w[3, 5, 1, 2] += 1.0  # one value changed in place
    close(F.conv2d(x, w, padding=1, algorithm="winograd"), w)
    other = w * 2  # a new array
    close(F.conv2d(x, other, padding=1, algorithm="winograd"), other)

    layer = Conv2d(16, 16, 3, padding=1, bias=False, dtype="float64", seed=0)
    layer.weight[...] = w
    close(layer(x), w)
    layer.weight -= 0.1 * np.sign(layer.weight)  # an optimizer step, in place
    close(layer(x), np.asarray(layer.weight))


def test_winograd_input_gradient_never_uses_a_stale_flipped_transform() -> None:
    """The input gradient's transform (of the flipped kernels) is kept under the weight too: a change in place
    between two calls, and a forward in between that keeps the unflipped transform, both recompute it."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 16, 40, 40))
    w = rng.standard_normal((24, 16, 3, 3))
    grad = rng.standard_normal((2, 24, 40, 40))

    def close(weight: np.ndarray) -> None:
        actual = F.conv2d_input_grad(x.shape, weight, grad, padding=1, algorithm="winograd")
        expected = torch.nn.grad.conv2d_input(x.shape, torch.tensor(weight), torch.tensor(grad), padding=1)
        np.testing.assert_allclose(actual, expected.numpy(), rtol=0, atol=1e-10 * np.abs(expected.numpy()).max())

    close(w)
    close(w)  # reused
    F.conv2d(x, w, padding=1, algorithm="winograd")  # the forward's transform beside it
    w[7, 2, 0, 1] -= 2.0
    close(w)
    w *= -0.5
    F.conv2d(x, w, padding=1, algorithm="winograd")
    close(w)


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 3),
    channels=st.integers(1, 20),
    out_channels=st.integers(1, 20),
    height=st.integers(1, 40),
    width=st.integers(1, 40),
    padding=st.tuples(*[st.integers(0, 4)] * 4),
    groups=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**16),
)
@example(batch=3, channels=20, out_channels=20, height=40, width=37, padding=(0, 3, 4, 1), groups=2, seed=1)
def test_winograd_input_gradient_matches_torch_for_any_zero_padding(
    batch: int,
    channels: int,
    out_channels: int,
    height: int,
    width: int,
    padding: tuple[int, int, int, int],
    groups: int,
    seed: int,
) -> None:
    """The input gradient for the input's own cells (grad_output placed 2 - padding down and right, cut where
    the padding is wider than 2), on the NumPy and the compiled path, against PyTorch in float64."""
    top, bottom, left, right = padding
    if height + top + bottom < 3 or width + left + right < 3:
        return  # no output at all: conv2d itself refuses it
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels * groups, height, width))
    w = rng.standard_normal((out_channels * groups, channels, 3, 3))
    xt = torch.tensor(x, requires_grad=True)
    out = torch.nn.functional.conv2d(
        torch.nn.functional.pad(xt, (left, right, top, bottom)), torch.tensor(w), groups=groups
    )
    grad = rng.standard_normal(tuple(out.shape))
    out.backward(torch.tensor(grad))
    explicit = ((top, bottom), (left, right))  # uneven, as "same" and layer strings can make it
    actual = winograd.input_grad_zero_padded(w, grad, (height, width), explicit, (1, 1), (1, 1), groups)
    tolerance = 1e-12 * (np.abs(w).sum() * np.abs(grad).max() + 1)
    np.testing.assert_allclose(actual, xt.grad.numpy(), rtol=0, atol=tolerance)  # type: ignore[union-attr]
