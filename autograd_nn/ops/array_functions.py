"""numpy functions of tensors that are not differentiable: comparisons, arg-extrema, zeros.

Their entries run the numpy function on the inputs' arrays and return a plain ndarray
(a boolean mask, indices), which is what numpy users expect and what carries no gradient.
"""

from __future__ import annotations

import numpy as np

from ..registry import register_array_function

_COMPARISONS = {
    np.less: ("less", "__lt__"),
    np.less_equal: ("less_equal", "__le__"),
    np.greater: ("greater", "__gt__"),
    np.greater_equal: ("greater_equal", "__ge__"),
    np.equal: ("equal", "__eq__"),
    np.not_equal: ("not_equal", "__ne__"),
}
for _ufunc, (_function, _operator) in _COMPARISONS.items():
    register_array_function(_ufunc, arity=2, functions=_function, operators=_operator, ufuncs=_ufunc)


def argmax(x: np.ndarray, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
    """Indices of the maxima along ``axis`` (all axes flattened for None), as a plain ndarray."""
    return np.argmax(x, axis=axis, keepdims=keepdims)


def argmin(x: np.ndarray, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
    """Indices of the minima along ``axis`` (all axes flattened for None), as a plain ndarray."""
    return np.argmin(x, axis=axis, keepdims=keepdims)


register_array_function(argmax, arity=1, shapes="axis", distinct=True, functions="argmax", methods="argmax")
register_array_function(argmin, arity=1, shapes="axis", distinct=True, functions="argmin", methods="argmin")
# Derivative formulas need zeros of a gradient's shape (ops whose derivative is 0 for an input).
register_array_function(np.zeros_like, arity=1, derivative=True, xp_name="zeros_like")

del _ufunc, _function, _operator
