"""The ``convlab`` command: a thin layer over the Python API.

Each subcommand lives in its own module with an ``add_parser(commands)`` that
registers it; the modules import NumPy and the rest of convlab only when their
command runs, so ``convlab --help`` starts fast. Errors from convlab are printed
as one line on stderr with exit code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .. import __version__
from . import (
    apply,
    bench,
    check,
    draw,
    exercises,
    explain,
    flatten,
    lab,
    network,
    options,
    serve,
    size,
    tour,
    train,
)
from .warning_lines import warnings_as_lines

__all__ = ["main"]

_COMMANDS = (tour, lab, explain, draw, exercises, flatten, size, network, check, train, apply, serve, bench)


class _Parser(argparse.ArgumentParser):
    """argparse, but its usage errors follow convlab's rule: one line, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"convlab: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="convlab",
        description="Learn, see and check 2D convolution: the lesson's labs, explanations and exercises "
        "on a from-scratch NumPy engine with PyTorch's semantics.",
        epilog="Start with `convlab tour`. Every command has --help.",
    )
    parser.add_argument("--version", action="version", version=f"convlab {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in _COMMANDS:
        command.add_parser(commands)
    for subparser in commands.choices.values():
        subparser.set_defaults(command_parser=subparser)  # so that a stray flag is reported by its command
    return parser


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments; an unknown flag is refused by the subcommand it was given to, pointing to its help."""
    words = list(sys.argv[1:] if argv is None else argv)
    args, unknown = parser.parse_known_args(options.negative_values(words, parser))
    if unknown:
        owner: argparse.ArgumentParser = getattr(args, "command_parser", parser)
        owner.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``convlab`` command; returns the exit code."""
    parser = build_parser()
    args = _parse(parser, argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        with warnings_as_lines():
            code: int = args.run(args)
        return code
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader stopped early (`convlab lab | head`): quietly, as other Unix tools do. Pointing
        # stdout at /dev/null keeps Python's final flush from raising again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13  # killed by SIGPIPE
    except Exception as error:
        from ..errors import ConvlabError

        if args.debug or not isinstance(error, ConvlabError):
            raise
        from .fixes import command_flags, in_flags

        error = in_flags(error, command_flags(args), args.command_parser.prog)  # the API's fix, as this command
        fix = f" (fix: {error.fix})" if error.fix else ""
        print(f"convlab: error: {error.message}{fix}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
