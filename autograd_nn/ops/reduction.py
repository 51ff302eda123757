"""Reductions over ``axis`` (int, tuple or None) with ``keepdims``: sum, mean, max, min, prod, logsumexp."""

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


@register_op(reference=np.max, shapes="reduction", distinct=True, functions=("max", "amax"), methods=("max", "amax"))
class Max(_Extremum):
    """z = max over axis;  δx = δz at the maxima, split evenly among ties"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, axis: Any = None, keepdims: bool = False) -> Any:
        axes = normalize_axes(axis, x.ndim, "max")
        ctx.axes, ctx.kept_shape = axes, kept_shape(x.shape, axes)
        z = x.max(axis=axes, keepdims=keepdims)
        ctx.save_for_backward(x, z)
        return z


@register_op(reference=np.min, shapes="reduction", distinct=True, functions=("min", "amin"), methods=("min", "amin"))
class Min(_Extremum):
    """z = min over axis;  δx = δz at the minima, split evenly among ties"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, axis: Any = None, keepdims: bool = False) -> Any:
        axes = normalize_axes(axis, x.ndim, "min")
        ctx.axes, ctx.kept_shape = axes, kept_shape(x.shape, axes)
        z = x.min(axis=axes, keepdims=keepdims)
        ctx.save_for_backward(x, z)
        return z


def _all_normal(z: Any) -> bool:
    """Whether no product is 0 or subnormal, so that z / x is each product without x."""
    # NOTE: a normal z carries one rounding per factor, and z / x one more. A subnormal z has
    # lost bits (z = 1e-200 · 1e-123 keeps 2 significant bits) that z / x scales back up to
    # a normal gradient; a 0 is 0/0 or has lost everything. Those take the exact path. δz
    # multiplies z / x after the division, so its size cannot make the quotient inexact and
    # the test needs only z (done here, once, on the reduced output). Not caught: a partial
    # product that went subnormal and was multiplied back into the normal range by later
    # factors; z itself has lost those bits then.
    if not np.issubdtype(z.dtype, np.inexact):
        return bool(np.all(z != 0))
    return bool(np.all(np.abs(z) >= np.finfo(z.dtype).tiny))


def _others(ctx: Any, x: Any, z: Any) -> Any:
    """∏ of the other elements of each element's reduced slice (z: the product), for prod's derivative."""
    if ctx.divisible and isinstance(x, np.ndarray):  # the common case: z / x
        return z.reshape(ctx.kept_shape) / x
    # NOTE: with zeros, z / x is 0/0, and under create_graph z / x is exact in value but its
    # derivative cancels huge terms for tiny x. The product of the elements before (an
    # exclusive cumprod) times those after is exact. The reduced axes go last and become one.
    kept = [a for a in range(x.ndim) if a not in ctx.axes]
    order = kept + list(ctx.axes)
    moved = x.transpose(order)
    flat = moved.reshape(moved.shape[: len(kept)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), dtype=flat.dtype)
    concatenate, cumprod = ctx.xp.concatenate, ctx.xp.cumprod
    before = concatenate([ones, cumprod(flat, axis=-1)[..., :-1]], axis=-1)
    after = concatenate([cumprod(flat[..., ::-1], axis=-1)[..., -2::-1], ones], axis=-1)
    return (before * after).reshape(moved.shape).transpose(tuple(np.argsort(order)))


@register_op(reference=np.prod, shapes="reduction", functions="prod", methods="prod")
class Prod(Function):
    """z = ∏ₐₓᵢₛ x;  δxᵢ = δz · ∏ⱼ≠ᵢ xⱼ  (exact where some x are 0)"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, axis: Any = None, keepdims: bool = False) -> Any:
        axes = normalize_axes(axis, x.ndim, "prod")
        ctx.axes, ctx.input_shape, ctx.kept_shape = axes, x.shape, kept_shape(x.shape, axes)
        z = np.prod(x, axis=axes, keepdims=keepdims)
        ctx.divisible = _all_normal(z)
        ctx.save_for_backward(x, z)
        return z

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, z = ctx.saved_tensors
        return _spread(ctx, grad) * _others(ctx, x, z)


@register_op(
    reference=lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims)), shapes="reduction",
    domain=(-5, 5), functions="logsumexp", methods="logsumexp",
)  # fmt: skip
class LogSumExp(Function):
    """z = ln Σₐₓᵢₛ eˣ;  δx = δz · eˣ⁻ᶻ  (the softmax of x along the axes)"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, axis: Any = None, keepdims: bool = False) -> Any:
        axes = normalize_axes(axis, x.ndim, "logsumexp")
        ctx.axes, ctx.input_shape, ctx.kept_shape = axes, x.shape, kept_shape(x.shape, axes)
        # NOTE: shifted by the largest element, every exponent is ≤ 0 (no overflow) and one
        # term is 1 (no log 0); a slice of −inf only stays −inf (shift 0, not −inf − −inf).
        top = np.max(x, axis=axes, keepdims=True) if x.size else np.zeros(ctx.kept_shape, x.dtype)
        ctx.top = top = np.where(np.isfinite(top), top, 0)
        with np.errstate(divide="ignore"):
            z = np.log(np.sum(np.exp(x - top), axis=axes, keepdims=True)) + top
        if not keepdims:
            z = z.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))
        ctx.save_for_backward(x)
        return z

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        # NOTE: eˣ⁻ᶻ as the softmax shifted by the forward's largest element, not from z: for
        # |x| ≳ 1e16, z = top + ln Σ rounds to top, and at a tie both maxima got e⁰ = 1
        # (x = [1e20, 1e20]: [1, 1], not [½, ½]). The shift is a constant, and the softmax
        # does not depend on it, so the formula's own derivative (create_graph) is exact.
        e = ctx.xp.exp(x - ctx.top)
        return _spread(ctx, grad) * (e / e.sum(axis=ctx.axes, keepdims=True))
