"""Summaries and checks of any torch model: torch.fx where it can express the model, forward hooks where not.

PyTorch is the oracle for shapes and parameter counts; torchvision's model cards for the three mobile
networks' totals (tests/torch_models.py writes them from their papers, with torchvision's layout).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import convlab
from convlab.cli import main
from convlab.errors import ArgumentTypeError, ConvlabError, ShapeError
from convlab.network.as_graph import as_graph
from convlab.network.check import check
from convlab.network.from_hooks import record
from convlab.network.receptive_field import receptive_field
from convlab.network.summary import Summary, summary
from tests.torch_models import EfficientNetB0, MobileNetV2, MobileNetV3Small

# torchvision's model cards (weights=None): parameters and GMACs ("GFLOPS" there) at 3x224x224
PUBLISHED = {
    "mobilenet_v2": (MobileNetV2, 3_504_872, 0.30),
    "mobilenet_v3_small": (MobileNetV3Small, 2_542_856, 0.06),
    "efficientnet_b0": (EfficientNetB0, 5_288_548, 0.39),
}


@pytest.fixture(scope="module")
def summaries() -> dict[str, tuple[nn.Module, Summary]]:
    torch.manual_seed(0)
    built = {name: build() for name, (build, _, _) in PUBLISHED.items()}
    return {name: (model, summary(model, (3, 224, 224))) for name, model in built.items()}


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_the_mobile_networks_match_their_model_cards(
    name: str, summaries: dict[str, tuple[nn.Module, Summary]]
) -> None:
    model, result = summaries[name]
    _, params, gmacs = PUBLISHED[name]
    assert sum(p.numel() for p in model.parameters()) == params  # the definitions are torchvision's
    assert result.total_params == params
    assert round(result.total_macs / 1e9, 2) == gmacs
    assert result.layers[-1].output_shape == (1, 1000)


def test_fx_reads_mobilenet_v2_and_hooks_read_the_others(summaries: dict[str, tuple[nn.Module, Summary]]) -> None:
    assert summaries["mobilenet_v2"][1].notes == ()
    assert summaries["mobilenet_v2"][1].fields_known
    for name in ("mobilenet_v3_small", "efficientnet_b0"):
        notes = summaries[name][1].notes
        assert notes[0].startswith("read by running the model with forward hooks (torch.fx: node 'mul' calls mul")
        assert not summaries[name][1].fields_known
    # StochasticDepth is no layer convlab knows: counted as opaque, and named
    assert summaries["efficientnet_b0"][1].notes[1] == (
        "opaque modules (their MACs are not counted): StochasticDepth x9 (features.2.1.stochastic_depth, ...)"
    )
    assert len(summaries["mobilenet_v3_small"][1].notes) == 1  # Hardsigmoid is read as an activation


def test_hooks_and_fx_agree_where_both_can_read(summaries: dict[str, tuple[nn.Module, Summary]]) -> None:
    model, by_fx = summaries["mobilenet_v2"]
    graph = record(model, (1, 3, 224, 224))
    from convlab.network.summary import analyse

    by_hooks = {layer.name: layer for layer in analyse(graph, (1, 3, 224, 224))}
    modules = [layer for layer in by_fx.layers if layer.name in by_hooks]
    assert len(modules) == len(by_hooks)  # every module call is a node of both
    for layer in modules:
        measured = by_hooks[layer.name]
        assert (measured.output_shape, measured.params, measured.macs) == (
            layer.output_shape,
            layer.params,
            layer.macs,
        )
        assert measured.input_shape == layer.input_shape


def test_reading_by_hooks_leaves_the_model_as_it_was() -> None:
    model = MobileNetV3Small()
    model.train()
    model.features[1].eval()
    before = {name: module.training for name, module in model.named_modules()}
    record(model, (2, 3, 64, 64))
    assert {name: module.training for name, module in model.named_modules()} == before
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


class SqueezeNet(nn.Module):
    """A small network with what torch.fx cannot read as layers: a squeeze-excitation product and .mean."""

    def __init__(self, channels: int, kernel: int, classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, channels, kernel, padding=kernel // 2)
        self.squeeze = nn.Linear(channels, max(1, channels // 2))
        self.excite = nn.Linear(max(1, channels // 2), channels)
        self.gate = nn.Hardsigmoid()
        self.head = nn.Linear(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(x))
        weights = self.gate(self.excite(torch.relu(self.squeeze(x.mean((2, 3))))))
        x = x * weights[:, :, None, None]
        return self.head(x.mean((2, 3)))


@settings(max_examples=15, deadline=None)
@given(
    channels=st.integers(1, 12),
    kernel=st.sampled_from([1, 3, 5]),
    classes=st.integers(1, 7),
    size=st.integers(5, 20),
    batch=st.integers(1, 3),
)
def test_any_model_is_summarised_as_pytorch_runs_it(
    channels: int, kernel: int, classes: int, size: int, batch: int
) -> None:
    model = SqueezeNet(channels, kernel, classes)
    result = summary(model, (batch, 3, size, size))
    assert result.total_params == sum(p.numel() for p in model.parameters())
    with torch.no_grad():
        assert result.layers[-1].output_shape == tuple(model(torch.zeros(batch, 3, size, size)).shape)
    conv = next(layer for layer in result.layers if layer.name == "conv")
    assert conv.output_shape == (batch, channels, size, size)
    # MACs: the convolution's and the three Linear layers', by hand
    half = max(1, channels // 2)
    expected = batch * (channels * size * size * 3 * kernel * kernel + 2 * channels * half + channels * classes)
    assert result.total_macs == expected


def test_the_view_idiom_is_read_and_other_views_are_refused_with_the_flatten_fix() -> None:
    class Net(nn.Module):
        def __init__(self, view: str) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)
            self.fc = nn.Linear(4 * 6 * 6, 10)
            self.view = view

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = torch.relu(self.conv(x))
            if self.view == "size":
                x = x.view(x.size(0), -1)
            elif self.view == "shape":
                x = x.reshape(x.shape[0], -1)
            else:
                x = x.view(-1, 144)
            return self.fc(x)

    for idiom in ("size", "shape"):
        graph, _ = as_graph(Net(idiom))
        assert [node.op.kind for node in graph.nodes] == ["conv", "relu", "flatten", "linear"]
        assert graph.notes == ()
        assert check(Net(idiom), (1, 8, 8)).ok
        assert check(Net(idiom), (1, 10, 10)).errors[0].layer == "fc"
    with pytest.raises(ArgumentTypeError, match=r"calls \.view\(-1, 144\)") as raised:
        as_graph(Net("constant"))
    assert "torch.flatten(x, 1)" in (raised.value.fix or "")
    assert summary(Net("constant"), (1, 8, 8)).total_params == 4 * 9 + 4 + 144 * 10 + 10  # read by running it


def test_a_model_read_by_running_it_is_checked_where_it_fails() -> None:
    model = MobileNetV3Small()
    gray = check(model, (1, 64, 64)).errors[0]
    assert (gray.layer, gray.diagnosis.code) == ("features.0.0", "grayscale-into-rgb")
    nhwc = check(model, (2, 64, 64, 3)).errors[0]
    assert (nhwc.layer, nhwc.diagnosis.code) == ("features.0.0", "channels-last")
    assert nhwc.diagnosis.torch_fix == "x = x.permute(0, 3, 1, 2)"
    assert check(model, (3, 64, 64)).ok


def test_receptive_fields_are_refused_for_a_model_read_by_running_it() -> None:
    with pytest.raises(ArgumentTypeError, match="receptive fields are unknown") as raised:
        receptive_field(SqueezeNet(4, 3, 2), (3, 16, 16))
    assert "torch.flatten(x, 1)" in (raised.value.fix or "")


def test_depth_groups_nested_layers_and_keeps_the_totals() -> None:
    full, shallow = summary("resnet18"), summary("resnet18", depth=1)
    assert [layer.name for layer in shallow.layers] == [
        "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "flatten", "fc",
    ]  # fmt: skip
    assert (shallow.total_params, shallow.total_macs) == (full.total_params, full.total_macs)
    layer2 = shallow.layers[5]
    assert (layer2.input_shape, layer2.output_shape) == ((1, 64, 56, 56), (1, 128, 28, 28))
    assert layer2.params == sum(layer.params for layer in full.layers if layer.name.startswith("layer2."))
    assert summary("resnet18", depth=4).layers == full.layers  # layer2.0.downsample.0 is the deepest
    with pytest.raises(ConvlabError, match="depth"):
        summary("resnet18", depth=0)


def test_the_table_shows_input_size_kernel_and_parameter_share(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "conv3x3(8,p1) relu maxpool2 flatten linear(10)", "--input", "3x8x8"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:9] == [
        "layer", "kind", "input", "shape", "output", "shape", "kernel", "params", "params",
    ]  # fmt: skip
    conv = lines[3]
    # 8*3*9 + 8 = 224 of 224 + 1290 = 1514 parameters: 14.8%
    assert conv.split()[:11] == ["1.conv", "conv", "3x3,", "8,", "p1", "(1,", "3,", "8,", "8)", "(1,", "8,"]
    assert conv.split()[13:16] == ["3x3", "224", "14.8%"]
    assert "85.2%" in lines[7]
    assert main(["summary", "resnet18", "--depth", "1"]) == 0
    assert "layer1   14 layers" in capsys.readouterr().out


def _write(path: Path, text: str) -> None:
    path.write_text(text)


def test_cli_reads_a_model_that_imports_a_module_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "blocks_17a.py", "import torch.nn as nn\n\ndef stem():\n    return nn.Conv2d(3, 8, 3)\n")
    _write(
        tmp_path / "net.py",
        "import torch\nimport torch.nn as nn\nfrom blocks_17a import stem\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.stem = stem()\n"
        "    def forward(self, x):\n        y = self.stem(x)\n"
        "        return y * torch.sigmoid(y.mean((2, 3), keepdim=True))\n",
    )
    path_before = list(sys.path)
    assert main(["summary", "--model", f"{tmp_path / 'net.py'}:Net", "--input", "3x16x16", "--json"]) == 0
    assert sys.path == path_before
    answer: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert answer["total_params"] == 8 * 3 * 9 + 8
    assert answer["layers"][0]["output_shape"] == [1, 8, 14, 14]
    assert answer["notes"][0].startswith("read by running the model with forward hooks")
    # without --input it cannot be run: one line, and the fix names the flag
    assert main(["summary", "--model", f"{tmp_path / 'net.py'}:Net"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.endswith("or give its input shape to read it by running it: --input 3x224x224)\n")
    sys.modules.pop("blocks_17a", None)


# --- explain_errors, whatever the model is ---------------------------------------------------------------


class Gated(nn.Module):
    """A custom module torch.fx cannot read as layers (a product with a gate)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return y * torch.sigmoid(y.mean((2, 3), keepdim=True))


@pytest.mark.parametrize(
    "model",
    [nn.Conv2d(3, 8, 3), nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()), Gated()],
    ids=["single layer", "container", "custom module"],
)
def test_explain_errors_gives_the_permute_fix_for_nhwc_input(model: nn.Module) -> None:
    with pytest.raises(ShapeError) as raised, convlab.explain_errors(model):
        model(torch.zeros(2, 16, 16, 3))
    assert raised.value.fix == "x = x.permute(0, 3, 1, 2)"
    assert "looks like (N, H, W, C)" in raised.value.message
    assert isinstance(raised.value.__cause__, RuntimeError)


def test_explain_errors_on_a_single_linear_layer() -> None:
    model = nn.Linear(10, 4)
    with pytest.raises(ShapeError) as raised, convlab.explain_errors(model):
        model(torch.zeros(2, 12))
    assert raised.value.fix == "nn.Linear(12, 4)"


def test_a_single_layer_is_one_node() -> None:
    graph, _ = as_graph(nn.Conv2d(3, 8, 3, stride=2))
    assert [(node.name, node.op.kind, node.inputs) for node in graph.nodes] == [("conv2d", "conv", ("input",))]
    assert summary(nn.Conv2d(3, 8, 3, stride=2), (3, 9, 9)).layers[0].output_shape == (1, 8, 4, 4)
    assert math.isclose(summary(nn.Conv2d(3, 8, 3), (3, 9, 9)).total_macs, 8 * 7 * 7 * 3 * 9)


def test_a_squeeze_excitation_branch_is_no_shrunk_map() -> None:
    # its pooling to 1x1 feeds only 1x1 convolutions; the main path keeps its size
    assert check(MobileNetV3Small(), (3, 224, 224)).problems == ()

    class Shrinks(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.down = nn.Conv2d(3, 8, 3, stride=4)
            self.conv = nn.Conv2d(8, 8, 3, padding=1)
            self.gate = nn.Sigmoid()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.down(x)
            return self.conv(y) * self.gate(y)

    (warning,) = check(Shrinks(), (3, 3, 3)).problems  # read by running it: the 3x3 conv gets the 1x1 map
    assert (warning.layer, warning.diagnosis.code) == ("down", "shrunk-to-1x1")
    assert warning.diagnosis.evidence[1] == "conv slides a 3x3 kernel over it"
