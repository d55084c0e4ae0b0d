"""The ``convlab`` command: a thin layer over the Python API.

Errors from convlab are printed as one line on stderr with exit code 2; ``--debug``
shows the full traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]

LAB1_IMAGE = [[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]
LAB1_KERNEL = [[1, 0], [0, -1]]


def _demo(args: argparse.Namespace) -> int:
    """Lab 1 of the lesson through the lesson's loop and through the fast engine, side by side."""
    import numpy as np

    from .functional import conv2d, reference

    image = np.array(LAB1_IMAGE, dtype=np.float32)
    kernel = np.array(LAB1_KERNEL, dtype=np.float32)
    slow = reference.conv2d(image[None], kernel[None, None])[0]
    fast = conv2d(image[None], kernel[None, None])[0]
    print("manual_conv_lab")
    print(fast)
    print()
    print("top-left value, patch * kernel -> sum:")
    patch = image[:2, :2]
    terms = " + ".join(
        f"{p:g}*{k:g}" if k >= 0 else f"{p:g}*({k:g})" for p, k in zip(patch.ravel(), kernel.ravel())
    )
    print(f"  {terms} = {np.sum(patch * kernel):g}")
    agree = np.array_equal(slow, fast)
    print(f"reference loop and im2col engine agree: {'yes' if agree else 'NO'}")
    return 0 if agree else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convlab",
        description="Learn, see and check 2D convolution.",
    )
    parser.add_argument("--version", action="version", version=f"convlab {_version()}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="compute the lesson's Lab 1 by hand and with the fast engine",
        description="Compute the lesson's Lab 1 (a 4x4 image, a 2x2 kernel) with the lesson's loop and with "
        "the fast im2col engine, and check that they agree.",
    )
    demo.set_defaults(run=_demo)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("convlab")
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``convlab`` command; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        code: int = args.run(args)
        return code
    except Exception as error:
        from .errors import ConvlabError

        if args.debug or not isinstance(error, ConvlabError):
            raise
        print(f"convlab: error: {str(error).splitlines()[0]}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
