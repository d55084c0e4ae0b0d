"""A tile's forward pass: each convolution on the algorithm measured fastest for it, equal to the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("dask.array", reason="convlab.dask needs the optional extra: pip install -e '.[dask]'")

from convlab import nn
from convlab.dask.forward import CANDIDATES, forward, measured_choices
from tests.oracle import check
from tests.test_dask_apply import ANY_ALGORITHM, basic_block, magnitude_model


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_forward_equals_the_model_and_remembers_a_supported_algorithm_per_convolution(dtype: type) -> None:
    model = nn.Sequential(
        nn.Conv2d(1, 8, 15, padding=7, padding_mode="reflect", seed=0, dtype=dtype),
        nn.ReLU(),
        basic_block(8, 8, 1, 1, dtype),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 1, 3, padding=1, seed=5, dtype=dtype),
    ).eval()
    x = np.random.default_rng(0).standard_normal((1, 1, 70, 90)).astype(dtype)
    got = forward(model, x)
    check("forward", got, model(x), magnitude_model(model)(np.abs(x)), inputs=(x,), algorithm=ANY_ALGORITHM)
    again = forward(model, x)  # the second pass runs the remembered choices
    check(
        "forward again", again, model(x), magnitude_model(model)(np.abs(x)), inputs=(x,), algorithm=ANY_ALGORITHM
    )
    mine = {key: name for key, name in measured_choices().items() if key[3] == np.dtype(dtype).str}
    assert {key[0] for key in mine} >= {(8, 1, 15, 15), (8, 8, 3, 3), (1, 8, 3, 3)}
    assert set(mine.values()) <= set(CANDIDATES)


def test_a_band_holding_nan_puts_it_where_pytorch_does() -> None:
    """The FFT and Winograd would spread a NaN over whole tiles; such a band runs on the engine's auto rule."""
    conv = nn.Conv2d(1, 2, 15, padding=7, seed=0, dtype=np.float64).eval()
    x = np.random.default_rng(1).standard_normal((1, 1, 40, 40))
    forward(conv, x)  # a choice is measured (the FFT, at this kernel) on finite values first
    x[0, 0, 3, 4] = np.nan
    expected = torch.nn.functional.conv2d(
        torch.from_numpy(x),
        torch.from_numpy(np.asarray(conv.weight)),
        torch.from_numpy(np.asarray(conv.bias)),
        padding=7,
    ).numpy()
    assert np.array_equal(np.isnan(forward(conv, x)), np.isnan(expected))


def test_a_dilated_layer_equals_the_model_whichever_algorithm_is_measured_fastest() -> None:
    """polyphase is among the candidates for a stride-1 dilated 3x3; whatever wins, the tile equals the model."""
    conv = nn.Conv2d(16, 16, 3, padding=2, dilation=2, seed=3, dtype=np.float64).eval()
    x = np.random.default_rng(2).standard_normal((1, 16, 60, 60))
    check(
        "dilated",
        forward(conv, x),
        conv(x),
        magnitude_model(conv)(np.abs(x)),
        inputs=(x,),
        algorithm=ANY_ALGORITHM,
    )
    assert (16, 16, 3, 3) in {key[0] for key in measured_choices()}
