"""Output sizes and their derivation, uncovered pixels and the padding solver: hand-worked values and PyTorch."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import convlab.functional as F
from convlab.errors import ArgumentError, ShapeError
from convlab.network import shapes
from tests.oracle import count
from tests.strategies import ConvConfig, PoolConfig, TransposeConfig, conv_configs, pool_configs, transpose_configs


def test_the_lessons_size_lab() -> None:
    assert shapes.conv2d_output_size(6, 3, stride=2, padding=1) == 3
    assert shapes.conv2d_output_size((6, 6), 3, stride=1, padding=1) == (6, 6)  # exercise 3
    assert shapes.conv2d_derivation(6, 3, 2, 1) == "H_out = floor((6 + 2*1 - 3) / 2) + 1 = floor(5 / 2) + 1 = 3"


@pytest.mark.parametrize(
    ("input_size", "kernel", "stride", "padding", "expected"),
    [  # d2l.ai, "Padding and Stride" (section 7.3 of Dive into Deep Learning)
        ((8, 8), 3, 1, 1, (8, 8)),
        ((8, 8), (5, 3), 1, (2, 1), (8, 8)),
        ((8, 8), 3, 2, 1, (4, 4)),
        ((8, 8), (3, 5), (3, 4), (0, 1), (2, 2)),
    ],
)
def test_d2l_padding_and_stride_examples(input_size, kernel, stride, padding, expected) -> None:  # type: ignore[no-untyped-def]
    assert shapes.conv2d_output_size(input_size, kernel, stride, padding) == expected


@settings(max_examples=200)
@given(i=st.integers(1, 30), k=st.integers(1, 7), s=st.integers(1, 4), p=st.integers(0, 4), d=st.integers(1, 3))
def test_conv_arithmetic_relationships(i: int, k: int, s: int, p: int, d: int) -> None:
    """Dumoulin and Visin, "A guide to convolution arithmetic for deep learning" (2016), relationships 1-15."""
    span = k + (k - 1) * (d - 1)
    assume(i + 2 * p >= span)
    count("conv_arithmetic relationships")
    o = shapes.conv2d_output_size(i, k, s, p, d)
    assert o == (i + 2 * p - k - (k - 1) * (d - 1)) // s + 1  # relationship 15 (6 when d = 1, 1 when also p = 0)
    if s == 1 and d == 1 and k % 2 == 1:
        assert shapes.conv2d_output_size(i, k, 1, k // 2) == i  # half ("same") padding, relationship 3
        assert shapes.conv2d_output_size(i, k, 1, k - 1) == i + k - 1  # full padding, relationship 4
    # the transposed convolution maps o back to i, with output_padding a = (i + 2p - span) mod s (relationship 14)
    a = (i + 2 * p - span) % s
    if a < max(s, d) and (o - 1) * s - 2 * p + span + a >= 1:
        assert shapes.conv_transpose2d_output_size(o, k, s, p, a, d) == i


@settings(max_examples=200)
@given(conv_configs())
def test_conv2d_output_size_matches_torch(cfg: ConvConfig) -> None:
    count("conv2d_output_size vs torch")
    x, w, _ = cfg.arrays()
    theirs = (
        torch.nn.functional.conv2d(
            torch.tensor(x), torch.tensor(w), None, cfg.stride, cfg.padding, cfg.dilation, cfg.groups
        ).shape[-2:]
        if cfg.padding_mode == "zeros"
        else None
    )
    ours = shapes.conv2d_output_size(cfg.size, cfg.kernel_size, cfg.stride, cfg.padding, cfg.dilation)
    assert ours == F.conv2d(x, w, **cfg.kwargs()).shape[-2:]
    if theirs is not None:
        assert ours == tuple(theirs)


@settings(max_examples=200)
@given(pool_configs())
def test_pool2d_output_size_matches_torch_including_ceil_mode(cfg: PoolConfig) -> None:
    count("pool2d_output_size vs torch")
    theirs = torch.nn.functional.max_pool2d(torch.tensor(cfg.input()), **cfg.max_kwargs()).shape[-2:]
    ours = shapes.pool2d_output_size(
        cfg.size, cfg.kernel_size, cfg.stride, cfg.padding, cfg.dilation, cfg.ceil_mode
    )
    assert ours == tuple(theirs)


@settings(max_examples=150)
@given(transpose_configs())
def test_conv_transpose2d_output_size_matches_torch(cfg: TransposeConfig) -> None:
    count("conv_transpose2d_output_size vs torch")
    x, w, _ = cfg.arrays()
    theirs = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(w), **cfg.kwargs()).shape[-2:]
    ours = shapes.conv_transpose2d_output_size(
        cfg.size, cfg.kernel_size, cfg.stride, cfg.padding, cfg.output_padding, cfg.dilation
    )
    assert ours == tuple(theirs)


def test_an_int_gives_an_int_and_a_pair_a_pair() -> None:
    assert shapes.pool2d_output_size(7, 2) == 3
    assert shapes.pool2d_output_size((7, 9), 2) == (3, 4)
    assert shapes.conv2d_output_size((5, 7), 3, padding="same") == (5, 7)
    assert shapes.conv2d_output_size((5, 7), 3, padding="valid") == (3, 5)


def test_derivations_show_dilation_and_ceil_mode() -> None:
    assert shapes.conv2d_derivation(7, 3, 1, 0, 2) == (
        "H_out = floor((7 + 2*0 - (2*(3-1)+1)) / 1) + 1 = floor(2 / 1) + 1 = 3"
    )
    assert (
        shapes.pool2d_derivation(6, 3, 2, ceil_mode=True)
        == "H_out = ceil((6 + 2*0 - 3) / 2) + 1 = ceil(3 / 2) + 1 = 3"
    )
    assert "in the right padding" in shapes.pool2d_derivation(5, 2, 2, padding=1, ceil_mode=True)
    assert (
        shapes.conv_transpose2d_derivation(3, 3, 2, 1, 1, name="W")
        == "W_out = (3 - 1)*2 - 2*1 + 1*(3-1) + 1 + 1 = 6"
    )


def test_an_output_of_zero_names_the_dimension_and_the_overshoot() -> None:
    with pytest.raises(ShapeError, match=r"along W .* overshoots by 3"):
        shapes.conv2d_output_size((9, 4), (3, 7))
    with pytest.raises(ShapeError, match="overshoots by 3"):
        shapes.conv2d_output_size(4, 3, dilation=3)


def test_uncovered_rows_of_a_stride_that_does_not_divide() -> None:
    assert shapes.uncovered(7, 2, stride=2) == shapes.Uncovered(rows=(6,), cols=(6,))
    assert shapes.uncovered((5, 8), 1, stride=3).rows == (1, 2, 4)
    assert shapes.uncovered(8, 3, stride=1, padding=1).rows == ()


@settings(max_examples=150)
@given(conv_configs(modes=("zeros",), allow_empty_batch=False))
def test_uncovered_cells_are_exactly_those_with_zero_gradient(cfg: ConvConfig) -> None:
    """With positive weights and gradients, the input gradient is zero exactly where no window reads."""
    count("uncovered == zero gradient")
    x, w, _ = cfg.arrays()
    out_shape = F.conv2d(x, w, **cfg.kwargs()).shape
    grad = F.conv2d_input_grad(x.shape, np.abs(w) + 1, np.ones(out_shape), **cfg.kwargs())
    spatial = np.abs(grad).reshape(-1, *cfg.size).sum(axis=0)
    gaps = shapes.uncovered(cfg.size, cfg.kernel_size, cfg.stride, cfg.padding, cfg.dilation)
    predicted = np.zeros(cfg.size, dtype=bool)
    predicted[list(gaps.rows), :] = True
    predicted[:, list(gaps.cols)] = True
    np.testing.assert_array_equal(spatial == 0, predicted)


@settings(max_examples=200)
@given(n=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 4), d=st.integers(1, 3))
def test_same_padding_solver_gives_ceil_of_input_over_stride(n: int, k: int, s: int, d: int) -> None:
    count("padding solver")
    solution = shapes.solve_padding(n, k, s, d, "same")
    top, bottom, left, right = solution.padding
    assert solution.output_size == (math.ceil(n / s),) * 2
    x = np.zeros((1, 1, n, n))
    padded = F.pad(x, (left, right, top, bottom))
    assert F.conv2d(padded, np.ones((1, 1, k, k)), stride=s, dilation=d).shape[-1] == math.ceil(n / s)
    assert bottom - top in (0, 1)  # the extra cell goes to the bottom/right
    symmetric = [
        p
        for p in range(0, k * d + s)
        if (n + 2 * p - d * (k - 1) - 1) >= 0 and (n + 2 * p - d * (k - 1) - 1) // s + 1 == math.ceil(n / s)
    ]
    if solution.torch_padding is None:
        assert not symmetric
    else:
        assert solution.torch_padding[0] in symmetric


def test_the_resnet_stem_needs_asymmetric_same_padding_but_padding_3_works() -> None:
    solution = shapes.solve_padding(224, 7, stride=2)
    assert solution.padding == (2, 3, 2, 3)
    assert solution.torch_padding == (3, 3)


def test_when_only_f_pad_can_do_it() -> None:
    solution = shapes.solve_padding(4, 2, output_size=10)
    assert solution.torch_padding is None
    assert "F.pad(x, (3, 4, 3, 4))" in solution.explanation[-1]


def test_when_no_padding_can() -> None:
    with pytest.raises(ArgumentError, match="even without padding the output is 6"):
        shapes.solve_padding(8, 3, output_size=4)


@settings(max_examples=60, deadline=None)
@given(
    size=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    kernel=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    dilation=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_at_stride_1_torch_padding_same_is_the_solvers_padding(
    size: tuple[int, int], kernel: tuple[int, int], dilation: int, seed: int
) -> None:
    count("padding solver vs torch same")
    solution = shapes.solve_padding(size, kernel, 1, dilation, "same")
    assert solution.torch_same
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((1, 1, *size)), rng.standard_normal((1, 1, *kernel))
    top, bottom, left, right = solution.padding
    ours = F.conv2d(F.pad(x, (left, right, top, bottom)), w, dilation=dilation)
    with warnings.catch_warnings():  # torch notes that an even kernel needs a padded copy of the input
        warnings.simplefilter("ignore")
        theirs = torch.nn.functional.conv2d(
            torch.from_numpy(x), torch.from_numpy(w), padding="same", dilation=dilation
        ).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    if solution.torch_padding is None:  # an odd total: the lines say padding="same", not a number
        assert 'padding="same") pads exactly this' in solution.explanation[2]


def test_an_even_kernel_at_stride_1_is_torchs_padding_same() -> None:
    solution = shapes.solve_padding(10, 4)
    assert solution.padding == (1, 2, 1, 2)
    assert solution.torch_padding is None
    assert solution.torch_same
    text = "\n".join(solution.explanation)
    assert 'nn.Conv2d(..., padding="same") pads exactly this' in text
    assert "padding=1 gives 9 and padding=2 gives 11" in text


def test_equal_sides_at_stride_2_read_the_input_one_cell_up_and_left() -> None:
    # The ResNet stem: (2, 3, 2, 3) is the least padding; padding=(3, 3) gives the same 112 x 112, reading the
    # input as (3, 2, 3, 2) would: the windows move one cell up and left, so the values differ.
    solution = shapes.solve_padding(224, 7, stride=2)
    text = "\n".join(solution.explanation)
    assert "padding=(3, 3)) gives the same size" in text
    assert "floor(223 / 2) + 1 = 112" in text
    assert "one cell up and left" in text
    assert "F.pad(x, (2, 3, 2, 3)), then padding=0" in text
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 1, 30, 30)), rng.standard_normal((1, 1, 7, 7))
    small = shapes.solve_padding(30, 7, stride=2)
    assert small.padding == (2, 3, 2, 3)
    assert small.torch_padding == (3, 3)
    theirs = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=2, padding=3).numpy()
    top_left = F.conv2d(F.pad(x, (3, 2, 3, 2)), w, stride=2)
    exact = F.conv2d(F.pad(x, (2, 3, 2, 3)), w, stride=2)
    np.testing.assert_allclose(top_left, theirs, rtol=1e-12, atol=1e-12)
    assert exact.shape == theirs.shape
    assert not np.allclose(exact, theirs)
