"""convlab.nn layers: PyTorch's init and repr, forward and backward against torch, weights moved both ways."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab import nn
from tests.oracle import check, count, magnitude, tensor, torch_conv2d
from tests.strategies import ConvConfig, conv_configs


@pytest.mark.parametrize(
    ("layer", "fan_in"),
    [
        (nn.Conv2d(64, 128, 3, seed=0), 64 * 9),
        (nn.Conv2d(32, 32, (5, 3), groups=8, seed=1), 4 * 15),
        (nn.ConvTranspose2d(16, 64, 4, groups=2, seed=2), 32 * 16),
        (nn.Linear(1024, 512, seed=3), 1024),
    ],
    ids=["conv", "grouped", "transposed", "linear"],
)
def test_initialisation_is_uniform_within_one_over_sqrt_fan_in(layer: nn.Module, fan_in: int) -> None:
    bound = 1 / np.sqrt(fan_in)
    for parameter in layer.parameters():
        values = np.asarray(parameter, dtype=np.float64)
        n = values.size
        assert np.abs(values).max() <= bound
        if n >= 10_000:  # enough samples for tight statistics of U(-b, b): mean 0, variance b^2 / 3
            assert np.abs(values).max() > bound * (1 - 20 / n)
            assert abs(values.mean()) < 5 * bound / np.sqrt(3 * n)
            assert values.var() == pytest.approx(bound**2 / 3, rel=0.05)


def test_torch_initialises_with_the_same_bound() -> None:
    torch.manual_seed(0)
    theirs = torch.nn.Conv2d(64, 128, 3).weight.detach().numpy()
    ours = np.asarray(nn.Conv2d(64, 128, 3, seed=0).weight)
    assert np.abs(theirs).max() == pytest.approx(np.abs(ours).max(), rel=1e-3)
    assert theirs.std() == pytest.approx(ours.std(), rel=0.02)


def test_seed_makes_weights_repeatable() -> None:
    np.testing.assert_array_equal(nn.Conv2d(3, 8, 3, seed=7).weight, nn.Conv2d(3, 8, 3, seed=7).weight)
    assert not np.array_equal(nn.Conv2d(3, 8, 3, seed=7).weight, nn.Conv2d(3, 8, 3, seed=8).weight)


def test_parameters_have_pytorch_shapes_and_dtype() -> None:
    conv = nn.Conv2d(3, 8, 3, padding=1, dtype=np.float64)
    assert conv.weight.shape == (8, 3, 3, 3)
    assert conv.bias is not None
    assert conv.bias.shape == (8,)
    assert conv.weight.dtype == np.float64
    assert nn.ConvTranspose2d(3, 8, 3, groups=1).weight.shape == (3, 8, 3, 3)
    assert nn.Conv2d(3, 8, 3, bias=False).bias is None


conv_layers = st.builds(
    lambda groups, cin, cout, k, s, p, d, bias, mode: (
        (groups * cin, groups * cout, k),
        {"stride": s, "padding": p, "dilation": d, "groups": groups, "bias": bias, "padding_mode": mode},
    ),
    st.integers(1, 3),
    st.integers(1, 4),
    st.integers(1, 4),
    st.one_of(st.integers(1, 5), st.tuples(st.integers(1, 5), st.integers(1, 5))),
    st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))),
    st.one_of(st.integers(0, 3), st.tuples(st.integers(0, 3), st.integers(0, 3)), st.just("valid")),
    st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))),
    st.booleans(),
    st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
)


@settings(max_examples=100)
@given(conv_layers)
def test_conv2d_repr_is_pytorchs(layer_args: tuple[tuple[int, int, object], dict[str, object]]) -> None:
    count("Conv2d repr vs torch")
    args, kwargs = layer_args
    assert repr(nn.Conv2d(*args, **kwargs)) == repr(torch.nn.Conv2d(*args, **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (nn.Conv2d(3, 8, 3, padding="same"), torch.nn.Conv2d(3, 8, 3, padding="same")),
        (
            nn.ConvTranspose2d(3, 8, 3, stride=2, output_padding=1),
            torch.nn.ConvTranspose2d(3, 8, 3, 2, output_padding=1),
        ),
        (
            nn.ConvTranspose2d(4, 8, 3, 2, 1, 1, 2, False, 2),
            torch.nn.ConvTranspose2d(4, 8, 3, 2, 1, 1, 2, False, 2),
        ),
        (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
        (nn.AvgPool2d(3, 2, 1), torch.nn.AvgPool2d(3, 2, 1)),
        (nn.ReLU(), torch.nn.ReLU()),
        (nn.Flatten(), torch.nn.Flatten()),
        (nn.Linear(3, 4, bias=False), torch.nn.Linear(3, 4, bias=False)),
        (
            nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Sequential(nn.Flatten())),
            torch.nn.Sequential(
                torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Sequential(torch.nn.Flatten())
            ),
        ),
    ],
)
def test_repr_is_pytorchs(ours: nn.Module, theirs: torch.nn.Module) -> None:
    assert repr(ours) == repr(theirs)


@settings(max_examples=100)
@given(conv_configs(allow_empty_batch=False))
def test_conv2d_layer_forward_and_backward_match_torch(cfg: ConvConfig) -> None:
    count("Conv2d layer vs torch")
    theirs = torch.nn.Conv2d(
        cfg.in_channels, cfg.out_channels, cfg.kernel_size, **cfg.kwargs(), bias=cfg.bias, dtype=torch.float64
    )
    ours = nn.from_torch(theirs)
    x = np.random.default_rng(cfg.seed).standard_normal(cfg.input_shape)
    xt = tensor(x, requires_grad=True)
    out_t = theirs(xt)
    grad = np.random.default_rng(cfg.seed + 1).standard_normal(tuple(out_t.shape))
    out_t.backward(tensor(grad))
    out = ours(x)
    w = theirs.weight.detach().numpy()
    b = None if theirs.bias is None else theirs.bias.detach().numpy()
    scale = torch_conv2d(cfg, magnitude(x), magnitude(w), magnitude(b), magnitude(grad))
    check("Conv2d.forward", out, out_t.detach().numpy(), scale["output"], inputs=(x, w))
    check("Conv2d.backward", ours.backward(grad), xt.grad.numpy(), scale["input"], inputs=(w, grad))
    check("Conv2d.weight.grad", ours.weight.grad, theirs.weight.grad.numpy(), scale["weight"], inputs=(x, grad))
    if b is not None:
        assert ours.bias is not None
        check("Conv2d.bias.grad", ours.bias.grad, theirs.bias.grad.numpy(), scale["bias"], inputs=(grad,))


def _small_cnn() -> torch.nn.Sequential:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1, padding_mode="reflect"),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 6, 3, stride=2, dilation=1, groups=2),
        torch.nn.ReLU(),
        torch.nn.ConvTranspose2d(6, 4, 2, stride=2),
        torch.nn.AvgPool2d(3, 2, 1, ceil_mode=True),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 3 * 3, 10),
    ).double()


def test_a_whole_network_trains_like_torch() -> None:
    """Forward, backward through every layer, and every parameter gradient of a small CNN."""
    theirs = _small_cnn()
    ours = nn.from_torch(theirs)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal((2, 3, 12, 12))
    xt = tensor(x, requires_grad=True)
    out_t = theirs(xt)
    grad = np.random.default_rng(1).standard_normal(tuple(out_t.shape))
    out_t.backward(tensor(grad))
    np.testing.assert_allclose(ours(x), out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.backward(grad), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    names = [name for name, _ in theirs.named_parameters()]
    assert [name for name, _ in ours.named_parameters()] == names
    for (name, parameter), their_parameter in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(
            parameter.grad, their_parameter.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name
        )


def test_to_torch_round_trip_keeps_weights_and_output() -> None:
    ours = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, seed=0), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 2, seed=1)
    )
    theirs = ours.to_torch()
    x = np.random.default_rng(0).standard_normal((3, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(ours(x), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    back = nn.from_torch(theirs)
    for a, b in zip(ours.parameters(), back.parameters()):
        np.testing.assert_array_equal(a, b)


def test_gradients_accumulate_until_zero_grad() -> None:
    conv = nn.Conv2d(1, 1, 2, seed=0)
    x, g = np.ones((1, 1, 3, 3), dtype=np.float32), np.ones((1, 1, 2, 2), dtype=np.float32)
    conv(x)
    conv.backward(g)
    once = conv.weight.grad.copy()
    conv.backward(g)
    np.testing.assert_array_equal(conv.weight.grad, 2 * once)
    conv.zero_grad()
    assert conv.weight.grad is None
    assert conv.bias is not None
    assert conv.bias.grad is None


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda: nn.Conv2d(4, 6, 3, seed=0), (2, 4, 9, 9)),
        (lambda: nn.Conv2d(16, 8, 3, padding=1, seed=1), (8, 16, 96, 96)),  # megabytes: copied on all cores
        (lambda: nn.Conv2d(16, 8, 3, seed=2), (2, 16, 120, 120)),  # fewer images than channels
        (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, seed=3), (3, 4, 8, 8)),
        (lambda: nn.Linear(12, 5, seed=4), (7, 12)),
        (nn.ReLU, (3, 4, 10, 10)),
        (nn.Sigmoid, (3, 4, 10, 10)),
        (nn.Tanh, (5, 7)),
    ],
    ids=["conv", "conv-large", "conv-few-images", "transposed", "linear", "relu", "sigmoid", "tanh"],
)
def test_changing_the_input_or_output_after_forward_leaves_the_gradients_alone(
    make: Any, shape: tuple[int, ...]
) -> None:
    """The layer keeps its own copy of what backward needs: a caller that reuses its arrays before backward (a
    data loader filling the next batch in place, an output scaled in place) still gets the gradients of the
    input it passed."""
    x = np.random.default_rng(len(shape)).standard_normal(shape).astype(np.float32)
    untouched, reused = make(), make()
    grad = np.ones_like(untouched(x.copy()))
    out = reused(x)
    x[...] = 7  # the caller's arrays, changed before backward
    out[...] = 0.5
    np.testing.assert_array_equal(reused.backward(grad), untouched.backward(grad))
    for name, parameter in untouched.named_parameters():
        np.testing.assert_array_equal(dict(reused.named_parameters())[name].grad, parameter.grad)


def test_assigning_a_kernel_keeps_the_parameter() -> None:
    conv = nn.Conv2d(1, 1, 2, bias=False)
    conv.weight = [[[[1, 0], [0, -1]]]]  # the lesson's Lab 1 kernel
    assert isinstance(conv.weight, nn.Parameter)
    assert conv.weight.dtype == np.float32
    image = np.array([[[[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]]], dtype=np.float32)
    np.testing.assert_array_equal(conv(image)[0, 0], [[-2, 2, -4], [4, 0, -1], [0, 0, 1]])


def test_unbatched_input_through_a_layer() -> None:
    conv = nn.Conv2d(3, 8, 3, padding=1, seed=0)
    x = np.random.default_rng(0).standard_normal((3, 32, 32)).astype(np.float32)
    out = conv(x)
    assert out.shape == (8, 32, 32)
    assert conv.backward(np.ones_like(out)).shape == (3, 32, 32)


def test_parameter_arithmetic_gives_plain_arrays() -> None:
    weight = nn.Conv2d(1, 1, 2).weight
    assert type(weight * 2) is np.ndarray
    assert type(weight.sum()) is np.float32
