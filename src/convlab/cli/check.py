"""``convlab check``: every problem in a network for a given input, found before anything runs."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "check",
        help="find every shape mistake in a network for an input, before running it",
        description="Check a layer string, a preset or a torch model (--model file.py:Class) against an input "
        "shape or an actual input file (.npy, or an image read as PIL gives it, (H, W, C)). Every layer is "
        "checked against what reaches it, and the check goes on past a mismatch, so all problems are listed. "
        "Exit code 1 if there are errors, 0 if none (warnings are listed either way).",
        epilog="examples:\n"
        '  convlab check "conv5x5(6) maxpool2 conv5x5(16) maxpool2 flatten linear(10)" --input 1x28x28\n'
        "  convlab check --model net.py:Net --input photo.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", nargs="?", help="a preset or a layer string")
    parser.add_argument("--model", dest="model_file", metavar="FILE.py:CLASS", help="a torch.nn.Module class")
    parser.add_argument("--input", help="C x H x W, N x C x H x W, or a .npy/.png file holding the input")
    parser.add_argument("--torch", action="store_true", help="write fixes for PyTorch code")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run, flags={"input_shape": "--input"})


def _input(text: str | None) -> Any:
    from pathlib import Path

    if text is None or not Path(text).suffix:
        return text
    from ..errors import ArgumentError

    path = Path(text)
    if not path.is_file():
        raise ArgumentError(f"input file {text!r} does not exist", fix="give a shape such as 3x224x224, or a file")
    from .._readers import read_npy, read_picture

    if path.suffix.lower() == ".npy":
        return read_npy(path, "input")
    return read_picture(path, "input", mode=None)  # as PIL gives it: (H, W) or (H, W, C)


def run(args: argparse.Namespace) -> int:
    import json

    from ..network.check import check
    from .fixes import as_flags
    from .models import model_from_args

    flags = {"input": "--input"}  # a preset's fix names the input it was built for
    report = check(model_from_args(args), _input(args.input))
    if args.json:
        print(
            json.dumps(
                {
                    "model": report.model,
                    "input_shape": report.input_shape,
                    "checked": report.checked,
                    "layers": report.total,
                    "ok": report.ok,
                    "inferred": report.inferred,
                    "problems": [
                        {
                            "layer": p.layer,
                            "index": p.index,
                            "kind": p.kind,
                            "severity": p.severity,
                            "code": p.diagnosis.code,
                            "message": p.message,
                            "fix": as_flags(p.diagnosis.torch_fix if args.torch else p.diagnosis.fix, flags),
                        }
                        for p in report.problems
                    ],
                }
            )
        )
        return 0 if report.ok else 1
    for problem in report.problems:
        print(f"{problem.severity}: {as_flags(problem.line(torch=args.torch), flags)}")
    if report.inferred:
        print(f"inferred from the input: {'; '.join(report.inferred)}")
    print(report.verdict)
    return 0 if report.ok else 1
