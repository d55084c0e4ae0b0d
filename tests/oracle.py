"""PyTorch as the oracle, and one comparison helper so each test is one line.

``check(name, actual, expected, scale, inputs=..., algorithm=...)`` asserts same
shape, same dtype and ``|actual - expected| <= bound``, where the bound is built
from ``scale``, the same computation on absolute values (for a convolution,
``conv2d(|x|, |w|) + |b|``; for its input gradient ``input_grad(|w|, |g|)``; for
its weight gradient ``weight_grad(|x|, |g|)``): the size of the numbers that
were summed, which is what bounds floating-point error.

* Direct algorithms (a loop, im2col, gemm1x1, depthwise, pooling, layers) round
  each output on its own: the bound is element by element,
  ``TOLERANCE[dtype] * (scale + floor)``.
* FFT and Winograd transform whole images (or tiles of them), so an output's
  rounding error comes from its neighbours too: an output that sees only
  padding is 0 exactly, but not after a transform. Their bound is per image,
  ``TOLERANCE[algorithm, dtype] * (largest scale in that image + floor)``; an
  array without an image axis (a weight gradient, an unbatched input) counts
  as one image.
* ``floor`` is always there: the largest single product the inputs can form,
  ``max|a| * max|b| * ...`` over ``inputs``. A bound can therefore never shrink
  to ~0 while the inputs are not ~0 (an output whose window is all padding has
  scale 0, yet a transform may return 1e-18 there).

The documented tolerances, as a fraction of that scale:

* direct, float64: 1e-12; float32: 1e-5 (sums of a few thousand products, each
  rounded at 6e-8 in float32 and 1.1e-16 in float64);
* FFT, float64: 1e-12; float32: 2e-5;
* Winograd, float64: 1e-12; float32: 5e-5 (its transforms multiply by up to 8).

The largest error seen per algorithm and dtype, relative to its bound's scale,
is reported at the end of the run (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from tests.conftest import EXAMPLES

TRANSFORMS = ("fft", "winograd", "polyphase")
"""Algorithms whose error is bounded per image rather than element by element."""
SAME_BOUND = {"polyphase": "winograd"}
"""Algorithms that run another's arithmetic, so keep its bound (polyphase: Winograd on sub-images)."""

TOLERANCE: dict[tuple[str, np.dtype[Any]], float] = {
    ("direct", np.dtype(np.float64)): 1e-12,
    ("direct", np.dtype(np.float32)): 1e-5,
    ("fft", np.dtype(np.float64)): 1e-12,
    ("fft", np.dtype(np.float32)): 2e-5,
    ("winograd", np.dtype(np.float64)): 1e-12,
    ("winograd", np.dtype(np.float32)): 5e-5,
}
WORST: dict[str, tuple[float, str]] = {}
"""'algorithm dtype' -> (largest |error| / scale seen, where)."""
WORST_ABSOLUTE: dict[str, float] = {}
"""'algorithm dtype' -> largest |error| seen."""


def tensor(array: Any, requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.array(array), requires_grad=requires_grad)


def numpy(t: torch.Tensor | None) -> np.ndarray | None:
    return None if t is None else t.detach().numpy()


def count(name: str) -> None:
    EXAMPLES[name] += 1


def magnitude(a: np.ndarray | None) -> np.ndarray | None:
    """|a| in float64: the array whose computation gives the scale of what was summed."""
    return None if a is None else np.abs(np.asarray(a)).astype(np.float64)


def floor_of(inputs: Sequence[Any]) -> float:
    """The largest single product the inputs can form: max|a| * max|b| * ... (empty arrays skipped)."""
    floor = 1.0
    for a in inputs:
        a = np.asarray(a, dtype=np.float64)
        if a.size:
            floor *= float(np.max(np.abs(a)))
    return floor


def _family(algorithm: str) -> str:
    return SAME_BOUND.get(algorithm, algorithm) if algorithm in TRANSFORMS else "direct"


def _scale(scale: np.ndarray, floor: float, algorithm: str, images: bool) -> np.ndarray:
    """The magnitude each element's error is measured against (see the module docstring)."""
    if algorithm not in TRANSFORMS or scale.size == 0:
        return scale + floor
    if images and scale.ndim == 4:  # (N, C, H, W): one bound per image
        per_image = scale.reshape(scale.shape[0], -1).max(axis=1)
        return np.broadcast_to(per_image[:, None, None, None], scale.shape) + floor
    return np.broadcast_to(scale.max(), scale.shape) + floor


def check(
    name: str,
    actual: Any,
    expected: Any,
    scale: Any,
    *,
    inputs: Sequence[Any],
    algorithm: str = "direct",
    images: bool = True,
) -> None:
    """Assert ``actual`` matches ``expected`` within the documented bound.

    ``scale``: the computation on absolute values, broadcastable to ``actual``'s shape;
    ``inputs``: the arrays multiplied together (their largest product is the floor);
    ``algorithm``: "fft" and "winograd" get a per-image bound, everything else an element-wise one;
    ``images``: False when axis 0 is not an image axis (a weight gradient).
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{name}: dtype {actual.dtype} != {expected.dtype}"
    if actual.size == 0:
        return
    floor = floor_of(inputs)
    magnitudes = np.broadcast_to(np.abs(np.asarray(scale, dtype=np.float64)), actual.shape)
    against = _scale(magnitudes, floor, algorithm, images)
    ours, theirs = actual.astype(np.float64), expected.astype(np.float64)
    # equal values (the same infinity included) and NaN against NaN agree; any other non-finite pair does not
    same = (ours == theirs) | (np.isnan(ours) & np.isnan(theirs))
    with np.errstate(invalid="ignore"):
        difference = np.where(same, 0.0, np.abs(ours - theirs))
    difference[np.isnan(difference)] = np.inf
    # where both the error and its scale are 0 the result is exact: 0 of scale, not 0/0
    error = np.divide(difference, against, out=np.zeros_like(difference), where=against > 0)
    error[(against == 0) & (difference > 0)] = np.inf
    worst = float(error.max())
    key = f"{algorithm} {actual.dtype}"
    WORST_ABSOLUTE[key] = max(WORST_ABSOLUTE.get(key, 0.0), float(difference.max()))
    if worst > WORST.get(key, (0.0, ""))[0]:
        WORST[key] = (worst, name)
    tolerance = TOLERANCE[_family(algorithm), actual.dtype]
    assert worst <= tolerance, f"{name} ({algorithm}): error {worst:.3g} of scale exceeds {tolerance}"


def torch_conv2d(cfg: Any, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, grad: np.ndarray) -> dict[str, Any]:
    """Forward and all gradients from ``torch.nn.Conv2d`` (the module, so padding_mode is PyTorch's own)."""
    layer = torch.nn.Conv2d(
        cfg.in_channels,
        cfg.out_channels,
        cfg.kernel_size,
        cfg.stride,
        cfg.padding,
        cfg.dilation,
        cfg.groups,
        b is not None,
        cfg.padding_mode,
        dtype=torch.float64 if x.dtype == np.float64 else torch.float32,
    )
    with torch.no_grad():
        layer.weight.copy_(tensor(w))
        if b is not None:
            layer.bias.copy_(tensor(b))
    xt = tensor(x, requires_grad=True)
    out = layer(xt)
    out.backward(tensor(grad))
    return {
        "output": numpy(out),
        "input": numpy(xt.grad),
        "weight": numpy(layer.weight.grad),
        "bias": numpy(layer.bias.grad) if b is not None else None,
    }


def torch_conv_transpose2d(
    cfg: Any, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, grad: np.ndarray | None
) -> dict[str, Any]:
    xt, wt = tensor(x, requires_grad=True), tensor(w, requires_grad=True)
    bt = None if b is None else tensor(b, requires_grad=True)
    out = torch.nn.functional.conv_transpose2d(xt, wt, bt, **cfg.kwargs())
    if grad is None:
        return {"output": numpy(out)}
    out.backward(tensor(grad))
    return {
        "output": numpy(out),
        "input": numpy(xt.grad),
        "weight": numpy(wt.grad),
        "bias": None if bt is None else numpy(bt.grad),
    }


def grad_for(seed: int, out: np.ndarray) -> np.ndarray:
    """A drawn output gradient in the output's shape and dtype."""
    return np.random.default_rng(seed + 1).standard_normal(out.shape).astype(out.dtype)


def _assert_matches_torch(name: str, cfg: Any, dtype: Any, algorithm: str, torch_run: Any) -> None:
    """Forward, input, weight and bias gradients of convlab's ``name`` against PyTorch's autograd."""
    import convlab.functional as F

    forward, input_grad, weight_grad = (
        getattr(F, name + suffix) for suffix in ("", "_input_grad", "_weight_grad")
    )
    x, w, b = cfg.arrays(dtype)
    kwargs = {**cfg.kwargs(), "algorithm": algorithm}
    out = forward(x, w, b, **kwargs)
    grad = grad_for(cfg.seed, out)
    theirs = torch_run(cfg, x, w, b, grad)
    scale = torch_run(cfg, magnitude(x), magnitude(w), magnitude(b), magnitude(grad))
    label = algorithm if algorithm != "auto" else "direct"
    check(f"{name} {algorithm}", out, theirs["output"], scale["output"], inputs=(x, w), algorithm=label)
    ours = input_grad(x.shape, w, grad, **kwargs)
    check(
        f"{name}_input_grad {algorithm}", ours, theirs["input"], scale["input"], inputs=(w, grad), algorithm=label
    )
    ours = weight_grad(x, w.shape, grad, **kwargs)
    check(
        f"{name}_weight_grad {algorithm}",
        ours,
        theirs["weight"],
        scale["weight"],
        inputs=(x, grad),
        algorithm=label,
        images=False,
    )
    if b is not None:
        check(f"{name} bias grad", F.conv2d_bias_grad(grad), theirs["bias"], scale["bias"], inputs=(grad,))


def assert_conv2d_matches_torch(cfg: Any, dtype: Any, algorithm: str = "auto") -> None:
    """conv2d and its three gradients against torch.nn.Conv2d (its padding modes included)."""
    _assert_matches_torch("conv2d", cfg, dtype, algorithm, torch_conv2d)


def assert_conv_transpose2d_matches_torch(cfg: Any, dtype: Any, algorithm: str = "auto") -> None:
    """conv_transpose2d and its three gradients against torch.nn.functional.conv_transpose2d."""
    _assert_matches_torch("conv_transpose2d", cfg, dtype, algorithm, torch_conv_transpose2d)
