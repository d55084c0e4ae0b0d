"""``convlab lab``: the lesson's five labs, printed exactly as the lesson shows them."""

from __future__ import annotations

import argparse
from typing import Any

from . import options

NAMES = ("manual_conv", "edge", "size", "channel", "conv2d")  # labs.LAB_NAMES, without importing NumPy for --help


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "lab",
        help="run the lesson's labs (all five, or the ones named)",
        description="Run the lesson's labs on convlab's own conv2d and Conv2d. Without options each prints "
        "exactly the lesson's expected output; options change the lab for the exercises, and then the "
        "output-size formula is shown with your numbers.",
        epilog='examples:\n  convlab lab\n  convlab lab manual_conv --kernel "1 1; 1 1"\n'
        "  convlab lab size --stride 1\n  convlab lab channel --out-channels 16 --torch",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"lab names: {', '.join(NAMES)} (default: all)")
    values = parser.add_argument_group("Labs 1 and 2 (manual_conv, edge)")
    values.add_argument("--image", help='the image: "1 2; 3 4", a .npy file or an image file')
    values.add_argument("--kernel", help='the kernel, e.g. "1 0; 0 -1"')
    values.add_argument("--dilation", type=options.int_or_pair, help="spacing between kernel cells")
    shapes = parser.add_argument_group("Labs 3 to 5 (size, channel, conv2d)")
    shapes.add_argument("--batch", type=int, help="images in the batch, N")
    shapes.add_argument("--in-channels", type=int, help="input channels, C")
    shapes.add_argument("--out-channels", type=int, help="output channels (feature maps)")
    shapes.add_argument("--kernel-size", type=options.int_or_pair, help="kernel size, e.g. 3 or 3x5")
    shapes.add_argument("--size", type=options.int_or_pair, help="input height and width, e.g. 6 or 6x8")
    shapes.add_argument("--seed", type=int, help="seed of the random input and weights")
    both = parser.add_argument_group("all labs")
    both.add_argument("--stride", type=options.int_or_pair, help="window step, e.g. 2 or 2,1")
    both.add_argument("--padding", type=options.padding, help="border: a number, h,w, same or valid")
    both.add_argument("--formula", action="store_true", help="show the output-size formula even unchanged")
    both.add_argument("--torch", action="store_true", help="run the same lab in PyTorch and compare")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ArgumentError
    from ..lesson import labs

    value_options, shape_options = labs.options_of("manual_conv"), labs.options_of("size")
    given = [key for key in sorted(value_options | shape_options) if getattr(args, key) is not None]
    if given and not args.names:
        flag = f"--{given[0].replace('_', '-')}"
        example = "manual_conv" if given[0] in value_options else "size"
        raise ArgumentError(
            f"{flag} changes a lab, so name the lab it is for", fix=f"convlab lab {example} {flag} ..."
        )
    for name in args.names:
        labs.check_name(name)  # every name before the first lab prints
    for key in given:
        if not any(key in labs.options_of(name) for name in args.names):
            raise ArgumentError(
                f"--{key.replace('_', '-')} does not apply to {' '.join(args.names)}",
                fix="see which options each lab takes: convlab lab --help",
            )
    agree = True
    for index, name in enumerate(args.names or labs.LAB_NAMES):
        options = {key: getattr(args, key) for key in labs.options_of(name) if getattr(args, key) is not None}
        lab = labs.run(name, **options)
        if index:
            print()
        print("\n".join(render(lab, formula=args.formula)))
        if args.torch:
            check = labs.cross_check(lab)
            agree &= check.agree
            print(f"  {check.detail}")
    return 0 if agree else 1


def render(lab: Any, formula: bool = False) -> list[str]:
    """The lab's printout: title and values, or title and shapes, then the formula if asked or changed."""
    lines: list[str] = lab.lines(formula)
    return lines
