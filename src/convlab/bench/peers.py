"""How each library runs a case: the call to time, and any untimed set-up before it.

- ``convlab``: :mod:`convlab.functional` (``conv2d``; backward is ``conv2d_input_grad``
  then ``conv2d_weight_grad``).
- ``torch``: ``torch.nn.functional.conv2d``; backward through autograd, as in
  training: input and weight require grad, the forward runs untimed before each
  call and ``out.backward(grad)`` is timed.
- ``scipy``: ``scipy.signal.fftconvolve`` with 2 FFT workers, for single-channel
  images only. conv2d is a cross-correlation, so the forward flips the kernel.
- ``naive``: :mod:`convlab.bench.naive`, a learner's NumPy im2col.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._args import Array
from .cases import Case

__all__ = ["Timed", "prepare"]


def _nothing() -> None:
    return None


@dataclass
class Timed:
    """One pass of one case in one library, ready to run."""

    call: Callable[[], object]
    """The work that is timed."""
    setup: Callable[[], object] = field(default=_nothing)
    """Untimed work before every call (torch's forward before its backward)."""
    numpy: bool = True
    """Its arrays are NumPy's, which tracemalloc sees; PyTorch's allocator is invisible to it."""


def prepare(peer: str, case: Case, op: str, x: Array, w: Array, grad: Array) -> Timed:
    """The timed call for ``peer`` on ``case`` in pass ``op``, over input ``x``, weight ``w`` and ``grad``."""
    makers: dict[str, Callable[[Case, str, Array, Array, Array], Timed]] = {
        "convlab": _convlab,
        "torch": _torch,
        "scipy": _scipy,
        "naive": _naive,
    }
    if peer not in makers:
        raise ValueError(f"unknown peer {peer!r}; expected one of {', '.join(makers)}")
    return makers[peer](case, op, x, w, grad)


def _hyper(case: Case) -> tuple[int, int, int, int]:
    """stride, padding, dilation, groups: in this order after the arrays in every library's signature."""
    return (case.stride, case.padding, case.dilation, case.groups)


def _convlab(case: Case, op: str, x: Array, w: Array, grad: Array) -> Timed:
    import convlab.functional as F

    hyper = _hyper(case)
    if op == "forward":
        return Timed(lambda: F.conv2d(x, w, None, *hyper))

    def backward() -> object:
        return F.conv2d_input_grad(x.shape, w, grad, *hyper), F.conv2d_weight_grad(x, w.shape, grad, *hyper)

    return Timed(backward)


def _torch(case: Case, op: str, x: Array, w: Array, grad: Array) -> Timed:
    import torch

    torch.set_num_threads(2)
    hyper = _hyper(case)
    xt, wt, gt = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(grad)
    conv2d = torch.nn.functional.conv2d
    if op == "forward":
        return Timed(lambda: conv2d(xt, wt, None, *hyper), numpy=False)
    xr, wr = xt.clone().requires_grad_(True), wt.clone().requires_grad_(True)
    state: dict[str, Any] = {}

    def forward() -> None:
        xr.grad = wr.grad = None
        state["out"] = conv2d(xr, wr, None, *hyper)

    def backward() -> object:
        state.pop("out").backward(gt)
        return xr.grad, wr.grad

    return Timed(backward, setup=forward, numpy=False)


def _scipy(case: Case, op: str, x: Array, w: Array, grad: Array) -> Timed:
    import numpy as np

    signal: Any = importlib.import_module("scipy.signal")
    fft: Any = importlib.import_module("scipy.fft")
    kh, kw = case.weight_shape[2:]
    fits = case.input_shape[:2] == (1, 1) and case.weight_shape[:2] == (1, 1) and case.groups == 1
    if not (
        fits and case.stride == 1 and case.dilation == 1 and kh == kw and kh % 2 == 1 and case.padding == kh // 2
    ):
        raise ValueError(f"scipy runs single-channel 'same' convolutions with odd square kernels only, not {case}")
    image, kernel, g, p = x[0, 0], w[0, 0], grad[0, 0], case.padding

    def forward() -> object:
        with fft.set_workers(2):
            return signal.fftconvolve(image, kernel[::-1, ::-1], mode="same")  # correlation = flipped convolution

    def backward() -> object:
        with fft.set_workers(2):
            input_grad = signal.fftconvolve(g, kernel, mode="same")
            weight_grad = signal.fftconvolve(np.pad(image, p), g[::-1, ::-1], mode="valid")
        return input_grad, weight_grad

    return Timed(forward if op == "forward" else backward)


def _naive(case: Case, op: str, x: Array, w: Array, grad: Array) -> Timed:
    from . import naive

    hyper = _hyper(case)
    if op == "forward":
        return Timed(lambda: naive.conv2d(x, w, *hyper))

    def backward() -> object:
        return naive.conv2d_input_grad(x.shape, w, grad, *hyper), naive.conv2d_weight_grad(
            x, w.shape, grad, *hyper
        )

    return Timed(backward)
