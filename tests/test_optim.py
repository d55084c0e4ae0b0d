"""convlab.optim against torch.optim: the same gradients give the same parameters, step after step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab import nn, optim
from convlab.errors import ArgumentError, ArgumentTypeError

STEPS = 60

sgd_settings = st.fixed_dictionaries(
    {
        "lr": st.sampled_from([0.01, 0.1, 0.5]),
        "momentum": st.sampled_from([0.0, 0.5, 0.9]),
        "weight_decay": st.sampled_from([0.0, 1e-3, 0.1]),
    }
).flatmap(
    lambda s: st.fixed_dictionaries(
        {
            **{key: st.just(value) for key, value in s.items()},
            "dampening": st.sampled_from([0.0] if s["momentum"] == 0 else [0.0, 0.3]),
        }
    ).flatmap(
        lambda t: st.fixed_dictionaries(
            {
                **{key: st.just(value) for key, value in t.items()},
                "nesterov": st.sampled_from([False, True] if t["momentum"] and not t["dampening"] else [False]),
            }
        )
    )
)
adam_settings = st.fixed_dictionaries(
    {
        "lr": st.sampled_from([1e-3, 0.01, 0.1]),
        "betas": st.sampled_from([(0.9, 0.999), (0.5, 0.9), (0.0, 0.99)]),
        "eps": st.sampled_from([1e-8, 1e-3]),
        "weight_decay": st.sampled_from([0.0, 0.01]),
    }
)


def _run_both(
    ours: Callable[[list[nn.Parameter]], optim.Optimizer],
    theirs: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
    shapes: list[tuple[int, ...]],
    seed: int,
    dtype: Any = np.float64,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """STEPS steps of both on the same start, each gradient ``p - target + noise`` from that side's own p."""
    rng = np.random.default_rng(seed)
    starts = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    targets = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    noises = [[rng.standard_normal(shape).astype(dtype) for shape in shapes] for _ in range(STEPS)]
    params = [nn.Parameter(start.copy()) for start in starts]
    tensors = [torch.tensor(start.copy(), requires_grad=True) for start in starts]
    optimizer, reference = ours(params), theirs(tensors)
    for noise in noises:
        optimizer.zero_grad()
        reference.zero_grad()
        for p, t, target, n in zip(params, tensors, targets, noise):
            p.grad = np.asarray(p) - target + n
            t.grad = t.detach() - torch.from_numpy(target) + torch.from_numpy(n)
        optimizer.step()
        reference.step()
    return [np.asarray(p) for p in params], [t.detach().numpy() for t in tensors]


SHAPES = [(3, 2, 3, 3), (3,), (5, 4)]


@settings(max_examples=50, deadline=None)
@given(
    case=st.one_of(sgd_settings.map(lambda o: ("SGD", o)), adam_settings.map(lambda o: ("Adam", o))),
    seed=st.integers(0, 2**31),
)
def test_optimizers_follow_torch(case: tuple[str, dict[str, Any]], seed: int) -> None:
    name, options = case
    ours, theirs = _run_both(
        lambda p: getattr(optim, name)(p, **options),
        lambda t: getattr(torch.optim, name)(t, **options),
        SHAPES,
        seed,
    )
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * (1 + np.abs(b).max()))


@pytest.mark.parametrize("make", [optim.SGD, optim.Adam], ids=["SGD", "Adam"])
def test_float32_follows_torch(make: Any) -> None:
    ours, theirs = _run_both(
        lambda p: make(p, lr=0.01),
        lambda t: getattr(torch.optim, make.__name__)(t, lr=0.01),
        SHAPES,
        7,
        np.float32,
    )
    for a, b in zip(ours, theirs):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * (1 + np.abs(b).max()))


def test_step_updates_the_layer_arrays_in_place_and_the_convolution_sees_it() -> None:
    layer = nn.Conv2d(2, 3, 3, padding=1, seed=0, dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((2, 2, 12, 12))
    weight = layer.weight
    layer(x)  # any transform of the weight the engine keeps is made from the old values
    layer.backward(np.ones((2, 3, 12, 12)))
    optim.SGD(layer.parameters(), lr=0.1).step()
    assert layer.weight is weight  # the same array, updated where it lives
    fresh = torch.nn.functional.conv2d(
        torch.from_numpy(x),
        torch.from_numpy(np.asarray(layer.weight)),
        torch.from_numpy(np.asarray(layer.bias)),
        padding=1,
    )
    np.testing.assert_allclose(layer(x), fresh.numpy(), rtol=0, atol=1e-12 * 50)


def test_parameters_without_a_gradient_are_left_alone() -> None:
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    a.grad = np.ones(2)
    optim.SGD([a, b], lr=0.5, momentum=0.9).step()
    np.testing.assert_array_equal(a, [0.5, 0.5])
    np.testing.assert_array_equal(b, [1.0, 1.0])


def test_zero_grad_clears_every_gradient() -> None:
    layer = nn.Linear(3, 2, seed=0)
    layer(np.ones((1, 3), dtype=np.float32))
    layer.backward(np.ones((1, 2), dtype=np.float32))
    optimizer = optim.Adam(layer.parameters())
    optimizer.zero_grad()
    assert all(p.grad is None for p in layer.parameters())


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf")])
@pytest.mark.parametrize("make", [optim.SGD, optim.Adam], ids=["SGD", "Adam"])
def test_bad_learning_rates_are_refused_with_a_fix(make: Any, lr: float) -> None:
    with pytest.raises(
        ArgumentError, match=r"lr=.* must be a finite number > 0[\s\S]*fix: use a small positive lr"
    ):
        make(nn.Linear(2, 1).parameters(), lr=lr)


def test_a_nan_learning_rate_set_later_is_refused_at_step() -> None:
    layer = nn.Linear(2, 1)
    optimizer = optim.SGD(layer.parameters(), lr=0.1)
    optimizer.lr = float("nan")
    with pytest.raises(ArgumentError, match="lr=nan"):
        optimizer.step()


def test_other_bad_arguments_are_refused() -> None:
    with pytest.raises(ArgumentError, match="no parameters"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ArgumentTypeError, match="not a convlab Parameter"):
        optim.SGD([np.ones(2)], lr=0.1)  # type: ignore[list-item]
    with pytest.raises(ArgumentError, match="nesterov"):
        optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1, nesterov=True)
    with pytest.raises(ArgumentError, match="betas"):
        optim.Adam(nn.Linear(2, 1).parameters(), betas=(1.0, 0.999))


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda o: optim.StepLR(o, 3, 0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5)),
        (
            lambda o: optim.CosineAnnealingLR(o, 10, 0.01),
            lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 10, 0.01),
        ),
        (lambda o: optim.CosineAnnealingLR(o, 7), lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 7)),
    ],
    ids=["step", "cosine", "cosine-to-zero"],
)
def test_schedules_follow_torch(ours: Any, theirs: Any) -> None:
    optimizer = optim.SGD([nn.Parameter(np.zeros(1))], lr=0.2)
    reference = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    schedule, their_schedule = ours(optimizer), theirs(reference)
    for _ in range(10):  # up to and at the end of the cosine's half period
        optimizer.step()
        reference.step()
        schedule.step()
        their_schedule.step()
        assert optimizer.lr == pytest.approx(reference.param_groups[0]["lr"], rel=0, abs=1e-12)
