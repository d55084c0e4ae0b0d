"""How long convlab's compiled kernels take to be ready: run in a fresh process, prints one line of JSON.

The first large call of each compiled algorithm either compiles its kernels (the
first run after install or after a change to them, tens of seconds) or loads them
from the disk cache (well under a second). The suite runs this twice before
measuring, so the first report is the compile and the second the cached load,
and no worker pays for compiling.
"""

from __future__ import annotations

import json
import time

__all__ = ["main"]


def main() -> None:
    import numpy as np

    from ..functional import conv2d, conv2d_input_grad, conv2d_weight_grad

    x = np.random.default_rng(0).standard_normal((2, 16, 40, 40), dtype=np.float32)
    w = np.ones((16, 16, 3, 3), dtype=np.float32)
    seconds = {}
    for algorithm in ("winograd", "im2col"):
        start = time.perf_counter()
        out = conv2d(x, w, padding=1, algorithm=algorithm)
        conv2d_input_grad(x.shape, w, out, padding=1, algorithm=algorithm)
        conv2d_weight_grad(x, w.shape, out, padding=1, algorithm=algorithm)
        seconds[algorithm] = time.perf_counter() - start
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
