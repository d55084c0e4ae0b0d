"""A trained model in one file: ``model.npz`` holds the weights and the architecture as a layer string.

The architecture is the layer-string language of :mod:`convlab.network.layer_strings`
(``"conv3x3(16,p1) bn relu maxpool2 flatten linear(10)"``) and the input shape (C, H, W) it was
built for, so :func:`load_model` builds the model again from the file alone and copies the weights
and running statistics in. Beside them are the class names, when given. The file is written under a
temporary name and renamed into place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._files import atomic_path
from ..errors import ArgumentError, ShapeError
from ..network.as_graph import as_graph, input_shape_of
from ..network.sequential import layer_string, sequential
from ..nn import Module, Sequential

__all__ = ["SavedModel", "load_model", "read_model", "save_model"]

_ARCHITECTURE, _INPUT, _CLASSES = "architecture", "input_shape", "classes"  # never a state name ("0.weight")


@dataclass(frozen=True)
class SavedModel:
    """What a model file holds: the model (in eval mode), its layer string, input shape and class names."""

    model: Sequential
    layers: str
    input_shape: tuple[int, int, int]
    classes: tuple[str, ...] | None


def _smallest_input(model: Module) -> tuple[int, int, int]:
    """(C, H, W): the first layer's input channels and the smallest square image the whole chain accepts."""
    graph, _ = as_graph(model)
    first = model[0] if isinstance(model, Sequential) and len(model) else model
    channels = getattr(first, "in_channels", None)
    if channels is None:
        raise ArgumentError(
            "save_model: the model does not start with a convolution, so its input shape is unknown",
            fix="pass it: save_model(model, path, input_shape=(1, 8, 8))",
        )
    for side in range(1, 513):
        shape: tuple[int, ...] = (1, channels, side, side)
        try:
            for node in graph.nodes:
                shape = node.op.output_shape([shape], node.name)
        except ShapeError:
            continue
        return (channels, side, side)
    raise ArgumentError(
        "save_model: no square input up to 512 pixels fits the model", fix="pass input_shape=(C, H, W)"
    )


def save_model(
    model: Module,
    path: str | os.PathLike[str],
    *,
    input_shape: object = None,
    classes: tuple[str, ...] | list[str] | None = None,
) -> Path:
    """Write ``model``'s weights, running statistics and architecture to ``path`` (a ``.npz`` file).

    Args:
        model: a ``convlab.nn.Sequential`` chain (or one layer) that a layer string can describe.
        path: the file to write; replaced whole if it exists.
        input_shape: (C, H, W) the model takes. Default: the first layer's channels and the
            smallest square image the model accepts.
        classes: the name of each output class, stored beside the weights. Default: none.

    Raises:
        ArgumentError: a layer a layer string cannot write (a branch, Dropout with p other than 0.5).
    """
    layers = layer_string(model)
    shape = _smallest_input(model) if input_shape is None else input_shape_of(input_shape)[1:]
    sequential(layers, shape)  # the architecture must rebuild, with these sizes, before anything is written
    arrays = {name: np.asarray(value) for name, value in model.state_dict().items()}
    arrays[_ARCHITECTURE] = np.array(layers)
    arrays[_INPUT] = np.array(shape, dtype=np.int64)
    if classes is not None:
        arrays[_CLASSES] = np.array([str(name) for name in classes])
    target = Path(path)
    with atomic_path(target) as temporary, open(temporary, "wb") as file:
        np.savez_compressed(file, **arrays)  # type: ignore[arg-type]
    return target


def read_model(path: str | os.PathLike[str]) -> SavedModel:
    """The model stored at ``path`` by :func:`save_model`, built again (in eval mode), and what is beside it.

    Raises:
        ArgumentError: a missing or unreadable file, or a ``.npz`` without an architecture (a plain
            ``module.save`` state: load that into a model built the same way with ``module.load``).
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            stored = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError) as error:
        raise ArgumentError(
            f"cannot read {str(path)!r} as a model file: {error}",
            fix="pass the path of a model.npz written by convlab train or convlab.train.save_model",
        ) from None
    if _ARCHITECTURE not in stored or _INPUT not in stored:
        raise ArgumentError(
            f"{str(path)!r} holds weights but no architecture, so the model cannot be built from it alone",
            fix="build the model the same way and call model.load(path), or save it with save_model(model, path)",
        )
    layers = str(stored.pop(_ARCHITECTURE))
    shape = tuple(int(n) for n in stored.pop(_INPUT))
    classes = tuple(str(name) for name in stored.pop(_CLASSES)) if _CLASSES in stored else None
    floats = [value.dtype for value in stored.values() if value.dtype.kind == "f"]
    model = sequential(layers, shape, dtype=floats[0] if floats else np.float32)
    model.load_state_dict(stored)
    model.eval()
    return SavedModel(model, layers, (shape[0], shape[1], shape[2]), classes)


def load_model(path: str | os.PathLike[str]) -> Sequential:
    """The model stored at ``path`` by :func:`save_model`, with its weights, in eval mode.

    Example:
        >>> import tempfile
        >>> from convlab.network.sequential import sequential
        >>> model = sequential("digits_cnn", seed=1).eval()
        >>> path = save_model(model, Path(tempfile.mkdtemp()) / "model.npz")
        >>> x = np.ones((1, 1, 8, 8), np.float32)
        >>> bool(np.array_equal(load_model(path)(x), model(x)))
        True
    """
    return read_model(path).model
