"""Pooling primitives: max pooling, and the gather/scatter pair it (and adaptive max
pooling, nearest and bilinear interpolation) differentiates through; average pooling and
its adjoint.

Every window is read through strided slices of the padded input, one slice per kernel
offset (``_windows.offsets``): a pool over k×k windows is k² vectorised passes over
the output, whatever the image size. Max pooling keeps, for every output, the flat index
of its maximum within the input plane (what ``return_indices`` gives, as PyTorch); its
derivative scatters δ back to those positions (``PlaneScatter``), whose derivative in
turn gathers (``PlaneGather``): the pair is closed under differentiation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op
from . import _draw_pool, _naive
from ._windows import Ints, Pairs, offsets, out_shape, pad, unpad


def max_pool_indices(x: np.ndarray, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints) -> tuple[Any, Any]:
    """(maxima, flat index of each maximum in its unpadded input plane), windows over the
    trailing ``len(kernel)`` axes. Ties go to the first element of the window in C order,
    and a nan wins (as PyTorch)."""
    d = len(kernel)
    out = out_shape(x.shape[-d:], kernel, stride, padding, dilation)
    padded = pad(x, padding, -np.inf)
    best = arg = None
    for number, where in offsets(kernel, stride, dilation, out):
        candidate = padded[(Ellipsis, *where)]
        if best is None:
            best, arg = candidate.copy(), np.zeros(candidate.shape, dtype=np.intp)
            continue
        better = candidate > best
        better |= np.isnan(candidate)
        np.copyto(best, candidate, where=better)
        arg[better] = number
    flat = np.zeros(arg.shape, dtype=np.int64)
    for axis, position in enumerate(np.unravel_index(arg, kernel)):
        shape = [1] * arg.ndim
        shape[arg.ndim - d + axis] = out[axis]
        start = (np.arange(out[axis]) * stride[axis] - padding[axis][0]).reshape(shape)
        flat *= x.shape[x.ndim - d + axis]
        flat += start + position * dilation[axis]
    return best, flat


def plane_gather(x: np.ndarray, *, index: np.ndarray, dims: int) -> np.ndarray:
    """z[..., o] = x[...].flat[index[..., o]] over the last ``dims`` axes (index broadcasts over the rest)."""
    lead = x.ndim - dims
    flat_x = x.reshape(x.shape[:lead] + (-1,))
    flat_i = index.reshape(index.shape[:lead] + (-1,))
    z = np.take_along_axis(flat_x, flat_i, axis=-1)
    return z.reshape(z.shape[:lead] + index.shape[lead:])


def plane_scatter(g: np.ndarray, *, index: np.ndarray, size: Ints) -> np.ndarray:
    """x[...].flat[index[..., o]] += g[..., o]: zeros of spatial shape ``size``, δ added where it was read."""
    d = len(size)
    lead = g.shape[: g.ndim - d]
    planes, area = math.prod(lead), math.prod(size)
    flat = np.broadcast_to(index, g.shape).reshape(planes, -1) + (np.arange(planes) * area)[:, None]
    # NOTE: bincount sums repeated positions (overlapping windows, upsampling) in one pass;
    # it accumulates in float64, which is then rounded to δ's dtype.
    x = np.bincount(flat.ravel(), weights=g.ravel(), minlength=planes * area)
    return x.astype(g.dtype, copy=False).reshape(lead + tuple(size))


@register_op(reference=_naive.max_pool, shapes=_draw_pool.max_pool, distinct=True)
class MaxPool(Function):
    """z = max over each window;  δx = δz scattered to each window's argmax (ties: the first)

    x (N, C, *L), padded with −∞ by ``padding`` ((before, after) per axis).
    """

    @staticmethod
    def forward(ctx: Any, x: Any, *, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints) -> Any:
        z, ctx.index = max_pool_indices(x, kernel, stride, padding, dilation)
        ctx.size = x.shape[-len(kernel) :]
        return z

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return ctx.xp.plane_scatter(grad, index=ctx.index, size=ctx.size)


@register_op(
    reference=lambda x, index, dims: plane_gather(x, index=index, dims=dims), shapes=_draw_pool.plane_gather,
    derivative=plane_gather, xp_name="plane_gather",
)  # fmt: skip
class PlaneGather(Function):
    """z[…, o] = x[…].flat[index[…, o]];  δx = δz scattered back to the indices (repeats add up)"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, index: Any, dims: int) -> Any:
        ctx.index, ctx.size = index, x.shape[x.ndim - dims :]
        return plane_gather(x, index=index, dims=dims)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return ctx.xp.plane_scatter(grad, index=ctx.index, size=ctx.size)


@register_op(
    reference=_naive.plane_scatter, shapes=_draw_pool.plane_scatter, derivative=plane_scatter,
    xp_name="plane_scatter",
)  # fmt: skip
class PlaneScatter(Function):
    """x[…].flat[index[…, o]] += g[…, o];  δg = δx gathered at the indices"""

    @staticmethod
    def forward(ctx: Any, g: Any, *, index: Any, size: Ints) -> Any:
        ctx.index, ctx.dims = index, len(size)
        return plane_scatter(g, index=index, size=size)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return ctx.xp.plane_gather(grad, index=ctx.index, dims=ctx.dims)


def avg_pool(x: np.ndarray, *, kernel: Ints, stride: Ints, padding: Pairs, divisor: Any) -> np.ndarray:
    """z = (Σ over each window of x padded with zeros) / divisor (one divisor per window, or one for all)."""
    d = len(kernel)
    ones = (1,) * d
    out = out_shape(x.shape[-d:], kernel, stride, padding, ones)
    padded = pad(x, padding)
    z = None
    for _, where in offsets(kernel, stride, ones, out):
        window = padded[(Ellipsis, *where)]
        z = window.copy() if z is None else np.add(z, window, out=z)
    z /= divisor
    return z


def avg_pool_adjoint(g: np.ndarray, *, size: Ints, kernel: Ints, stride: Ints, padding: Pairs, divisor: Any) -> Any:
    """x = Σ over windows of g / divisor spread evenly over the window: the adjoint of ``avg_pool``."""
    d = len(kernel)
    ones = (1,) * d
    share = g / divisor
    padded = np.zeros(g.shape[:-d] + tuple(n + lo + hi for n, (lo, hi) in zip(size, padding)), dtype=share.dtype)
    for _, where in offsets(kernel, stride, ones, g.shape[-d:]):
        padded[(Ellipsis, *where)] += share
    return unpad(padded, padding, size)


@register_op(
    reference=_naive.avg_pool, shapes=_draw_pool.avg_pool, derivative=avg_pool, xp_name="avg_pool_windows",
)  # fmt: skip
class AvgPool(Function):
    """z = Σ_window x / divisor;  δx = δz / divisor spread over each window (avg_pool_adjoint)"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, kernel: Ints, stride: Ints, padding: Pairs, divisor: Any) -> Any:
        ctx.geometry = {"kernel": kernel, "stride": stride, "padding": padding, "divisor": divisor}
        ctx.size = x.shape[-len(kernel) :]
        return avg_pool(x, **ctx.geometry)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return ctx.xp.avg_pool_adjoint(grad, size=ctx.size, **ctx.geometry)


@register_op(
    reference=_naive.avg_pool_adjoint, shapes=_draw_pool.avg_pool_adjoint, derivative=avg_pool_adjoint,
    xp_name="avg_pool_adjoint",
)  # fmt: skip
class AvgPoolAdjoint(Function):
    """x = δz / divisor spread over each window;  δ(δz) = Σ_window δx / divisor (avg_pool)"""

    @staticmethod
    def forward(ctx: Any, g: Any, *, size: Ints, kernel: Ints, stride: Ints, padding: Pairs, divisor: Any) -> Any:
        ctx.geometry = {"kernel": kernel, "stride": stride, "padding": padding, "divisor": divisor}
        return avg_pool_adjoint(g, size=size, **ctx.geometry)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return ctx.xp.avg_pool_windows(grad, **ctx.geometry)
