"""Ops that move elements without changing them: reshape, transpose, broadcast, copy,
indexing, and joining arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._record import array_of
from ..function import Function
from ..registry import register_op
from ._kept import kept_index


def is_basic_index(index: Any) -> bool:
    """True if ``index`` selects each element at most once (no integer arrays)."""
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if isinstance(item, (slice, int, np.integer)) or item is None or item is Ellipsis:
            continue
        if isinstance(item, np.ndarray) and item.dtype == bool:
            continue
        return False
    return True


def index_add(shape: tuple[int, ...], index: Any, values: np.ndarray) -> np.ndarray:
    """zeros(shape) with ``values`` added at ``index``; repeated indices accumulate."""
    out = np.zeros_like(values, shape=shape)  # (made from values: a compiled step sees it made)
    if is_basic_index(index):
        out[index] = values
    else:
        np.add.at(out, index, values)
    return out


def plain_index(index: Any) -> Any:
    """An index with Tensors and lists replaced by ndarrays (as numpy reads them)."""
    if isinstance(index, tuple):
        return tuple(_plain_index_item(item) for item in index)
    return _plain_index_item(index)


def _plain_index_item(item: Any) -> Any:
    if isinstance(item, list):
        return np.asanyarray(item)
    return array_of(item)


def _shape_args(x: Any, *shape: Any, **named: Any) -> tuple[tuple[Any], dict[str, Any]]:
    """``reshape(6, 4)``, ``reshape((6, 4))`` or ``reshape(x, shape=(6, 4))``, as numpy."""
    if "shape" in named:
        shape = (named.pop("shape"),)
    if named:
        raise TypeError(f"reshape: unexpected argument(s) {sorted(named)}")
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = tuple(shape[0])
    return (x,), {"shape": tuple(int(n) for n in shape)}


def _like_shape(inputs: Any, params: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """For the shared test: ``x.view_as(other)`` with an ``other`` of the drawn target shape."""
    target = np.empty(np.shape(inputs[0].data)).reshape(params["shape"]).shape
    return (inputs[0], np.empty(target)), {}


@register_op(
    reference=lambda x, shape: np.reshape(x, shape), shapes="reshape", functions="reshape",
    methods=("reshape", "view", "view_as", "reshape_as"), view=True,
    parse={"view_as": lambda x, other: _shape_args(x, np.shape(other)),
           "reshape_as": lambda x, other: _shape_args(x, np.shape(other)), None: _shape_args},
    arguments={"view_as": _like_shape, "reshape_as": _like_shape},
)  # fmt: skip
class Reshape(Function):
    """z = x.reshape(shape);  δx = δz.reshape(x.shape)"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, shape: tuple[int, ...]) -> Any:
        ctx.input_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape an array of shape {x.shape} (size {x.size}) into shape {tuple(shape)}"
            ) from None

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad.reshape(ctx.input_shape)


def _axes_args(x: Any, *axes: Any, **named: Any) -> tuple[tuple[Any], dict[str, Any]]:
    """``transpose()``, ``transpose(1, 0, 2)``, ``transpose((1, 0, 2))`` or ``transpose(x, axes=...)``."""
    if "axes" in named:
        axes = (named.pop("axes"),)
    if named:
        raise TypeError(f"transpose: unexpected argument(s) {sorted(named)}")
    if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        axes = axes[0]
    return (x,), {"axes": None if axes is None or len(axes) == 0 else tuple(axes)}


def _t_args(x: Any) -> tuple[tuple[Any], dict[str, Any]]:
    """PyTorch's ``t()`` (of a matrix; here of any tensor, as ``.T``: the axes reversed)."""
    return (x,), {"axes": None}


@register_op(
    reference=lambda x, axes: np.transpose(x, axes), shapes="transpose", functions="transpose",
    methods=("transpose", "permute", "t"), properties="T", parse={"t": _t_args, None: _axes_args}, view=True,
    arguments={"T": lambda inputs, params: ((inputs[0],), {}), "t": lambda inputs, params: ((inputs[0],), {})},
)  # fmt: skip
class Transpose(Function):
    """z = x.transpose(axes);  δx = δz.transpose(argsort(axes))"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, axes: tuple[int, ...] | None = None) -> Any:
        if axes is None:
            axes = tuple(range(x.ndim - 1, -1, -1))
        try:
            z = x.transpose(axes)
        except ValueError:
            raise ValueError(
                f"transpose: axes {tuple(axes)} are not a permutation of the {x.ndim} axes of shape {x.shape}"
            ) from None
        ctx.inverse = tuple(np.argsort([a % x.ndim for a in axes]))
        return z

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad.transpose(ctx.inverse)


def _expand_args(x: Any, *sizes: Any) -> tuple[tuple[Any], dict[str, Any]]:
    """PyTorch's ``expand(*sizes)``: numpy's broadcast_to, where −1 keeps a side as it is."""
    if len(sizes) == 1 and not isinstance(sizes[0], (int, np.integer)):
        sizes = tuple(sizes[0])
    shape = np.shape(array_of(x))
    offset = len(sizes) - len(shape)
    if offset < 0:
        raise ValueError(f"expand: {len(sizes)} sizes for a tensor of shape {shape}; give at least {len(shape)}")
    if any(n == -1 for n in sizes[:offset]):
        raise ValueError(f"expand: −1 cannot stand for a new leading axis (sizes {tuple(sizes)}, shape {shape})")
    resolved = tuple(shape[i - offset] if n == -1 else int(n) for i, n in enumerate(sizes))
    return (x,), {"shape": resolved}


@register_op(
    reference=lambda x, shape: np.broadcast_to(x, shape), shapes="broadcast_to", functions="broadcast_to",
    methods=("broadcast_to", "expand", "expand_as"), derivative=np.broadcast_to, view=True,
    parse={"expand": _expand_args, "expand_as": lambda x, other: _expand_args(x, np.shape(array_of(other)))},
    arguments={"expand": lambda inputs, params: ((inputs[0], *params["shape"]), {}),
               "expand_as": lambda inputs, params: ((inputs[0], np.empty(params["shape"])), {})},
)  # fmt: skip
class BroadcastTo(Function):
    """z = broadcast_to(x, shape);  δx = δz summed back to x.shape (done by the engine)"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, shape: tuple[int, ...]) -> Any:
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"broadcast_to: cannot broadcast shape {np.shape(x)} to shape {tuple(shape)}") from None

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad


@register_op(
    reference=lambda x, order: np.copy(x, order=order), params={"order": ("K", "C", "F")}, functions="copy",
    methods=("copy", "clone"),
)  # fmt: skip
class Copy(Function):
    """z = a copy of x (numpy's ``copy``, PyTorch's ``clone``);  δx = δz

    ``order`` is numpy's memory layout of the copy: ``"K"`` (x's own, as PyTorch's ``clone``
    keeps it), ``"C"`` (row-major: ``contiguous()``), ``"F"`` or ``"A"``."""

    @staticmethod
    def forward(ctx: Any, x: Any, *, order: str = "K") -> Any:
        return np.copy(x, order=order, subok=True)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad


def _getitem_args(x: Any, index: Any) -> tuple[tuple[Any], dict[str, Any]]:
    return (x,), {"index": plain_index(index)}


@register_op(
    reference=lambda x, index: x[index], shapes="index", operators="__getitem__", parse=_getitem_args, view=True
)
class GetItem(Function):
    """z = x[index];  δx = zeros_like(x) with δz added at index (repeats accumulate)"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, index: Any) -> Any:
        ctx.input_shape, ctx.index = x.shape, kept_index(ctx, index)  # the caller may change its arrays
        try:
            return x[index]
        except IndexError as err:
            raise IndexError(f"getitem: index {index!r} is invalid for shape {x.shape}: {err}") from None

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return ctx.xp.index_add(ctx.input_shape, ctx.index, grad)


def _index_add_reference(x: np.ndarray, shape: tuple[int, ...], index: Any) -> np.ndarray:
    out = np.zeros(shape, dtype=x.dtype)
    np.add.at(out, index, x)
    return out


def _index_add_args(shape: tuple[int, ...], index: Any, values: Any) -> tuple[tuple[Any], dict[str, Any]]:
    """``index_add(shape, index, values)``, the order of the numpy twin."""
    return (values,), {"shape": tuple(shape), "index": index}


@register_op(
    reference=_index_add_reference, shapes="index_add", derivative=index_add, xp_name="index_add",
    parse=_index_add_args, arguments=lambda inputs, params: ((params["shape"], params["index"], *inputs), {}),
)  # fmt: skip
class IndexAdd(Function):
    """z = zeros(shape) with x added at index;  δx = δz[index]   (the adjoint of x[index])"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, shape: tuple[int, ...], index: Any) -> Any:
        ctx.index = kept_index(ctx, index)
        return index_add(shape, index, np.asanyarray(x))

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad[ctx.index]


@register_op(
    reference=lambda *xs, axis: np.concatenate(xs, axis), shapes="concatenate", functions=("concatenate", "concat", "cat"),
    derivative=np.concatenate,
)
class Concatenate(Function):
    """z = concatenate(xs, axis);  δxᵢ = the slice of δz that xᵢ occupies"""

    @staticmethod
    def forward(ctx: Any, *xs: Any, axis: int = 0) -> Any:
        try:
            z = np.concatenate(xs, axis=axis)
        except ValueError:
            shapes = ", ".join(str(np.shape(x)) for x in xs)
            raise ValueError(f"concatenate: shapes {shapes} must match except along axis {axis}") from None
        ctx.axis = axis % z.ndim
        ctx.bounds = np.cumsum([0] + [np.shape(x)[ctx.axis] for x in xs])
        return z

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        lead = (slice(None),) * ctx.axis
        bounds = ctx.bounds
        return tuple(
            grad[lead + (slice(int(start), int(stop)),)] if needed else None
            for start, stop, needed in zip(bounds[:-1], bounds[1:], ctx.needs_input_grad)
        )
