"""Time one case with one engine in this process and print the median seconds as JSON.

Run by run.py in a fresh process per measurement, so convlab's OpenBLAS threads
and PyTorch's OpenMP threads never compete inside one process.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from cases import CASES


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("engine", choices=["convlab", "torch"])
    parser.add_argument("case", type=int)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    case = CASES[args.case]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(case.input_shape, dtype=np.float32)
    w = rng.standard_normal(case.weight_shape, dtype=np.float32)
    n, o = case.input_shape[0], case.weight_shape[0]
    g = rng.standard_normal((n, o, *case.output_size), dtype=np.float32)
    settings = {"stride": case.stride, "padding": case.padding, "groups": case.groups}
    if args.engine == "torch":
        import torch

        torch.set_num_threads(2)
        xt, wt, gt = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(g)
        run = {
            "forward": lambda: torch.nn.functional.conv2d(xt, wt, **settings),
            "input_grad": lambda: torch.nn.grad.conv2d_input(xt.shape, wt, gt, **settings),
            "weight_grad": lambda: torch.nn.grad.conv2d_weight(xt, wt.shape, gt, **settings),
        }[case.op]
    else:
        import convlab.functional as F

        run = {
            "forward": lambda: F.conv2d(x, w, **settings),
            "input_grad": lambda: F.conv2d_input_grad(x.shape, w, g, **settings),
            "weight_grad": lambda: F.conv2d_weight_grad(x, w.shape, g, **settings),
        }[case.op]
    run()  # warm up: first-touch of memory, BLAS thread start-up
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    print(json.dumps({"median": float(np.median(times))}))


if __name__ == "__main__":
    main()
