"""The model a command works on, as its arguments name it: a preset, a layer string, or a torch model class
in a Python file (``--model net.py:Net``). Shared by ``convlab summary``, ``rf`` and ``check``."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["load_torch_model", "model_from_args"]


def model_from_args(args: argparse.Namespace) -> Any:
    """The model a command names: a preset or layer string (returned as the text), or --model FILE.py:CLASS."""
    from ..errors import ArgumentError

    if (args.model is None) == (args.model_file is None):
        raise ArgumentError(
            "name one model: a preset, a layer string, or --model FILE.py:CLASS", fix="convlab summary resnet18"
        )
    if args.model_file is None:
        return args.model
    file = args.model_file.rpartition(":")[0] if ":" in args.model_file else args.model_file
    with _beside(Path(file or ".")):  # it may import a module next to it, as `python net.py` lets it
        return load_torch_model(args.model_file)


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


def load_torch_model(spec: str) -> Any:
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
