"""convlab.dask.apply: a fully convolutional model run tile by tile equals the model on the whole image."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

da = pytest.importorskip("dask.array", reason="convlab.dask needs the optional extra: pip install -e '.[dask]'")

from convlab import nn  # noqa: E402
from convlab.dask import apply  # noqa: E402
from convlab.errors import ArgumentError, ArgumentTypeError, ConvlabWarning, StateError  # noqa: E402
from tests.oracle import check, count  # noqa: E402
from tests.test_dask import chunking  # noqa: E402

ANY_ALGORITHM = "winograd"
"""A tile's convolutions run on whichever algorithm its worker measured fastest: the loosest bound (per image)."""


def five_layer_network(seed: int, dtype: Any = np.float64) -> nn.Sequential:
    """Five convolution and pooling layers with every kind of halo: padding (zeros and reflect), strides that
    do not divide the chunks, dilation, an even kernel, ceil-mode pooling; BatchNorm with drawn statistics."""
    rng = np.random.default_rng(seed)
    model = nn.Sequential(
        nn.Conv2d(2, 6, 3, padding=1, seed=seed, dtype=dtype),
        nn.BatchNorm2d(6, dtype=dtype),
        nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        nn.Conv2d(6, 6, 3, stride=2, padding=1, padding_mode="reflect", seed=seed + 1, dtype=dtype),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Conv2d(6, 4, (2, 3), dilation=(1, 2), padding=(0, 2), seed=seed + 2, dtype=dtype),
        nn.ReLU(),
        nn.Conv2d(4, 3, 1, seed=seed + 3, dtype=dtype),
    )
    norm = model[1]
    norm.running_mean[...] = rng.standard_normal(6)
    norm.running_var[...] = rng.random(6) + 0.5
    norm.weight[...] = rng.standard_normal(6)
    norm.bias[...] = rng.standard_normal(6)
    model.eval()
    return model


def magnitude_model(model: nn.Module) -> nn.Module:
    """The same network on magnitudes: |weights|, and BatchNorm's scale and shift as magnitudes.

    Run on |x| it gives the size of the numbers every output summed (activations and pooling are
    monotone on non-negative values, and a residual block adds its branches' magnitudes), the scale
    the engine's tolerance is a fraction of.
    """
    return _magnitudes(copy.deepcopy(model)).eval()


def _magnitudes(layer: nn.Module) -> nn.Module:
    """``layer`` (a copy, changed in place) on magnitudes; containers take their parts' magnitudes."""
    if isinstance(layer, nn.Sequential):
        return nn.Sequential(*(_magnitudes(part) for part in layer))
    if isinstance(layer, nn.Residual):
        return nn.Residual(
            _magnitudes(layer.body), None if layer.shortcut is None else _magnitudes(layer.shortcut)
        )
    if isinstance(layer, nn.Conv2d):
        layer.weight = np.abs(layer.weight)
        if layer.bias is not None:
            layer.bias = np.abs(layer.bias)
    if isinstance(layer, nn.BatchNorm2d):
        scale = np.abs(layer.weight) / np.sqrt(layer.running_var + layer.eps)
        layer.bias = np.abs(layer.bias) + np.abs(layer.running_mean) * scale
        layer.weight = np.abs(layer.weight)
        layer.running_mean = np.zeros_like(layer.running_mean)
    if isinstance(layer, nn.Tanh):
        return nn.ReLU()  # |tanh(a)| <= |a|
    return layer


@settings(max_examples=25)
@given(
    seed=st.integers(0, 2**16),
    size=st.tuples(st.integers(40, 110), st.integers(40, 110)),
    data=st.data(),
)
def test_a_five_layer_network_tile_by_tile_equals_the_whole_image(seed: int, size: Any, data: Any) -> None:
    count("dask.apply five layers vs in-memory")
    model = five_layer_network(seed)
    x = np.random.default_rng(seed).standard_normal((2, 2, *size))
    chunks = (data.draw(st.sampled_from([1, 2])), 2, *(chunking(data.draw, n) for n in size))
    lazy = apply(model, da.from_array(x, chunks=chunks))
    whole = model(x)
    assert lazy.shape == whole.shape
    scale = magnitude_model(model)(np.abs(x))
    check("dask.apply", lazy.compute(scheduler="sync"), whole, scale, inputs=(x,), algorithm=ANY_ALGORITHM)


def test_small_chunks_make_many_tiles_and_the_same_result() -> None:
    model = five_layer_network(4)
    x = np.random.default_rng(4).standard_normal((1, 2, 200, 170))
    lazy = apply(model, da.from_array(x, chunks=(1, 1, 50, (60, 60, 50))))
    assert len(lazy.chunks[2]) > 1
    assert len(lazy.chunks[3]) > 1
    check(
        "many tiles",
        lazy.compute(),
        model(x),
        magnitude_model(model)(np.abs(x)),
        inputs=(x,),
        algorithm=ANY_ALGORITHM,
    )


def test_float32_network_within_the_float32_tolerance() -> None:
    model = five_layer_network(9, np.float32)
    x = np.random.default_rng(9).standard_normal((1, 2, 150, 130)).astype(np.float32)
    tiled = apply(model, da.from_array(x, chunks=(1, 2, 40, 50))).compute()
    check("float32", tiled, model(x), magnitude_model(model)(np.abs(x)), inputs=(x,), algorithm=ANY_ALGORITHM)


def test_a_model_ending_in_flatten_and_linear_runs_its_convolutional_front_and_says_so() -> None:
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, seed=0, dtype=np.float64),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 16 * 16, 10, seed=1, dtype=np.float64),
    ).eval()
    x = np.random.default_rng(0).standard_normal((1, 1, 32, 32))
    with pytest.warns(ConvlabWarning, match=r"layers 0 to 2 only; layer 3 \(Flatten"):
        lazy = apply(model, da.from_array(x, chunks=(1, 1, 10, 10)))
    front = nn.Sequential(*model.layers[:3])
    np.testing.assert_allclose(lazy.compute(), front(x), rtol=0, atol=1e-13)


def test_unbatched_input_comes_back_unbatched() -> None:
    model = five_layer_network(1)
    x = np.random.default_rng(1).standard_normal((2, 90, 80))
    tiled = apply(model, da.from_array(x, chunks=(2, 30, 30))).compute()
    check(
        "unbatched",
        tiled,
        model(x[None])[0],
        magnitude_model(model)(np.abs(x[None]))[0],
        inputs=(x,),
        algorithm=ANY_ALGORITHM,
    )


def test_training_mode_circular_padding_and_transposed_layers_are_refused_with_their_fix() -> None:
    x = da.zeros((1, 1, 16, 16), chunks=8)
    with pytest.raises(StateError, match="training mode") as caught:
        apply(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)), x)
    assert caught.value.fix == "switch the model to inference first: model.eval()"
    with pytest.raises(ArgumentError, match="circular"):
        apply(nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular"), x)
    with pytest.raises(ArgumentError, match="transposed"):
        apply(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ConvTranspose2d(2, 1, 2, stride=2)), x)
    with pytest.raises(ArgumentTypeError, match=r"convlab\.nn"):
        apply("conv3x3(4)", x)


def test_a_float32_model_refuses_a_float64_input_as_the_engine_does() -> None:
    from convlab.errors import DtypeError

    with warnings.catch_warnings(), pytest.raises(DtypeError):
        apply(nn.Conv2d(1, 2, 3), da.zeros((1, 1, 8, 8), dtype=np.float64, chunks=4))


def basic_block(channels_in: int, channels_out: int, stride: int, seed: int, dtype: Any) -> nn.Residual:
    """ResNet's basic block: two 3x3 convolutions with BatchNorm; a 1x1 shortcut where the shape changes."""
    body = nn.Sequential(
        nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1, bias=False, seed=seed, dtype=dtype),
        nn.BatchNorm2d(channels_out, dtype=dtype),
        nn.ReLU(),
        nn.Conv2d(channels_out, channels_out, 3, padding=1, bias=False, seed=seed + 1, dtype=dtype),
        nn.BatchNorm2d(channels_out, dtype=dtype),
    )
    if stride == 1 and channels_in == channels_out:
        return nn.Residual(body)
    shortcut = nn.Sequential(
        nn.Conv2d(channels_in, channels_out, 1, stride=stride, bias=False, seed=seed + 2, dtype=dtype),
        nn.BatchNorm2d(channels_out, dtype=dtype),
    )
    return nn.Residual(body, shortcut)


def resnet_style_network(seed: int, dtype: Any = np.float64) -> nn.Sequential:
    """A small ResNet: a 7x7 stride-2 stem and max pooling, an identity block and a downsampling block,
    then the global head (average pooling, flatten, linear) that no tile can make."""
    model = nn.Sequential(
        nn.Conv2d(2, 4, 7, stride=2, padding=3, bias=False, seed=seed, dtype=dtype),
        nn.BatchNorm2d(4, dtype=dtype),
        nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1),
        basic_block(4, 4, 1, seed + 1, dtype),
        nn.ReLU(),
        basic_block(4, 8, 2, seed + 4, dtype),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 5, seed=seed + 7, dtype=dtype),
    )
    rng = np.random.default_rng(seed)
    for _, norm in _norms(model):
        norm.running_mean[...] = rng.standard_normal(norm.num_features)
        norm.running_var[...] = rng.random(norm.num_features) + 0.5
        norm.weight[...] = rng.standard_normal(norm.num_features)
        norm.bias[...] = rng.standard_normal(norm.num_features)
    model.eval()
    return model


def _norms(layer: nn.Module, path: str = "") -> list[tuple[str, nn.BatchNorm2d]]:
    if isinstance(layer, nn.BatchNorm2d):
        return [(path, layer)]
    return [found for name, child in layer.named_children() for found in _norms(child, f"{path}.{name}")]


@settings(max_examples=20)
@given(
    seed=st.integers(0, 2**16),
    size=st.tuples(st.integers(60, 180), st.integers(60, 180)),
    data=st.data(),
)
def test_a_resnet_style_model_tile_by_tile_equals_its_front_on_the_whole_image(
    seed: int, size: Any, data: Any
) -> None:
    """Residual blocks: the halo reaches through the body and the shortcut, and the two are added per tile."""
    count("dask.apply residual blocks vs in-memory")
    model = resnet_style_network(seed)
    front = nn.Sequential(*model.layers[:8])
    x = np.random.default_rng(seed).standard_normal((1, 2, *size))
    chunks = (1, 2, *(chunking(data.draw, n) for n in size))
    with pytest.warns(ConvlabWarning, match=r"layers 0 to 7 only; layer 8 \(AdaptiveAvgPool2d"):
        lazy = apply(model, da.from_array(x, chunks=chunks))
    whole = front(x)
    assert lazy.shape == whole.shape
    check(
        "dask.apply resnet",
        lazy.compute(scheduler="sync"),
        whole,
        magnitude_model(front)(np.abs(x)),
        inputs=(x,),
        algorithm=ANY_ALGORITHM,
    )


def test_a_resnet_style_front_in_many_tiles_and_float32() -> None:
    """Chunks of 56 cells, just over the front's 51-cell field: 4 x 3 tiles, each reading its halo through
    the stem, both blocks' bodies and the downsampling shortcut."""
    front = nn.Sequential(*resnet_style_network(3).layers[:8])
    x = np.random.default_rng(3).standard_normal((2, 2, 224, 168))
    lazy = apply(front, da.from_array(x, chunks=(1, 2, 56, 56)))
    assert (len(lazy.chunks[2]), len(lazy.chunks[3])) == (4, 3)
    check(
        "resnet tiles",
        lazy.compute(),
        front(x),
        magnitude_model(front)(np.abs(x)),
        inputs=(x,),
        algorithm=ANY_ALGORITHM,
    )
    single = nn.Sequential(*resnet_style_network(3, np.float32).layers[:8])
    x32 = x.astype(np.float32)
    tiled = apply(single, da.from_array(x32, chunks=(1, 2, 56, 56))).compute()
    check(
        "resnet float32",
        tiled,
        single(x32),
        magnitude_model(single)(np.abs(x32)),
        inputs=(x32,),
        algorithm=ANY_ALGORITHM,
    )


def test_a_residual_block_that_holds_a_transposed_convolution_is_refused() -> None:
    block = nn.Residual(nn.Sequential(nn.Conv2d(1, 1, 2, stride=2), nn.ConvTranspose2d(1, 1, 2, stride=2)))
    with pytest.raises(ArgumentError, match="holds a transposed convolution"):
        apply(block, da.zeros((1, 1, 16, 16), chunks=8))
    with pytest.raises(StateError, match="training mode"):
        apply(
            nn.Residual(nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.BatchNorm2d(1))),
            da.zeros((1, 1, 8, 8), chunks=4),
        )


@pytest.mark.parametrize("band_bytes", [1, 40_000])
def test_tiles_too_large_for_the_band_memory_run_band_by_band_with_the_same_result(
    band_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1 byte: every band makes one output row; 40 kB: a few rows. Each band reads its own halo."""
    import convlab.dask.model

    monkeypatch.setattr(convlab.dask.model, "BAND_BYTES", band_bytes)
    for model in (five_layer_network(6), nn.Sequential(*resnet_style_network(6).layers[:8])):
        x = np.random.default_rng(6).standard_normal((2, 2, 150, 130))
        tiled = apply(model, da.from_array(x, chunks=(1, 2, 75, 65))).compute(scheduler="sync")
        check("bands", tiled, model(x), magnitude_model(model)(np.abs(x)), inputs=(x,), algorithm=ANY_ALGORITHM)
