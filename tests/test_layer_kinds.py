"""The registry of layer kinds: one entry makes a kind known everywhere, and the graph runner runs like PyTorch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.errors import ArgumentError, ArgumentTypeError
from convlab.network import layer_kinds, runner
from convlab.network.check import check
from convlab.network.from_torch import trace
from convlab.network.graph import Field, Op, Params, Shape, spatial
from convlab.network.layer_strings import LayerString, parse_stack
from convlab.network.receptive_field import receptive_field
from convlab.network.summary import summary


@dataclass(frozen=True)
class ZeroPad(Op):
    """A toy kind declared only here: zero padding on every side, torch's ZeroPad2d."""

    padding: int = 1
    kind: ClassVar[str] = "zeropad"
    names: ClassVar[tuple[str, ...]] = ("zeropad",)
    counted: ClassVar[bool] = True
    torch_modules: ClassVar[tuple[str, ...]] = ("ZeroPad2d",)

    def output_shape(self, inputs: list[Shape], name: str) -> Shape:
        n, c, h, w = spatial(inputs[0], name, self.kind)
        return (n, c, h + 2 * self.padding, w + 2 * self.padding)

    def field(self, fields: list[Field], inputs: list[Shape]) -> tuple[Field, int]:
        return fields[0].through((1, 1), (1, 1), (self.padding, self.padding)), 0

    @classmethod
    def from_string(cls, layer: LayerString) -> Op:
        return ZeroPad(layer.count("padded cells"))

    @classmethod
    def from_torch(cls, module: Any, name: str) -> Op:
        return ZeroPad(module.padding[0])

    def forward(self, inputs: list[Any], params: Params, algorithm: str = "auto") -> Any:
        p = self.padding
        return np.pad(inputs[0], ((0, 0), (0, 0), (p, p), (p, p)))

    def backward(self, inputs: list[Any], grad: Any, params: Params, algorithm: str = "auto") -> list[Any]:
        p = self.padding
        return [grad[:, :, p:-p, p:-p]]


@pytest.fixture
def with_zeropad(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layer_kinds, "KINDS", [*layer_kinds.KINDS, ZeroPad])


def _padded_torch_model() -> torch.nn.Sequential:
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.ZeroPad2d(2), torch.nn.Conv2d(4, 4, 3), torch.nn.Flatten()
    )


def test_an_unregistered_kind_is_unknown_everywhere() -> None:
    with pytest.raises(ArgumentError, match="unknown layer 'zeropad'"):
        parse_stack("conv3x3(4) zeropad(1)")
    with pytest.raises(ArgumentTypeError, match="ZeroPad2d is not a layer convlab can summarise"):
        trace(_padded_torch_model())


@pytest.mark.usefixtures("with_zeropad")
def test_one_registry_entry_reaches_layer_strings_and_summary() -> None:
    model = _padded_torch_model()
    outputs: list[tuple[int, ...]] = []
    for module in model:
        module.register_forward_hook(lambda _m, _i, out: outputs.append(tuple(out.shape)))
    model(torch.zeros(1, 1, 10, 10))

    from_torch = summary(model, "1x10x10")
    from_string = summary("conv3x3(4) zeropad(2) conv3x3(4) flatten", "1x10x10")
    assert [layer.output_shape for layer in from_torch.layers] == outputs
    assert [layer.output_shape for layer in from_string.layers] == outputs
    assert from_string.layers[1].kind == "zeropad"
    assert from_torch.total_params == sum(p.numel() for p in model.parameters())


@pytest.mark.usefixtures("with_zeropad")
def test_one_registry_entry_reaches_receptive_fields_and_their_backward_check() -> None:
    result = receptive_field("conv3x3(1) zeropad(2) conv3x3(1)", "1x16x16", check=True)
    pad = {layer.name: layer for layer in result.layers}["2.zeropad"]
    # by hand: padding keeps the 3-cell field and moves its first centre 2 cells up and left, from 1 to -1
    assert pad.rf == (3, 3)
    assert pad.start == (-1, -1)
    assert result.check is not None
    assert result.check.agree, result.check.text


@pytest.mark.usefixtures("with_zeropad")
def test_one_registry_entry_reaches_the_whole_network_check() -> None:
    # 10 -> conv3 -> 8 -> pad 2 -> 12 -> conv3 -> 10: a Linear built for the unpadded 6x6 map is wrong
    model = torch.nn.Sequential(*_padded_torch_model(), torch.nn.Linear(4 * 6 * 6, 10))
    report = check(model, "1x10x10")
    assert [problem.layer for problem in report.errors] == ["4"]
    assert "400" in report.errors[0].diagnosis.what
    with pytest.raises(RuntimeError, match="400"):  # PyTorch agrees about the 4 * 10 * 10 features
        model(torch.zeros(1, 1, 10, 10))


def test_every_layer_string_name_belongs_to_exactly_one_kind() -> None:
    names = layer_kinds.string_names()
    assert len(names) == len(set(names))
    for name in names:
        kind = layer_kinds.kind_named(name)
        assert kind is not None
        assert name in kind.names


def _parameters(model: torch.nn.Module) -> dict[str, Params]:
    return {
        name: {key: value.detach().numpy() for key, value in module.state_dict().items()}
        for name, module in model.named_modules()
        if name
    }


@settings(max_examples=25)
@given(
    channels=st.integers(1, 3),
    size=st.integers(6, 11),
    stride=st.integers(1, 2),
    activation=st.sampled_from([torch.nn.ReLU, torch.nn.Sigmoid, torch.nn.Tanh]),
    pool=st.sampled_from([torch.nn.MaxPool2d, torch.nn.AvgPool2d]),
    seed=st.integers(0, 2**16),
)
def test_the_runner_matches_torch_forward_and_backward(
    channels: int,
    size: int,
    stride: int,
    activation: type[torch.nn.Module],
    pool: type[torch.nn.Module],
    seed: int,
) -> None:
    torch.manual_seed(seed)
    norm = torch.nn.BatchNorm2d(4)
    norm.running_mean.uniform_(-1, 1)
    norm.running_var.uniform_(0.5, 2)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(channels, 4, 3, stride=stride, padding=1),
        norm,
        activation(),
        pool(2),
        torch.nn.ConvTranspose2d(4, 2, 3, stride=2),
        torch.nn.AdaptiveAvgPool2d(3),
        torch.nn.Flatten(),
        torch.nn.Linear(18, 5),
    ).double()
    model.eval()
    x = torch.randn(2, channels, size, size, dtype=torch.float64, requires_grad=True)
    grad_out = torch.randn(2, 5, dtype=torch.float64)
    expected = model(x)
    expected.backward(grad_out)
    assert x.grad is not None

    graph = trace(model)
    run = runner.forward(graph, x.detach().numpy(), _parameters(model))
    grads = runner.backward(graph, run, grad_out.numpy())

    np.testing.assert_allclose(run.values[graph.output], expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads["input"], x.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_the_runner_refuses_a_layer_it_cannot_run() -> None:
    graph = parse_stack("conv3x3(2) gelu")
    with pytest.raises(ArgumentError, match="gelu layers cannot be run"):
        runner.forward(graph, np.ones((1, 1, 5, 5)), {"1.conv": {"weight": np.ones((2, 1, 3, 3))}})
