"""``convlab summary`` and ``convlab rf``: a network's layers, sizes, parameters, MACs and receptive fields."""

from __future__ import annotations

import argparse
from typing import Any

from .options import positive_int

_MODEL_HELP = "a preset (lenet5, alexnet, vgg16, resnet18, resnet50, tinyvgg) or a layer string"
_EPILOG = (
    "layer strings: layers separated by spaces, e.g.\n"
    '  "conv3x3(64,s2,p1) relu maxpool(2) conv(128,k3,p1) flatten linear(10)"\n'
    "  conv/convT take (out, kN, sN, pN|psame, dN, gN), pools take (kernel, sN, pN, ceil),\n"
    "  linear takes (features); also relu, bn, flatten, gap, dropout.\n"
)


def add_parser(commands: Any) -> None:
    for name, summary_help, description, example in (
        (
            "summary",
            "per-layer shapes, parameters, MACs, memory and receptive fields",
            "Per layer: output shape, parameters, multiply-adds (convolutions and linear layers, without bias, "
            "as torchvision's model cards count them), activation memory (float32) and receptive field; totals "
            "at the bottom.",
            'convlab summary resnet18\n  convlab summary "conv3x3(16,p1) relu maxpool2" --input 3x32x32',
        ),
        (
            "rf",
            "receptive field of every layer, and of the network",
            "Receptive field size, jump (effective stride) and start per layer, through residual branches (the "
            "largest path is named). --check measures it by back-propagating through the real layers.",
            "convlab rf vgg16\n  convlab rf resnet50 --check",
        ),
    ):
        parser = commands.add_parser(
            name,
            help=summary_help,
            description=description,
            epilog=f"examples:\n  {example}\n  convlab {name} --model net.py:Net --input 3x32x32\n\n{_EPILOG}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument("model", nargs="?", help=_MODEL_HELP)
        parser.add_argument(
            "--model",
            dest="model_file",
            metavar="FILE.py:CLASS",
            help="a torch.nn.Module class in a Python file (built with no arguments; :CLASS may be left out "
            "when the file defines one model)",
        )
        parser.add_argument("--input", help="input shape C x H x W (presets have their own default)")
        parser.add_argument("--json", action="store_true", help="print JSON")
        if name == "summary":
            parser.add_argument(
                "--depth",
                type=positive_int,
                metavar="N",
                help="show layers nested deeper than N dotted name parts as one row (layer1.0.conv1: depth 3)",
            )
        if name == "rf":
            parser.add_argument("--check", action="store_true", help="measure it through the engine's backward")
        parser.set_defaults(run=run_summary if name == "summary" else run_rf, flags={"input_shape": "--input"})


def _print_json(result: Any, **totals: Any) -> None:
    """The model, its input shape and every layer's record, then the command's own totals, as JSON."""
    import json
    from dataclasses import asdict

    layers = [asdict(layer) for layer in result.layers]
    print(json.dumps({"model": result.model, "input_shape": result.input_shape, "layers": layers, **totals}))


def run_summary(args: argparse.Namespace) -> int:
    from ..network.summary import summary
    from .models import model_from_args

    result = summary(model_from_args(args), args.input, depth=args.depth)
    if args.json:
        _print_json(
            result,
            total_params=result.total_params,
            total_macs=result.total_macs,
            total_memory_bytes=result.total_memory_bytes,
            notes=result.notes,
        )
    else:
        print(result)
    return 0


def run_rf(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..network.receptive_field import receptive_field
    from ..network.tables import receptive_table
    from .models import model_from_args

    result = receptive_field(model_from_args(args), args.input, check=args.check)
    if args.json:
        check = None if result.check is None else asdict(result.check)
        _print_json(result, final=asdict(result.final), path=result.path, check=check)
    else:
        print(receptive_table(result))
    return 1 if result.check is not None and result.check.agree is False else 0
