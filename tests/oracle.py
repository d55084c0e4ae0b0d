"""PyTorch as the oracle, and one comparison helper so each test is one line.

``check(name, actual, expected, scale)`` asserts same shape, same dtype and
``|actual - expected| <= TOLERANCE[dtype] * scale`` element by element, where
``scale`` is the same computation on absolute values (for a convolution,
``conv2d(|x|, |w|) + |b|``): the size of the numbers that were summed, which is
what bounds floating-point error. The documented tolerances:

* float64: 1e-12 of that scale;
* float32: 1e-5 of that scale (the sums are of up to a few hundred products,
  each rounded at 6e-8).

The largest error seen, relative to its scale, is reported at the end of the run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from tests.conftest import EXAMPLES

TOLERANCE = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}
WORST: dict[str, tuple[float, str]] = {}
"""dtype name -> (largest |error| / scale seen, where)."""
WORST_ABSOLUTE: dict[str, float] = {}
"""dtype name -> largest |error| seen."""


def tensor(array: Any, requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.array(array), requires_grad=requires_grad)


def numpy(t: torch.Tensor | None) -> np.ndarray | None:
    return None if t is None else t.detach().numpy()


def count(name: str) -> None:
    EXAMPLES[name] += 1


def check(name: str, actual: Any, expected: Any, scale: Any) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{name}: dtype {actual.dtype} != {expected.dtype}"
    if actual.size == 0:
        return
    scale = np.broadcast_to(np.abs(np.asarray(scale, dtype=np.float64)), actual.shape) + 1e-30
    error = np.abs(actual.astype(np.float64) - expected.astype(np.float64)) / scale
    worst = float(error.max())
    key = str(actual.dtype)
    absolute = float(np.abs(actual.astype(np.float64) - expected.astype(np.float64)).max())
    WORST_ABSOLUTE[key] = max(WORST_ABSOLUTE.get(key, 0.0), absolute)
    if worst > WORST.get(key, (0.0, ""))[0]:
        WORST[key] = (worst, name)
    assert worst <= TOLERANCE[actual.dtype], (
        f"{name}: error {worst:.3g} of scale exceeds {TOLERANCE[actual.dtype]}"
    )


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
