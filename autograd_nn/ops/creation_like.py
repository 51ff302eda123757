"""Tensors made to match another: ``zeros_like``, ``ones_like``, ``full_like``,
``empty_like`` (numpy's names, PyTorch's keywords ``dtype=`` and ``requires_grad=``) and
PyTorch's ``new_zeros``, ``new_ones``, ``new_full``, ``new_empty``, ``new_tensor``.

The results are new leaves, constant unless ``requires_grad=True``: nothing flows back to
the tensor they were made like. ``empty_like`` and ``new_empty`` give zeros (numpy leaves
the memory uninitialised; a tensor never holds garbage here). ``np.zeros_like(t)`` and
``np.ones_like(t)`` come here too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._record import array_of
from ..registry import register_composite


def _leaf(like: Any, array: np.ndarray, requires_grad: bool) -> Any:
    """A new leaf tensor of ``like``'s class holding ``array``."""
    return like.__autograd_tensor__(array, requires_grad=requires_grad)


def _dtype(like: Any, dtype: Any) -> np.dtype:
    return like.dtype if dtype is None else np.dtype(dtype)


@register_composite(reference=np.zeros_like, functions="zeros_like", derivative=np.zeros_like)
def zeros_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Any:
    """z = 0, in x's shape (and dtype, unless ``dtype`` is given)"""
    return _leaf(x, np.zeros(x.shape, _dtype(x, dtype)), requires_grad)


@register_composite(reference=np.ones_like, functions="ones_like")
def ones_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Any:
    """z = 1, in x's shape (and dtype, unless ``dtype`` is given)"""
    return _leaf(x, np.ones(x.shape, _dtype(x, dtype)), requires_grad)


@register_composite(reference=np.zeros_like, functions="empty_like")
def empty_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Any:
    """z = 0, in x's shape: numpy's uninitialised memory, zeroed"""
    return zeros_like(x, dtype, requires_grad)


@register_composite(
    reference=lambda x, fill_value: np.full_like(x, fill_value), params={"fill_value": (0.5, -2.0)}, arity=1,
    functions="full_like",
)  # fmt: skip
def full_like(x: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Any:
    """z = fill_value, in x's shape (and dtype, unless ``dtype`` is given)"""
    return _leaf(x, np.full(x.shape, fill_value, _dtype(x, dtype)), requires_grad)


def _size(size: tuple[Any, ...]) -> tuple[int, ...]:
    """``(2, 3)`` from ``new_zeros(2, 3)`` or ``new_zeros((2, 3))``."""
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        size = tuple(size[0])
    return tuple(int(n) for n in size)


def _new_args(x: Any, *size: Any, **options: Any) -> tuple[tuple[Any], dict[str, Any]]:
    if "size" in options:
        size = (options.pop("size"),)
    return (x,), {"size": _size(size), **options}


def _new_full_args(x: Any, size: Any, fill_value: Any, **options: Any) -> tuple[tuple[Any], dict[str, Any]]:
    return (x,), {"size": _size((size,)), "fill_value": fill_value, **options}


_SIZES = {"size": ((2,), (3, 1), ())}


@register_composite(
    reference=lambda x, size: np.zeros(size, x.dtype), params=_SIZES, arity=1, methods="new_zeros", parse=_new_args
)
def new_zeros(x: Any, size: tuple[int, ...], dtype: Any = None, requires_grad: bool = False) -> Any:
    """z = 0 of shape ``size``, in x's dtype (PyTorch's ``x.new_zeros(size)``)"""
    return _leaf(x, np.zeros(size, _dtype(x, dtype)), requires_grad)


@register_composite(
    reference=lambda x, size: np.ones(size, x.dtype), params=_SIZES, arity=1, methods="new_ones", parse=_new_args
)
def new_ones(x: Any, size: tuple[int, ...], dtype: Any = None, requires_grad: bool = False) -> Any:
    """z = 1 of shape ``size``, in x's dtype (PyTorch's ``x.new_ones(size)``)"""
    return _leaf(x, np.ones(size, _dtype(x, dtype)), requires_grad)


@register_composite(
    reference=lambda x, size: np.zeros(size, x.dtype), params=_SIZES, arity=1, methods="new_empty", parse=_new_args
)
def new_empty(x: Any, size: tuple[int, ...], dtype: Any = None, requires_grad: bool = False) -> Any:
    """z = 0 of shape ``size``, in x's dtype (PyTorch's ``x.new_empty(size)``, zeroed)"""
    return new_zeros(x, size, dtype, requires_grad)


@register_composite(
    reference=lambda x, size, fill_value: np.full(size, fill_value, x.dtype),
    params={**_SIZES, "fill_value": (1.5, -3.0)}, arity=1, methods="new_full", parse=_new_full_args,
)  # fmt: skip
def new_full(x: Any, size: tuple[int, ...], fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Any:
    """z = fill_value of shape ``size``, in x's dtype (PyTorch's ``x.new_full(size, value)``)"""
    return _leaf(x, np.full(size, fill_value, _dtype(x, dtype)), requires_grad)


@register_composite(
    reference=lambda x, data: np.array(data, x.dtype), params={"data": ([1.0, 2.0], 3, [[0.5], [-1.0]])}, arity=1,
    methods="new_tensor",
)  # fmt: skip
def new_tensor(x: Any, data: Any, dtype: Any = None, requires_grad: bool = False) -> Any:
    """z = a copy of ``data``, in x's dtype (PyTorch's ``x.new_tensor(data)``)"""
    return _leaf(x, np.array(array_of(data), _dtype(x, dtype)), requires_grad)
