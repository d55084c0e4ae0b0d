"""Losses: one number that says how wrong a network's output is, and its gradient for that output.

A loss is where backward starts. ``loss = criterion(output, target)`` returns the value (a 0-d
array in the output's dtype, like PyTorch's 0-d tensor); ``criterion.backward()`` returns
d loss / d output, which the network's own ``backward`` then carries to every layer.
"""

from __future__ import annotations

import numpy as np

from .._args import Array
from .._arrays import float_arrays
from ..errors import ArgumentError, ArgumentTypeError, ShapeError, StateError

__all__ = ["CrossEntropyLoss", "Loss", "MSELoss"]


class Loss:
    """Base of the losses: call with (output, target) for the value, then ``backward()`` for the gradient."""

    _gradient: Array | None = None

    def __call__(self, output: object, target: object) -> Array:
        return self.forward(output, target)

    def forward(self, output: object, target: object) -> Array:
        raise NotImplementedError

    def backward(self) -> Array:
        """d loss / d output, shaped like the output of the last call."""
        if self._gradient is None:
            raise StateError(
                f"{type(self).__name__}.backward was called before the loss was computed",
                fix="compute it first: loss = criterion(output, target), then criterion.backward()",
            )
        return self._gradient

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MSELoss(Loss):
    """Mean squared error, ``mean((output - target) ** 2)``, like ``torch.nn.MSELoss()``.

    Shape:
        output: any shape; target: the same shape -> a 0-d array.

    Example:
        >>> criterion = MSELoss()
        >>> float(criterion(np.array([1.0, 3.0]), np.array([0.0, 0.0])))
        5.0
        >>> criterion.backward()
        array([1., 3.])
    """

    def forward(self, output: object, target: object) -> Array:
        arrays = float_arrays({"output": output, "target": target})
        y, t = arrays["output"], arrays["target"].astype(arrays["output"].dtype, copy=False)
        if y.shape != t.shape:  # PyTorch broadcasts here with a warning; a silent broadcast is a bug
            raise ShapeError(
                f"MSELoss: output of shape {y.shape} and target of shape {t.shape} do not match",
                evidence=["each output value is compared with the target value at the same place"],
                fix=f"give the target the output's shape, e.g. target.reshape{y.shape}",
            )
        if y.size == 0:
            raise ShapeError(
                "MSELoss: the output is empty, so its mean is undefined", fix="pass at least one value"
            )
        difference = y - t
        value = np.asarray(np.mean(difference * difference), dtype=y.dtype)
        difference *= y.dtype.type(2 / y.size)  # the gradient, in place: no second array of the output's size
        self._gradient = difference
        return value


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy of logits against class indices, batch mean, like ``torch.nn.CrossEntropyLoss()``.

    ``loss = mean_n(logsumexp(output[n]) - output[n, target[n]])``; its gradient for the output is
    ``(softmax(output) - one_hot(target)) / N``.

    Shape:
        output: (N, K) logits (unnormalised scores); target: (N,) integers in [0, K) -> a 0-d array.

    Example:
        >>> criterion = CrossEntropyLoss()
        >>> round(float(criterion(np.zeros((1, 4)), np.array([2]))), 4)  # four equal scores: log 4
        1.3863
    """

    def forward(self, output: object, target: object) -> Array:
        logits = float_arrays({"output": output})["output"]
        labels = _labels(target, logits.shape)
        shifted = logits - logits.max(axis=1, keepdims=True)  # exp never overflows; the result is unchanged
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        rows = np.arange(len(labels))
        losses = np.log(total[:, 0]) - shifted[rows, labels]
        gradient = exp / total
        gradient[rows, labels] -= 1
        self._gradient = (gradient / len(labels)).astype(logits.dtype)
        return np.asarray(losses.mean(), dtype=logits.dtype)


def _labels(target: object, shape: tuple[int, ...]) -> Array:
    """The class indices, checked against logits of ``shape``: (N,) integers in [0, K)."""
    if len(shape) != 2 or shape[0] == 0:
        raise ShapeError(
            f"CrossEntropyLoss: output must be (N, K) logits with N >= 1, got shape {shape}",
            fix="pass one row of class scores per example, e.g. the output of a final Linear(features, K)",
        )
    if hasattr(target, "detach") and hasattr(target, "numpy"):  # a torch tensor
        target = target.detach().cpu().numpy()
    labels = np.asarray(target)
    n, k = shape
    if labels.dtype.kind not in "iu":
        raise ArgumentTypeError(
            f"CrossEntropyLoss: target must hold integer class indices, got dtype {labels.dtype}",
            fix="pass integer labels, e.g. target.astype(np.int64); for one-hot rows use target.argmax(axis=1)",
        )
    if labels.shape != (n,):
        hint = "argmax(axis=1) of one-hot rows" if labels.shape == shape else "one class index per row"
        raise ShapeError(
            f"CrossEntropyLoss: target of shape {labels.shape} does not match output of shape {shape}",
            evidence=[f"the output has {n} rows, so the target needs {n} class indices: shape ({n},)"],
            fix=f"pass {hint}: target of shape ({n},)",
        )
    outside = labels[(labels < 0) | (labels >= k)]
    if outside.size:
        raise ArgumentError(
            f"CrossEntropyLoss: target holds class {outside[0]}, outside [0, {k}) for {k} classes",
            fix=f"number the classes 0..{k - 1}"
            + (f", or give the last layer {int(labels.max()) + 1} outputs" if labels.max() >= k else ""),
        )
    return labels.astype(np.intp)
