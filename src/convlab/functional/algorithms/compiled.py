"""Compiled loops: plain Python functions that Numba compiles the first time they run.

A kernel is written as ordinary, readable Python over NumPy arrays (``for`` and
``prange`` loops), decorated with :func:`kernel`. Importing a module that defines
kernels does not import Numba: compilation happens on the first call, and the
machine code is cached on disk (beside the source, or in the user's cache folder
where the package folder is read-only), so later processes load it in
milliseconds. ``kernel.python`` is the undecorated function, for reading and for
stepping through in a debugger.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Kernel", "kernel"]

F = TypeVar("F", bound=Callable[..., Any])
_COMPILE_LOCK = threading.Lock()  # two threads asking for the same kernel compile it once


class Kernel(Generic[F]):
    """A Python function compiled by Numba on its first call (``parallel`` turns ``prange`` into threads)."""

    def __init__(self, python: F, parallel: bool) -> None:
        self.python = python
        self.parallel = parallel
        self._compiled: Callable[..., Any] | None = None
        self.__doc__ = python.__doc__
        self.__name__ = python.__name__

    def compiled(self) -> Callable[..., Any]:
        """The machine-code version, compiling (or loading from the disk cache) on first use."""
        if self._compiled is None:
            with _COMPILE_LOCK:
                if self._compiled is None:
                    import numba  # the first compiled call pays for this import, `import convlab` never does

                    self._compiled = numba.njit(cache=True, parallel=self.parallel, nogil=True)(self.python)
        return self._compiled

    def __call__(self, *args: Any) -> Any:
        return self.compiled()(*args)


def kernel(*, parallel: bool = True) -> Callable[[F], Kernel[F]]:
    """Mark a plain Python loop as a compiled kernel (see the module docstring)."""

    def wrap(python: F) -> Kernel[F]:
        return Kernel(python, parallel)

    return wrap
