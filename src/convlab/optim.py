"""Optimizers and learning-rate schedules: how gradients change the weights, with PyTorch's update rules.

An optimizer holds the parameters it updates and, per parameter, its memory (momentum, Adam's
averages). ``step()`` updates every parameter that has a ``.grad`` in place, so layers keep the
same arrays; ``zero_grad()`` clears the gradients before the next backward pass.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ._args import Array
from .errors import ArgumentError, ArgumentTypeError
from .nn.module import Parameter

__all__ = ["SGD", "Adam", "CosineAnnealingLR", "Optimizer", "StepLR"]


def _rate(value: object, name: str, owner: str, *, positive: bool) -> float:
    """A float setting: finite, and > 0 (``positive``) or >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ArgumentTypeError(
            f"{owner}: {name} must be a number, got {value!r}", fix=f"pass {name} as a float, e.g. {name}=0.01"
        )
    number = float(value)
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        bound = "> 0" if positive else ">= 0"
        raise ArgumentError(
            f"{owner}: {name}={value!r} must be a finite number {bound}",
            fix=f"use a small positive {name}, e.g. {name}=0.01" if name == "lr" else f"use {name}=0 or more",
        )
    return number


class Optimizer:
    """Base of the optimizers: the parameters, the learning rate ``lr``, ``zero_grad()`` and ``step()``."""

    def __init__(self, params: Iterable[Parameter], lr: object) -> None:
        owner = type(self).__name__
        self.params = list(params)
        if not self.params:
            raise ArgumentError(
                f"{owner}: got no parameters to optimize",
                fix=f"pass model.parameters(), e.g. {owner}(model.parameters(), lr=0.01)",
            )
        for index, parameter in enumerate(self.params):
            if not isinstance(parameter, Parameter):
                raise ArgumentTypeError(
                    f"{owner}: parameter {index} is a {type(parameter).__name__}, not a convlab Parameter",
                    fix=f"pass a convlab.nn model's parameters, e.g. {owner}(model.parameters(), lr=0.01)",
                )
        self.lr = _rate(lr, "lr", owner, positive=True)
        self._checked_lr: object = self.lr  # step() checks lr again only when someone has set a new one
        self.state: list[dict[str, Array]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (backward adds to ``.grad``, so clear it between steps)."""
        for parameter in self.params:
            parameter.grad = None

    def step(self) -> None:
        """Update, in place, every parameter that has a gradient."""
        if self.lr is not self._checked_lr:
            # a user may have set lr since; a schedule may have brought it down to its eta_min of 0
            self.lr = _rate(self.lr, "lr", type(self).__name__, positive=False)
            self._checked_lr = self.lr
        for parameter, state in zip(self.params, self.state):
            if parameter.grad is not None:
                update = self._update(
                    np.asarray(parameter), np.asarray(parameter.grad, dtype=parameter.dtype), state
                )
                np.subtract(parameter, update, out=parameter)

    def _update(self, value: Array, grad: Array, state: dict[str, Array]) -> Array:
        """The amount to subtract from ``value``; ``state`` is this parameter's memory between steps."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, weight decay and Nesterov, as ``torch.optim.SGD``.

    Per step, with g the gradient: ``g += weight_decay * p``; with momentum,
    ``b = g`` on the first step and ``b = momentum * b + (1 - dampening) * g`` after,
    then ``g = g + momentum * b`` (Nesterov) or ``g = b``; finally ``p -= lr * g``.

    Example:
        >>> from convlab.nn import Linear
        >>> layer = Linear(2, 1, seed=0)
        >>> optimizer = SGD(layer.parameters(), lr=0.1, momentum=0.9)
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: object,
        momentum: object = 0,
        dampening: object = 0,
        weight_decay: object = 0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _rate(momentum, "momentum", "SGD", positive=False)
        self.dampening = _rate(dampening, "dampening", "SGD", positive=False)
        self.weight_decay = _rate(weight_decay, "weight_decay", "SGD", positive=False)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ArgumentError(
                f"SGD: nesterov=True needs momentum > 0 and dampening=0, "
                f"got momentum={momentum}, dampening={dampening}",
                fix="use e.g. SGD(params, lr, momentum=0.9, nesterov=True)",
            )

    def _update(self, value: Array, grad: Array, state: dict[str, Array]) -> Array:
        if self.weight_decay:
            grad = grad + self.weight_decay * value
        if self.momentum:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = grad.copy()
            else:  # in place: momentum * buffer + (1 - dampening) * grad
                buffer *= self.momentum
                buffer += (1 - self.dampening) * grad
            grad = grad + self.momentum * buffer if self.nesterov else buffer
        return self.lr * grad


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (weight decay added to the gradient; no amsgrad).

    Per step t: ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g^2``, then
    ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``.

    Example:
        >>> from convlab.nn import Linear
        >>> optimizer = Adam(Linear(2, 1, seed=0).parameters(), lr=1e-3)
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: object = 1e-3,
        betas: tuple[object, object] = (0.9, 0.999),
        eps: object = 1e-8,
        weight_decay: object = 0,
    ) -> None:
        super().__init__(params, lr)
        beta1, beta2 = (_rate(beta, f"betas[{i}]", "Adam", positive=False) for i, beta in enumerate(betas))
        if not (beta1 < 1 and beta2 < 1):
            raise ArgumentError(f"Adam: betas={betas} must each be in [0, 1)", fix="use betas=(0.9, 0.999)")
        self.betas = (beta1, beta2)
        self.eps = _rate(eps, "eps", "Adam", positive=False)
        self.weight_decay = _rate(weight_decay, "weight_decay", "Adam", positive=False)

    def _update(self, value: Array, grad: Array, state: dict[str, Array]) -> Array:
        beta1, beta2 = self.betas
        if self.weight_decay:
            grad = grad + self.weight_decay * value
        if not state:
            state.update(step=np.zeros((), np.int64), exp_avg=np.zeros_like(grad), exp_avg_sq=np.zeros_like(grad))
        state["step"] += 1
        step, first, second = int(state["step"]), state["exp_avg"], state["exp_avg_sq"]
        first += (grad - first) * (1 - beta1)  # in place; the same interpolation PyTorch computes
        second *= beta2
        second += (1 - beta2) * grad * grad
        denominator = np.sqrt(second) / math.sqrt(1 - beta2**step) + self.eps
        return (self.lr / (1 - beta1**step)) * (first / denominator)


class _Schedule:
    """Base of the schedules: ``step()`` once per epoch sets the optimizer's ``lr`` for the next one."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise ArgumentTypeError(
                f"{type(self).__name__}: expected a convlab optimizer, got {type(optimizer).__name__}",
                fix="pass e.g. SGD(model.parameters(), lr=0.1)",
            )
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.epoch = 0

    def step(self) -> None:
        self.epoch += 1
        self.optimizer.lr = self.lr_at(self.epoch)

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError


class StepLR(_Schedule):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs, as ``torch.optim.lr_scheduler.StepLR``.

    Example:
        >>> from convlab.nn import Linear
        >>> schedule = StepLR(SGD(Linear(2, 1).parameters(), lr=1.0), step_size=2, gamma=0.5)
        >>> [schedule.lr_at(epoch) for epoch in range(5)]
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: object = 0.1) -> None:
        super().__init__(optimizer)
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ArgumentError(
                f"StepLR: step_size={step_size!r} must be an int >= 1", fix="use e.g. step_size=10"
            )
        self.step_size = step_size
        self.gamma = _rate(gamma, "gamma", "StepLR", positive=True)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(_Schedule):
    """Half a cosine from the base rate to ``eta_min`` over ``T_max`` epochs, as PyTorch's ``CosineAnnealingLR``.

    ``lr(t) = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2``.

    Example:
        >>> from convlab.nn import Linear
        >>> schedule = CosineAnnealingLR(SGD(Linear(2, 1).parameters(), lr=1.0), T_max=4)
        >>> [round(schedule.lr_at(epoch), 3) for epoch in range(5)]
        [1.0, 0.854, 0.5, 0.146, 0.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: object = 0.0) -> None:
        super().__init__(optimizer)
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max < 1:
            raise ArgumentError(
                f"CosineAnnealingLR: T_max={T_max!r} must be an int >= 1", fix="use the number of epochs"
            )
        self.T_max = T_max
        self.eta_min = _rate(eta_min, "eta_min", "CosineAnnealingLR", positive=False)

    def lr_at(self, epoch: int) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2
