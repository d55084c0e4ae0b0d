"""summary(): shapes, parameters and MACs of presets, layer strings and torch models."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab import nn
from convlab.errors import ArgumentError, ConvlabError, ShapeError
from convlab.network.as_graph import as_graph
from convlab.network.layer_strings import parse_stack
from convlab.network.summary import summary
from tests.oracle import count

# Published figures: torchvision's model cards (docs.pytorch.org/vision/stable/models.html), "Params" and "GFLOPS";
# torchvision counts a multiply-add of a convolution or linear layer once, without the bias.
TORCHVISION = {
    "alexnet": (61_100_840, 0.71),
    "vgg16": (138_357_544, 15.47),
    "resnet18": (11_689_512, 1.81),
    "resnet50": (25_557_032, 4.09),
}


@pytest.mark.parametrize("name", TORCHVISION)
def test_presets_match_torchvisions_published_parameters_and_macs(name: str) -> None:
    params, gmacs = TORCHVISION[name]
    result = summary(name)
    assert result.total_params == params
    assert round(result.total_macs / 1e9, 2) == gmacs
    assert result.layers[-1].output_shape == (1, 1000)


def test_lenet5_by_hand() -> None:
    # (5*5*1+1)*6 + (5*5*6+1)*16 + (400*120+120) + (120*84+84) + (84*10+10), LeCun et al. 1998 on 32x32
    assert summary("lenet5").total_params == 156 + 2416 + 48120 + 10164 + 850 == 61706
    shapes = {layer.name: layer.output_shape for layer in summary("lenet5").layers}
    assert shapes["pool2"] == (1, 16, 5, 5)


def test_tiny_vgg_of_cnn_explainer_by_hand() -> None:
    result = summary("tinyvgg")
    shapes = {layer.name: layer.output_shape for layer in result.layers}
    assert shapes["max_pool_1"] == (1, 10, 30, 30)  # 64 -> 62 -> 60 -> 30
    assert shapes["max_pool_2"] == (1, 10, 13, 13)  # 30 -> 28 -> 26 -> 13
    assert result.total_params == (3 * 9 + 1) * 10 + 3 * (10 * 9 + 1) * 10 + (1690 * 10 + 10)


def test_records_carry_every_field() -> None:
    layer = next(layer for layer in summary("resnet18").layers if layer.name == "conv1")
    assert (layer.kind, layer.output_shape, layer.params, layer.macs) == (
        "conv",
        (1, 64, 112, 112),
        9408,
        64 * 112 * 112 * 3 * 49,
    )
    assert layer.memory_bytes == 64 * 112 * 112 * 4
    assert (layer.rf, layer.jump, layer.start) == ((7, 7), (2, 2), (0, 0))


def test_the_table_has_every_layer_and_totals() -> None:
    text = str(summary("resnet18"))
    assert "layer4.1.conv2" in text
    assert "total: 11,689,512 params" in text
    assert "1.81G MACs" in text


def test_batch_scales_macs_and_memory_not_parameters() -> None:
    one, eight = summary("tinyvgg", "1x3x64x64"), summary("tinyvgg", (8, 3, 64, 64))
    assert eight.total_params == one.total_params
    assert eight.total_macs == 8 * one.total_macs
    assert eight.total_memory_bytes == 8 * one.total_memory_bytes


# A chain drawn at random, written both as a layer string and as a torch Sequential.
@st.composite
def chains(draw):  # type: ignore[no-untyped-def]
    layers, modules, channels, size = [], [], 3, draw(st.integers(12, 40))
    start = size  # the input's side: the sizes above are checked against it
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["conv", "pool", "relu", "bn"]))
        if kind == "conv":
            out, k, s, d = (
                draw(st.integers(1, 8)),
                draw(st.integers(1, 4)),
                draw(st.integers(1, 2)),
                draw(st.integers(1, 2)),
            )
            p = draw(st.integers(0, k // 2 + 1))
            if size + 2 * p < d * (k - 1) + 1:
                continue
            layers.append(f"conv{k}x{k}({out},s{s},p{p},d{d})")
            modules.append(torch.nn.Conv2d(channels, out, k, s, p, d))
            channels, size = out, (size + 2 * p - d * (k - 1) - 1) // s + 1
        elif kind == "pool":
            k = draw(st.integers(1, 3))
            ceil = draw(st.booleans())
            if size < k:
                continue
            layers.append(f"maxpool({k}{',ceil' if ceil else ''})")
            modules.append(torch.nn.MaxPool2d(k, ceil_mode=ceil))
            size = -(-(size - k) // k) + 1 if ceil else (size - k) // k + 1
        elif kind == "relu":
            layers.append("relu")
            modules.append(torch.nn.ReLU())
        else:
            layers.append("bn")
            modules.append(torch.nn.BatchNorm2d(channels))
    layers += ["flatten", "linear(5)"]
    modules += [torch.nn.Flatten(), torch.nn.LazyLinear(5)]
    return " ".join(layers), torch.nn.Sequential(*modules), start


@settings(max_examples=100, deadline=None)
@given(chains(), st.integers(1, 2))
def test_layer_strings_agree_with_the_same_torch_model(chain, batch: int) -> None:  # type: ignore[no-untyped-def]
    count("layer string vs torch")
    spec, model, size = chain
    model.eval()  # BatchNorm then uses its running statistics: a 1x1 map with batch 1 is valid
    x = torch.zeros(batch, 3, size, size)
    outputs = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: outputs.append(tuple(out.shape))) for m in model]
    model(x)
    for hook in hooks:
        hook.remove()
    result = summary(spec, (batch, 3, size, size))
    assert [layer.output_shape for layer in result.layers] == outputs
    assert result.total_params == sum(p.numel() for p in model.parameters())


class Residual(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.conv1 = torch.nn.Conv2d(16, 16, 3, padding=1, bias=False)
        self.bn = torch.nn.BatchNorm2d(16)
        self.conv2 = torch.nn.Conv2d(16, 16, 3, padding=1)
        self.side = torch.nn.Conv2d(16, 8, 1)
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.head = torch.nn.Linear(24, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem(x))
        y = torch.relu(self.conv2(torch.relu(self.bn(self.conv1(x)))) + x)
        y = torch.cat([y, self.side(x)], dim=1)
        return self.head(torch.flatten(self.pool(y), 1))


def test_a_torch_model_with_residual_and_concat_is_traced() -> None:
    model = Residual()
    result = summary(model, (2, 3, 32, 32))
    shapes = {layer.name: layer.output_shape for layer in result.layers}
    assert shapes["add"] == (2, 16, 16, 16)
    assert shapes["cat"] == (2, 24, 16, 16)
    assert result.layers[-1].output_shape == tuple(model(torch.zeros(2, 3, 32, 32)).shape)
    assert result.total_params == sum(p.numel() for p in model.parameters())


def test_a_convlab_sequential_is_read() -> None:
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 10)
    )
    result = summary(model, (1, 8, 8))
    assert result.layers[-1].output_shape == (1, 10)
    assert result.layers[-1].output_shape == model(np.zeros((1, 1, 8, 8), np.float32)).shape
    assert result.total_params == sum(p.size for p in model.parameters())


@pytest.mark.parametrize(
    ("model", "input_shape", "error", "phrase"),
    [
        ("resnet19", None, ArgumentError, "did you mean resnet18"),
        ("conv3x3(8) relu maxpol2", "1x8x8", ArgumentError, "layer 3 at position 16: unknown layer 'maxpol'"),
        ("conv3x3(8", "1x8x8", ArgumentError, "never closed"),
        ("conv(8)", "1x8x8", ArgumentError, "needs a kernel size"),
        ("conv3x3(8,q2)", "1x8x8", ArgumentError, "cannot read 'q2'"),
        ("conv3x3(8) conv9x9(4)", "1x8x8", ShapeError, "2.conv: conv2d: the kernel spans 9"),
        ("conv3x3(8) linear(4)", "1x8x8", ShapeError, "got an image batch (1, 8, 6, 6): flatten it first"),
        ("relu", "3x0x8", ArgumentError, "below 1"),
        ("relu", "3-by-8", ArgumentError, "is not C x H x W"),
        ("conv3x3(8)", None, ArgumentError, "needs an input shape"),
        ("relu", "3x8x8x", ArgumentError, "is not C x H x W"),
        ("pool2", "1x8x8", ArgumentError, "did you mean maxpool2?"),
        ("conv3x(8)", "1x8x8", ArgumentError, "after 'conv' comes an optional size N or NxM"),
        ("conv3x3(8,,p1)", "1x8x8", ArgumentError, "cannot read an empty argument"),
        ("conv3x3(8,s2,s1)", "1x8x8", ArgumentError, "s is given twice"),
        ("flatten5", "1x8x8", ArgumentError, "flatten takes no size or arguments, not a kernel size"),
        ("relu(3)", "1x8x8", ArgumentError, "relu takes no size or arguments, not the number 3"),
        ("linear(10,k3)", "1x8x8", ArgumentError, "linear takes only nobias, not a kernel size"),
        ("avgpool(2,d2)", "1x8x8", ArgumentError, "avgpool takes only k, s, p, ceil, not d"),
        ("conv3x3(8,op1)", "1x8x8", ArgumentError, "conv takes only k, s, p, d, g, nobias, not op"),
    ],
)
def test_bad_models_and_shapes(
    model: str, input_shape: str | None, error: type[ConvlabError], phrase: str
) -> None:
    with pytest.raises(error, match=re.escape(phrase)):
        summary(model, input_shape)


def test_untraceable_torch_models_say_where() -> None:
    class Branchy(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.sum() > 0:
                return x
            return -x

    where = r"at forward\(\) line \d+: `if x.sum\(\) > 0:`"
    with pytest.raises(ConvlabError, match=where) as raised:
        as_graph(Branchy())  # no input shape to run it with
    assert (raised.value.fix or "").endswith(
        'or give its input shape to read it by running it: input_shape="3x224x224"'
    )
    ran = summary(Branchy(), (1, 4, 4))  # with one, it is read by running it, and says why
    assert re.search(where, ran.notes[0])
    assert [(layer.name, layer.kind, layer.output_shape) for layer in ran.layers] == [
        ("branchy", "branchy", (1, 1, 4, 4))
    ]
    assert ran.notes[1] == "opaque modules (their MACs are not counted): Branchy (branchy)"


def test_empty_parentheses_are_no_arguments() -> None:
    assert [node.op for node in parse_stack("relu() conv3x3(4)").nodes] == [
        node.op for node in parse_stack("relu conv3x3(4)").nodes
    ]


def test_layer_names_follow_position_and_kind() -> None:
    assert [node.name for node in parse_stack("conv3x3(8,p1) relu maxpool(2) flatten fc(3)").nodes] == [
        "1.conv",
        "2.relu",
        "3.maxpool",
        "4.flatten",
        "5.linear",
    ]
