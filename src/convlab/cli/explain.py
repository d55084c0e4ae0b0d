"""``convlab explain``: where one output value came from, in the lesson's own arithmetic."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from . import operands


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
    operands.add_arguments(parser, position=True)
    parser.add_argument("--all", action="store_true", help="every output value, the window sliding frame by frame")
    parser.add_argument("--delay", type=float, default=0.0, help="with --all on a terminal: seconds per frame")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    parser.set_defaults(run=run, flags={"out_channel": "--channel"})


def _use_colour(choice: str) -> bool:
    """Colour only on a terminal that is not asked to avoid it (``NO_COLOR``, ``TERM=dumb``)."""
    import os

    if choice in ("always", "never"):
        return choice == "always"
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def run(args: argparse.Namespace) -> int:
    from ..lesson.explain import explain, explain_all
    from ..lesson.explain_text import trace_text

    image, kernel, bias = operands.values(args, "explain")
    kernel = operands.one_output_channel(image, kernel)
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
