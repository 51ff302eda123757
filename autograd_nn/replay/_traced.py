"""The arrays and numbers a recording watches.

While ``compile`` records a call, every array that flows through the library is a
``Traced``: an ndarray (a view of the real values, so the call computes exactly what it
would eagerly) whose numpy calls (ufuncs, array functions, the methods numpy does not route
through either, indexing) are handed to the recording, which runs them on the plain
arrays and writes them down. Anything numpy makes from a traced array behind the
recording's back (``np.array(x, subok=True)``) is marked unseen and refused on first use.

Reading a value is where a replay would go blind, so it is never silent: ``bool(x)`` and
``int(x)`` become checks the replay repeats, ``x.item()`` a number that may only be
returned (or fed back into numpy), and ``float(x)`` is refused with a way out. Once the
recording is over, a traced array that escaped behaves as a plain one.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

_plain_view = np.ndarray.view


def plain(array: np.ndarray) -> np.ndarray:
    """The same memory as a plain ndarray (no recording)."""
    return _plain_view(array, np.ndarray)


class Traced(np.ndarray):
    """An array a recording is watching (see the module docstring)."""

    _rec: Any = None  # the Recording; None: made by numpy from a traced array, unseen
    _slot: Any = None  # what the recording knows this array as

    def __array_finalize__(self, obj: Any) -> None:
        self._rec = getattr(obj, "_rec", None)
        self._slot = None

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        rec = _live(self)
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        for x in inputs:
            if getattr(type(x), "__autograd_tensor__", None) is not None:
                return NotImplemented  # ndarray ⊕ Tensor: the Tensor's operator records it
        if rec is None:
            return _unwatched(fn, inputs, kwargs)
        return rec.call(fn, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if not all(issubclass(t, np.ndarray) for t in types):
            return NotImplemented
        rec = _live(self)
        if rec is None:
            return _unwatched(func, args, kwargs)
        return rec.call(func, args, kwargs)

    # ---------------------------------------------------------------- value reads
    def __bool__(self) -> bool:
        rec = _live(self)
        return bool(plain(self)) if rec is None else rec.call(bool, (self,), {})

    def __int__(self) -> int:
        rec = _live(self)
        return int(plain(self)) if rec is None else rec.call(int, (self,), {})

    def __index__(self) -> int:
        rec = _live(self)
        return operator.index(plain(self)) if rec is None else rec.call(operator.index, (self,), {})

    def __float__(self) -> float:
        rec = _live(self)
        if rec is None:
            return float(plain(self))
        rec.refuse(
            "float() of a tensor's value",
            "a replay cannot hand a Python number back to your code. Return the tensor (or x.item(), "
            "which every replay refreshes) and call float() outside the compiled function",
        )
        return float(plain(self))

    __complex__ = __float__

    def item(self, *args: Any) -> Any:
        rec = _live(self)
        return plain(self).item(*args) if rec is None else rec.item(self, args)

    def tolist(self) -> Any:
        rec = _live(self)
        if rec is None:
            return plain(self).tolist()
        rec.refuse("tolist() of a tensor's values", "return the tensor and call tolist() outside")
        return plain(self).tolist()

    def tobytes(self, order: str = "C") -> bytes:
        rec = _live(self)
        if rec is None:
            return plain(self).tobytes(order)
        rec.refuse("tobytes() of a tensor's values", "return the tensor and read it outside")
        return plain(self).tobytes(order)

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return repr(plain(self))  # printing inside a compiled function shows the recording's values

    def __str__(self) -> str:
        return str(plain(self))

    def __reduce_ex__(self, protocol: Any) -> Any:
        return plain(self).copy().__reduce_ex__(protocol)

    @property
    def base(self) -> Any:  # type: ignore[override]
        """What eager code would see: the traced array this one views, or None."""
        rec = _live(self)
        if rec is None:
            return plain(self).base
        return rec.base_of(self)

    @property
    def T(self) -> Any:  # type: ignore[override]
        return self.transpose()

    @property
    def mT(self) -> Any:  # type: ignore[override]
        return self.swapaxes(-1, -2)

    @property
    def real(self) -> Any:  # type: ignore[override]
        return np.real(self)


def _live(array: Traced) -> Any:
    """The recording watching ``array``, or None when its calls are to run plainly."""
    rec = array._rec
    if rec is None or rec.closed:
        return None
    if array._slot is None:
        rec.refuse(
            f"an array (shape {array.shape}) that numpy made from a watched one without a call the recording "
            "could see (np.array(x, subok=True), np.asanyarray(x, dtype=...), ...)",
            "use x.copy() or x.astype(dtype)",
        )
        return None
    return rec


def _unwatched(fn: Any, args: Any, kwargs: Any) -> Any:
    """Call ``fn`` as if no array were traced (after the recording, an escaped array is plain)."""
    from ._tree import tree_map

    def strip(x: Any) -> Any:
        return plain(x) if isinstance(x, Traced) else x

    return fn(*tree_map(strip, tuple(args)), **tree_map(strip, dict(kwargs)))


def _recorded_method(name: str) -> Any:
    unbound = getattr(np.ndarray, name)

    def method(self: Traced, *args: Any, **kwargs: Any) -> Any:
        rec = _live(self)
        if rec is None:
            return unbound(plain(self), *args, **kwargs)
        return rec.call(unbound, (self, *args), kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``ndarray.{name}``, recorded."
    return method


# The ndarray methods numpy runs without a ufunc or an array function: each becomes one
# recorded call (the reductions too, so x.mean() replays as one call, as written).
RECORDED_METHODS = (
    "__getitem__", "__setitem__", "__copy__", "__deepcopy__", "all", "any", "argmax", "argmin", "argpartition",
    "argsort", "astype", "choose", "clip", "compress", "conj", "conjugate", "copy", "cumprod", "cumsum",
    "diagonal", "dot", "fill", "flatten", "max", "mean", "min", "nonzero", "partition", "prod", "ptp", "put",
    "ravel", "repeat", "reshape", "round", "searchsorted", "sort", "squeeze", "std", "sum", "swapaxes", "take",
    "trace", "transpose", "var", "view",
)  # fmt: skip
for _name in RECORDED_METHODS:
    if hasattr(np.ndarray, _name):
        setattr(Traced, _name, _recorded_method(_name))


# ------------------------------------------------------------------------ numbers
class _Guarded:
    """A number a replay refreshes: Python arithmetic on it would be done once, at the
    recording, and then frozen, so it is refused (and then done, so the call finishes)."""

    where: str = ""
    source: Any = None  # what the replay reads it from
    rec: Any = None


def _refusing(name: str) -> Any:
    def op(self: Any, *args: Any) -> Any:
        for other in args:  # an array or a tensor: numpy's (or the Tensor's) operator records it
            if isinstance(other, np.ndarray) or getattr(type(other), "__autograd_tensor__", None) is not None:
                return NotImplemented
        if self.rec is not None and not self.rec.closed:
            self.rec.refuse(
                f"Python arithmetic or a comparison on {self.where}",
                "the replay would repeat the recording's result forever. Do the arithmetic on tensors (it is "
                "then recorded), or return the value and use it outside the compiled function",
            )
        base = int if isinstance(self, int) else float
        return getattr(base, name)(exact(self), *(exact(a) if isinstance(a, _Guarded) else a for a in args))

    op.__name__ = name
    return op


_BLOCKED = (
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
    "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__", "__neg__", "__pos__",
    "__abs__", "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__", "__bool__", "__round__",
    "__trunc__", "__floor__", "__ceil__", "__divmod__", "__rdivmod__", "__int__", "__hash__",
)  # fmt: skip
for _name in _BLOCKED:
    setattr(_Guarded, _name, _refusing(_name))


class GuardedFloat(_Guarded, float):
    """A float a replay refreshes (``x.item()`` of a watched float, an optimizer's step size)."""


class GuardedInt(_Guarded, int):
    """An int a replay refreshes (``x.item()`` of a watched integer)."""


def guarded_number(value: Any, source: Any, where: str, rec: Any) -> Any:
    """``value`` as a number the recording can follow back to ``source``."""
    kind = GuardedInt if isinstance(value, int) and not isinstance(value, bool) else GuardedFloat
    number = kind(value)
    number.source = source
    number.where = where
    number.rec = rec
    return number


def exact(number: Any) -> Any:
    """A guarded number as the plain Python number numpy should see (a weak scalar)."""
    return int.__index__(number) if isinstance(number, GuardedInt) else float.__float__(number)
