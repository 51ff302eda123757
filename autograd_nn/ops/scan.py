"""Scans: running sums and products along one axis (numpy's ``axis=None`` flattens first)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op


def _scan_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    return [shape], {"axis": draw(st.none() | st.integers(-len(shape), len(shape) - 1))}


def _along(x: Any, axis: Any, name: str) -> tuple[Any, int]:
    """x as numpy scans it (flattened for axis None or a 0-d x), and the axis as an int ≥ 0."""
    if axis is None or np.ndim(x) == 0:
        return np.ravel(x), 0
    ndim = np.ndim(x)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis!r} is out of bounds for an array of dimension {ndim}")
    return x, int(axis) % ndim


def _reversed(v: Any, axis: int) -> Any:
    return v[(slice(None),) * axis + (slice(None, None, -1),)]


def reverse_cumsum(xp: Any, v: Any, axis: int) -> Any:
    """Σ over the elements at and after each position along ``axis`` (cumsum's adjoint)."""
    return _reversed(xp.cumsum(_reversed(v, axis), axis=axis), axis)


@register_op(
    reference=lambda x, axis: np.cumsum(x, axis=axis), shapes=_scan_shapes, functions="cumsum", methods="cumsum",
    derivative=np.cumsum,
)  # fmt: skip
class Cumsum(Function):
    """zₖ = Σᵢ≤ₖ xᵢ along axis;  δxₖ = Σᵢ≥ₖ δzᵢ"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, axis: Any = None) -> Any:
        ctx.input_shape = np.shape(x)
        x, ctx.axis = _along(x, axis, "cumsum")
        return np.cumsum(x, axis=ctx.axis)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return reverse_cumsum(ctx.xp, grad, ctx.axis).reshape(ctx.input_shape)


# NOTE: the domain keeps the contract's finite differences trustworthy. Over axis=None the
# 27 elements a drawn (3, 3, 3) holds give products up to 1.5²⁷ ≈ 6e4 beside z₀ = x₀; from
# 3 (3²⁷ ≈ 8e12) the rounding of the large terms swamped the small second derivatives and
# gradgradcheck failed on correct gradients (an all-3 (2, 3, 3) input).
@register_op(
    reference=lambda x, axis: np.cumprod(x, axis=axis), shapes=_scan_shapes, domain=(-1.5, 1.5), functions="cumprod",
    methods="cumprod", derivative=np.cumprod,
)  # fmt: skip
class Cumprod(Function):
    """zₖ = ∏ᵢ≤ₖ xᵢ along axis;  δxₖ = Σᵢ≥ₖ δzᵢ · ∏ⱼ≤ᵢ, ⱼ≠ₖ xⱼ  (exact where some x are 0)"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, axis: Any = None) -> Any:
        ctx.input_shape = np.shape(x)
        flat, ctx.axis = _along(x, axis, "cumprod")
        z = np.cumprod(flat, axis=ctx.axis)
        zero = flat == 0
        ctx.zeros = zero if zero.any() else None
        ctx.save_for_backward(x, z)  # the input itself, so create_graph knows it (flattened in backward)
        return z

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, z = ctx.saved_tensors
        x = x.reshape(z.shape)
        xp, axis = ctx.xp, ctx.axis
        # NOTE: zᵢ / xₖ, the product without xₖ, is exact in value but not as a formula to
        # differentiate again (for tiny xₖ its derivative cancels huge terms), so under
        # create_graph the products without each xₖ are formed one by one.
        if not isinstance(grad, np.ndarray):
            return _without_each(xp, x, grad, axis).reshape(ctx.input_shape)
        weighted = grad * z
        lost = _underflowed(weighted, grad)
        if ctx.zeros is None:
            if lost.any():
                return _without_each(xp, x, grad, axis).reshape(ctx.input_shape)
            return (reverse_cumsum(xp, weighted, axis) / x).reshape(ctx.input_shape)
        # NOTE: let f be the first zero of a slice. Before f, zᵢ / xₖ is still exact (zᵢ = 0
        # from f on). At f, the products without x_f are the cumprod of x with x_f set to 1.
        # After f, every product holds x_f = 0. O(n), where _without_each is O(n²).
        seen = np.cumsum(ctx.zeros, axis=axis)
        before, first = seen == 0, ctx.zeros & (seen == 1)
        if (lost & before).any():  # the division before f would scale up a lost term
            return _without_each(xp, x, grad, axis).reshape(ctx.input_shape)
        safe = xp.where(before, x, 1)
        without_first = xp.cumprod(xp.where(first, 1, x), axis=axis)
        at_first = reverse_cumsum(xp, grad * without_first, axis)
        early = reverse_cumsum(xp, weighted, axis) / safe
        return xp.where(before, early, xp.where(first, at_first, 0)).reshape(ctx.input_shape)


def _underflowed(weighted: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """Where δzᵢ · zᵢ lost bits to underflow: below the smallest normal float though δzᵢ ≠ 0."""
    # NOTE: the division path computes δxₖ = (Σᵢ≥ₖ δzᵢ · zᵢ) / xₖ. A normal term carries a
    # relative error of one rounding; a subnormal one has lost bits and a 0 all of them
    # (x = [5e-324] with |δz| < ½ gives δz · z = 0), and dividing by a tiny xₖ scales that
    # loss up to the size of the gradient. Testing the terms, not z alone, covers a
    # subnormal zᵢ, a zᵢ that underflowed to 0, and a normal zᵢ times a small δzᵢ
    # (1e-300 · 1e-30); δzᵢ = 0 is an exact 0 term. The terms are needed anyway, so
    # ordinary inputs pay a few O(n) compares; the rest take the exact O(n²) _without_each.
    return (np.abs(weighted) < np.finfo(weighted.dtype).tiny) & (grad != 0)


def _without_each(xp: Any, x: Any, grad: Any, axis: int) -> Any:
    """δxₖ = Σᵢ≥ₖ δzᵢ · cumprod(x with xₖ set to 1)ᵢ: O(n²) per slice, but every term keeps
    every other x as a factor, so its derivative is exact at zeros too (third order included)."""
    x, grad = xp.moveaxis(x, axis, -1), xp.moveaxis(grad, axis, -1)
    n = x.shape[-1]
    rows = xp.where(np.eye(n, dtype=bool), 1, x.reshape(x.shape[:-1] + (1, n)))  # row k: x with xₖ = 1
    terms = xp.cumprod(rows, axis=-1) * grad.reshape(grad.shape[:-1] + (1, n))
    upper = np.triu(np.ones((n, n), dtype=bool))  # i ≥ k
    return xp.moveaxis(xp.where(upper, terms, 0).sum(axis=-1), -1, axis)
