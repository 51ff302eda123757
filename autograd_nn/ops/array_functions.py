"""numpy functions of tensors that are not differentiable: comparisons, tests for nan and
inf, logical operations, arg-extrema and argsort, any/all, and what inspects an array.

Their entries run the numpy function on the inputs' arrays and return a plain ndarray
(a boolean mask, indices) or value (a shape, a bool), which is what numpy users expect and
what carries no gradient. Declaring them here is also what lets ``np.shape(t)``,
``np.allclose(t, u)`` and ``np.isnan(t)`` take tensors.
"""

from __future__ import annotations

import numpy as np

from ..registry import register_array_function

# ufunc: (numpy's function name, the operator, PyTorch's method name: x.lt(y) is x < y)
_COMPARISONS = {
    np.less: ("less", "__lt__", "lt"),
    np.less_equal: ("less_equal", "__le__", "le"),
    np.greater: ("greater", "__gt__", "gt"),
    np.greater_equal: ("greater_equal", "__ge__", "ge"),
    np.equal: ("equal", "__eq__", "eq"),
    np.not_equal: ("not_equal", "__ne__", "ne"),
}
for _ufunc, (_function, _operator, _method) in _COMPARISONS.items():
    register_array_function(_ufunc, arity=2, functions=_function, operators=_operator, methods=_method, ufuncs=_ufunc)


def argmax(x: np.ndarray, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
    """Indices of the maxima along ``axis`` (all axes flattened for None), as a plain ndarray."""
    return np.argmax(x, axis=axis, keepdims=keepdims)


def argmin(x: np.ndarray, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
    """Indices of the minima along ``axis`` (all axes flattened for None), as a plain ndarray."""
    return np.argmin(x, axis=axis, keepdims=keepdims)


def argsort(x: np.ndarray, axis: int | None = -1, kind: str | None = None, descending: bool = False) -> np.ndarray:
    """Indices that sort ``x`` along ``axis`` (None: flattened), as ``np.argsort``;
    ``descending=True`` (PyTorch's keyword) sorts largest first, ties in their order."""
    if descending:  # NOTE: −x keeps ties in index order, which flipping an ascending sort would not
        return np.argsort(-np.asanyarray(x), axis=axis, kind="stable")
    return np.argsort(x, axis=axis, kind=kind)


def any_(x: np.ndarray, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> np.ndarray:
    """True where some element along ``axis`` is nonzero, as ``np.any``."""
    return np.any(x, axis=axis, keepdims=keepdims)


def all_(x: np.ndarray, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> np.ndarray:
    """True where every element along ``axis`` is nonzero, as ``np.all``."""
    return np.all(x, axis=axis, keepdims=keepdims)


register_array_function(argmax, arity=1, shapes="axis", distinct=True, functions="argmax", methods="argmax")
register_array_function(argmin, arity=1, shapes="axis", distinct=True, functions="argmin", methods="argmin")
register_array_function(argsort, arity=1, shapes="axis", distinct=True, params={"descending": (False, True)},
                        functions="argsort", methods="argsort")  # fmt: skip
register_array_function(any_, arity=1, shapes="reduction", functions="any", methods="any")
register_array_function(all_, arity=1, shapes="reduction", functions="all", methods="all")
register_array_function(np.count_nonzero, arity=1, shapes="reduction", functions="count_nonzero",
                        methods="count_nonzero")  # fmt: skip
for _name in ("nonzero", "argwhere", "flatnonzero"):
    register_array_function(getattr(np, _name), arity=1, shapes="nonscalar", functions=_name,
                            methods=_name if _name == "nonzero" else ())  # fmt: skip

# Tests of values, elementwise (ufuncs: np.isnan(t) dispatches here too).
for _ufunc in (np.isnan, np.isinf, np.isfinite, np.signbit):
    register_array_function(_ufunc, arity=1, functions=_ufunc.__name__, methods=_ufunc.__name__, ufuncs=_ufunc)
for _function in (np.isposinf, np.isneginf):
    register_array_function(_function, arity=1, functions=_function.__name__, methods=_function.__name__)
register_array_function(np.isclose, arity=2, functions="isclose", methods="isclose")
register_array_function(np.allclose, arity=2, functions="allclose", methods="allclose")
register_array_function(np.array_equal, arity=2, functions="array_equal")
register_array_function(np.logical_not, arity=1, functions="logical_not", methods="logical_not", ufuncs=np.logical_not)
for _ufunc in (np.logical_and, np.logical_or, np.logical_xor):
    register_array_function(_ufunc, arity=2, functions=_ufunc.__name__, methods=_ufunc.__name__, ufuncs=_ufunc)

# What an array is, not what it holds: np.shape(t), np.ndim(t), np.size(t).
register_array_function(np.shape, arity=1, functions="shape")
register_array_function(np.ndim, arity=1, functions="ndim")
register_array_function(np.size, arity=1, functions="size")

del _ufunc, _function, _operator, _method, _name
