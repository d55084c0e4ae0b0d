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
    parser.set_defaults(run=run)


def _inputs(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    import numpy as np

    from ..errors import ArgumentError
    from ..labs import value_lab
    from ..textmatrix import load_array

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


def run(args: argparse.Namespace) -> int:
    from ..explain import explain, explain_all

    image, kernel, bias = _inputs(args)
    settings = {
        "stride": args.stride,
        "padding": args.padding,
        "dilation": args.dilation,
        "padding_mode": args.padding_mode,
        "out_channel": args.channel,
    }
    colour = options_colour(args.color)
    if not args.all:
        trace = explain(image, kernel, bias, args.at, **settings)
        print("\n".join(render(trace, colour)))
        return 0
    traces = explain_all(image, kernel, bias, **settings)
    animate = args.delay > 0 and sys.stdout.isatty()
    for step, trace in enumerate(traces, start=1):
        if animate:
            print("\x1b[H\x1b[2J", end="")
        elif step > 1:
            print()
        print(f"step {step}/{len(traces)}")
        print("\n".join(render(trace, colour, done=traces[: step - 1])))
        if animate:
            time.sleep(args.delay)
    return 0


def options_colour(choice: str) -> bool:
    from .text import use_colour

    return use_colour(choice)


def _span(values: tuple[int, ...]) -> str:
    """``0..2`` for neighbouring rows, ``0, 2, 4`` when dilation skips some."""
    if len(values) == 1:
        return f"{values[0]}"
    if values[1] - values[0] == 1:
        return f"{values[0]}..{values[-1]}"
    return ", ".join(str(value) for value in values)


def render(trace: Any, colour: bool = False, done: list[Any] | None = None) -> list[str]:
    """The explanation as lines of text; with ``done`` (the traces before this one) also the output filling in."""
    from ..explain import equation, number
    from .text import cell_text, grid

    i, j = trace.position
    (top, bottom), (left, right) = trace.padding
    channels = trace.padded.shape[0]
    kh, kw = trace.terms[0].kernel.shape
    height, width = trace.padded.shape[1] - top - bottom, trace.padded.shape[2] - left - right
    Ho, Wo = trace.output.shape
    pad_text = (
        "no padding"
        if top == bottom == left == right == 0
        else (f"padded ({trace.padding_mode}) by top {top}, bottom {bottom}, left {left}, right {right}")
    )
    lines = [
        f"input {channels}x{height}x{width} ({pad_text}), kernel {kh}x{kw}, stride {trace.stride}, "
        f"dilation {trace.dilation} -> output {Ho}x{Wo}"
    ]
    window = {(r, c) for r in trace.rows for c in trace.cols}
    where = (
        f"out[{i}, {j}] reads input rows {_span(trace.input_rows)}, cols {_span(trace.input_cols)} "
        f"(window start = {i}*{trace.stride[0]}, {j}*{trace.stride[1]}"
    )
    where += f"; dilation {trace.dilation} spaces the kernel cells)" if trace.dilation != (1, 1) else ")"
    lines.append(where)
    name = "channel" if trace.out_channel == 0 else f"output channel {trace.out_channel}, input channel"
    for term in trace.terms:
        if len(trace.terms) > 1:
            lines.append(f"{name} {term.channel}:")
        lines += grid(trace.padded[term.channel], trace.padding, window, colour)
        patch_lines = grid(term.patch, colour=False, indent="")
        kernel_lines = grid(term.kernel, colour=False, indent="")
        column = max(len(line) for line in patch_lines) + 4
        lines.append("  patch".ljust(column + 2) + "kernel")
        lines += [f"  {p.ljust(column)}{k}" for p, k in zip(patch_lines, kernel_lines)]
        lines.append(f"  {equation(term)}")
    if len(trace.terms) > 1 or trace.bias is not None:
        parts = [number(term.total) for term in trace.terms]
        if trace.bias is not None:
            parts.append(f"bias {number(trace.bias)}")
        label = "sum over channels" if len(trace.terms) > 1 else "sum"
        lines.append(f"{label}: {' + '.join(parts)} = {number(trace.total).strip('()')}")
    lines.append(f"out[{i}, {j}] = {cell_text(trace.value)}")
    if done is not None:
        filled = {t.position for t in done} | {trace.position}
        blank = {(r, c) for r in range(Ho) for c in range(Wo)} - filled
        lines.append("output so far:")
        lines += grid(trace.output, highlight={trace.position}, colour=colour, blank=blank)
    return lines
