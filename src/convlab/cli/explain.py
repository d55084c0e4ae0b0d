"""``convlab explain``: where one output value came from, in the lesson's own arithmetic."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from . import options


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "explain",
        help="show how one output value is computed, step by step",
        description="Show the padded input, the window that produced one output value (which rows and "
        "columns, through stride and dilation), the kernel, the products and the sum, written as the "
        "lesson writes it: 1*1 + 2*0 + 5*0 + 3*(-1) = -2. With --all, watch the window slide.",
        epilog="examples:\n  convlab explain --lab manual_conv --at 1,0\n"
        '  convlab explain --image "1 2 3; 4 5 6; 7 8 9" --kernel "1 0; 0 1" --padding 1 --at 0,0\n'
        '  convlab explain --image "1 2; 3 4 | 5 6; 7 8" --kernel "1 1; 1 1 | 1 -1; 1 -1" --bias 0.5\n'
        "  convlab explain --lab edge --all",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--lab", choices=("manual_conv", "edge"), help="take image and kernel from a lab")
    parser.add_argument("--image", help='image: "1 2; 3 4", channels split by |, or a .npy/.png file')
    parser.add_argument(
        "--kernel", help='kernel: "1 0; 0 -1", channels split by |, or a .npy file (C_out, C_in, kH, kW)'
    )
    parser.add_argument("--bias", type=options.bias, help="bias, one number per output channel, e.g. 0.5")
    parser.add_argument("--stride", type=options.int_or_pair, default=1)
    parser.add_argument("--padding", type=options.padding, default=0, help="a number, h,w, same or valid")
    parser.add_argument("--dilation", type=options.int_or_pair, default=1)
    parser.add_argument("--padding-mode", default="zeros", choices=("zeros", "reflect", "replicate", "circular"))
    parser.add_argument("--at", type=options.position, default=(0, 0), help="output position i,j (default 0,0)")
    parser.add_argument("--channel", type=int, default=0, help="output channel (default 0)")
    parser.add_argument("--all", action="store_true", help="every output value, the window sliding frame by frame")
    parser.add_argument("--delay", type=float, default=0.0, help="with --all on a terminal: seconds per frame")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    parser.set_defaults(run=run, flags={"out_channel": "--channel"})


def _inputs(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    import numpy as np

    from ..errors import ArgumentError
    from ..lesson.labs import value_lab
    from ..lesson.textmatrix import load_array

    if args.lab:
        lab = value_lab(args.lab)
        image, kernel = lab.image, lab.kernel
    else:
        if args.image is None or args.kernel is None:
            raise ArgumentError(
                "explain needs --lab, or both --image and --kernel",
                fix="convlab explain --lab manual_conv --at 1,0",
            )
        image = load_array(args.image, "image", max_ndim=3)
        kernel = load_array(args.kernel, "kernel", max_ndim=4)
    if args.image is not None and args.lab:
        image = load_array(args.image, "image", max_ndim=3)
    if args.kernel is not None and args.lab:
        kernel = load_array(args.kernel, "kernel", max_ndim=4)
    if kernel.ndim == 3:  # one kernel per input channel: a single output channel
        kernel = kernel[None]
    if image.ndim == 3 and kernel.ndim == 2:
        kernel = np.broadcast_to(kernel, (image.shape[0], *kernel.shape))[None]
    bias = None if args.bias is None else np.asarray(args.bias, dtype=np.float32)
    return image, kernel, bias


def _use_colour(choice: str) -> bool:
    """Colour only on a terminal that is not asked to avoid it (``NO_COLOR``, ``TERM=dumb``)."""
    import os

    if choice in ("always", "never"):
        return choice == "always"
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def run(args: argparse.Namespace) -> int:
    from ..lesson.explain import explain, explain_all
    from ..lesson.explain_text import trace_text

    image, kernel, bias = _inputs(args)
    settings = {
        "stride": args.stride,
        "padding": args.padding,
        "dilation": args.dilation,
        "padding_mode": args.padding_mode,
        "out_channel": args.channel,
    }
    colour = _use_colour(args.color)
    if not args.all:
        trace = explain(image, kernel, bias, args.at, **settings)
        print("\n".join(trace_text(trace, colour)))
        return 0
    traces = explain_all(image, kernel, bias, **settings)
    animate = args.delay > 0 and sys.stdout.isatty()
    for step, trace in enumerate(traces, start=1):
        if animate:
            print("\x1b[H\x1b[2J", end="")
        elif step > 1:
            print()
        print(f"step {step}/{len(traces)}")
        print("\n".join(trace_text(trace, colour, done=traces[: step - 1])))
        if animate:
            time.sleep(args.delay)
    return 0
