"""``convlab flatten``: why not flatten the image first? The lesson's parameter arithmetic."""

from __future__ import annotations

import argparse
from typing import Any

from . import options


def _image_size(text: str) -> tuple[int, int, int]:
    import re

    numbers = [int(n) for n in re.findall(r"\d+", text)]
    if len(numbers) == 2 and min(numbers) >= 1:
        return (numbers[0], numbers[1], 1)
    if len(numbers) == 3 and min(numbers) >= 1:
        return (numbers[0], numbers[1], numbers[2])
    raise argparse.ArgumentTypeError(
        f"expected H x W or H x W x C, each at least 1, such as 32x32 or 224x224x3, got {text!r}"
    )


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "flatten",
        help="why not flatten first: parameters of a fully connected layer vs a convolution",
        description="Count the weights a fully connected layer needs on a flattened image, and those of a "
        "convolution on the same image, as in the lesson: 32x32 grayscale into 512 outputs needs 524,288 "
        "weights. Without --image: the lesson's two examples.",
        epilog="examples:\n  convlab flatten\n"
        "  convlab flatten --image 224x224x3 --outputs 1000 --out-channels 64",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--image", type=_image_size, action="append", help="H x W or H x W x C (repeatable)")
    parser.add_argument("--outputs", type=int, default=512, help="outputs of the fully connected layer (512)")
    parser.add_argument("--kernel-size", type=options.int_or_pair, default=3, help="conv kernel size (3)")
    parser.add_argument("--out-channels", type=int, default=8, help="conv output channels (8)")
    parser.add_argument("--no-bias", action="store_true", help="count weights only")
    parser.set_defaults(run=run)


def render(cost: Any, bias: bool = True) -> list[str]:
    lines: list[str] = cost.lines(bias)
    return lines


def run(args: argparse.Namespace) -> int:
    from ..lesson.flatten_cost import flatten_vs_conv

    images = args.image or [(32, 32, 1), (224, 224, 3)]
    print("Why not flatten the image first?")
    for height, width, channels in images:
        cost = flatten_vs_conv(height, width, channels, args.outputs, args.kernel_size, args.out_channels)
        print()
        print("\n".join(render(cost, bias=not args.no_bias)))
    return 0
