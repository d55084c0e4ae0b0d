"""BatchNorm2d: normalise each channel to mean 0 and variance 1, then scale and shift it by learned values."""

from __future__ import annotations

import numpy as np

from .._args import Array, as_int, flag
from .._arrays import float_arrays
from ..errors import ArgumentError, ShapeError
from . import batchnorm_kernels as kernels
from .module import Module, Parameter, check_dtype

__all__ = ["BatchNorm2d"]

_AXES = (0, 2, 3)  # statistics are per channel, over the batch and every position


class BatchNorm2d(Module):
    """Batch normalisation over (N, H, W) for each channel, like ``torch.nn.BatchNorm2d``.

    In training mode each channel is normalised with the batch's own mean and (biased) variance, and
    the running statistics move towards them: ``running = (1 - momentum) * running + momentum * batch``
    (the unbiased variance; ``momentum=None`` keeps a plain average over all batches). In eval mode
    the running statistics are used instead, so an image's output no longer depends on its batch.

    Args:
        num_features: channels C of the input.
        eps: added to the variance before its square root. Default: 1e-5.
        momentum: weight of each new batch in the running statistics, or None. Default: 0.1.
        affine: learn a scale (``weight``) and shift (``bias``) per channel. Default: True.
        track_running_stats: keep running statistics; without, batch statistics are always used.
        dtype: numpy.float32 or numpy.float64. Default: numpy.float32.

    Attributes:
        weight, bias: Parameters (C,), ones and zeros, or None without ``affine``.
        running_mean, running_var: buffers (C,), zeros and ones; num_batches_tracked: 0-d int64.

    Shape:
        (N, C, H, W) -> (N, C, H, W)

    Example:
        >>> layer = BatchNorm2d(2, dtype=np.float64)
        >>> out = layer(np.random.default_rng(0).normal(5, 3, (8, 2, 4, 4)))
        >>> np.round(out.mean(axis=(0, 2, 3)), 6) + 0, np.round(out.std(axis=(0, 2, 3)), 3)
        (array([0., 0.]), array([1., 1.]))
    """

    torch_name = "BatchNorm2d"
    torch_arguments = ("num_features", "eps", "momentum", "affine", "track_running_stats")
    buffer_names = ("running_mean", "running_var", "num_batches_tracked")

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        dtype: object = np.float32,
    ) -> None:
        self.num_features = as_int(num_features, "num_features", minimum=1)
        self.eps = _number(eps, "eps", upper=None)
        self.momentum = None if momentum is None else _number(momentum, "momentum", upper=1.0)
        self.affine = flag(affine, "affine")
        self.track_running_stats = flag(track_running_stats, "track_running_stats")
        resolved = check_dtype(dtype, "BatchNorm2d")
        channels = self.num_features
        self.weight = Parameter(np.ones(channels, resolved)) if self.affine else None
        self.bias = Parameter(np.zeros(channels, resolved)) if self.affine else None
        tracked = self.track_running_stats
        self.running_mean = np.zeros(channels, resolved) if tracked else None
        self.running_var = np.ones(channels, resolved) if tracked else None
        self.num_batches_tracked = np.zeros((), np.int64) if tracked else None
        self._saved_values: tuple[Array, Array, bool] | None = None  # normalised input, 1/std, batch statistics?

    def forward(self, input: object) -> Array:
        reference = self.weight if self.weight is not None else self.running_mean  # None: affine=False, untracked
        x = float_arrays({"input": input, "weight": reference}, optional=("weight",))["input"]
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ShapeError(
                f"BatchNorm2d({self.num_features}) got an input of shape {x.shape}",
                evidence=[f"it expects (N, {self.num_features}, H, W): one mean and variance per channel"],
                fix=f"use BatchNorm2d({x.shape[1]}) to match the layer before it"
                if x.ndim == 4
                else "pass a batch of feature maps (N, C, H, W)",
            )
        batch = self.training or self.running_mean is None
        rows = kernels.as_rows(x)
        if batch:
            mean, variance = self._batch_statistics(rows, x.shape)
        else:
            assert self.running_mean is not None
            assert self.running_var is not None
            mean, variance = kernels.channels(self.running_mean), kernels.channels(self.running_var)
        inverse_std = (1 / np.sqrt(variance + self.eps)).astype(x.dtype)
        affine = self.weight is not None and self.bias is not None
        scale = self.weight if self.weight is not None else np.ones(self.num_features)
        shift = self.bias if self.bias is not None else np.zeros(self.num_features)
        normalised, out = np.empty(rows.shape, x.dtype), np.empty(rows.shape, x.dtype)
        inverse, scale, shift = (kernels.channels(values) for values in (inverse_std, scale, shift))
        kernels.normalise(rows, mean, inverse, scale, shift, normalised, out)
        self._saved_values = (normalised.reshape(x.shape), inverse_std, batch)
        result: Array = (out if affine else normalised).reshape(x.shape)
        return result

    def _batch_statistics(self, rows: Array, shape: tuple[int, ...]) -> tuple[Array, Array]:
        """The batch's mean and biased variance per channel (float64); in training, the running statistics
        follow."""
        count = rows.shape[0] * rows.shape[2]
        if count < 2 and self.training:
            raise ShapeError(
                f"BatchNorm2d: an input of shape {shape} has {count} value per channel, "
                "so its variance is undefined",
                fix="train with a batch of 2 or more images (or larger feature maps), or call model.eval()",
            )
        mean, variance = np.empty(self.num_features), np.empty(self.num_features)
        kernels.statistics(rows, mean, variance)
        if self.training and self.running_mean is not None and self.running_var is not None:
            assert self.num_batches_tracked is not None
            self.num_batches_tracked += 1
            factor = 1 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
            self.running_mean[...] = (1 - factor) * self.running_mean + factor * mean
            self.running_var[...] = (1 - factor) * self.running_var + factor * variance * count / (count - 1)
        return mean, variance

    def backward(self, grad_output: object) -> Array:
        """Gradients of the scale and shift, and of the input.

        With batch statistics the mean and variance depend on every value of the channel, so the
        input gradient is the normalised-space gradient minus its mean and its projection on the
        normalised input: ``(g - mean(g) - x_hat * mean(g * x_hat)) / std``.
        """
        normalised, inverse_std, batch = self._saved("_saved_values")
        grad, per_scale, per_shift = self._parameter_grads(grad_output)
        scale = inverse_std if self.weight is None else inverse_std * self.weight
        if not batch:
            result: Array = grad * scale.reshape(-1, 1, 1)
            return result
        count = grad.size // self.num_features
        out = np.empty(normalised.shape, normalised.dtype)
        kernels.input_gradient(
            kernels.as_rows(grad),
            kernels.as_rows(normalised),
            per_shift / count,
            per_scale / count,
            kernels.channels(scale),
            kernels.as_rows(out),
        )
        return out

    def backward_parameters(self, grad_output: object) -> None:
        """The scale's and shift's gradients only; the input's is skipped."""
        self._parameter_grads(grad_output)

    def _parameter_grads(self, grad_output: object) -> tuple[Array, Array, Array]:
        """The output gradient as an array and its sums per channel, ``sum(g * x_hat)`` and ``sum(g)``,
        which are the scale's and the shift's gradients (accumulated when the layer is affine)."""
        normalised = self._saved("_saved_values")[0]
        grad = np.asarray(grad_output, dtype=normalised.dtype)
        per_scale, per_shift = np.empty(self.num_features), np.empty(self.num_features)
        kernels.gradient_sums(kernels.as_rows(grad), kernels.as_rows(normalised), per_scale, per_shift)
        if self.weight is not None and self.bias is not None:
            self.weight.accumulate(per_scale)
            self.bias.accumulate(per_shift)
        return grad, per_scale, per_shift

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


def _number(value: object, name: str, *, upper: float | None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ArgumentError(f"BatchNorm2d: {name}={value!r} must be a number >= 0", fix=f"use the default {name}")
    if upper is not None and value > upper:
        raise ArgumentError(f"BatchNorm2d: {name}={value!r} must be at most {upper}", fix=f"use e.g. {name}=0.1")
    return float(value)
