"""Training steps the benchmark times: forward, loss, backward and an SGD update of a whole model, batch 32.

Two models, each built once in convlab and once in PyTorch from the same initial weights:

* a ResNet-style basic block on 32x32 feature maps (64 channels: conv 3x3, BatchNorm, ReLU, conv 3x3,
  BatchNorm, plus the identity shortcut, ReLU), where the convolutions' arithmetic dominates;
* the ``digits_cnn`` preset on 8x8 digits, where every layer's work is small and the time per call
  (Python, array set-up) dominates.

One timed call is one step: ``zero_grad``, forward, loss (mean squared error against a fixed target
for the block, cross-entropy for the digits), backward through every layer down to the parameters
(the batch's own gradient is computed by neither library), ``SGD(lr=0.01, momentum=0.9).step()``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .._args import Array
from ..nn import BatchNorm2d, Conv2d, CrossEntropyLoss, Module, MSELoss, ReLU
from ..optim import SGD
from .measure import peak_extra_rss, summarize, time_calls

__all__ = ["TRAINING_CASES", "BasicBlock", "TrainingCase", "measure_training"]

STEP = "train step"
"""The one pass a training case is timed in."""


@dataclass(frozen=True)
class TrainingCase:
    """One model's training step at batch ``input_shape[0]``: ``model`` is "block" or a preset name."""

    name: str
    model: str
    input_shape: tuple[int, int, int, int]
    forward_macs: int
    """Multiply-adds of the forward pass (convolutions and linear layers), for GFLOP/s."""

    ops: tuple[str, ...] = (STEP,)

    def peers(self) -> tuple[str, ...]:
        return ("convlab", "torch")

    def flops(self, op: str) -> int:
        """2 x multiply-adds of forward, input gradient and weight gradient: three forwards' worth."""
        return 2 * 3 * self.forward_macs

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "training": True}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainingCase:
        fields = {key: value for key, value in data.items() if key != "training"}
        fields["input_shape"] = tuple(fields["input_shape"])
        fields["ops"] = tuple(fields["ops"])
        return cls(**fields)


class BasicBlock(Module):
    """ResNet's basic block with an identity shortcut: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + x)``.

    Shape:
        (N, C, H, W) -> (N, C, H, W)
    """

    def __init__(self, channels: int, seed: int = 0) -> None:
        self.conv1 = Conv2d(channels, channels, 3, padding=1, bias=False, seed=seed)
        self.bn1 = BatchNorm2d(channels)
        self.relu1 = ReLU()
        self.conv2 = Conv2d(channels, channels, 3, padding=1, bias=False, seed=seed + 1)
        self.bn2 = BatchNorm2d(channels)
        self.relu2 = ReLU()

    def named_children(self) -> Iterator[tuple[str, Module]]:
        return iter((name, getattr(self, name)) for name in ("conv1", "bn1", "relu1", "conv2", "bn2", "relu2"))

    def forward(self, input: object) -> Array:
        body = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(input)))))
        return self.relu2(body + np.asarray(input))

    def backward(self, grad_output: object) -> Array:
        grad = self.relu2.backward(grad_output)  # the sum passes it to both branches unchanged
        inner = self.relu1.backward(self.conv2.backward(self.bn2.backward(grad)))
        total: Array = self.conv1.backward(self.bn1.backward(inner)) + grad
        return total

    def backward_parameters(self, grad_output: object) -> None:
        grad = self.relu2.backward(grad_output)
        inner = self.relu1.backward(self.conv2.backward(self.bn2.backward(grad)))
        self.conv1.backward_parameters(self.bn1.backward(inner))

    def to_torch(self) -> Any:
        import torch

        parts = {name: child.to_torch() for name, child in self.named_children()}

        class TorchBlock(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.parts = torch.nn.ModuleDict(parts)

            def forward(self, x: Any) -> Any:
                p = self.parts
                return p["relu2"](p["bn2"](p["conv2"](p["relu1"](p["bn1"](p["conv1"](x))))) + x)

        return TorchBlock().train(self.training)


def _model(case: TrainingCase) -> tuple[Module, Array, Array, bool]:
    """The convlab model, a batch and its targets; whether the loss is cross-entropy."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(case.input_shape, dtype=np.float32)
    if case.model == "block":
        block = BasicBlock(case.input_shape[1])
        return block, x, rng.standard_normal(case.input_shape, dtype=np.float32), False
    from ..network.sequential import sequential

    model = sequential(case.model, case.input_shape[1:], seed=0)
    return model, np.abs(x), rng.integers(0, 10, case.input_shape[0]), True


def prepare_training(peer: str, case: TrainingCase) -> Callable[[], object]:
    """One training step of ``case`` in ``peer``, ready to call again and again."""
    model, x, target, classify = _model(case)
    if peer == "torch":
        import torch

        twin = model.to_torch()
        xt, tt = torch.from_numpy(x), torch.from_numpy(target)
        torch_loss = torch.nn.CrossEntropyLoss() if classify else torch.nn.MSELoss()
        torch_optimizer = torch.optim.SGD(twin.parameters(), lr=0.01, momentum=0.9)

        def torch_step() -> object:
            torch_optimizer.zero_grad()
            loss = torch_loss(twin(xt), tt)
            loss.backward()
            torch_optimizer.step()
            return loss.detach()

        return torch_step
    criterion = CrossEntropyLoss() if classify else MSELoss()
    optimizer = SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step() -> object:
        optimizer.zero_grad()
        loss = criterion(model(x), target)
        model.backward_parameters(criterion.backward())  # as torch: the batch needs no gradient
        optimizer.step()
        return loss

    return step


def measure_training(
    peer: str, case: TrainingCase, repeat: int, warmup: int = 1, budget: float = 10.0, least: int = 1
) -> dict[str, Any]:
    """Time ``case``'s training step in ``peer``: the first step with its memory, warm-up steps, timed steps."""
    step = prepare_training(peer, case)
    start = time.perf_counter()
    rss, rss_method = peak_extra_rss(step)
    first = time.perf_counter() - start
    for _ in range(warmup):
        step()
    times = time_calls(step, lambda: None, repeat, budget, least)
    rss_call, _ = peak_extra_rss(step)  # a later step: what every step needs once workspaces are cached
    return {
        "peer": peer,
        "case": case.name,
        "op": STEP,
        "first_call_s": first,
        "times_s": times,
        **summarize(times),
        "rss_extra_bytes": rss,
        "rss_method": rss_method,
        "rss_call_bytes": rss_call,
        "traced_peak_bytes": None,
    }


TRAINING_CASES = (
    TrainingCase("train resnet block 3x3 64->64 32x32", "block", (32, 64, 32, 32), 2 * 32 * 64 * 32 * 32 * 64 * 9),
    TrainingCase(
        "train digits_cnn 1x8x8",
        "digits_cnn",
        (32, 1, 8, 8),
        32 * (16 * 8 * 8 * 9 + 32 * 4 * 4 * 16 * 9 + 128 * 10),
    ),
)
"""The training steps of the suite, batch 32: targets 1.5x PyTorch's time for the block, 2.0x for digits."""
