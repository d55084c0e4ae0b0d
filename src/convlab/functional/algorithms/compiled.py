"""Compiled loops: plain Python functions that Numba compiles the first time they run.

A kernel is written as ordinary, readable Python over NumPy arrays (``for`` and
``prange`` loops), decorated with :func:`kernel`. Importing a module that defines
kernels does not import Numba: compilation happens on the first call, and the
machine code is cached on disk (beside the source, or in the user's cache folder
where the package folder is read-only), so later processes load it in
milliseconds. ``kernel.python`` is the undecorated function, for reading and for
stepping through in a debugger.

Parallel loops are written ``for i in prange(n)`` with this module's
:data:`prange`: plain ``range`` in Python, Numba's parallel range once compiled
(so a module of kernels never imports Numba itself). A kernel may call another
(a small serial one that several kernels share, like :mod:`.cells`): it is
compiled into its caller.

Parallel kernels run on :func:`convlab.set_num_threads` threads, except small
calls: where :func:`.threads.worth_splitting` says waking the other threads
costs more than they save (judged by the values in the call's arrays), a serial
twin compiled from the same function runs on the calling thread. Several Python
threads may call them at once: Numba's TBB layer allows that; where TBB is
missing, its fallback layer does not, so calls then take turns.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import threading
import types
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from . import threads

__all__ = ["Kernel", "kernel", "prange"]

prange = range
"""A loop whose iterations are independent: Numba spreads them over the threads of a parallel kernel."""

F = TypeVar("F", bound=Callable[..., Any])
_COMPILE_LOCK = threading.RLock()  # two threads asking for one kernel compile it once; its callees compile inside


class _Runtime:
    """Numba, once loaded, and whether its threading layer lets parallel kernels overlap."""

    numba: Any = None
    turns: threading.Lock | None = None  # held around each parallel call when the layer cannot overlap them


def _numba() -> Any:
    """Import Numba on first need, choosing its threading layer before any kernel starts threads."""
    if _Runtime.numba is None:
        numba: Any = importlib.import_module("numba")  # paid by the first compiled call, never by `import convlab`

        threads.prepare_threading_layer(numba)
        numba.get_num_threads()  # starts the threading layer now, so its name can be asked
        if numba.threading_layer() != "tbb":
            _Runtime.turns = threading.Lock()
        _Runtime.numba = numba
    return _Runtime.numba


def _new_locks_in_child() -> None:
    """A lock another thread held at fork stays held in the child forever: start with fresh ones."""
    global _COMPILE_LOCK
    _COMPILE_LOCK = threading.RLock()
    if _Runtime.turns is not None:
        _Runtime.turns = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_locks_in_child)


def _with_numba_names(python: Any, numba: Any) -> Any:
    """The same function, but seeing Numba's ``prange`` where its module has this module's ``range`` stand-in,
    and the machine code of every kernel it calls where its module has the :class:`Kernel`."""
    names = python.__code__.co_names
    swaps = {name: numba.prange for name in names if python.__globals__.get(name) is prange}
    swaps |= {
        name: python.__globals__[name].compiled()
        for name in names
        if isinstance(python.__globals__.get(name), Kernel)
    }
    if not swaps:
        return python
    namespace = {**python.__globals__, **swaps}
    twin = types.FunctionType(python.__code__, namespace, python.__name__, python.__defaults__, python.__closure__)
    twin.__qualname__, twin.__module__ = python.__qualname__, python.__module__
    return twin


class Kernel(Generic[F]):
    """A Python function compiled by Numba on its first call (``parallel`` turns ``prange`` into threads)."""

    def __init__(self, python: F, parallel: bool) -> None:
        self.python = python
        self.parallel = parallel
        self._compiled: Callable[..., Any] | None = None
        self._serial: Callable[..., Any] | None = None  # the parallel kernel's twin for small calls
        self.__doc__ = python.__doc__
        self.__name__ = python.__name__

    def compiled(self) -> Callable[..., Any]:
        """The machine-code version, compiling (or loading from the disk cache) on first use."""
        if self._compiled is None:
            with _COMPILE_LOCK:
                if self._compiled is None:
                    self._compiled = _compile(self.python, self.parallel)
        return self._compiled

    def serial(self) -> Callable[..., Any]:
        """The same loop compiled to run on the calling thread alone (``prange`` as plain ``range``)."""
        if self._serial is None:
            with _COMPILE_LOCK:
                if self._serial is None:
                    self._serial = _compile(self.python, parallel=False, twin=True)
        return self._serial

    def __call__(self, *args: Any) -> Any:
        if not self.parallel:
            return self.compiled()(*args)
        values = sum(arg.size for arg in args if hasattr(arg, "size"))
        if not threads.worth_splitting(values / threads.VALUES_PER_SECOND, threads.NUMBA_HAND_OFF_SECONDS):
            serial = self.serial()
            threads.apply_to_numba(_Runtime.numba)  # kept current, so Numba never holds a stale count
            return serial(*args)
        compiled = self.compiled()
        threads.apply_to_numba(_Runtime.numba)
        threads.apply_to_blas()  # the BLAS calls around a kernel then run on the same threads
        if _Runtime.turns is None:
            return compiled(*args)
        with _Runtime.turns:
            return compiled(*args)


def _compile(python: Callable[..., Any], parallel: bool, twin: bool = False) -> Callable[..., Any]:
    """Numba's machine code for ``python``, cached on disk under :func:`_cache_name`."""
    numba = _numba()
    function = _with_numba_names(python, numba)
    named = types.FunctionType(
        function.__code__, function.__globals__, function.__name__, function.__defaults__, function.__closure__
    )
    named.__qualname__, named.__module__ = _cache_name(python, twin), python.__module__
    # a serial kernel that others call is inlined into them (its few lines sit in their inner loops)
    inline = "never" if parallel or twin else "always"
    machine_code: Callable[..., Any] = numba.njit(cache=True, parallel=parallel, nogil=True, inline=inline)(named)
    return machine_code


def _cache_name(python: Callable[..., Any], twin: bool) -> str:
    """The name Numba's disk cache files a kernel's machine code under.

    Numba tells cached versions apart by the function's name and the time stamp of its own file, nothing
    else: so a parallel kernel's serial twin gets a suffix, and a kernel that calls others gets a digest of
    their source (and of the kernels they call), which an edit to a callee in another file changes. Without
    it, a caller would go on running the callee's old lines, inlined in its cached machine code.
    """
    name = python.__qualname__ + ("_serial" if twin else "")
    callees = _callee_source(python)
    if not callees:
        return name
    return f"{name}_{hashlib.sha256(callees.encode()).hexdigest()[:16]}"


def _callee_source(python: Callable[..., Any]) -> str:
    """The source of every kernel ``python`` calls, and of every kernel those call, in a fixed order."""
    called = sorted(
        {name for name in python.__code__.co_names if isinstance(python.__globals__.get(name), Kernel)}
    )
    parts = []
    for name in called:
        callee: Kernel[Any] = python.__globals__[name]
        parts.append(inspect.getsource(callee.python) + _callee_source(callee.python))
    return "".join(parts)


def kernel(*, parallel: bool = True) -> Callable[[F], Kernel[F]]:
    """Mark a plain Python loop as a compiled kernel (see the module docstring)."""

    def wrap(python: F) -> Kernel[F]:
        return Kernel(python, parallel)

    return wrap
