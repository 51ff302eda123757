"""Reductions over ``axis`` (int, tuple or None) with ``keepdims``: sum, mean, max, min."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._shapes import kept_shape, normalize_axes
from ..function import Function
from ..registry import register_op


def _spread(ctx: Any, grad: Any) -> Any:
    """Give every reduced element the gradient of the output it fed: δx = broadcast(δz)."""
    if grad.shape != ctx.kept_shape:
        grad = grad.reshape(ctx.kept_shape)
    return ctx.xp.broadcast_to(grad, ctx.input_shape)


@register_op(reference=np.sum, shapes="reduction", functions="sum", methods="sum")
class Sum(Function):
    """z = Σₐₓᵢₛ x;  δx = δz broadcast back over the summed axes"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, axis: Any = None, keepdims: bool = False) -> Any:
        axes = normalize_axes(axis, x.ndim, "sum")
        ctx.input_shape, ctx.kept_shape = x.shape, kept_shape(x.shape, axes)
        return x.sum(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return _spread(ctx, grad)


@register_op(reference=np.mean, shapes="reduction", functions="mean", methods="mean")
class Mean(Function):
    """z = (1/n) Σₐₓᵢₛ x;  δx = δz / n broadcast back over the averaged axes"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, axis: Any = None, keepdims: bool = False) -> Any:
        axes = normalize_axes(axis, x.ndim, "mean")
        ctx.input_shape, ctx.kept_shape = x.shape, kept_shape(x.shape, axes)
        ctx.count = int(np.prod([x.shape[a] for a in axes]))
        return x.mean(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return _spread(ctx, grad * (1.0 / max(ctx.count, 1)))


class _Extremum(Function):
    """Shared backward of max and min: δ goes to the winners, split evenly among ties."""

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, z = ctx.saved_tensors
        if z.shape != ctx.kept_shape:
            z = z.reshape(ctx.kept_shape)
            grad = grad.reshape(ctx.kept_shape)
        winners = np.asanyarray(x == z)
        share = winners / winners.sum(axis=ctx.axes, keepdims=True)
        return grad * share.astype(grad.dtype, copy=False)


@register_op(reference=np.max, shapes="reduction", distinct=True, functions=("max", "amax"), methods="max")
class Max(_Extremum):
    """z = max over axis;  δx = δz at the maxima, split evenly among ties"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, axis: Any = None, keepdims: bool = False) -> Any:
        axes = normalize_axes(axis, x.ndim, "max")
        ctx.axes, ctx.kept_shape = axes, kept_shape(x.shape, axes)
        z = x.max(axis=axes, keepdims=keepdims)
        ctx.save_for_backward(x, z)
        return z


@register_op(reference=np.min, shapes="reduction", distinct=True, functions=("min", "amin"), methods="min")
class Min(_Extremum):
    """z = min over axis;  δx = δz at the minima, split evenly among ties"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, axis: Any = None, keepdims: bool = False) -> Any:
        axes = normalize_axes(axis, x.ndim, "min")
        ctx.axes, ctx.kept_shape = axes, kept_shape(x.shape, axes)
        z = x.min(axis=axes, keepdims=keepdims)
        ctx.save_for_backward(x, z)
        return z
