"""Ops that move elements without changing them: reshape, transpose, broadcast,
indexing, and joining arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._xp import index_add
from ..function import Function, register_op


@register_op(reference=lambda x, shape: np.reshape(x, shape), shapes="reshape")
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


@register_op(reference=lambda x, axes: np.transpose(x, axes), shapes="transpose")
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


@register_op(reference=lambda x, shape: np.broadcast_to(x, shape), shapes="broadcast_to")
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


@register_op(reference=lambda x, index: x[index], shapes="index")
class GetItem(Function):
    """z = x[index];  δx = zeros_like(x) with δz added at index (repeats accumulate)"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, index: Any) -> Any:
        ctx.input_shape, ctx.index = x.shape, index
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


@register_op(reference=_index_add_reference, shapes="index_add")
class IndexAdd(Function):
    """z = zeros(shape) with x added at index;  δx = δz[index]   (the adjoint of x[index])"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, shape: tuple[int, ...], index: Any) -> Any:
        ctx.index = index
        return index_add(shape, index, np.asarray(x))

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad[ctx.index]


@register_op(reference=lambda *xs, axis: np.concatenate(xs, axis), shapes="concatenate")
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
