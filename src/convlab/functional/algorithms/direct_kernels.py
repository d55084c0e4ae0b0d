"""Direct convolution as a compiled loop: every output as its window's sum, zero padding never built.

One output row of one image is one unit of work, spread over all cores with
``prange``. Within it, every kernel tap (c, a, b) that lands inside the input
adds ``x[c, r, col] * w[:, c, a, b]`` to the row's outputs for all output
channels at once: the innermost loop runs along the output channels, where the
weights (stored as (C, kH, kW, O)) are contiguous, so it becomes SIMD whatever
the stride or dilation. Rows and columns in the zero padding are skipped.

Importing this module does not import Numba (:mod:`.compiled`); :mod:`.direct`
calls it only for calls large enough to be worth compiling.
"""

from __future__ import annotations

from typing import Any

from .cells import inside_columns
from .compiled import kernel, prange

Array = Any  # Numba's arrays: plain NumPy arrays here, typed by Numba when compiled


@kernel(parallel=True)
def forward(
    x: Array,
    w_last: Array,
    out: Array,
    rows: Array,
    pad_top: int,
    pad_left: int,
    sh: int,
    sw: int,
    dh: int,
    dw: int,
) -> None:
    """out[n, :, i, j] = sum over taps (c, a, b) inside the input of x[n, c, r, col] * w_last[c, a, b, :].

    Shape: x (N, C, H, W), w_last (C, kH, kW, O) (the weight with its output
    channels last), out (N, O, H_out, W_out), filled here; rows (N * H_out, W_out, O),
    scratch: each output row is summed there, channels last, then written out
    (the caller passes one image at a time, so the scratch stays one image's size).
    """
    N, C, H, W = x.shape
    _, kh, kw, O = w_last.shape
    Ho, Wo = out.shape[2], out.shape[3]
    for job in prange(N * Ho):
        n, i = job // Ho, job % Ho
        sums = rows[job]
        sums[:, :] = 0
        for c in range(C):
            for a in range(kh):
                r = i * sh + a * dh - pad_top
                if r < 0 or r >= H:
                    continue  # a padding row: adds zero
                source = x[n, c, r]
                for b in range(kw):
                    offset = b * dw - pad_left
                    start, stop = inside_columns(offset, sw, W, Wo)
                    weights = w_last[c, a, b]
                    for j in range(start, stop):
                        value, into = source[j * sw + offset], sums[j]
                        for o in range(O):
                            into[o] += value * weights[o]
        for o in range(O):
            for j in range(Wo):
                out[n, o, i, j] = sums[j, o]
