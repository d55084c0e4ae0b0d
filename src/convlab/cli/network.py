"""``convlab summary`` and ``convlab rf``: a network's layers, sizes, parameters, MACs and receptive fields."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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
        parser.set_defaults(run=run_summary if name == "summary" else run_rf)


def _model(args: argparse.Namespace) -> Any:
    from ..errors import ArgumentError

    if (args.model is None) == (args.model_file is None):
        raise ArgumentError(
            "name one model: a preset, a layer string, or --model FILE.py:CLASS", fix="convlab summary resnet18"
        )
    if args.model_file is None:
        return args.model
    file = args.model_file.rpartition(":")[0] if ":" in args.model_file else args.model_file
    with _beside(Path(file or ".")):  # it may import a module next to it, as `python net.py` lets it
        return _load_torch_model(args.model_file)


@contextmanager
def _beside(path: Path) -> Iterator[None]:
    """While loading ``path``: its folder first on ``sys.path``; after, ``sys.path`` as it was."""
    import sys

    saved = list(sys.path)
    sys.path.insert(0, str(path.resolve().parent))
    try:
        yield
    finally:
        sys.path[:] = saved


def _load_torch_model(spec: str) -> Any:
    """``net.py:Net`` -> ``Net()``; ``net.py`` alone when the file defines one model class."""
    import importlib.util

    from ..errors import ArgumentError

    path, _, class_name = spec.rpartition(":") if ":" in spec else (spec, ":", "")
    if not path:
        raise ArgumentError(f"--model needs FILE.py:CLASS, got {spec!r}", fix="--model net.py:Net")
    if not Path(path).is_file():
        raise ArgumentError(f"--model file {path!r} does not exist", fix="check the path")
    module_spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    if module_spec is None or module_spec.loader is None:
        raise ArgumentError(f"--model file {path!r} is not a Python file", fix="--model net.py:Net")
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except SystemExit as error:  # a script that calls sys.exit() on import, e.g. outside `if __name__ == ...`
        raise ArgumentError(
            f"{path} called sys.exit({error.code!r}) while loading",
            fix="move the script part under `if __name__ == '__main__':`",
        ) from None
    except Exception as error:  # the user's file: any failure is reported, not raised through
        raise ArgumentError(
            f"{path} failed to run: {type(error).__name__}: {error}", fix="run it with python"
        ) from None
    models = [
        name
        for name, value in vars(module).items()
        if isinstance(value, type) and value.__module__ == module.__name__ and hasattr(value, "forward")
    ]
    if not class_name and len(models) == 1:
        class_name = models[0]
    if not hasattr(module, class_name):
        found = f"its model classes are {', '.join(models)}" if models else "it defines no class with forward()"
        named = f"defines no {class_name!r}" if class_name else "needs a class name"
        raise ArgumentError(
            f"{path} {named}: {found}", fix=f"--model {path}:{models[0] if models else '<your model class>'}"
        )
    try:
        return getattr(module, class_name)()
    except TypeError as error:
        raise ArgumentError(
            f"{class_name}() could not be built without arguments: {error}",
            fix="give its __init__ defaults for every argument",
        ) from None
    except SystemExit as error:
        raise ArgumentError(
            f"{class_name}() called sys.exit({error.code!r})", fix="build the model without exiting"
        ) from None
    except Exception as error:  # the user's __init__: any failure is reported, not raised through
        raise ArgumentError(
            f"{class_name}() failed: {type(error).__name__}: {error}", fix=f"run {class_name}() in python"
        ) from None


def _in_flags(run: Any, *args: Any, **options: Any) -> Any:
    """``run(*args)``, its errors' fixes written as flags (a preset's ``input="3x224x224"`` as ``--input``)."""
    from ..errors import ConvlabError
    from .options import in_flags

    try:
        return run(*args, **options)
    except ConvlabError as error:
        raise in_flags(error, {"input": "--input", "input_shape": "--input"}) from error


def _records(layers: Any) -> list[dict[str, Any]]:
    from dataclasses import asdict

    return [asdict(layer) for layer in layers]


def run_summary(args: argparse.Namespace) -> int:
    import json

    from ..network.summary import summary

    result = _in_flags(summary, _model(args), args.input, depth=args.depth)
    if args.json:
        print(
            json.dumps(
                {
                    "model": result.model,
                    "input_shape": result.input_shape,
                    "layers": _records(result.layers),
                    "total_params": result.total_params,
                    "total_macs": result.total_macs,
                    "total_memory_bytes": result.total_memory_bytes,
                    "notes": result.notes,
                }
            )
        )
    else:
        print(result)
    return 0


def run_rf(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from ..network.receptive_field import receptive_field
    from ..network.tables import receptive_table

    result = _in_flags(receptive_field, _model(args), args.input, check=args.check)
    if args.json:
        print(
            json.dumps(
                {
                    "model": result.model,
                    "input_shape": result.input_shape,
                    "layers": _records(result.layers),
                    "final": asdict(result.final),
                    "path": result.path,
                    "check": None if result.check is None else asdict(result.check),
                }
            )
        )
    else:
        print(receptive_table(result))
    return 1 if result.check is not None and result.check.agree is False else 0
