"""The naive peer: im2col in plain NumPy as a learner writes it (sliding_window_view + tensordot, no chunking).

The code lives in convlab.bench.naive, where the worker processes of
`convlab bench` can import it; this file is where to look for it from
benchmarks/. Run it to check it against convlab on a small layer.
"""

from __future__ import annotations

from convlab.bench.naive import conv2d, conv2d_input_grad, conv2d_weight_grad

__all__ = ["conv2d", "conv2d_input_grad", "conv2d_weight_grad"]

if __name__ == "__main__":
    import numpy as np

    import convlab.functional as F

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 9, 9), dtype=np.float32)
    w = rng.standard_normal((6, 2, 3, 3), dtype=np.float32)
    hyper = {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}
    out = conv2d(x, w, **hyper)
    g = rng.standard_normal(out.shape, dtype=np.float32)
    pairs = [
        (out, F.conv2d(x, w, **hyper)),
        (conv2d_input_grad(x.shape, w, g, **hyper), F.conv2d_input_grad(x.shape, w, g, **hyper)),
        (conv2d_weight_grad(x, w.shape, g, **hyper), F.conv2d_weight_grad(x, w.shape, g, **hyper)),
    ]
    print("largest difference from convlab:", max(float(np.abs(a - b).max()) for a, b in pairs))
