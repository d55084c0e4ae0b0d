"""Presets and layer strings built as convlab.nn models, and nn chains written back as layer strings."""

from __future__ import annotations

import numpy as np
import pytest

import convlab
from convlab import nn
from convlab.errors import ArgumentError
from convlab.network.presets import SMALL_CNNS, preset
from convlab.network.sequential import layer_string, sequential

STRINGS = [
    "conv3x3(16,p1) bn relu maxpool2 conv3x3(32,p1) bn relu maxpool2 flatten linear(10)",
    "conv5x5(8,s2,p2) tanh avgpool2 conv1x3(4,p0x1,d2) sigmoid gap flatten linear(3,nobias)",
    "conv3x3(6,psame,nobias) maxpool3(s2,p1,ceil) dropout conv3x3(6,g3,pvalid) relu flatten linear(5)",
    "convT2x2(4,s2,op1) relu conv3x3(8,s2) flatten fc(2)",
]


@pytest.mark.parametrize("spec", STRINGS)
def test_a_layer_string_survives_being_built_and_written_again(spec: str) -> None:
    model = sequential(spec, "3x17x17", seed=3)
    written = layer_string(model)
    assert layer_string(written) == written == layer_string(spec)
    rebuilt = sequential(written, "3x17x17", seed=3)
    x = np.random.default_rng(0).normal(size=(2, 3, 17, 17)).astype(np.float32)
    model.eval(), rebuilt.eval()
    np.testing.assert_array_equal(model(x), rebuilt(x))  # same layers, same seeds: the same model


@pytest.mark.parametrize(
    ("name", "shape", "classes"), [("digits_cnn", (1, 8, 8), 10), ("shapes_cnn", (1, 28, 28), 7)]
)
def test_the_small_presets_fit_their_data(name: str, shape: tuple[int, int, int], classes: int) -> None:
    _graph, designed = preset(name)
    assert designed == shape
    model = sequential(name, seed=0)
    assert model(np.zeros((5, *shape), dtype=np.float32)).shape == (5, classes)
    assert layer_string(model) == SMALL_CNNS[name]
    table = convlab.summary(name, (1, *shape))
    assert table.layers[-1].output_shape == (1, classes)
    assert table.total_params == sum(p.size for p in model.parameters())


def test_the_built_model_matches_torch_built_the_same_way() -> None:
    torch = pytest.importorskip("torch")
    model = sequential("digits_cnn", seed=4, dtype=np.float64)
    twin = model.to_torch()
    x = np.random.default_rng(1).random((6, 1, 8, 8))
    np.testing.assert_allclose(model(x), twin(torch.from_numpy(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_seeds_draw_the_initial_weights() -> None:
    first, again, other = (sequential("digits_cnn", seed=s).state_dict() for s in (7, 7, 8))
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not np.array_equal(first["0.weight"], other["0.weight"])


def test_a_model_with_branches_is_not_a_sequential() -> None:
    with pytest.raises(ArgumentError, match="not a plain chain"):
        sequential("resnet18")


def test_a_dropout_a_layer_string_cannot_write_is_refused() -> None:
    with pytest.raises(ArgumentError, match=r"p=0\.2") as raised:
        layer_string(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Dropout(0.2)))
    assert "Dropout(0.5)" in (raised.value.fix or "")


def test_an_input_the_layers_do_not_fit_names_the_layer() -> None:
    with pytest.raises(convlab.errors.ShapeError, match="conv"):
        sequential("conv5x5(4) conv5x5(4)", "1x6x6")
