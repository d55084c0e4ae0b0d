"""The base of convlab's layers: a Module runs forward, remembers what backward needs, and owns Parameters.

As in PyTorch, calling a module runs ``forward``; unlike PyTorch there is no
autograd, so each module also has an explicit ``backward(grad_output)`` that
returns the gradient for its input and adds its parameters' gradients to
``param.grad`` (adding, like PyTorch, until ``zero_grad()``); ``backward_parameters``
does the second only, for a training step that never uses the input's gradient.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .._args import Array, flag
from ..errors import ArgumentError, ArgumentTypeError, ConvlabError, ShapeError, StateError

__all__ = ["Module", "Parameter", "check_dtype", "torch_library"]


class Parameter(np.ndarray):  # an ndarray with a .grad slot
    """A learnable array: a NumPy array with a ``.grad`` slot, like ``torch.nn.Parameter``.

    Arithmetic on a Parameter returns plain arrays; only views keep the class.

    Example:
        >>> p = Parameter(np.zeros(3, dtype=np.float32))
        >>> p.grad is None, type(p * 2).__name__
        (True, 'ndarray')
    """

    grad: Array | None

    def __new__(cls, data: Array) -> Parameter:
        parameter = np.asarray(data).view(cls)
        parameter.grad = None
        return parameter

    def __array_finalize__(self, obj: object) -> None:
        self.grad = None

    def __array_wrap__(self, array: Array, context: Any = None, return_scalar: bool = False) -> Any:
        plain = array.view(np.ndarray)
        return plain[()] if return_scalar else plain

    def accumulate(self, grad: Array) -> None:
        """Add ``grad`` to ``.grad`` (set it if empty), as PyTorch's backward does."""
        self.grad = grad.astype(self.dtype, copy=True) if self.grad is None else self.grad + grad


def check_dtype(dtype: object, owner: str) -> np.dtype[Any]:
    """A layer's parameter dtype: float32 (default) or float64."""
    try:
        resolved: np.dtype[Any] | None = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        resolved = None
    if resolved is None or resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ArgumentError(
            f"{owner}: dtype must be numpy.float32 or numpy.float64, got {dtype!r}",
            fix="use dtype=np.float32 (the default) or dtype=np.float64",
        )
    return resolved


class Module:
    """Base class of every layer. Subclasses define ``forward``, ``backward`` and ``extra_repr``.

    A module is in training mode until ``eval()`` (as in PyTorch); layers such as BatchNorm2d and
    Dropout behave differently in the two. Its state is its parameters and its buffers: arrays it
    keeps but does not learn, such as running statistics (``buffer_names``).
    """

    training: bool = True  # layers are built in training mode, as in PyTorch
    buffer_names: ClassVar[tuple[str, ...]] = ()

    def __setattr__(self, name: str, value: object) -> None:
        current = self.__dict__.get(name)
        if isinstance(current, Parameter) and not isinstance(value, Parameter):
            value = self._replacement(name, current, value)
        super().__setattr__(name, value)

    def _replacement(self, name: str, current: Parameter, value: object) -> Parameter:
        """Assigning new values to a parameter keeps its shape and dtype (and checks them)."""
        array = np.asarray(value)
        if array.shape != current.shape:
            raise ShapeError(
                f"{type(self).__name__}.{name} must keep its shape {current.shape}, "
                f"got an array of shape {array.shape}",
                fix=f"reshape the new values, e.g. value.reshape{current.shape}",
            )
        return Parameter(array.astype(current.dtype))

    def __call__(self, input: object) -> Array:
        return self.forward(input)

    def forward(self, input: object) -> Array:
        raise NotImplementedError

    def backward(self, grad_output: object) -> Array:
        raise NotImplementedError

    def backward_parameters(self, grad_output: object) -> None:
        """Add the parameters' gradients to ``.grad`` without the gradient for the input.

        What a training step needs at the model's first layer: torch skips the input's gradient
        when the input does not require one, and so does this. Layers whose input gradient costs
        work of its own (convolutions, linear layers, BatchNorm) and containers skip it; any other
        module runs its whole ``backward``.
        """
        self.backward(grad_output)

    def _saved(self, name: str = "_input") -> Any:
        saved = self.__dict__.get(name)
        if saved is None:
            raise StateError(
                f"{type(self).__name__}.backward was called before forward",
                fix="call the layer on an input first: y = layer(x), then layer.backward(grad_y)",
            )
        return saved

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs, children's prefixed with their index, as in PyTorch."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield name, value
        for prefix, child in self.named_children():
            for name, parameter in child.named_parameters():
                yield f"{prefix}.{name}", parameter

    def named_children(self) -> Iterator[tuple[str, Module]]:
        return iter(())

    def parameters(self) -> list[Parameter]:
        return [parameter for _, parameter in self.named_parameters()]

    def zero_grad(self) -> None:
        for parameter in self.parameters():
            parameter.grad = None

    def train(self, mode: bool = True) -> Module:
        """Training mode (batch statistics, dropout on) for this module and its children; returns it."""
        self.training = flag(mode, "mode")
        for _, child in self.named_children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Inference mode (running statistics, dropout off): ``train(False)``."""
        return self.train(False)

    def _state_arrays(self) -> dict[str, Array]:
        """The live arrays of the state, named as PyTorch's state_dict names them."""
        state: dict[str, Array] = {
            name: value for name, value in vars(self).items() if isinstance(value, Parameter)
        }
        for name in self.buffer_names:
            if getattr(self, name, None) is not None:
                state[name] = getattr(self, name)
        for prefix, child in self.named_children():
            state.update({f"{prefix}.{name}": value for name, value in child._state_arrays().items()})
        return state

    def state_dict(self) -> dict[str, Array]:
        """Copies of every parameter and buffer, named as in PyTorch (``"0.weight"``, ``"1.running_mean"``)."""
        return {name: np.array(value) for name, value in self._state_arrays().items()}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Copy ``state``'s values into this module's arrays (the arrays stay the same objects).

        Every name must match, and every shape; values are converted to each array's dtype.
        """
        own = self._state_arrays()
        missing, unexpected = sorted(own.keys() - state.keys()), sorted(state.keys() - own.keys())
        if missing or unexpected:
            raise ArgumentError(
                f"{type(self).__name__}.load_state_dict: the names do not match this model's",
                evidence=[
                    f"missing: {', '.join(missing) or 'none'}",
                    f"unexpected: {', '.join(unexpected) or 'none'}",
                ],
                fix="load a state saved from a model built the same way (same layers, same order)",
            )
        for name, target in own.items():
            value = state[name]
            if hasattr(value, "detach"):  # a torch tensor
                value = value.detach().cpu().numpy()
            array = np.asarray(value)
            if array.shape != target.shape:
                raise ShapeError(
                    f"{type(self).__name__}.load_state_dict: {name} has shape {array.shape}, "
                    f"this model's has {target.shape}",
                    fix="load a state saved from a model with the same layer sizes",
                )
            np.copyto(target, array, casting="unsafe")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the state to a compressed ``.npz`` file (written whole, then renamed into place)."""
        target = Path(path)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                np.savez_compressed(file, **self.state_dict())  # type: ignore[arg-type]
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def load(self, path: str | os.PathLike[str]) -> Module:
        """Read the state written by :meth:`save` into this module; returns it."""
        try:
            with np.load(path) as data:
                state = {name: data[name] for name in data.files}
        except (OSError, ValueError) as error:
            raise ArgumentError(
                f"{type(self).__name__}.load: cannot read {str(path)!r} as a saved state",
                evidence=[str(error)],
                fix="pass the path of a .npz file written by module.save(path)",
            ) from None
        self.load_state_dict(state)
        return self

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

    # The torch.nn class this layer equals, and the constructor arguments both take in the same order
    # (read back from the attributes of the same names; "bias" means whether there is one).
    torch_name: ClassVar[str | None] = None
    torch_arguments: ClassVar[tuple[str, ...]] = ()

    def to_torch(self) -> Any:
        """The same layer as a ``torch.nn`` module with the same weights, copied (needs torch installed)."""
        if self.torch_name is None:
            raise ArgumentTypeError(
                f"to_torch: {type(self).__name__} has no torch counterpart", fix="convert its parts"
            )
        torch = torch_library()
        state = self.state_dict()
        floats = [value.dtype for value in state.values() if value.dtype.kind == "f"]
        dtype = {} if not floats else {"dtype": torch.float64 if floats[0] == np.float64 else torch.float32}
        layer = getattr(torch.nn, self.torch_name)(*_arguments(self, self.torch_arguments), **dtype)
        layer.load_state_dict({name: torch.from_numpy(value) for name, value in state.items()})
        return layer.train(self.training)

    @classmethod
    def from_torch(cls, module: Any) -> Module:
        """This layer equal to the ``torch.nn`` layer ``module``: same settings, same weights (copied)."""
        state = {name: _copy(tensor) for name, tensor in module.state_dict().items()}
        floats = [value.dtype for value in state.values() if value.dtype.kind == "f"]
        dtype = {} if not floats else {"dtype": floats[0].type}
        layer = cls(*_arguments(module, cls.torch_arguments), **dtype)
        layer.load_state_dict(state)
        return layer.train(module.training)


def torch_library() -> Any:
    """The torch package, or an error saying how to install it."""
    try:
        import torch
    except ImportError:
        raise ConvlabError(
            "PyTorch is not installed, so layers cannot be moved to or from it",
            fix="pip install torch==2.13.0   (or, in a convlab checkout: pip install -e '.[test]')",
        ) from None
    return torch


def _arguments(layer: Any, names: tuple[str, ...]) -> list[Any]:
    return [getattr(layer, name) is not None if name == "bias" else getattr(layer, name) for name in names]


def _copy(tensor: Any) -> Array:
    return np.array(tensor.detach().cpu().numpy())  # a copy: the two layers must not share memory
