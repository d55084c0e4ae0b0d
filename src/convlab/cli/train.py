"""``convlab train kernel|digits|shapes``: kernels are learned, not written; see what each depth learned."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .._files import output_folder, write_text
from .fixes import in_flags
from .options import positive_int

_FLAGS = {
    "lr": "--lr",
    "weight_decay": "--weight-decay",
    "batch_size": "--batch-size",
    "epochs": "--epochs",
    "seed": "--seed",
    "steps": "--steps",
}


@dataclass(frozen=True)
class Task:
    """A data set to train on, with the preset sized for it and the defaults that reach the goal."""

    name: str
    preset: str
    input_shape: tuple[int, int, int]
    about: str
    epochs: int
    optimizer: str
    weight_decay: float


TASKS = {
    "digits": Task(
        "digits",
        "digits_cnn",
        (1, 8, 8),
        "the UCI handwritten digits bundled with convlab: 1,347 training and 450 test images of 8x8",
        epochs=10,
        optimizer="adam",
        weight_decay=0.0,
    ),
    "shapes": Task(
        "shapes",
        "shapes_cnn",
        (1, 28, 28),
        "generated 28x28 images of lines at four orientations, rectangles, circles and crosses: "
        "2,100 training images (seed 0) and 700 test images (seed 1)",
        # the images (convlab.data.shapes) leave a first-layer kernel little to learn but edges: soft
        # strokes of every orientation, brighter or darker than a background of any brightness, in noise.
        # From PyTorch's initial weights, with weight decay wearing away what the data does not ask for,
        # 6 or 7 of the 8 5x5 kernels end up edge-like for each seed 0-4 (metrics.json's first_layer; with
        # weight decay 0.001, 5 to 8), test accuracy 100%. Started smaller, at a twentieth of that scale,
        # the kernels learned brightness more often (4 to 8 edge-like).
        epochs=20,
        optimizer="sgd",
        weight_decay=0.003,
    ),
}
_LR = {"adam": 0.01, "sgd": 0.05}  # SGD with momentum 0.9


def _real(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 0.01, got {text!r}") from None


def positive_or_zero(text: str) -> int:
    """A seed: a whole number of at least 0."""
    from .._args import int_list

    numbers = int_list(text)
    if numbers is None or len(numbers) != 1 or numbers[0] < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 0, got {text!r}")
    return numbers[0]


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "train",
        help="learn kernels: the lesson's edge kernel from data, or a small CNN on digits or shapes",
        description="Kernels are learned. `convlab train kernel` finds the lesson's [-1, 1] edge kernel from "
        "Lab 2's image and edge map by gradient descent; `convlab train digits` and `convlab train shapes` "
        "train a small CNN with convlab's own engine and draw what each depth learned. Files go to --out, "
        "which must be empty unless --force.",
    )
    tasks = parser.add_subparsers(dest="task", metavar="TASK", parser_class=type(parser), required=True)
    kernel = tasks.add_parser(
        "kernel",
        help="learn a 1x2 kernel from the lesson's Lab 2 (it converges to [-1, 1])",
        description="Start from a random 1x2 kernel and learn it from Lab 2's image and the edge map the "
        "lesson's [-1, 1] kernel makes: mean squared error, plain gradient descent. Prints the loss and the "
        "kernel at each step; writes kernel.png (the kernel's path and the loss) and metrics.json.",
    )
    kernel.add_argument("--steps", type=positive_int, default=50, help="gradient steps (default: 50)")
    kernel.add_argument("--lr", type=_real, default=1.0, help="learning rate (default: 1.0)")
    kernel.add_argument("--seed", type=positive_or_zero, default=0, help="draws the starting kernel (default: 0)")
    _output(kernel, "kernel")
    kernel.set_defaults(run=_run_kernel)
    for task in TASKS.values():
        command = tasks.add_parser(
            task.name,
            help=f"train {task.preset} on {task.name} and draw its filters and feature maps",
            description=f"Train a CNN on {task.about}, with a progress bar, then write metrics.json, model.npz "
            "(weights and architecture: convlab.train.load_model reads it alone), filters.png (every "
            "first-layer kernel), features.png (one test image's feature maps at each depth), curves.png "
            "and confusion.png, and says how many first-layer kernels are edge-like (metrics.json: first_layer). "
            "The learning rate follows a cosine schedule down to 0 over the epochs.",
        )
        command.add_argument(
            "--model",
            default=task.preset,
            help=f'a preset or a layer string such as "conv3x3(8,p1) relu maxpool2 flatten linear(10)" for '
            f"{'x'.join(map(str, task.input_shape))} input (default: {task.preset})",
        )
        command.add_argument("--epochs", type=positive_int, default=task.epochs, help=f"default: {task.epochs}")
        command.add_argument("--lr", type=_real, help="learning rate (default: 0.01 for adam, 0.05 for sgd)")
        command.add_argument("--batch-size", type=positive_int, default=32, help="default: 32")
        command.add_argument(
            "--optimizer",
            choices=("adam", "sgd"),
            default=task.optimizer,
            help=f"adam, or sgd with momentum 0.9 (default: {task.optimizer})",
        )
        command.add_argument(
            "--weight-decay",
            type=_real,
            default=task.weight_decay,
            help=f"L2 penalty added to every gradient (default: {task.weight_decay:g})",
        )
        command.add_argument("--seed", type=positive_or_zero, default=0, help="initial weights and batch order")
        command.add_argument(
            "--torch",
            action="store_true",
            help="also train the same model in PyTorch from the same weights on the same batches and "
            "print the largest difference in loss",
        )
        _output(command, task.name)
        command.set_defaults(run=_run_classifier)


def _output(parser: argparse.ArgumentParser, task: str) -> None:
    parser.add_argument(
        "--out", default=f"convlab-train-{task}", help=f"output folder (default: ./convlab-train-{task})"
    )
    parser.add_argument("--force", action="store_true", help="write into a folder that is not empty")


def _json(path: Path, data: dict[str, Any]) -> None:
    write_text(path, json.dumps(data, indent=2) + "\n")


def _run_kernel(args: argparse.Namespace) -> int:
    from ..errors import ConvlabError
    from ..train.kernel import learn_edge_kernel
    from ..viz.kernel_descent import kernel_descent_figure

    folder = output_folder(args.out, args.force, "convlab train kernel")
    try:
        run = learn_edge_kernel(args.steps, args.lr, args.seed)
    except ConvlabError as error:
        raise in_flags(error, _FLAGS) from None
    print("Learning a 1x2 kernel from Lab 2: the image, and the edge map that [-1, 1] makes of it.")
    print(f"mean squared error, gradient descent with lr={run.lr:g}, start drawn with seed {args.seed}")
    width = len(str(args.steps))
    print(f"step {'0':>{width}}  kernel [{run.kernels[0][0]:+.4f}, {run.kernels[0][1]:+.4f}]")
    for step, (loss, kernel) in enumerate(zip(run.losses, run.kernels[1:]), start=1):
        print(f"step {step:>{width}}  loss {loss:.3e}  kernel [{kernel[0]:+.4f}, {kernel[1]:+.4f}]")
    learned = run.kernel[0]
    difference = float(abs(learned - [-1, 1]).max())
    print(
        f"learned kernel [{learned[0]:+.4f}, {learned[1]:+.4f}]; the lesson's is [-1, +1] "
        f"(largest difference {difference:.2g})"
    )
    kernel_descent_figure(run, out=folder / "kernel.png")
    _json(
        folder / "metrics.json",
        {
            "task": "kernel",
            "steps": args.steps,
            "lr": run.lr,
            "seed": args.seed,
            "kernel": run.kernel.tolist(),
            "lesson_kernel": [[-1.0, 1.0]],
            "largest_difference": difference,
            "losses": run.losses.tolist(),
            "kernels": run.kernels.tolist(),
        },
    )
    print(f"Files in {folder}/: kernel.png, metrics.json")
    return 0


def _data(task: Task) -> tuple[tuple[Any, Any], tuple[Any, Any], tuple[str, ...]]:
    from .. import data

    if task.name == "digits":
        return data.digits("train"), data.digits("test"), tuple(str(digit) for digit in range(10))
    train_x, train_y, names = data.shapes(2100, seed=0)
    test_x, test_y, _ = data.shapes(700, seed=1)
    return (train_x, train_y), (test_x, test_y), names


def _run_classifier(args: argparse.Namespace) -> int:
    from ..errors import ConvlabError

    try:
        return _train(args, TASKS[args.task])
    except ConvlabError as error:
        raise in_flags(error, _FLAGS) from None


def _train(args: argparse.Namespace, task: Task) -> int:
    import time

    from .. import nn
    from ..network.sequential import layer_string, sequential
    from ..train import Recipe, fit, predict, save_model
    from ..viz.filters import first_conv
    from .progress import ProgressBar

    folder = output_folder(args.out, args.force, f"convlab train {task.name}")
    train, test, classes = _data(task)
    model = sequential(args.model, task.input_shape, seed=args.seed)
    layers = layer_string(model)
    initial = model.state_dict()
    lr = _LR[args.optimizer] if args.lr is None else args.lr
    recipe = Recipe(args.optimizer, lr, args.weight_decay, args.epochs, args.batch_size, args.seed)
    optimizer, schedule = recipe.make(model.parameters())
    print(f"convlab train {task.name}: {layers}")
    print(
        f"{len(train[0])} training and {len(test[0])} test images of {'x'.join(map(str, task.input_shape))}; "
        f"{args.optimizer} lr={lr:g} (cosine to 0), weight decay {args.weight_decay:g}, batch {args.batch_size}, "
        f"{args.epochs} epochs, seed {args.seed}"
    )
    bar = ProgressBar()
    started, cpu_started = time.perf_counter(), time.process_time()
    history = fit(
        model,
        train,
        test,
        optimizer,
        nn.CrossEntropyLoss(),
        args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        on_step=bar,
        on_epoch=lambda _, h: bar.epoch_done(h.test_loss[-1], h.test_accuracy[-1], h.seconds[-1]),
        schedule=schedule,
    )
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    accuracy = history.test_accuracy[-1]
    assert accuracy is not None  # a classifier with a test set
    print(f"test accuracy {100 * accuracy:.2f}% after {seconds:.1f} s ({cpu_seconds:.1f} s of CPU time)")
    metrics = {
        "task": task.name,
        "model": layers,
        "input_shape": list(task.input_shape),
        "classes": list(classes),
        **asdict(recipe),
        "schedule": "cosine",
        "first_layer": _first_layer(first_conv(model).weight),
        **history.to_dict(),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
    }
    if args.torch:
        metrics["torch"] = _against_torch(recipe, layers, task, initial, train, history.step_losses)
    save_model(model, folder / "model.npz", input_shape=task.input_shape, classes=classes)
    _figures(folder, model, history, test, classes, predict(model, test[0], args.batch_size))
    _json(folder / "metrics.json", metrics)
    print(f"Files in {folder}/: {', '.join(sorted(path.name for path in folder.iterdir()))}")
    return 0


def _first_layer(weight: Any) -> dict[str, Any]:
    """How edge-like the first layer's kernels are (printed, and kept in metrics.json)."""
    from ..lesson.edge_likeness import EDGE_LIKE_SHARE, edge_fits

    size = f"{weight.shape[2]}x{weight.shape[3]}"
    if weight.shape[2] != weight.shape[3] or weight.shape[2] < 5:
        # an edge explains 40% of 3x3 noise already: too few numbers to tell an edge from chance
        print(f"first layer: {len(weight)} {size} kernels (edge-likeness is measured for square 5x5 and larger)")
        return {"kernels": len(weight), "kernel_size": size}
    fits = edge_fits(weight)
    like = [index for index, fit in enumerate(fits) if fit.edge_like]
    mean = sum(fit.share for fit in fits) / len(fits)
    print(
        f"first layer: {len(like)} of {len(fits)} {size} kernels edge-like (an oriented edge explains at least "
        f"{EDGE_LIKE_SHARE:.0%} of a kernel's energy; mean {mean:.0%}). Kernel: share at angle of the bright "
        "side, 0 = right, 90 = up: "
        + ", ".join(f"{i}: {fit.share:.0%} at {fit.angle}" for i, fit in enumerate(fits))
    )
    return {
        "kernels": len(fits),
        "kernel_size": size,
        "edge_like": len(like),
        "edge_like_from": EDGE_LIKE_SHARE,
        "mean_share": mean,
        "fits": [asdict(fit) for fit in fits],
    }


def _against_torch(
    recipe: Any, layers: str, task: Task, initial: dict[str, Any], train: tuple[Any, Any], losses: list[float]
) -> dict[str, Any]:
    import numpy as np

    from ..train.with_torch import torch_step_losses

    print("PyTorch: the same model, weights, batches and optimizer ...", flush=True)
    theirs = torch_step_losses(layers, task.input_shape, initial, train, recipe)
    ours = np.array(losses)
    difference = np.abs(ours - theirs)
    worst = int(difference.argmax())
    relative = float((difference / np.maximum(np.abs(theirs), 1e-12)).max())
    first = len(ours) // recipe.epochs
    print(
        f"largest loss difference over {len(ours)} steps: {difference[worst]:.3g} at step {worst + 1} "
        f"(relative {relative:.3g}); over the first epoch: {difference[:first].max():.3g}"
    )
    return {
        "steps": len(ours),
        "largest_loss_difference": float(difference[worst]),
        "at_step": worst + 1,
        "largest_relative_difference": relative,
        "largest_difference_first_epoch": float(difference[:first].max()),
        "step_losses": theirs.tolist(),
    }


def _figures(
    folder: Path, model: Any, history: Any, test: tuple[Any, Any], classes: tuple[str, ...], outputs: Any
) -> None:
    from ..viz.confusion import confusion_figure
    from ..viz.depth_features import depth_features_figure
    from ..viz.filters import filters_figure
    from ..viz.training_curves import curves_figure

    filters_figure(model, out=folder / "filters.png")
    depth_features_figure(model, test[0][0], classes, label=int(test[1][0]), out=folder / "features.png")
    curves_figure(history, out=folder / "curves.png")
    confusion_figure(test[1], outputs.argmax(axis=1), classes, out=folder / "confusion.png")
