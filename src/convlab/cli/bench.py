"""``convlab bench``: the benchmark suite against PyTorch, SciPy and a naive im2col; also ``benchmarks/run.py``."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "bench",
        help="time convlab against PyTorch (and SciPy, a naive im2col) on ResNet-18 layers and large images",
        description="Time conv2d forward and backward on ResNet-18's layers (batch 8), a depthwise and a\n"
        "dilated layer, and 2048x2048 images with 15x15 and 31x31 kernels, in convlab, PyTorch, SciPy\n"
        "(FFT, images only) and a naive NumPy im2col, each in its own plain process with --threads threads,\n"
        "alternating over rounds; convlab and PyTorch also with 1 thread, for the speed-up from threads.\n"
        "Writes <timestamp>.json, .md and .png (with matplotlib) to the output folder and\n"
        "prints the tables. On 2 cores one --quick round takes about 8 minutes, the full suite about an hour.\n"
        "Needs PyTorch, SciPy and matplotlib: pip install -e '.[bench,test]' in a convlab checkout.",
        epilog="examples:\n  convlab bench --quick\n  convlab bench --only resnet18\n"
        "  convlab bench --write-docs   (from a checkout: updates docs/performance.md and .png)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(run=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options shared by ``convlab bench`` and ``benchmarks/run.py``."""
    parser.add_argument("--quick", action="store_true", help="one round, few repeats, no naive on big cases")
    parser.add_argument("--only", default="", metavar="SUBSTRING", help="only cases whose name contains this")
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="folder for the results (default: benchmarks/results in a checkout, else ./convlab-bench)",
    )
    parser.add_argument(
        "--rounds", type=int, metavar="N", help="rounds of alternating workers (default 3; quick 1)"
    )
    parser.add_argument(
        "--repeat", type=int, metavar="N", help="timed calls per worker at most (default 11; quick 5)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="threads for every library (default: the cores this process may use); 1-thread runs are added",
    )
    parser.add_argument(
        "--write-docs", action="store_true", help="also update the marked section of --docs and its chart"
    )
    parser.add_argument(
        "--docs",
        type=Path,
        default=Path("docs/performance.md"),
        metavar="FILE",
        help="default: docs/performance.md",
    )


def _command(args: argparse.Namespace) -> str:
    """The command that reproduces this run (without --out, which changes nothing measured)."""
    words = [getattr(args, "program", "convlab bench")]
    words += ["--quick"] if args.quick else []
    words += ["--only", shlex.quote(args.only)] if args.only else []
    words += [f"--rounds {args.rounds}"] if args.rounds else []
    words += [f"--repeat {args.repeat}"] if args.repeat else []
    words += [f"--threads {args.threads}"] if args.threads else []
    words += ["--write-docs"] if args.write_docs else []
    return " ".join(words)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..bench import runner
    from ..bench.cases import CASES
    from ..bench.training import TRAINING_CASES
    from ..errors import ArgumentError

    if not any(args.only in case.name for case in (*CASES, *TRAINING_CASES)):
        raise ArgumentError(f"--only {args.only!r} matches no case", fix="see the names in convlab.bench.cases")
    if args.write_docs and not args.docs.is_file():
        raise ArgumentError(
            f"--write-docs: {args.docs} not found", fix="run from a convlab checkout, or pass --docs"
        )
    if args.threads is not None and args.threads < 1:
        raise ArgumentError(f"--threads must be at least 1, got {args.threads}", fix="pass --threads 2, say")
    settings = runner.QUICK if args.quick else runner.FULL
    settings = replace(
        settings,
        only=args.only,
        rounds=args.rounds or settings.rounds,
        repeat=args.repeat or settings.repeat,
        threads=args.threads or settings.threads,
    )
    result = runner.run_suite(settings, command=_command(args))
    paths = runner.save(result, args.out or runner.default_out())
    from ..bench.report import markdown

    print(markdown(result))
    for kind, path in paths.items():
        print(f"{kind}: {path}", file=sys.stderr)
    if args.write_docs:
        from ..bench.report import write_docs

        chart = args.docs.with_suffix(".png")
        write_docs(result, args.docs, chart)
        print(f"updated {args.docs} and {chart}", file=sys.stderr)
    print(f"wall time: {result['wall_seconds']:.0f} s", file=sys.stderr)
    return 0
