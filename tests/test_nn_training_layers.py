"""The layers training needs (BatchNorm2d, Dropout, Sigmoid, Tanh, AdaptiveAvgPool2d) against torch.nn,
and the module state: train/eval, state_dict, .npz files, torch conversion with running statistics."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab import nn
from convlab.errors import ArgumentError, ShapeError, StateError
from convlab.network.check import check
from convlab.network.receptive_field import receptive_field
from convlab.network.summary import summary

TOLERANCE = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}
dtypes = st.sampled_from([np.float64, np.float32])


def _both(layer: nn.Module, theirs: torch.nn.Module, x: np.ndarray, grad: np.ndarray) -> None:
    """Forward and backward agree (output, input and parameter gradients) with torch's float64 answer, within
    the dtype's tolerance. The oracle is always float64: where a channel's values are nearly equal, torch's own
    float32 BatchNorm gradient is off by up to 1e-2 (convlab's, summing in float64, by 1e-5)."""
    out = layer(x)
    exact = copy.deepcopy(theirs).double()
    with torch.no_grad():
        theirs(torch.tensor(x))  # the module under test follows the batch, its running statistics included
    tensor = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    expected = exact(tensor)
    expected.backward(torch.tensor(grad, dtype=torch.float64))
    tolerance = TOLERANCE[np.dtype(x.dtype)]
    assert out.dtype == x.dtype
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=0, atol=tolerance * 10)
    grad_input = layer.backward(grad)
    assert tensor.grad is not None
    np.testing.assert_allclose(
        grad_input, tensor.grad.numpy(), rtol=0, atol=tolerance * 10 * (1 + np.abs(grad).max())
    )
    for (name, ours), (_, reference) in zip(layer.named_parameters(), exact.named_parameters()):
        assert reference.grad is not None, name
        np.testing.assert_allclose(ours.grad, reference.grad.numpy(), rtol=0, atol=tolerance * grad.size)


batch_norm_settings = st.fixed_dictionaries(
    {
        "momentum": st.sampled_from([0.1, 0.5, None]),
        "affine": st.booleans(),
        "track_running_stats": st.booleans(),
        "eps": st.sampled_from([1e-5, 1e-3]),
    }
)


@settings(max_examples=40, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 5), st.integers(1, 5)).filter(
        lambda s: s[0] * s[2] * s[3] > 1
    ),
    options=batch_norm_settings,
    dtype=dtypes,
    seed=st.integers(0, 2**31),
)
def test_batch_norm_matches_torch_in_training_then_eval(
    shape: tuple[int, int, int, int], options: dict[str, Any], dtype: Any, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    channels = shape[1]
    theirs = torch.nn.BatchNorm2d(
        channels, **options, dtype=torch.float64 if dtype == np.float64 else torch.float32
    )
    if options["affine"]:  # learned values other than the initial 1 and 0
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(rng.uniform(0.5, 2, channels)))
            theirs.bias.copy_(torch.tensor(rng.normal(size=channels)))
    ours = nn.from_torch(theirs)
    assert isinstance(ours, nn.BatchNorm2d)
    for _ in range(3):  # the running statistics follow the batches
        x = rng.normal(3, 2, shape).astype(dtype)
        _both(ours, theirs, x, rng.standard_normal(shape).astype(dtype))
        theirs.zero_grad()
        ours.zero_grad()
    for name, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name], value.numpy(), rtol=TOLERANCE[np.dtype(dtype)] * 10)
    ours.eval()
    theirs.eval()
    x = rng.normal(3, 2, shape).astype(dtype)
    _both(ours, theirs, x, rng.standard_normal(shape).astype(dtype))


@settings(max_examples=6, deadline=None)
@given(
    width=st.integers(13, 16),  # rows of 4 values and a remainder
    dtype=dtypes,
    transposed=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_batch_norm_on_two_threads_and_a_strided_input_matches_torch(
    width: int, dtype: Any, transposed: bool, seed: int
) -> None:
    """Inputs large enough that the channels are split over the threads; a transposed view as input."""
    import convlab

    rng = np.random.default_rng(seed)
    theirs = torch.nn.BatchNorm2d(16, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.uniform(0.5, 2, 16)))
        theirs.bias.copy_(torch.tensor(rng.normal(size=16)))
    ours = nn.from_torch(theirs)
    x = rng.normal(3, 2, (8, 16, width, 15)).astype(dtype)
    if transposed:
        x = x.transpose(0, 1, 3, 2)
    old = convlab.get_num_threads()
    convlab.set_num_threads(2)
    try:
        for mode in (True, False):
            ours.train(mode)
            theirs.train(mode)
            _both(ours, theirs, x, rng.standard_normal(x.shape).astype(dtype))
            theirs.zero_grad()
            ours.zero_grad()
    finally:
        convlab.set_num_threads(old)


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(["Sigmoid", "Tanh"]),
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple),
    scale=st.sampled_from([1.0, 50.0]),
    dtype=dtypes,
    seed=st.integers(0, 2**31),
)
def test_sigmoid_and_tanh_match_torch(
    kind: str, shape: tuple[int, ...], scale: float, dtype: Any, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * scale).astype(dtype)
    _both(getattr(nn, kind)(), getattr(torch.nn, kind)(), x, rng.standard_normal(shape).astype(dtype))


@settings(max_examples=30, deadline=None)
@given(
    size=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    output_size=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    dtype=dtypes,
    seed=st.integers(0, 2**31),
)
def test_adaptive_avg_pool_matches_torch(
    size: tuple[int, int], output_size: tuple[int, int], dtype: Any, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, *size)).astype(dtype)
    grad = rng.standard_normal((2, 3, *output_size)).astype(dtype)
    _both(nn.AdaptiveAvgPool2d(output_size), torch.nn.AdaptiveAvgPool2d(output_size), x, grad)


def test_dropout_drops_with_probability_p_and_scales_the_rest() -> None:
    layer = nn.Dropout(0.25, seed=3)
    x = np.ones((200, 100), dtype=np.float32)
    out = layer(x)
    assert set(np.unique(out).tolist()) == {0.0, np.float32(1 / 0.75)}
    dropped = float((out == 0).mean())
    assert abs(dropped - 0.25) < 5 * np.sqrt(0.25 * 0.75 / x.size)  # five standard errors of the fraction
    grad = layer.backward(np.full_like(x, 2.0))
    np.testing.assert_array_equal(grad, 2.0 * out)  # the same values dropped, the same scale
    np.testing.assert_array_equal(nn.Dropout(0.25, seed=3)(x), out)  # seeded: repeatable
    assert not np.array_equal(layer(x), out)  # each call draws a new mask


def test_dropout_in_eval_mode_and_at_the_ends_matches_torch() -> None:
    x = np.random.default_rng(0).standard_normal((4, 5))
    for p in (0.0, 0.5, 1.0):
        ours, theirs = nn.Dropout(p, seed=0).eval(), torch.nn.Dropout(p).eval()
        np.testing.assert_array_equal(ours(x), theirs(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(nn.Dropout(1.0)(x), torch.nn.Dropout(1.0)(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(nn.Dropout(0.0)(x), x)
    with pytest.raises(ArgumentError, match="probability"):
        nn.Dropout(1.5)
    with pytest.raises(StateError):
        nn.Dropout().backward(x)


def _model(dtype: Any = np.float32) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, seed=0, dtype=dtype),
        nn.BatchNorm2d(4, dtype=dtype),
        nn.Tanh(),
        nn.Dropout(0.2, seed=0),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16, 3, seed=1, dtype=dtype),
        nn.Sigmoid(),
    )


def test_train_and_eval_reach_every_layer() -> None:
    model = _model()
    assert all(layer.training for layer in model)
    assert model.eval() is model
    assert not any(layer.training for layer in [model, *model])
    model.train()
    assert all(layer.training for layer in [model, *model])


def test_state_dict_names_and_values_are_torchs() -> None:
    model = _model()
    model(np.random.default_rng(0).standard_normal((2, 1, 6, 6)).astype(np.float32))  # move the running stats
    theirs = model.to_torch()
    assert list(model.state_dict()) == list(theirs.state_dict())
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[name], value.numpy())
    assert int(model.state_dict()["1.num_batches_tracked"]) == 1
    back = nn.from_torch(theirs.eval())
    assert not back.training
    assert not back[1].training


def test_a_model_saved_to_npz_loads_into_a_fresh_one(tmp_path: Path) -> None:
    model, fresh = _model(np.float64), _model(np.float64)
    x = np.random.default_rng(0).standard_normal((3, 1, 6, 6))
    model(x)
    for parameter in model.parameters():
        parameter += 0.5  # differ from the fresh model's initial values
    path = tmp_path / "model.npz"
    model.save(path)
    weight = fresh[0].weight
    assert fresh.load(path) is fresh
    assert fresh[0].weight is weight  # loaded into the same arrays (an optimizer holding them keeps working)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[name], value)
    model.eval()
    fresh.eval()
    np.testing.assert_array_equal(fresh(x), model(x))
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary file left behind


def test_loading_a_state_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    model = _model()
    state = model.state_dict()
    with pytest.raises(ArgumentError, match=r"missing: 1\.running_mean") as caught:
        model.load_state_dict({k: v for k, v in state.items() if k != "1.running_mean"})
    assert "fix:" in str(caught.value)
    with pytest.raises(ShapeError, match=r"0\.weight has shape \(4, 1, 5, 5\)"):
        model.load_state_dict({**state, "0.weight": np.zeros((4, 1, 5, 5))})
    with pytest.raises(ArgumentError, match="cannot read"):
        model.load(tmp_path / "missing.npz")


def test_batch_norm_refuses_inputs_that_do_not_fit() -> None:
    with pytest.raises(ShapeError, match=r"use BatchNorm2d\(3\)"):
        nn.BatchNorm2d(4)(np.zeros((2, 3, 4, 4), dtype=np.float32))
    with pytest.raises(ShapeError, match="batch of 2 or more"):
        nn.BatchNorm2d(4)(np.zeros((1, 4, 1, 1), dtype=np.float32))
    with pytest.raises(StateError):
        nn.BatchNorm2d(4).backward(np.zeros((2, 4, 1, 1)))


def test_every_new_layer_is_known_to_summary_receptive_fields_and_check() -> None:
    model = _model()
    theirs = model.to_torch()
    ours_summary, torch_summary = summary(model, "1x8x8"), summary(theirs, "1x8x8")
    assert [layer.output_shape for layer in ours_summary.layers] == [
        layer.output_shape for layer in torch_summary.layers
    ]
    assert ours_summary.total_params == sum(p.numel() for p in theirs.parameters())
    assert [layer.kind for layer in ours_summary.layers][1:5] == ["batchnorm", "tanh", "dropout", "adaptivepool"]
    assert receptive_field(model, "1x8x8").layers
    assert not check(model, "1x8x8").errors
    assert check(nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(8)), "1x8x8").errors
