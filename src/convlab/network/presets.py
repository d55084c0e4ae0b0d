"""Well-known networks as data: layer graphs with the shapes of the published definitions.

* ``lenet5``: LeCun et al. 1998, on 1x32x32 (6 and 16 5x5 filters, then 120, 84, 10 units);
* ``alexnet``, ``vgg16``, ``resnet18``, ``resnet50``: torchvision's definitions
  (``torchvision.models``), residual branches and downsample paths included;
* ``tinyvgg``: the Tiny VGG of CNN Explainer (Wang et al. 2020), on 3x64x64;
* ``digits_cnn``, ``shapes_cnn``: small CNNs sized for the bundled data (``convlab.data.digits``,
  1x8x8, and ``convlab.data.shapes``, 1x28x28), written as layer strings (:data:`SMALL_CNNS`).

Only the architecture is here (layer kinds and sizes), no weights.

Example:
    >>> graph, input_shape = preset("resnet18")
    >>> len(graph.nodes), input_shape
    (69, (3, 224, 224))
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from ..diagnose import Diagnosis
from ..errors import ArgumentError, Call
from .graph import Graph, GraphBuilder
from .layer_kinds import Activation, AdaptiveAvgPool, Add, BatchNorm, Flatten, Linear, conv, pool

__all__ = ["PRESETS", "preset", "wrong_input"]


def _lenet5() -> Graph:
    g = GraphBuilder("lenet5")
    g.add("conv1", conv(6, 5))
    g.add("act1", Activation("sigmoid"))
    g.add("pool1", pool("avg", 2))
    g.add("conv2", conv(16, 5))
    g.add("act2", Activation("sigmoid"))
    g.add("pool2", pool("avg", 2))
    g.add("flatten", Flatten())
    g.add("fc1", Linear(120))
    g.add("act3", Activation("sigmoid"))
    g.add("fc2", Linear(84))
    g.add("act4", Activation("sigmoid"))
    g.add("fc3", Linear(10))
    return g.build()


def _alexnet() -> Graph:
    g = GraphBuilder("alexnet")
    for index, (channels, kernel, stride, padding, pooled) in enumerate(
        [
            (64, 11, 4, 2, True),
            (192, 5, 1, 2, True),
            (384, 3, 1, 1, False),
            (256, 3, 1, 1, False),
            (256, 3, 1, 1, True),
        ]
    ):
        g.add(f"features.conv{index + 1}", conv(channels, kernel, stride, padding))
        g.add(f"features.relu{index + 1}", Activation("relu"))
        if pooled:
            g.add(f"features.pool{index + 1}", pool("max", 3, 2))
    g.add("avgpool", AdaptiveAvgPool((6, 6)))
    g.add("flatten", Flatten())
    _classifier(g, 4096)
    return g.build()


def _classifier(g: GraphBuilder, hidden: int) -> None:
    g.add("classifier.dropout1", Activation("dropout"))
    g.add("classifier.fc1", Linear(hidden))
    g.add("classifier.relu1", Activation("relu"))
    g.add("classifier.dropout2", Activation("dropout"))
    g.add("classifier.fc2", Linear(hidden))
    g.add("classifier.relu2", Activation("relu"))
    g.add("classifier.fc3", Linear(1000))


def _vgg16() -> Graph:
    g = GraphBuilder("vgg16")
    stage, index = 1, 1
    for item in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if item == "M":
            g.add(f"features.pool{stage}", pool("max", 2, 2))
            stage, index = stage + 1, 1
            continue
        assert isinstance(item, int)
        g.add(f"features.conv{stage}_{index}", conv(item, 3, padding=1))
        g.add(f"features.relu{stage}_{index}", Activation("relu"))
        index += 1
    g.add("avgpool", AdaptiveAvgPool((7, 7)))
    g.add("flatten", Flatten())
    _classifier(g, 4096)
    return g.build()


def _basic_block(
    g: GraphBuilder, prefix: str, width: int, stride: int, source: str, in_channels: int
) -> tuple[str, int]:
    """torchvision's BasicBlock: two 3x3 convs; the shortcut gets a strided 1x1 conv when shapes change."""
    x = g.add(f"{prefix}.conv1", conv(width, 3, stride, 1, bias=False), source)
    x = g.add(f"{prefix}.bn1", BatchNorm(), x)
    x = g.add(f"{prefix}.relu1", Activation("relu"), x)
    x = g.add(f"{prefix}.conv2", conv(width, 3, 1, 1, bias=False), x)
    x = g.add(f"{prefix}.bn2", BatchNorm(), x)
    shortcut = _downsample(g, prefix, width, stride, source, in_channels)
    x = g.add(f"{prefix}.add", Add(), x, shortcut)
    return g.add(f"{prefix}.relu", Activation("relu"), x), width


def _bottleneck(
    g: GraphBuilder, prefix: str, width: int, stride: int, source: str, in_channels: int
) -> tuple[str, int]:
    """torchvision's Bottleneck (ResNet v1.5): 1x1 down, 3x3 with the stride, 1x1 up to 4x width."""
    x = g.add(f"{prefix}.conv1", conv(width, 1, bias=False), source)
    x = g.add(f"{prefix}.bn1", BatchNorm(), x)
    x = g.add(f"{prefix}.relu1", Activation("relu"), x)
    x = g.add(f"{prefix}.conv2", conv(width, 3, stride, 1, bias=False), x)
    x = g.add(f"{prefix}.bn2", BatchNorm(), x)
    x = g.add(f"{prefix}.relu2", Activation("relu"), x)
    x = g.add(f"{prefix}.conv3", conv(width * 4, 1, bias=False), x)
    x = g.add(f"{prefix}.bn3", BatchNorm(), x)
    shortcut = _downsample(g, prefix, width * 4, stride, source, in_channels)
    x = g.add(f"{prefix}.add", Add(), x, shortcut)
    return g.add(f"{prefix}.relu", Activation("relu"), x), width * 4


def _downsample(
    g: GraphBuilder, prefix: str, out_channels: int, stride: int, source: str, in_channels: int
) -> str:
    if stride == 1 and in_channels == out_channels:
        return source
    x = g.add(f"{prefix}.downsample.0", conv(out_channels, 1, stride, bias=False), source)
    return g.add(f"{prefix}.downsample.1", BatchNorm(), x)


Block = Callable[[GraphBuilder, str, int, int, str, int], tuple[str, int]]


def _resnet(name: str, block: Block, depths: tuple[int, int, int, int]) -> Graph:
    g = GraphBuilder(name)
    g.add("conv1", conv(64, 7, 2, 3, bias=False))
    g.add("bn1", BatchNorm())
    g.add("relu", Activation("relu"))
    x = g.add("maxpool", pool("max", 3, 2, 1))
    channels = 64
    for stage, (width, depth) in enumerate(zip((64, 128, 256, 512), depths), start=1):
        for index in range(depth):
            stride = 2 if stage > 1 and index == 0 else 1
            x, channels = block(g, f"layer{stage}.{index}", width, stride, x, channels)
    g.add("avgpool", AdaptiveAvgPool((1, 1)))
    g.add("flatten", Flatten())
    g.add("fc", Linear(1000))
    return g.build()


def _tinyvgg() -> Graph:
    g = GraphBuilder("tinyvgg")
    for block in (1, 2):
        for index in (1, 2):
            g.add(f"conv_{block}_{index}", conv(10, 3))
            g.add(f"relu_{block}_{index}", Activation("relu"))
        g.add(f"max_pool_{block}", pool("max", 2))
    g.add("flatten", Flatten())
    g.add("output", Linear(10))
    return g.build()


SMALL_CNNS = {
    "digits_cnn": "conv3x3(16,p1) bn relu maxpool2 conv3x3(32,p1) bn relu maxpool2 flatten linear(10)",
    "shapes_cnn": "conv5x5(8,p2) bn relu maxpool2 conv3x3(16,p1) bn relu maxpool2 "
    "conv3x3(32,p1) bn relu gap flatten linear(7)",
}
"""The presets sized for the bundled data sets, as layer strings: 5x5 first kernels on the 28x28 shapes
leave room for an edge's orientation to show."""


def _small_cnn(name: str) -> Graph:
    from .layer_strings import parse_stack

    return parse_stack(SMALL_CNNS[name], name)


PRESETS: dict[str, tuple[Callable[[], Graph], tuple[int, int, int]]] = {
    "lenet5": (_lenet5, (1, 32, 32)),
    "alexnet": (_alexnet, (3, 224, 224)),
    "vgg16": (_vgg16, (3, 224, 224)),
    "resnet18": (lambda: _resnet("resnet18", _basic_block, (2, 2, 2, 2)), (3, 224, 224)),
    "resnet50": (lambda: _resnet("resnet50", _bottleneck, (3, 4, 6, 3)), (3, 224, 224)),
    "tinyvgg": (_tinyvgg, (3, 64, 64)),
    "digits_cnn": (lambda: _small_cnn("digits_cnn"), (1, 8, 8)),
    "shapes_cnn": (lambda: _small_cnn("shapes_cnn"), (1, 28, 28)),
}
"""name -> (graph builder, the input (C, H, W) it was published for); :func:`preset` fixes every layer's
input sizes for that input."""


def preset(name: str) -> tuple[Graph, tuple[int, int, int]]:
    """A preset network's graph and the input shape (C, H, W) it was published for.

    The graph is fixed: every in_channels and in_features is that of the published network, so
    another input is a mistake the check reports, not a reason to rebuild the layers.
    """
    if name not in PRESETS:
        close = difflib.get_close_matches(str(name), PRESETS, n=1)
        raise ArgumentError(
            f"there is no preset {name!r}; the presets are {', '.join(PRESETS)}",
            fix=Call("convlab.network.presets.preset", (close[0] if close else "resnet18",)),
        )
    build, input_shape = PRESETS[name]
    return build().built_for(input_shape), input_shape


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def wrong_input(
    name: str,
    designed_for: tuple[int, ...],
    given: tuple[int, ...],
    diagnosis: Diagnosis,
    channels: int | None = None,
    array: bool = False,
) -> Diagnosis:
    """A fixed network's layer mistake, said as what it is: the wrong input, with the one it was built for.

    Args:
        designed_for: the network's (C, H, W).
        given: the input as the user gave it: (C, H, W), (N, C, H, W), or channels last.
        diagnosis: what the layer found.
        channels: the channels that reached the first layer when it found them wrong; None when the
            mistake shows further in (a Linear layer's features).
        array: the input was an array, not a shape: a layout is fixed in code, not by another shape.
    """
    c = designed_for[0]
    batch = given[:1] if len(given) == 4 else ()
    layout = diagnosis.code in ("hwc-image", "channels-last")
    evidence = (diagnosis.what, *diagnosis.evidence)
    if channels is None:
        meant = (*batch, *designed_for)
        found = diagnosis.evidence[0] if diagnosis.evidence else diagnosis.what
        what = (
            f"{name} is built for input {_shape_text(designed_for)}; with {_shape_text(given)}, {found}: "
            f"did you mean {_shape_text(meant)}?"
        )
    else:
        height, width = given[-3:-1] if layout else given[-2:]
        meant = (*batch, c, height, width)
        order = "(N, H, W, C)" if batch else "(H, W, C)"
        channels_last = f": {_shape_text(given)} is channels-last {order}" if layout else ""
        what = f"{name} expects {c} channels; got {channels}{channels_last}; did you mean {_shape_text(meant)}?"
    shape_fix = f'input="{_shape_text(meant)}"'
    return Diagnosis(
        diagnosis.code if layout else "preset-input",
        what,
        evidence,
        diagnosis.cause
        if layout
        else f"{name} is the published network: its layers are fixed for {_shape_text(designed_for)}",
        diagnosis.fix if layout and array else shape_fix,
        diagnosis.torch_fix if layout and array else shape_fix,
    )
