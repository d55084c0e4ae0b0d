"""``convlab tour``: the whole lesson in order, on bundled data, with its checks; files go to ./convlab-tour/."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._files import atomic_path, output_folder, write_text

SECTIONS: list[tuple[str, Callable[[Path], list[str]]]] = []


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "tour",
        help="walk the whole lesson: labs, explanations, shapes, flatten arithmetic (start here)",
        description="Walk the lesson 'Convolution Basics' in order on bundled data: why not flatten, the five "
        "labs checked against the lesson's expected output (and PyTorch, if installed), one value explained "
        "step by step, the output-size formula worked through, multi-channel shapes. Files are written to "
        "the output folder, which must be empty unless --force.",
    )
    parser.add_argument("--out", default="convlab-tour", help="output folder (default: ./convlab-tour)")
    parser.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    parser.set_defaults(run=run)


def _section(title: str) -> Callable[[Callable[[Path], list[str]]], Callable[[Path], list[str]]]:
    def register(function: Callable[[Path], list[str]]) -> Callable[[Path], list[str]]:
        SECTIONS.append((title, function))
        return function

    return register


def _checked_against_lesson(name: str, lines: list[str]) -> list[str]:
    """A lab's printout, then whether it is the lesson's expected output (up to NumPy's spacing)."""
    from ..lesson.labs import LESSON_OUTPUT

    same = " ".join("\n".join(lines).split()) == " ".join(LESSON_OUTPUT[name].split())
    return [*lines, f"matches the lesson's expected output: {'yes' if same else 'NO'}"]


def _save_output(path: Path, output: Any) -> None:
    import numpy as np

    with atomic_path(path) as temporary:
        np.save(temporary, output)


@_section("Why not flatten the image first?")
def _flatten(out: Path) -> list[str]:
    from ..lesson.flatten_cost import flatten_vs_conv
    from .flatten import render

    lines = []
    for height, width, channels in ((32, 32, 1), (224, 224, 3)):
        lines += [*render(flatten_vs_conv(height, width, channels)), ""]
    return [*lines, "Convolution keeps local windows and reuses one kernel everywhere: parameter sharing."]


@_section("Lab 1: compute convolution by hand")
def _lab1(out: Path) -> list[str]:
    import numpy as np

    from ..functional import conv2d
    from ..lesson.explain import explain
    from ..lesson.explain_text import trace_text
    from ..lesson.labs import value_lab
    from .lab import render

    lab = value_lab("manual_conv")
    _save_output(out / "manual_conv.npy", lab.output)
    loop = conv2d(lab.image[None, None], lab.kernel[None, None], algorithm="reference")[0, 0]
    same_as_loop = np.array_equal(loop, lab.output)
    return [
        *_checked_against_lesson("manual_conv", render(lab)),
        f"the lesson's loop (convlab.functional.reference) gives the same: {'yes' if same_as_loop else 'NO'}",
        "",
        "The top-left value, explained:",
        *trace_text(explain(lab.image, lab.kernel, at=(0, 0))),
        "",
        "Exercise 2, out[1, 0]:",
        *[
            line
            for line in trace_text(explain(lab.image, lab.kernel, at=(1, 0)))
            if " = " in line or "reads" in line
        ],
    ]


@_section("Lab 2: a kernel as an edge detector")
def _lab2(out: Path) -> list[str]:
    from ..lesson.labs import value_lab
    from .lab import render

    lab = value_lab("edge")
    _save_output(out / "edge.npy", lab.output)
    return [
        *_checked_against_lesson("edge", render(lab)),
        "The 1s sit where the image turns from 0 to 1 going right: the kernel [-1, 1] fires on that edge.",
    ]


@_section("Stride, padding and output size")
def _size(out: Path) -> list[str]:
    from ..lesson.labs import shape_lab
    from .lab import render

    lab = shape_lab("size")
    return [
        *_checked_against_lesson("size", render(lab)),
        "output = floor((input + 2*padding - kernel_size) / stride) + 1, here:",
        *(f"  {line}" for line in lab.derivation),
        "Exercise 3, the same with stride=1:",
        *(f"  {line}" for line in shape_lab("size", stride=1).derivation),
    ]


@_section("Multi-channel convolution")
def _channel(out: Path) -> list[str]:
    from ..lesson.labs import shape_lab
    from .lab import render

    lab = shape_lab("channel")
    return [
        *_checked_against_lesson("channel", render(lab)),
        f"{lab.input_shape[0]}: two images in the batch; {lab.input_shape[1]}: RGB input channels; "
        f"{lab.output_shape[1]}: eight learned feature maps;",
        f"{lab.weight_shape}: eight kernels, each looking across three input channels.",
        f"Exercise 4, out_channels=16: weight {shape_lab('channel', out_channels=16).weight_shape}; "
        "output and bias change too.",
    ]


@_section("Receptive field: how CNNs see more over depth")
def _receptive(out: Path) -> list[str]:
    from ..network.receptive_field import receptive_field
    from ..network.tables import pair_text

    stack = receptive_field("conv3x3(8,p1) conv3x3(8,p1) conv3x3(8,p1)", "1x32x32", check=True)
    sizes = [pair_text(layer.rf) for layer in stack.layers]
    resnet = receptive_field("resnet18", check=True)
    checks = [result.check.text if result.check else "" for result in (stack, resnet)]
    return [
        f"three 3x3 convolutions see {' -> '.join(sizes)} input pixels: each adds kernel - 1 = 2",
        f"  {checks[0]}",
        f"a stride or pooling multiplies what later layers add: resnet18's last block sees "
        f"{pair_text(resnet.final.rf)} pixels (jump {pair_text(resnet.final.jump)}) of a 224x224 image",
        f"  {checks[1]}",
        "More: convlab rf resnet18, convlab summary vgg16, convlab size --help",
    ]


@_section("Basic Conv2d checklist")
def _checklist(out: Path) -> list[str]:
    from ..lesson.labs import shape_lab
    from .lab import render

    lab = shape_lab("conv2d")
    return [
        *_checked_against_lesson("conv2d", render(lab)),
        f"input [N, C, H, W] = {list(lab.input_shape)}; in_channels {lab.layer.in_channels} equals C "
        f"{lab.input_shape[1]}; out_channels makes {lab.output_shape[1]} feature maps; "
        f"kernel 3, stride 1, padding 1 keep H and W at {lab.output_shape[2]}.",
    ]


@_section("Pictures: watch it happen")
def _pictures(out: Path) -> list[str]:
    from ..lesson.labs import value_lab
    from ..viz.explain_figure import explain_figure
    from ..viz.features import features_figure
    from ..viz.params import params_figure
    from ..viz.rf import rf_figure
    from ..viz.window import window

    lab = value_lab("manual_conv")
    animation = window(lab.image, lab.kernel, out=out / "lab1-window.gif")
    picture = explain_figure(lab.image, lab.kernel, at=(1, 0), out=out / "lab1-explain.png")
    features_figure("camera", out=out / "features-camera.png")
    rf_figure("resnet18", out=out / "rf-resnet18.png")
    params_figure(out=out / "params.png")
    return [
        f"lab1-window.gif: Lab 1's kernel sliding over the image, {len(animation.frames)} frames, one per "
        "output value",
        f"lab1-explain.png: {picture.lines[-1]}, the window, the kernel, the products and the sum",
        "features-camera.png: classic kernels (blur, sharpen, Sobel, the lesson's edge kernel, ...) on a photo",
        "rf-resnet18.png: resnet18's receptive field growing layer by layer over an image",
        "params.png: why not flatten first, a fully connected layer's weights against a convolution's",
        "More: convlab draw --help (any configuration, transposed convolution, your own kernels and images)",
    ]


@_section("Cross-check against PyTorch")
def _torch(out: Path) -> list[str]:
    import importlib.util

    from ..lesson.labs import LAB_NAMES, cross_check, run

    if importlib.util.find_spec("torch") is None:
        return ["PyTorch is not installed, so this check was skipped (pip install torch==2.13.0 to run it)."]
    return [f"{name}: {cross_check(run(name)).detail}" for name in LAB_NAMES]


@_section("Convolution or cross-correlation?")
def _correlation(out: Path) -> list[str]:
    import importlib.util

    import numpy as np

    from ..functional import conv2d
    from ..lesson.explain import explain
    from ..lesson.explain_text import equation
    from ..lesson.labs import value_lab

    lab = value_lab("manual_conv")
    flipped = np.ascontiguousarray(lab.kernel[::-1, ::-1])
    convolution = conv2d(lab.image[None, None], flipped[None, None])[0, 0]
    lines = [
        "conv2d slides the kernel as it is: out[i, j] = sum over m, n of image[i + m, j + n] * kernel[m, n].",
        "Mathematics calls that cross-correlation; convolution proper turns the kernel half a turn first",
        "(kernel[::-1, ::-1]). PyTorch's conv2d and convlab's compute cross-correlation: the network learns",
        "its kernels, so a learned kernel is simply the flip of the one convolution proper would learn.",
        "",
        f"Lab 1's kernel {lab.kernel.astype(int).tolist()} turned half a turn is {flipped.astype(int).tolist()};",
        "convolution proper of Lab 1, conv2d(x, w[::-1, ::-1]), gives:",
        str(convolution),
        f"top-left value: {equation(explain(lab.image, flipped, at=(0, 0)).terms[0])}",
    ]
    if np.array_equal(flipped, -lab.kernel):
        lines.append(
            "Here the turned kernel is minus the kernel, so every value is Lab 1's with its sign changed."
        )
    if importlib.util.find_spec("scipy") is None:
        return [*lines, "SciPy is not installed, so the check against scipy.signal.convolve2d was skipped."]
    from scipy.signal import convolve2d

    theirs = convolve2d(lab.image, lab.kernel, mode="valid")  # flips the kernel, as the mathematics does
    undone = convolve2d(lab.image, flipped, mode="valid")  # flipping it back undoes the flip
    return [
        *lines,
        "",
        "scipy.signal.convolve2d flips the kernel itself, so the one-line check is:",
        f"  convolve2d(x, w, 'valid') equals conv2d(x, w[::-1, ::-1]): "
        f"{'yes' if np.array_equal(theirs, convolution) else 'NO'}",
        f"  conv2d(x, w) equals convolve2d(x, w[::-1, ::-1], 'valid'): "
        f"{'yes' if np.array_equal(undone, lab.output) else 'NO'}",
    ]


@_section("Kernels are learned")
def _learned(out: Path) -> list[str]:
    from ..train.kernel import learn_edge_kernel
    from ..viz.kernel_descent import kernel_descent_figure

    run = learn_edge_kernel(steps=60)
    kernel_descent_figure(run, out=out / "kernel-descent.png")
    learned, steps = run.kernel[0], len(run.losses)
    lines = [
        "Lab 2 turned round: its image and edge map are the data, the kernel is unknown. A 1x2 kernel starts at",
        "random; each step measures the mean squared error against the edge map and moves the kernel down its",
        f"gradient (convlab.nn.Conv2d, MSELoss and optim.SGD with lr {run.lr:g}):",
        *(
            f"  step {step:2d}  kernel [{run.kernels[step][0]:+.4f}, {run.kernels[step][1]:+.4f}]  "
            f"error {run.losses[step]:.2e}"
            for step in (0, 1, 2, 5, 10, 20, 40)
        ),
        f"  step {steps:2d}  kernel [{learned[0]:+.4f}, {learned[1]:+.4f}]",
        f"learned kernel [{learned[0]:+.3f}, {learned[1]:+.3f}]: the lesson's [-1, 1] (largest difference "
        f"{abs(learned - [-1, 1]).max():.1e}),",
        "found from data, not written by hand",
        "kernel-descent.png: the kernel's path over the error surface, and the error at each step",
    ]
    return [*lines, "", *_shipped_model(out)]


def _shipped_model(out: Path) -> list[str]:
    """The second half of "Kernels are learned": the digits model convlab trained, its kernels and maps."""
    from ..data import digits, trained_digits_model
    from ..lesson.edge_kernels import edge_matches
    from ..network.sequential import layer_string
    from ..train.activations import activations, depths, probabilities
    from ..viz.depth_features import depth_features_figure
    from ..viz.filters import filters_figure, first_conv

    model = trained_digits_model()
    images, labels = digits("test")
    right = int((model(images).argmax(axis=1) == labels).sum())
    weight = first_conv(model).weight
    close = [match for match in sorted(edge_matches(weight), key=lambda m: -m.cosine) if match.cosine >= 0.7]
    outputs = activations(model, images[0])
    chances = probabilities(outputs)
    maps = [
        f"{len(item.output)} maps of {item.output.shape[1]}x{item.output.shape[2]}" for item in depths(outputs)
    ]
    filters_figure(model, out=out / "learned-filters.png")
    classes = [str(digit) for digit in range(len(chances))]
    depth_features_figure(model, images[0], classes, label=int(labels[0]), out=out / "learned-features.png")
    return [
        "The digits model that ships with convlab, trained by convlab on the 1,347 training digits:",
        f"  {layer_string(model)}",
        f"  {right} of the {len(labels)} test digits right ({100 * right / len(labels):.1f}%)",
        f"learned-filters.png: its {len(weight)} first-layer {weight.shape[2]}x{weight.shape[3]} kernels, learned "
        "from data. Compared with Sobel's",
        f"edge detector at four orientations, {len(close)} match one closely (cosine >= 0.7):",
        *(f"  kernel {m.index}: a {m.orientation}, bright {m.bright} (cosine {m.cosine:.2f})" for m in close),
        f"  the other {len(weight) - len(close)} are weaker or mixed patterns (an 8x8 digit leaves little room "
        "for clean edges)",
        f"learned-features.png: test digit #0 (labelled {labels[0]}) at each depth: {', then '.join(maps)},",
        f"then the class probabilities ({classes[int(chances.argmax())]} at {100 * chances.max():.1f}%)",
        "More: convlab train kernel|digits, and convlab serve: its Trained model view explains any value.",
    ]


def run(args: argparse.Namespace) -> int:
    folder = Path(args.out)
    output_folder(folder, args.force, "the tour")
    transcript = ["convlab tour: the lesson 'Convolution Basics', run on convlab's own engine", ""]
    print(transcript[0])
    for number, (title, section) in enumerate(SECTIONS, start=1):
        block = ["", f"{number}. {title}", "-" * (len(title) + len(str(number)) + 2), *section(folder)]
        print("\n".join(block), flush=True)
        transcript += block
    files = [*sorted(path.name for path in folder.iterdir()), "tour.txt"]
    summary = [
        "",
        "Summary",
        "-------",
        f"Shown: {len(SECTIONS)} parts of the lesson, each lab checked against its expected output.",
        f"Files in {folder}/: {', '.join(sorted(set(files)))}",
        "Next: convlab lab --help, convlab explain --lab manual_conv --all, convlab exercises",
    ]
    print("\n".join(summary))
    write_text(folder / "tour.txt", "\n".join(transcript + summary) + "\n")
    return 0
