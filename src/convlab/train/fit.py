"""The training loop: forward, loss, backward, step, batch after batch, epoch after epoch.

:func:`fit` is the loop a PyTorch user writes by hand, with its checks done once before the first
step (an empty data set, labels of the wrong shape or outside the model's classes, a learning rate
that cannot train), and a loss that becomes NaN or infinite stopped at the step where it happened.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._args import Array, as_int
from ..data.batches import batches
from ..errors import ArgumentError, ArgumentTypeError, ShapeError
from ..nn import CrossEntropyLoss, Loss, Module
from ..optim import Optimizer
from .evaluate import evaluate
from .history import History

__all__ = ["Step", "diverged", "epoch_seed", "fit"]


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of epoch ``epoch``'s batch order in a run seeded ``seed`` (another run can replay the batches)."""
    return seed * 100_003 + epoch


@dataclass(frozen=True)
class Step:
    """Where training is, for a progress bar: after ``step`` of ``steps`` batches of epoch ``epoch`` (from 1)."""

    epoch: int
    epochs: int
    step: int
    steps: int
    loss: float
    """The mean loss over this epoch's batches so far."""
    accuracy: float | None
    """The fraction of this epoch's images so far that were classified right (None for regression)."""


def _data(data: object, which: str) -> tuple[Array, Array]:
    """``(images, targets)`` as arrays with one target per image, or an error naming the set."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ArgumentTypeError(
            f"fit: {which} must be a pair (images, labels), got a {type(data).__name__}",
            fix=f"pass {which}=(images, labels), e.g. {which}=convlab.data.digits('{which}')",
        )
    images, targets = np.asarray(data[0]), np.asarray(data[1])
    if images.ndim == 0 or len(images) == 0:
        raise ArgumentError(
            f"fit: the {which} set is empty (images of shape {images.shape})",
            fix=f"pass at least one image and its label in {which}",
        )
    if targets.ndim == 0 or len(targets) != len(images):
        raise ShapeError(
            f"fit: {len(images)} {which} images but {which} labels of shape {targets.shape}",
            fix=f"pass one label per image: labels of shape ({len(images)},)",
        )
    return images, targets


def _classes(model: Module, images: Array, loss: Loss) -> int | None:
    """The number of classes the model scores (None for a regression loss), from one image in eval mode."""
    if not isinstance(loss, CrossEntropyLoss):
        return None
    was_training = model.training
    try:
        output = np.asarray(model.eval()(images[:1]))
    finally:
        model.train(was_training)
    if output.ndim != 2:
        raise ShapeError(
            f"fit: the model's output for one image has shape {output.shape}, but CrossEntropyLoss "
            "needs (N, K) logits, one score per class",
            fix='end the model with flatten and a linear layer of K outputs, e.g. "... flatten linear(10)"',
        )
    return int(output.shape[1])


def _check_labels(labels: Array, classes: int, which: str) -> None:
    """Class indices: integers of shape (N,) in [0, classes)."""
    if labels.dtype.kind not in "iu":
        raise ArgumentTypeError(
            f"fit: {which} labels must be integer class indices, got dtype {labels.dtype}",
            fix="pass labels.astype(np.int64); for one-hot rows pass labels.argmax(axis=1)",
        )
    if labels.ndim != 1:
        raise ShapeError(
            f"fit: {which} labels have shape {labels.shape}; CrossEntropyLoss takes one class index per image",
            fix=f"pass labels of shape ({len(labels)},)"
            + (", e.g. labels.argmax(axis=1) of one-hot rows" if labels.ndim == 2 else ""),
        )
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= classes:
        bad = low if low < 0 else high
        raise ArgumentError(
            f"fit: {which} labels hold class {bad}, outside 0..{classes - 1} for a model with {classes} outputs",
            fix=f"give the last layer {high + 1} outputs, e.g. linear({high + 1})"
            if low >= 0
            else f"number the classes from 0, e.g. labels - {low}",
        )


def _check_lr(optimizer: Optimizer) -> None:
    lr: object = optimizer.lr  # whatever the user set it to since
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(float(lr)) or lr <= 0:
        raise ArgumentError(
            f"fit: the optimizer's lr={lr!r} cannot train: it must be a finite number > 0",
            fix=f"lr=0.01, e.g. {type(optimizer).__name__}(model.parameters(), lr=0.01)",
        )


def diverged(value: float, step: int, optimizer: Optimizer, where: str = "") -> ArgumentError:
    """The error for a loss that became NaN or infinite at ``step``: stop there, and try a tenth of the lr."""
    smaller = float(f"{optimizer.lr / 10:.2g}")
    return ArgumentError(
        f"the loss became {value} at step {step}{where} with lr={optimizer.lr:g}; training stopped",
        evidence=["a learning rate too large makes each step overshoot, until the numbers overflow"],
        fix=f"train again with a smaller learning rate, e.g. lr={smaller:g}",
    )


def fit(
    model: Module,
    train: tuple[Array, Array],
    test: tuple[Array, Array] | None,
    optimizer: Optimizer,
    loss: Loss,
    epochs: int,
    *,
    batch_size: int = 32,
    seed: int = 0,
    on_epoch: Callable[[int, History], Any] | None = None,
    on_step: Callable[[Step], Any] | None = None,
    schedule: Any = None,
) -> History:
    """Train ``model`` on ``train`` for ``epochs`` passes; evaluate on ``test`` after each. Returns a History.

    Each epoch visits the training set in a new order drawn from ``seed`` and the epoch number
    (:func:`convlab.data.batches`), so a run repeats exactly. Each batch: ``optimizer.zero_grad()``,
    ``output = model(x)``, ``value = loss(output, y)``, ``model.backward_parameters(loss.backward())``,
    ``optimizer.step()``. After each epoch the test set is scored in eval mode, then ``schedule.step()``
    runs if given (a StepLR or CosineAnnealingLR) and ``on_epoch(epoch, history)`` is called.

    Args:
        model: a convlab.nn model; left in training mode.
        train, test: (images, labels): (N, C, H, W) floats and (N,) class indices (or targets
            shaped like the model's output, for MSELoss). ``test`` may be None.
        optimizer: a convlab.optim optimizer over ``model.parameters()``.
        loss: a convlab.nn loss, e.g. CrossEntropyLoss().
        epochs: passes over the training set, at least 1.
        batch_size: images per step. Default: 32.
        seed: draws the order of every epoch. Default: 0.
        on_step: called after every step with a :class:`Step` (for a progress bar).

    Raises:
        ArgumentError: an empty data set, labels outside the model's classes, lr <= 0 or NaN, a loss
            that became NaN or infinite (the error names the step and suggests a smaller lr).
        ShapeError: labels of the wrong shape, a model whose output does not fit the loss.

    Example:
        >>> from convlab import data, nn, optim
        >>> from convlab.network.sequential import sequential
        >>> model = sequential("conv3x3(4,p1) relu maxpool2 flatten linear(10)", "1x8x8", seed=0)
        >>> history = fit(model, data.digits("train"), data.digits("test"),
        ...               optim.SGD(model.parameters(), lr=0.1, momentum=0.9), nn.CrossEntropyLoss(), 2)
        >>> history.epochs, history.test_accuracy[-1] > 0.8
        (2, True)
    """
    train_x, train_y = _data(train, "train")
    test_data = None if test is None else _data(test, "test")
    seed = as_int(seed, "seed", minimum=0)
    count = as_int(epochs, "epochs", minimum=1)
    size = as_int(batch_size, "batch_size", minimum=1)
    _check_lr(optimizer)
    classes = _classes(model, train_x, loss)
    if classes is not None:
        _check_labels(train_y, classes, "train")
        if test_data is not None:
            _check_labels(test_data[1], classes, "test")
    history = History()
    steps = math.ceil(len(train_x) / size)
    step = 0
    model.train()
    for epoch in range(1, count + 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        total, right, seen = 0.0, 0, 0
        for batch, (x, y) in enumerate(batches(train_x, train_y, size, seed=epoch_seed(seed, epoch)), start=1):
            step += 1
            optimizer.zero_grad()
            with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is stopped below, by name
                output = model(x)
                value = float(loss(output, y))
                if not math.isfinite(value):
                    raise diverged(value, step, optimizer, f" (epoch {epoch}, batch {batch})")
                model.backward_parameters(loss.backward())  # the images need no gradient
                optimizer.step()
            history.step_losses.append(value)
            total += value * len(x)
            seen += len(x)
            if classes is not None:
                right += int(np.sum(np.asarray(output).argmax(axis=1) == y))
            if on_step is not None:
                accuracy = right / seen if classes is not None else None
                on_step(Step(epoch, count, batch, steps, total / seen, accuracy))
        history.train_loss.append(total / seen)
        history.train_accuracy.append(right / seen if classes is not None else None)
        test_loss, test_accuracy = (None, None) if test_data is None else evaluate(model, *test_data, loss, size)
        history.test_loss.append(test_loss)
        history.test_accuracy.append(test_accuracy)
        history.seconds.append(time.perf_counter() - started)
        history.cpu_seconds.append(time.process_time() - cpu_started)
        if schedule is not None:
            schedule.step()
        if on_epoch is not None:
            on_epoch(epoch, history)
    return history
