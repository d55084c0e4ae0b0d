"""Presets are the published networks: their layers are fixed, and another input is a mistake with its fix."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.cli import main
from convlab.errors import ShapeError
from convlab.network.check import check
from convlab.network.layer_kinds import BatchNorm, Conv, Linear
from convlab.network.presets import PRESETS, preset
from convlab.network.summary import summary
from convlab.web import api

# in_features of the first fully connected layer in the published definitions (LeCun et al. 1998: 16 maps of
# 5x5; torchvision: 256*6*6, 512*7*7, 512 and 2048 after global pooling; CNN Explainer: 10 maps of 13x13)
FIRST_LINEAR = {"lenet5": 400, "alexnet": 9216, "vgg16": 25088, "resnet18": 512, "resnet50": 2048, "tinyvgg": 1690}


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_declares_the_sizes_of_its_published_input(name: str) -> None:
    graph, input_shape = preset(name)
    assert graph.designed_for == input_shape
    convs = [node.op for node in graph.nodes if isinstance(node.op, Conv)]
    assert convs[0].in_channels == input_shape[0]
    assert all(op.in_channels is not None for op in convs)
    assert all(op.num_features is not None for node in graph.nodes if isinstance(op := node.op, BatchNorm))
    linears = [node.op for node in graph.nodes if isinstance(node.op, Linear)]
    assert all(op.in_features is not None for op in linears)
    if name in FIRST_LINEAR:
        assert linears[0].in_features == FIRST_LINEAR[name]
    report = check(name)
    assert report.ok
    assert report.inferred == ()


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(list(PRESETS)), channels=st.integers(1, 8), batched=st.booleans())
def test_another_channel_count_is_a_mistake_naming_the_published_one(
    name: str, channels: int, batched: bool
) -> None:
    c, h, w = PRESETS[name][1]
    if channels == c:
        channels += 1
    shape = (2, channels, h, w) if batched else (channels, h, w)
    problem = check(name, shape).errors[0]
    assert problem.layer == next(node.name for node in preset(name)[0].nodes)
    meant = "x".join(map(str, (2, c, h, w) if batched else (c, h, w)))
    assert problem.message.startswith(f"{name} expects {c} channels; got {channels}")
    assert f"did you mean {meant}?" in problem.message
    assert problem.diagnosis.fix == f'input="{meant}"'
    assert check(name, problem.diagnosis.fix.split('"')[1]).ok  # the fix is right


@pytest.mark.parametrize("name", [name for name, (_, shape) in PRESETS.items() if shape[0] == 3])
def test_a_channels_last_input_is_recognised(name: str) -> None:
    c, h, w = PRESETS[name][1]
    problem = check(name, (h, w, c)).errors[0]
    assert problem.diagnosis.code == "hwc-image"
    assert f"expects 3 channels; got {w}: {h}x{w}x3 is channels-last (H, W, C); did you mean 3x{h}x{w}?" in (
        problem.message
    )
    batch = check(name, (4, h, w, c)).errors[0]
    assert batch.diagnosis.code == "channels-last"
    assert f"did you mean 4x3x{h}x{w}?" in batch.message


def test_lenet5_on_mnist_sized_input_reports_fc1() -> None:
    # 28 -> conv5 24 -> pool 12 -> conv5 8 -> pool 4: 16*4*4 = 256 features where fc1 has 400 (16*5*5 from 32)
    report = check("lenet5", "1x28x28")
    assert [(p.layer, p.severity) for p in report.problems] == [("fc1", "error")]
    assert "lenet5 is built for input 1x32x32; with 1x28x28" in report.problems[0].message
    assert "Linear(in_features=400, out_features=120) got an input of shape (1, 256)" in report.problems[0].message
    assert report.problems[0].diagnosis.fix == 'input="1x32x32"'


def test_another_size_that_fits_is_no_mistake() -> None:
    assert check("resnet18", "3x320x320").ok  # global average pooling: any size from 32 up works
    assert summary("resnet18", "3x320x320").total_params == summary("resnet18").total_params


def test_summary_and_rf_refuse_a_wrong_input_with_the_same_fix() -> None:
    from convlab.network.receptive_field import receptive_field

    for run in (summary, receptive_field):
        with pytest.raises(ShapeError, match=r"conv1: resnet18 expects 3 channels; got 1") as raised:
            run("resnet18", "1x224x224")
        assert raised.value.fix == 'input="3x224x224"'


def test_cli_check_says_what_to_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "resnet18", "--input", "224x224x3"]) == 1
    out = capsys.readouterr().out
    assert "resnet18 expects 3 channels; got 224: 224x224x3 is channels-last (H, W, C)" in out
    assert "fix: --input 3x224x224" in out
    assert main(["check", "lenet5", "--input", "1x28x28", "--json"]) == 1
    problem = json.loads(capsys.readouterr().out)["problems"][0]
    assert problem["layer"] == "fc1"
    assert problem["fix"] == "--input 1x32x32"
    assert main(["summary", "resnet18", "--input", "1x224x224"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.endswith("(fix: --input 3x224x224)\n")


def test_a_layer_string_infers_its_sizes_and_check_says_which(capsys: pytest.CaptureFixture[str]) -> None:
    report = check("conv5x5(6) maxpool2 conv5x5(16) maxpool2 flatten linear(120) linear(10)", "1x28x28")
    assert report.ok
    assert report.inferred == (
        "1.conv in_channels=1",
        "3.conv in_channels=6",
        "6.linear in_features=256",
        "7.linear in_features=120",
    )
    assert main(["check", "conv3x3(8) bn", "--input", "3x8x8"]) == 0
    assert "inferred from the input: 1.conv in_channels=3; 2.batchnorm num_features=8" in capsys.readouterr().out


def test_the_page_reports_a_presets_wrong_input() -> None:
    answer = api.handle("network", {"model": "resnet18", "input": "1x224x224"})
    assert answer["layers"] == []
    assert answer["final"] is None
    (problem,) = answer["problems"]
    assert problem["severity"] == "error"
    assert problem["fix"] == "set Input to 3x224x224"
    assert "resnet18 expects 3 channels; got 1; did you mean 3x224x224?" in problem["line"]


def test_the_page_gets_what_a_layer_string_inferred() -> None:
    answer = api.handle("network", {"model": "conv3x3(8) flatten linear(10)", "input": "3x8x8"})
    assert answer["inferred"] == ["1.conv in_channels=3", "3.linear in_features=288"]  # 8 * 6 * 6
    assert api.handle("network", {"model": "lenet5"})["inferred"] == []
