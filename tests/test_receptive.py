"""Receptive fields: the recurrence against published values, and against the engine's own backward."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convlab.errors import ShapeError
from convlab.network.receptive_field import receptive_field
from tests.oracle import count
from tests.test_summary import Residual


@pytest.mark.parametrize(
    ("name", "layer", "size"),
    [
        # Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural Networks",
        # Distill 2019 (distill.pub/2019/computing-receptive-fields), table of networks: AlexNet 195, VGG 16 212.
        ("alexnet", "features.pool5", 195),
        ("vgg16", "features.pool5", 212),
        # torchvision ResNets (stride on the 3x3 convolution): layer1..layer4 = 43, 99, 211, 435 for resnet18
        # and 35, 91, 267, 427 for resnet50, as tabulated in
        # gist.github.com/samson-wang/a6073c18f2adf16e0ab5fb95b53db3e6
        ("resnet18", "layer1.1.relu", 43),
        ("resnet18", "layer2.1.relu", 99),
        ("resnet18", "layer3.1.relu", 211),
        ("resnet18", "layer4.1.relu", 435),
        ("resnet50", "layer1.2.relu", 35),
        ("resnet50", "layer2.3.relu", 91),
        ("resnet50", "layer3.5.relu", 267),
        ("resnet50", "layer4.2.relu", 427),
        # by hand: two 5x5 convs with a 2x2 pool between, then another 2x2 pool: 5, 6, 14, 16
        ("lenet5", "pool2", 16),
        ("tinyvgg", "max_pool_2", 16),
    ],
)
def test_presets_against_published_values(name: str, layer: str, size: int) -> None:
    records = {record.name: record for record in receptive_field(name).layers}
    assert records[layer].rf == (size, size)


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "vgg16", "resnet18", "resnet50", "tinyvgg"])
def test_the_empirical_check_agrees_on_every_preset(name: str) -> None:
    result = receptive_field(name, check=True)
    assert result.check is not None
    assert result.check.agree, result.check.text
    rows = result.check.measured[0]  # type: ignore[index]
    assert rows[1] - rows[0] + 1 == result.final.rf[0]  # type: ignore[index]


def test_the_path_through_residual_branches_is_named() -> None:
    result = receptive_field("resnet18")
    assert result.final.name == "layer4.1.relu"
    assert result.path[0] == "conv1"
    assert "layer4.1.conv2" in result.path
    assert all("downsample" not in name for name in result.path)  # the 1x1 shortcut never sets the field
    adds = [record for record in result.layers if record.kind == "add"]
    assert all(record.via is not None and record.via.endswith(("bn2", "bn3")) for record in adds)


def test_a_torch_model_with_residuals_through_fx() -> None:
    result = receptive_field(Residual(), (3, 32, 32), check=True)
    records = {record.name: record for record in result.layers}
    assert records["add"].rf == (11, 11)  # 3x3 stride 2, then two 3x3 at jump 2: 3 + 4 + 4
    assert records["add"].via == "conv2"  # the residual branch, not the shortcut x
    assert result.check is not None
    assert result.check.agree, result.check.text


@st.composite
def stacks(draw):  # type: ignore[no-untyped-def]
    parts = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["conv", "conv", "pool", "convT"]))
        k, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        if kind == "conv":
            parts.append(f"conv{k}x{k}(2,s{s},p{draw(st.integers(0, k // 2))},d{draw(st.integers(1, 3))})")
        elif kind == "pool":
            parts.append(
                f"{draw(st.sampled_from(['maxpool', 'avgpool']))}({k},s{s},p{draw(st.integers(0, k // 2))}"
                f"{',ceil' if draw(st.booleans()) else ''})"
            )
        else:
            parts.append(f"convT(2,k{k},s{s})")
    return " ".join(parts)


@settings(max_examples=120, deadline=None)
@given(stacks())
def test_computed_fields_match_back_propagation(spec: str) -> None:
    count("receptive field vs backward")
    try:
        result = receptive_field(spec, "1x24x24", check=True)
    except ShapeError as error:  # a drawn stack may shrink the image away: that is refused, not checked
        if "overshoots" not in str(error):
            raise
        assume(False)
        return
    assert result.check is not None
    if "convT" in spec:  # the check says it cannot judge, rather than agreeing
        assert result.check.agree is None
        assert "not done" in result.check.text
    else:
        assert result.check.agree, f"{spec}: {result.check.text}"


def test_a_check_that_fails_is_reported_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    from convlab.network import graph

    original = graph.Field.through

    def wrong(self, kernel, stride, padding):  # type: ignore[no-untyped-def]
        field = original(self, kernel, stride, padding)
        return (
            graph.Field((field.size[0] + 2, field.size[1] + 2), field.jump, field.start) if field.size else field
        )

    monkeypatch.setattr(graph.Field, "through", wrong)
    result = receptive_field("conv3x3(1) conv3x3(1)", "1x16x16", check=True)
    assert result.check is not None
    assert not result.check.agree
    assert "DISAGREE" in result.check.text
