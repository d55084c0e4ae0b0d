"""Module.backward_parameters: the parameters' gradients of backward, without the input's gradient.

A training step never uses the gradient of its images (torch does not compute it when the input does not
require grad); these tests check that skipping it changes no parameter's gradient, and that the work
skipped is really skipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab import nn
from convlab.errors import StateError
from convlab.optim import SGD
from convlab.train import fit


def model(channels: int, seed: int, dtype: Any = np.float64) -> nn.Sequential:
    """Every layer with a skippable input gradient: conv (first, so the image's gradient is the one
    skipped), BatchNorm, a residual block with a 1x1 shortcut, pooling, linear."""
    body = nn.Sequential(
        nn.Conv2d(channels, 4, 3, padding=1, seed=seed + 1, dtype=dtype),
        nn.BatchNorm2d(4, dtype=dtype),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1, bias=False, seed=seed + 2, dtype=dtype),
    )
    shortcut = nn.Sequential(nn.Conv2d(channels, 4, 1, seed=seed + 3, dtype=dtype), nn.BatchNorm2d(4, dtype=dtype))
    return nn.Sequential(
        nn.Residual(body, shortcut),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 2 * 2, 3, seed=seed + 4, dtype=dtype),
    )


def gradients(module: nn.Module) -> dict[str, np.ndarray]:
    return {name: np.array(parameter.grad) for name, parameter in module.named_parameters()}


@settings(max_examples=15, deadline=None)
@given(
    batch=st.integers(2, 4),
    channels=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    first_activation=st.booleans(),
)
def test_parameter_gradients_equal_those_of_the_whole_backward(
    batch: int, channels: int, seed: int, first_activation: bool
) -> None:
    """The same gradients, bit for bit, whether the input's gradient is computed or not; and as torch's
    with an input that does not require grad."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels, 4, 4))
    g = rng.standard_normal((batch, 3))
    full, partial = model(channels, seed), model(channels, seed)
    if first_activation:  # layers without parameters before the first that has some
        full, partial = nn.Sequential(nn.Tanh(), full), nn.Sequential(nn.Tanh(), partial)
    twin = full.to_torch()
    full(x), partial(x)
    full.backward(g)
    assert partial.backward_parameters(g) is None
    expected = gradients(full)
    assert gradients(partial).keys() == expected.keys()
    for name, value in gradients(partial).items():
        np.testing.assert_array_equal(value, expected[name], err_msg=name)

    twin(torch.from_numpy(x)).backward(torch.from_numpy(g))
    for name, parameter in twin.named_parameters():
        assert parameter.grad is not None
        # the gradients are sums of O(1) terms, rounded at 1e-16 each; a bias before BatchNorm has gradient 0
        # exactly, which both libraries give as rounding noise of a few 1e-12 (seed 224 drew -4.6e-12)
        np.testing.assert_allclose(expected[name], parameter.grad.numpy(), rtol=1e-10, atol=1e-10, err_msg=name)


def test_a_convolution_does_not_compute_its_input_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the input gradient was computed")

    monkeypatch.setattr(nn.conv, "conv2d_input_grad", refused)
    conv = nn.Conv2d(2, 3, 3, seed=0)
    out = conv(np.ones((1, 2, 5, 5), np.float32))
    conv.backward_parameters(np.ones_like(out))
    assert conv.weight.grad is not None
    assert conv.bias is not None
    assert conv.bias.grad is not None
    with pytest.raises(AssertionError, match="input gradient"):
        conv.backward(np.ones_like(out))


def test_layers_before_the_first_with_parameters_are_not_run_backward(monkeypatch: pytest.MonkeyPatch) -> None:
    chain = nn.Sequential(nn.ReLU(), nn.Linear(3, 2, seed=0), nn.ReLU())
    out = chain(np.ones((2, 3), np.float32))
    monkeypatch.setattr(chain[0], "backward", lambda grad: pytest.fail("ReLU before the linear layer ran"))
    chain.backward_parameters(np.ones_like(out))
    assert chain[1].weight.grad is not None


def test_a_chain_without_parameters_does_nothing() -> None:
    chain = nn.Sequential(nn.ReLU(), nn.Flatten())
    chain.backward_parameters(np.ones((2, 3), np.float32))  # not even the check of a forward first


def test_backward_parameters_before_forward_is_refused_with_the_fix() -> None:
    with pytest.raises(StateError, match="before forward") as raised:
        nn.Conv2d(1, 1, 3).backward_parameters(np.ones((1, 1, 2, 2), np.float32))
    assert "layer(x)" in str(raised.value.fix)


class OnlyBackward(nn.Module):
    """A user's layer that defines backward only: backward_parameters runs it whole."""

    def __init__(self) -> None:
        self.linear = nn.Linear(64, 10, seed=0)
        self.calls = 0

    def named_children(self) -> Any:
        yield "linear", self.linear

    def forward(self, input: object) -> np.ndarray:
        return self.linear(np.asarray(input).reshape(len(np.asarray(input)), -1))

    def backward(self, grad_output: object) -> np.ndarray:
        self.calls += 1
        return self.linear.backward(grad_output).reshape(-1, 1, 8, 8)


def test_fit_trains_a_model_that_defines_backward_only() -> None:
    rng = np.random.default_rng(0)
    images, labels = rng.random((20, 1, 8, 8), dtype=np.float32), rng.integers(0, 10, 20)
    layer = OnlyBackward()
    history = fit(
        layer, (images, labels), None, SGD(layer.parameters(), lr=0.1), nn.CrossEntropyLoss(), 2, batch_size=10
    )
    assert layer.calls == 4
    assert history.train_loss[1] < history.train_loss[0]
