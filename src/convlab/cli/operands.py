"""One convolution's operands as ``convlab explain`` and ``convlab draw window|explain`` take them: --lab, or
--image and --kernel (text, a .npy file or a picture), --bias, and the flags of its settings."""

from __future__ import annotations

import argparse
from typing import Any

from . import options

_LABS = ("manual_conv", "edge")  # the labs with an image and a kernel to take


def add_arguments(parser: argparse.ArgumentParser, *, position: bool, padding_sides: bool = False) -> None:
    """The operand and settings flags; ``position`` adds --at and --channel (one output value), and
    ``padding_sides`` lets --padding give each side (only the window picture pads by hand)."""
    parser.add_argument("--lab", choices=_LABS, help="take image and kernel from a lab")
    parser.add_argument(
        "--image", help='image: "1 2; 3 4", channels split by |, or a .npy or picture file (grey 0..255)'
    )
    parser.add_argument(
        "--kernel", help='kernel: "1 0; 0 -1", channels split by |, or a .npy file (C_out, C_in, kH, kW)'
    )
    parser.add_argument("--bias", type=options.bias, help="bias, one number per output channel, e.g. 0.5")
    parser.add_argument("--stride", type=options.int_or_pair, default=1)
    if padding_sides:
        parser.add_argument(
            "--padding",
            type=_padding_or_sides,
            default=0,
            help="a number, h,w, same, valid, or top,bottom,left,right",
        )
    else:
        parser.add_argument("--padding", type=options.padding, default=0, help="a number, h,w, same or valid")
    parser.add_argument("--dilation", type=options.int_or_pair, default=1)
    parser.add_argument("--padding-mode", default="zeros", choices=("zeros", "reflect", "replicate", "circular"))
    if position:
        parser.add_argument(
            "--at", type=options.position, default=(0, 0), help="output position i,j (default 0,0)"
        )
        parser.add_argument("--channel", type=int, default=0, help="output channel (default 0)")


def _padding_or_sides(text: str) -> object:
    """What --padding takes, or four numbers: top,bottom,left,right -> ((top, bottom), (left, right))."""
    from .._args import int_list

    numbers = int_list(text)
    if numbers is not None and len(numbers) == 4:
        top, bottom, left, right = numbers
        return ((top, bottom), (left, right))
    return options.padding(text)


def values(args: argparse.Namespace, command: str) -> tuple[Any, Any, Any]:
    """(image, kernel, bias): a lab's image and kernel, each replaced by --image or --kernel when given.

    ``command`` (``"explain"``, ``"draw window"``) is how the error names the command that needs them.
    """
    import numpy as np

    from ..errors import ArgumentError
    from ..lesson.labs import value_lab
    from ..lesson.textmatrix import load_array

    image = kernel = None
    if args.lab:
        lab = value_lab(args.lab)
        image, kernel = lab.image, lab.kernel
    if args.image is not None:
        image = load_array(args.image, "image", max_ndim=3)
    if args.kernel is not None:
        kernel = load_array(args.kernel, "kernel", max_ndim=4)
    if image is None or kernel is None:
        raise ArgumentError(
            f"{command} needs --lab, or both --image and --kernel", fix=f"convlab {command} --lab manual_conv"
        )
    bias = None if args.bias is None else np.asarray(args.bias, dtype=np.float32)
    return image, kernel, bias


def one_output_channel(image: Any, kernel: Any) -> Any:
    """The kernel as one output channel's: a (C_in, kH, kW) stack gains the output axis, and a 2-D kernel
    on a (C, H, W) image is the same kernel on every channel.

    Shape:
        (kH, kW), (C_in, kH, kW) or (C_out, C_in, kH, kW) -> 2-D, or (C_out, C_in, kH, kW)
    """
    import numpy as np

    if kernel.ndim == 3:
        return kernel[None]
    if image.ndim == 3 and kernel.ndim == 2:
        return np.broadcast_to(kernel, (image.shape[0], *kernel.shape))[None]
    return kernel
