"""``convlab size``: one layer's output size with its derivation, uncovered pixels, and the padding solver."""

from __future__ import annotations

import argparse
import json
from typing import Any

from . import options

# solve_padding's arguments as this command's flags
SOLVE_FLAGS = {"input_size": "--input", "kernel_size": "--kernel", "output_size": "--want"}


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "size",
        help="output size of one layer, worked through; or the padding that gives a wanted size",
        description="Work the output-size formula through with your numbers, for a convolution, a transposed "
        "convolution (--transposed) or pooling (--pool). Also lists input rows/columns that no window reads. "
        "With --want (a size, or 'same' = ceil(input/stride)) it solves for the padding instead.",
        epilog="examples:\n  convlab size --input 6 --kernel 3 --stride 2 --padding 1\n"
        "  convlab size --input 7 --kernel 2 --stride 2\n"
        "  convlab size --input 3 --kernel 3 --stride 2 --padding 1 --output-padding 1 --transposed\n"
        "  convlab size --input 224 --kernel 7 --stride 2 --want same",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--input", type=options.int_or_pair, required=True, help="input size: H or HxW")
    parser.add_argument("--kernel", type=options.int_or_pair, required=True, help="kernel size: k or kHxkW")
    parser.add_argument("--stride", type=options.int_or_pair, help="default 1 (pooling: the kernel size)")
    parser.add_argument("--padding", type=options.padding, default=0, help="a number, h,w, same or valid")
    parser.add_argument("--dilation", type=options.int_or_pair, default=1)
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--transposed", action="store_true", help="a transposed convolution")
    kind.add_argument("--pool", action="store_true", help="max or average pooling")
    parser.add_argument("--output-padding", type=options.int_or_pair, default=0, help="transposed only")
    parser.add_argument("--ceil-mode", action="store_true", help="pooling only: round up")
    parser.add_argument("--want", help="solve for padding: a wanted output size (N or HxW) or 'same'")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run, flags=SOLVE_FLAGS)


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def run(args: argparse.Namespace) -> int:
    from ..errors import ArgumentError
    from ..network import shapes

    if args.ceil_mode and not args.pool:
        raise ArgumentError(
            "--ceil-mode rounds a pooling layer's output up; a convolution has none", fix="add --pool"
        )
    if args.want is not None:
        return _solve(args)
    if args.output_padding != 0 and not args.transposed:
        raise ArgumentError("--output-padding belongs to a transposed convolution", fix="add --transposed")
    stride = args.stride if args.stride is not None else (args.kernel if args.pool else 1)
    size, kernel, strides, dilation = _pair(args.input), _pair(args.kernel), _pair(stride), _pair(args.dilation)
    if args.transposed:
        if isinstance(args.padding, str):
            raise ArgumentError("a transposed convolution takes a number as padding", fix="--padding 1")
        padding, output_padding = _pair(args.padding), _pair(args.output_padding)
        output = _pair(
            shapes.conv_transpose2d_output_size(size, kernel, strides, padding, output_padding, dilation)
        )
        lines = [
            shapes.conv_transpose2d_derivation(
                size[a], kernel[a], strides[a], padding[a], output_padding[a], dilation[a], "HW"[a]
            )
            for a in range(2)
        ]
        gaps = None
    elif args.pool:
        if isinstance(args.padding, str):
            raise ArgumentError("pooling takes a number as padding", fix="--padding 1")
        padding = _pair(args.padding)
        output = _pair(shapes.pool2d_output_size(size, kernel, strides, padding, dilation, args.ceil_mode))
        lines = [
            shapes.pool2d_derivation(
                size[a], kernel[a], strides[a], padding[a], dilation[a], args.ceil_mode, "HW"[a]
            )
            for a in range(2)
        ]
        gaps = None if args.ceil_mode else shapes.uncovered(size, kernel, strides, padding, dilation)
    else:
        from .._args import conv_padding

        pads = conv_padding(args.padding, kernel_size=kernel, stride=strides, dilation=dilation)
        output = _pair(shapes.conv2d_output_size(size, kernel, strides, args.padding, dilation))
        lines = [
            shapes.conv2d_derivation(size[a], kernel[a], strides[a], pads[a], dilation[a], "HW"[a])
            for a in range(2)
        ]
        gaps = shapes.uncovered(size, kernel, strides, args.padding, dilation)
    if args.json:
        print(
            json.dumps(
                {
                    "output_size": list(output),
                    "derivation": lines,
                    "uncovered": None if gaps is None else {"rows": gaps.rows, "cols": gaps.cols},
                }
            )
        )
        return 0
    lines = lines[:1] if size[0] == size[1] and lines[0][1:] == lines[1][1:] else lines
    print("\n".join(lines))
    print(f"output size: {output[0]} x {output[1]}")
    if gaps is not None and (gaps.rows or gaps.cols):
        print(
            f"never read by any window (zero gradient): rows {list(gaps.rows) or 'none'}, "
            f"cols {list(gaps.cols) or 'none'}"
        )
    return 0


def _solve(args: argparse.Namespace) -> int:
    from ..errors import ArgumentError
    from ..network import shapes

    try:
        want: Any = args.want if args.want == "same" else options.int_or_pair(args.want)
    except argparse.ArgumentTypeError as error:
        raise ArgumentError(f"--want: {error}", fix="--want 112, --want 112x56 or --want same") from None
    solution = shapes.solve_padding(args.input, args.kernel, args.stride or 1, args.dilation, want)
    if args.json:
        print(
            json.dumps(
                {
                    "padding": solution.padding,
                    "torch_padding": solution.torch_padding,
                    "torch_same": solution.torch_same,
                    "output_size": solution.output_size,
                    "explanation": solution.explanation,
                }
            )
        )
        return 0
    top, bottom, left, right = solution.padding
    print(
        f"padding (top, bottom, left, right) = ({top}, {bottom}, {left}, {right}) gives output "
        f"{solution.output_size[0]} x {solution.output_size[1]}"
    )
    print("\n".join(solution.explanation))
    return 0
