"""Pure-numpy shape helpers: undoing broadcasting and normalising ``axis`` arguments.

Nothing here knows about Tensors beyond duck typing: ``unbroadcast`` only calls
``.sum`` and ``.reshape``, so it works on ndarrays (plain backward) and on Tensors
(``create_graph=True``) alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Shape = tuple[int, ...]
_sum = np.add.reduce


def unbroadcast(grad: Any, shape: Shape, op_name: str, index: int | None = None) -> Any:
    """Sum ``grad`` back to ``shape``: the adjoint of numpy broadcasting.

    If ``x`` of shape ``shape`` was broadcast to ``grad.shape`` in the forward pass,
    every copy of an element contributed to the output, so its gradient is the sum
    over the copies: over the leading axes numpy prepended, and over the axes where
    ``shape`` has size 1.
    """
    grad_shape = grad.shape
    extra = len(grad_shape) - len(shape)
    if extra < 0:
        raise _mismatch(op_name, grad_shape, shape, index)
    axes = tuple(range(extra))
    for i, n in enumerate(shape):
        g = grad_shape[extra + i]
        if n == 1 and g != 1:
            axes += (extra + i,)
        elif n != g:
            raise _mismatch(op_name, grad_shape, shape, index)
    if axes:  # an ndarray reduces directly (ndarray.sum is np.add.reduce behind a Python wrapper)
        grad = _sum(grad, axis=axes) if type(grad) is np.ndarray else grad.sum(axis=axes)
    if grad.shape != shape:  # size-1 axes were summed away, or a numpy scalar came back
        grad = grad.reshape(shape)
    return grad


def _mismatch(op_name: str, grad_shape: Shape, shape: Shape, index: int | None) -> ValueError:
    which = "an input" if index is None else f"input {index}"
    return ValueError(
        f"{op_name}.backward: returned a gradient of shape {grad_shape} for {which} of "
        f"shape {shape}; expected a shape that broadcasts to the input's"
    )


def normalize_axes(axis: int | tuple[int, ...] | None, ndim: int, op_name: str) -> tuple[int, ...]:
    """Return ``axis`` as a sorted tuple of non-negative ints (all axes for ``None``).

    A 0-d array accepts axis 0 and −1 and has nothing to reduce over them: ``t.sum(axis=0)``
    of a scalar is the scalar, as in PyTorch (numpy raises; accepting it breaks no numpy
    program and lets code written for any rank, ``x.sum(dim=-1)``, reach rank 0).
    """
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if _is_int(axis) else tuple(axis) if isinstance(axis, (tuple, list)) else None
    if axes is None or not all(_is_int(a) for a in axes):
        raise TypeError(
            f"{op_name}: axis must be an int, a tuple of ints or None, got {axis!r} ({type(axis).__name__})"
        )
    out = []
    for a in axes:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"{op_name}: axis {a} is out of bounds for an array of dimension {ndim}")
        if ndim:
            out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op_name}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def kept_shape(shape: Shape, axes: tuple[int, ...]) -> Shape:
    """The shape a reduction over ``axes`` has with ``keepdims=True``."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))
