"""Padding in PyTorch's four modes and its gradient, against torch.nn.functional.pad."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import convlab.functional as F
from convlab.functional.padding import pad2d, pad2d_grad
from tests.oracle import count, tensor


@st.composite
def pad_cases(draw):  # type: ignore[no-untyped-def]
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    H, W = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    limit_h = H - 1 if mode == "reflect" else H if mode == "circular" else 4
    limit_w = W - 1 if mode == "reflect" else W if mode == "circular" else 4
    pads = (
        draw(st.integers(0, limit_w)),
        draw(st.integers(0, limit_w)),
        draw(st.integers(0, limit_h)),
        draw(st.integers(0, limit_h)),
    )
    return mode, (draw(st.integers(1, 2)), draw(st.integers(1, 3)), H, W), pads, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=200)
@given(pad_cases())
def test_pad_and_its_gradient_match_torch(case) -> None:  # type: ignore[no-untyped-def]
    count("pad vs torch")
    mode, shape, pads, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    xt = tensor(x, requires_grad=True)
    theirs = torch.nn.functional.pad(xt, pads, mode=mode)
    np.testing.assert_array_equal(F.pad(x, pads, mode=mode), theirs.detach().numpy())
    grad = rng.standard_normal(tuple(theirs.shape))
    theirs.backward(tensor(grad))
    left, right, top, bottom = pads
    internal = "zeros" if mode == "constant" else mode
    padded = pad2d(x, ((top, bottom), (left, right)), internal)
    np.testing.assert_array_equal(padded, theirs.detach().numpy())
    np.testing.assert_allclose(
        pad2d_grad(grad, ((top, bottom), (left, right)), internal), xt.grad.numpy(), rtol=1e-13, atol=1e-13
    )


def test_constant_pad_with_a_value() -> None:
    out = F.pad(np.zeros((1, 1, 1)), (1, 0, 0, 1), value=7.0)
    np.testing.assert_array_equal(out, [[[7.0, 0.0], [7.0, 7.0]]])
