"""How ``convlab apply`` reads its MODEL: a layer string or preset (seeded weights), or a torch model file.

A layer string becomes a ``convlab.nn.Sequential`` with PyTorch's initialisation drawn
from ``--seed`` (each layer from the seed plus its index), so a run can be repeated;
``--weights state.npz`` then loads a state written by ``module.save``. A ``model.npz`` written by
``convlab train`` or ``convlab.train.save_model`` holds its layers too and is read on its own. A torch model file
is a whole module saved with ``torch.save(model, path)``; its weights are read as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ArgumentError

__all__ = ["read_model"]

TORCH_SUFFIXES = (".pt", ".pth")


def _layer(op: Any, channels: int, seed: int) -> Any:
    """The convlab layer that runs one layer-string op, for an input with ``channels`` channels, in eval mode
    (a batch norm with fresh statistics: mean 0, variance 1); None for a layer no tile can run."""
    import numpy as np

    if op.uneven_fields:  # a transposed convolution: no single halo serves every tile
        return None
    try:
        layer = op.layer((1, channels, 64, 64), seed, np.float32)  # the registry builds it (the size is unused)
    except ArgumentError:
        return None
    return layer.eval()


def from_layer_string(text: str, channels: int, seed: int) -> tuple[Any, str]:
    """The layer string's local layers as a Sequential, and a note of what was left out and how weights were made.

    It stops at the first layer that sees the whole image (flatten, linear, adaptive pooling); a
    ``res(...)`` block becomes an ``nn.Residual``.
    """
    from ..network.as_graph import as_graph
    from ..network.summary import analyse
    from ..network.to_layers import as_layers

    graph, _ = as_graph(text)
    records = analyse(graph, (1, channels, 64, 64))
    shapes: dict[str, tuple[int, ...]] = {"input": (1, channels, 64, 64)}
    shapes.update((record.name, record.output_shape) for record in records)
    until = next(
        (index for index, node in enumerate(graph.nodes) if node.op.global_view or node.op.flattens), None
    )
    if until == 0:
        raise ArgumentError(f"MODEL {text!r} has no layer that runs tile by tile", fix='e.g. "conv3x3(8,p1) relu"')
    position = {node.name: index for index, node in enumerate(graph.nodes)}

    def leaf(node: Any, input_shape: tuple[int, ...]) -> Any:
        layer = _layer(node.op, input_shape[1], seed + position[node.name])
        if layer is None:
            raise ArgumentError(
                f"MODEL {text!r}: layer {node.name} ({node.op.describe()}) cannot run tile by tile",
                fix="use conv, maxpool, avgpool, bn, relu, sigmoid, tanh, dropout layers and res(...) blocks",
            )
        return layer

    model = as_layers(graph, shapes, leaf, until)
    note = f"layers from {text!r} with initial weights drawn from seed {seed}"
    if until is not None:
        skipped = len(graph.nodes) - until
        note += f"; the last {skipped} layer(s), from {graph.nodes[until].name} on, see the whole image: not run"
    return model, note


def from_torch_file(path: Path, channels: int) -> tuple[Any, str]:
    """A whole torch module saved with ``torch.save(model, path)``, as convlab layers in eval mode.

    Modules convlab knows convert as they are; any other module (a block whose ``forward`` adds
    its input to what its layers make) is read through torch.fx, each ``x + f(x)`` becoming an
    ``nn.Residual`` with the layers' own weights.
    """
    from .. import nn
    from ..errors import ConvlabError

    try:
        import torch
    except ImportError:
        raise ArgumentError(f"reading {str(path)!r} needs torch", fix="pip install torch") from None
    try:
        # a whole module is a pickle: it runs code from the file, as torch.load itself warns; the user named it
        module = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # torch raises many kinds for a bad file
        reason = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        raise ArgumentError(
            f"cannot read the torch model {str(path)!r}: {reason}", fix="pass torch.save(model, path)'s file"
        ) from None
    if not isinstance(module, torch.nn.Module):
        raise ArgumentError(
            f"{str(path)!r} holds a {type(module).__name__}, not a torch module (a state dict has no layers)",
            fix="save the whole module: torch.save(model, path); or pass a layer string with --weights model.npz",
        )
    note = f"the torch model in {str(path)!r}, its own weights"
    try:
        return nn.from_torch(module).eval(), note
    except ConvlabError:  # a module of its own: its forward says how the layers connect
        model, cut = _traced(module, channels)
        return model.eval(), f"{note}, its additions read as residual blocks by torch.fx{cut}"


def _traced(module: Any, channels: int) -> tuple[Any, str]:
    """A torch module's local layers, read by torch.fx (known modules with their weights, functions as layers),
    and a note of the layers left out."""
    from .. import nn
    from ..network.from_torch import trace
    from ..network.summary import analyse
    from ..network.to_layers import as_layers

    graph = trace(module)
    shape = (1, channels, 64, 64)
    shapes: dict[str, tuple[int, ...]] = {"input": shape}
    shapes.update((record.name, record.output_shape) for record in analyse(graph, shape))
    modules = dict(module.named_modules())
    until = next((i for i, node in enumerate(graph.nodes) if node.op.global_view or node.op.flattens), None)

    def leaf(node: Any, input_shape: tuple[int, ...]) -> Any:
        found = modules.get(node.name)
        if found is not None and next(found.children(), None) is None:
            return nn.from_torch(found)
        layer = _layer(node.op, input_shape[1], 0)  # a function (torch.relu, F.max_pool2d): no weights
        if layer is None:
            raise ArgumentError(
                f"layer {node.name} ({node.op.describe()}) cannot run tile by tile",
                fix="apply the layers before it, and run it on the result in memory",
            )
        return layer

    cut = "" if until is None else f"; from {graph.nodes[until].name} on it sees the whole image: not run"
    return as_layers(graph, shapes, leaf, until), cut


def from_model_file(path: Path, weights: str | None) -> tuple[Any, str]:
    """A model.npz with its layer string (``convlab train`` writes one), in eval mode, and its note."""
    from ..train.model_files import read_model as read_saved

    if not path.is_file():
        raise ArgumentError(f"MODEL file {str(path)!r} does not exist", fix="check the path")
    if weights is not None:
        raise ArgumentError("--weights is for a layer string; a model.npz has its own", fix="drop --weights")
    try:
        saved = read_saved(path)
    except ArgumentError:
        raise ArgumentError(
            f"MODEL {str(path)!r} is not a model.npz with its layers: "
            "a saved state holds weights but not the layers",
            fix=f'pass the layers and the state: convlab apply "conv3x3(8,p1) relu" --weights {path} ...',
        ) from None
    return saved.model, f"the model in {str(path)!r} ({saved.layers}), its own weights"


def read_model(model: str, channels: int, seed: int, weights: str | None) -> tuple[Any, str]:
    """MODEL as an nn model in eval mode, and a note that says what it is and where its weights came from."""
    path = Path(model)
    if path.suffix.lower() in TORCH_SUFFIXES:
        if not path.is_file():
            raise ArgumentError(f"MODEL file {model!r} does not exist", fix="check the path")
        if weights is not None:
            raise ArgumentError("--weights is for a layer string; a torch file has its own", fix="drop --weights")
        return from_torch_file(path, channels)
    if path.suffix.lower() == ".npz":
        return from_model_file(path, weights)
    chain, note = from_layer_string(model, channels, seed)
    if weights is not None:
        chain.load(weights)
        note = f"layers from {model!r} with the weights in {weights!r}"
    return chain.eval(), note
