"""model.npz: weights and architecture in one file that rebuilds the model alone; the shipped digits model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convlab import data, nn, optim
from convlab.data import trained_digits_model
from convlab.errors import ArgumentError
from convlab.network.presets import SMALL_CNNS
from convlab.network.sequential import sequential
from convlab.train import fit, load_model, read_model, save_model


def _trained(dtype: type = np.float32) -> nn.Sequential:
    """A briefly trained digits_cnn: its BatchNorm running statistics are no longer the fresh ones."""
    model = sequential("digits_cnn", seed=0, dtype=dtype)
    x, y = data.digits("train")
    fit(
        model,
        (x[:64].astype(dtype), y[:64]),
        None,
        optim.SGD(model.parameters(), lr=0.05),
        nn.CrossEntropyLoss(),
        1,
    )
    return model.eval()


def test_a_saved_model_reloads_alone_and_computes_the_same(tmp_path: Path) -> None:
    model = _trained()
    path = save_model(model, tmp_path / "model.npz", classes=[str(d) for d in range(10)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # no temporary file left behind
    saved = read_model(path)
    assert saved.layers == SMALL_CNNS["digits_cnn"]
    assert saved.input_shape == (1, 8, 8)  # the smallest square input the model takes, as nothing else was said
    assert saved.classes == tuple("0123456789")
    assert not saved.model.training
    x, _ = data.digits("test")
    np.testing.assert_array_equal(saved.model(x), model(x))
    state = saved.model.state_dict()
    assert float(np.abs(state["1.running_mean"]).max()) > 0  # running statistics came back too
    assert all(np.array_equal(value, state[name]) for name, value in model.state_dict().items())


def test_float64_models_stay_float64(tmp_path: Path) -> None:
    model = _trained(np.float64)
    loaded = load_model(save_model(model, tmp_path / "m.npz", input_shape=(1, 8, 8)))
    assert loaded[0].weight.dtype == np.float64
    x = np.random.default_rng(0).random((3, 1, 8, 8))
    np.testing.assert_array_equal(loaded(x), model(x))


def test_saving_replaces_a_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    save_model(sequential("digits_cnn", seed=1), path)
    save_model(sequential("digits_cnn", seed=2), path)
    assert np.array_equal(load_model(path)[0].weight, sequential("digits_cnn", seed=2)[0].weight)


def test_a_plain_state_file_is_not_a_model_file(tmp_path: Path) -> None:
    model = sequential("digits_cnn", seed=0)
    model.save(tmp_path / "state.npz")
    with pytest.raises(ArgumentError, match="no architecture") as raised:
        load_model(tmp_path / "state.npz")
    assert "model.load(path)" in (raised.value.fix or "")
    (tmp_path / "broken.npz").write_bytes(b"not a zip file")
    with pytest.raises(ArgumentError, match="cannot read"):
        load_model(tmp_path / "broken.npz")
    with pytest.raises(ArgumentError, match="cannot read"):
        load_model(tmp_path / "missing.npz")


def test_a_model_a_layer_string_cannot_describe_is_not_written(tmp_path: Path) -> None:
    with pytest.raises(ArgumentError, match="Dropout"):
        save_model(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Dropout(0.1)), tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


def test_the_shipped_digits_model() -> None:
    saved = read_model(Path(data.__file__).parent / "digits_cnn.npz")
    assert saved.layers == SMALL_CNNS["digits_cnn"]
    assert saved.input_shape == (1, 8, 8)
    assert saved.classes == tuple("0123456789")
    model = trained_digits_model()
    assert not model.training
    images, labels = data.digits("test")
    accuracy = float(np.mean(model(images).argmax(axis=1) == labels))
    assert accuracy >= 0.97
    assert trained_digits_model() is not model  # a fresh copy each call: changing one leaves the file's alone
