"""Dilated 3x3 convolutions as Winograd on the polyphase sub-images: at sizes that run the compiled
kernels, against PyTorch in float64 (forward and both gradients), within Winograd's float32 bound, and
chosen by ``auto`` only where every value is finite."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import convlab.functional as F
from convlab.functional.algorithms import choose, polyphase, winograd
from convlab.functional.geometry import Layout


def _torch(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, grad: np.ndarray | None, **cfg: Any
) -> dict[str, Any]:
    """PyTorch's output, both gradients for the upstream ``grad`` and the summed magnitudes, in float64."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = None if b is None else torch.tensor(b, dtype=torch.float64)
    out = torch.nn.functional.conv2d(xt, wt, bt, **cfg)
    out.backward(torch.ones_like(out) if grad is None else torch.tensor(grad, dtype=torch.float64))
    scale = torch.nn.functional.conv2d(xt.detach().abs(), wt.detach().abs(), None, **cfg)
    return {
        "out": out.detach().numpy(),
        "input": xt.grad.numpy(),  # type: ignore[union-attr]
        "weight": wt.grad.numpy(),  # type: ignore[union-attr]
        "scale": scale.numpy(),
    }


@settings(max_examples=10, deadline=None)
@given(
    batch=st.integers(2, 3),
    channels=st.integers(16, 22),
    out_channels=st.integers(1, 20),
    height=st.integers(36, 47),
    width=st.integers(36, 47),
    dilation=st.sampled_from([(2, 2), (3, 3), (2, 3), (3, 1)]),
    padding=st.sampled_from([0, 1, 2, (3, 1), (2, 4)]),
    groups=st.sampled_from([1, 2]),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_polyphase_matches_torch_at_compiled_sizes(
    batch: int,
    channels: int,
    out_channels: int,
    height: int,
    width: int,
    dilation: tuple[int, int],
    padding: Any,
    groups: int,
    bias: bool,
    seed: int,
) -> None:
    """Odd sizes and paddings give phases of different lengths; each phase is big enough for the compiled
    Winograd kernels, and the upstream gradient is random, so every phase's gradient is checked."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels * groups, height, width))
    w = rng.standard_normal((out_channels * groups, channels, 3, 3))
    b = rng.standard_normal(out_channels * groups) if bias else None
    cfg = {"padding": padding, "dilation": dilation, "groups": groups}
    out = F.conv2d(x, w, b, algorithm="polyphase", **cfg)
    grad = rng.standard_normal(out.shape)
    expected = _torch(x, w, b, grad, **cfg)
    assert out.shape == expected["out"].shape
    pads = (padding, padding) if isinstance(padding, int) else padding
    longest = [polyphase.phase_count(n + 2 * p, d) for n, p, d in zip(x.shape[2:], pads, dilation, strict=True)]
    phases = batch * dilation[0] * dilation[1] * x.shape[1] * longest[0] * longest[1]
    assert phases >= winograd.COMPILED_MIN_VALUES  # the compiled kernels, not the NumPy path
    grad_in = F.conv2d_input_grad(x.shape, w, grad, algorithm="polyphase", **cfg)
    grad_w = F.conv2d_weight_grad(x, w.shape, grad, algorithm="polyphase", **cfg)
    np.testing.assert_allclose(out, expected["out"], rtol=0, atol=1e-12 * (expected["scale"].max() + 1))
    np.testing.assert_allclose(grad_in, expected["input"], rtol=0, atol=1e-12 * (np.abs(w).sum() * 9 + 1))
    np.testing.assert_allclose(grad_w, expected["weight"], rtol=0, atol=1e-12 * (np.abs(x).sum() * 9 + 1))


@settings(max_examples=6, deadline=None)
@given(size=st.integers(33, 61), dilation=st.sampled_from([(2, 2), (3, 3), (2, 3)]), seed=st.integers(0, 2**16))
def test_polyphase_float32_stays_within_winograds_bound(size: int, dilation: tuple[int, int], seed: int) -> None:
    """Each phase is a Winograd convolution, so the error stays below 5e-5 of the largest summed magnitude."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 32, size, size)).astype(np.float32)
    w = rng.standard_normal((24, 32, 3, 3)).astype(np.float32)
    padding = dilation
    expected = _torch(x.astype(np.float64), w.astype(np.float64), None, None, padding=padding, dilation=dilation)
    out = F.conv2d(x, w, padding=padding, dilation=dilation, algorithm="polyphase")
    assert out.dtype == np.float32
    assert np.abs(out - expected["out"]).max() <= 5e-5 * expected["scale"].max()


def test_auto_takes_polyphase_only_while_every_value_is_finite() -> None:
    """The layer the benchmark measures goes to polyphase; one NaN sends it to im2col, which puts the NaN
    exactly where PyTorch does (Winograd on the phases would spread it over a tile)."""
    layout = Layout((3, 3), (1, 1), (2, 2), 1, 32, 32, (36, 36), 2)
    assert choose("auto", layout).name == "polyphase"
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 32, 32, 32)), rng.standard_normal((32, 32, 3, 3))
    x[1, 5, 16, 16] = np.nan
    with np.errstate(invalid="ignore"):
        assert choose("auto", layout, (x, w)).name == "im2col"
        ours = F.conv2d(x, w, padding=2, dilation=2)
        theirs = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=2, dilation=2).numpy()
        spread = F.conv2d(x, w, padding=2, dilation=2, algorithm="polyphase")
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    assert np.isnan(theirs).sum() == 32 * 9  # every output channel, the 9 windows that read the pixel
    assert np.isnan(spread).sum() > np.isnan(theirs).sum()  # what auto avoids
