"""PyTorch users: PyTorch's own shape errors, explained as convlab explains its own.

``with explain_errors(model): model(x)`` re-raises a PyTorch shape error as a
convlab error found by checking the model against the input's shape, layer by
layer; the original error stays chained as its cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from ..diagnose import dtype_mismatch
from ..errors import ConvlabError, DtypeError, ShapeError
from .check import check

__all__ = ["explain_errors", "torch_error"]


def torch_error(error: BaseException, model: Any, example_input: Any) -> ConvlabError:
    """Re-explain a PyTorch shape error: check the model against the input's shape, layer by layer.

    Returns a convlab error whose ``__cause__`` is the original exception.
    """
    try:
        problems = check(model, tuple(example_input.shape)).errors
    except ConvlabError as unreadable:  # the model could not be read for this input: say why, keep the cause
        unreadable.__cause__ = error
        return unreadable
    dtypes = (
        {str(p.dtype).removeprefix("torch.") for p in model.parameters()}
        if hasattr(model, "parameters")
        else set()
    )
    given = str(getattr(example_input, "dtype", "")).removeprefix("torch.")
    if not problems and given in ("float64", "float32") and dtypes and given not in dtypes:
        explained = dtype_mismatch({"x": given, "weight": dtypes.pop()}).error(DtypeError, torch=True)
        explained.__cause__ = error
        return explained
    if problems:
        first = problems[0]
        diagnosis = replace(first.diagnosis, what=first.headline)
        explained = diagnosis.error(
            ShapeError if first.diagnosis.code != "float64-with-float32" else DtypeError, torch=True
        )
    else:
        explained = ConvlabError(
            f"PyTorch raised {type(error).__name__}: {str(error).splitlines()[0]}",
            evidence=("convlab's shape check found nothing wrong with the layers",),
            fix="look at the values, not the shapes",
        )
    explained.__cause__ = error
    return explained


@contextmanager
def explain_errors(model: Any) -> Iterator[None]:
    """Inside the block, PyTorch's shape errors from ``model`` come back as convlab's explanations.

    Example (not run here):
        with convlab.explain_errors(model):
            model(x)
    """
    seen: dict[str, Any] = {}

    def remember(_module: Any, args: tuple[Any, ...]) -> None:
        if args and hasattr(args[0], "shape"):
            seen.setdefault("input", args[0])

    handle = model.register_forward_pre_hook(remember)
    try:
        yield
    except (RuntimeError, ValueError) as error:
        if "input" not in seen:
            raise
        raise torch_error(error, model, seen["input"]) from error
    finally:
        handle.remove()
