"""Pooling primitives: max pooling and the window scatter/gather pair it differentiates
through; the plane gather/scatter pair of indexed reads (``return_indices``, adaptive max
pooling, interpolation); average pooling and its adjoint.

Every window is read through strided slices of the padded input, one slice per kernel
offset (``_windows.offsets``): a pool over k×k windows is k² vectorised passes over
the output, whatever the image size. Max pooling keeps, for every output, the flat index
of its maximum within its window (one byte); its derivative adds δ back at those offsets
(``WindowScatter``), whose derivative in turn reads them (``WindowGather``): the pair is
closed under differentiation. ``PlaneGather``/``PlaneScatter`` do the same by flat index
within the input plane (what PyTorch's ``return_indices`` gives).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op
from . import _draw_pool, _naive
from ._kept import kept
from ._windows import Ints, Pairs, offsets, out_shape, pad, unpad, zeros_laid_out_as


def window_argmax(x: np.ndarray, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints) -> tuple[Any, Any]:
    """(maxima, kernel offset of each maximum) over windows of the trailing ``len(kernel)``
    axes. Ties go to the first offset in C order, and a nan wins (the last one), as PyTorch."""
    d = len(kernel)
    out = out_shape(x.shape[-d:], kernel, stride, padding, dilation)
    padded = pad(x, padding, -np.inf)
    reads = [padded[(Ellipsis, *where)] for _, where in offsets(kernel, stride, dilation, out)]
    best = reads[0].copy(order="K")  # keeps the input's layout (batch-last after a convolution)
    for candidate in reads[1:]:
        np.maximum(best, candidate, out=best)
    arg = np.zeros_like(best, dtype=np.uint8 if len(reads) < 256 else np.intp)
    # NOTE: masked writes (np.where, copyto(where=)) cost ~10× plain arithmetic here, so the
    # first offset that reaches the maximum is found by arithmetic: descending, each hit sets
    # arg to k (arg − (arg − k), exact even where uint8 wraps around).
    for k in range(len(reads) - 1, -1, -1):
        arg -= (reads[k] == best) * (arg - np.asarray(k, dtype=arg.dtype))
    if np.isnan(best).any():  # rare: give each nan window the last nan's offset
        for k, candidate in enumerate(reads):
            arg = np.where(np.isnan(candidate), k, arg)
    return best, arg


def flat_index(arg: np.ndarray, size: Ints, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints) -> Any:
    """The flat index in its (unpadded) input plane of the element at each window's offset
    ``arg``: PyTorch's ``return_indices``. Window start plus the offset's displacement."""
    d = len(kernel)
    out = arg.shape[arg.ndim - d :]
    plane_strides = [math.prod(size[axis + 1 :]) for axis in range(d)]
    start = np.zeros(out, dtype=np.int64)
    for axis in range(d):
        shape = [1] * d
        shape[axis] = out[axis]
        start = start + ((np.arange(out[axis]) * stride[axis] - padding[axis][0]) * plane_strides[axis]).reshape(shape)
    moves = np.zeros(kernel, dtype=np.int64)
    for axis in range(d):
        shape = [1] * d
        shape[axis] = kernel[axis]
        moves = moves + (np.arange(kernel[axis]) * dilation[axis] * plane_strides[axis]).reshape(shape)
    return start + np.take(moves.ravel(), arg)  # np.take, not moves[arg]: a recording sees it


def max_pool_indices(x: np.ndarray, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints) -> tuple[Any, Any]:
    """(maxima, flat index of each maximum in its unpadded input plane)."""
    best, arg = window_argmax(x, kernel, stride, padding, dilation)
    return best, flat_index(arg, x.shape[-len(kernel) :], kernel, stride, padding, dilation)


def window_scatter(
    g: np.ndarray, *, arg: np.ndarray, size: Ints, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints
) -> np.ndarray:
    """x_pad[window o at offset arg[o]] += g[o], then the padding cropped: max pooling's δx."""
    d = len(kernel)
    if np.argsort(g.strides).tolist() != np.argsort(arg.strides).tolist():
        # NOTE: δz arrives batch-first from a flatten, while arg is batch-last after a
        # convolution: one copy into arg's layout, so every pass below and the δ it hands
        # on (to a ReLU saved batch-last) run over contiguous memory: ~4× faster on B6.
        relaid = np.empty_like(arg, dtype=g.dtype)
        relaid[...] = g
        g = relaid
    padded = zeros_laid_out_as(g, g.shape[:-d] + tuple(n + lo + hi for n, (lo, hi) in zip(size, padding)))
    finite = bool(np.isfinite(g).all())  # then g · [arg = k] is exact, and ~10× faster than np.where
    for number, where in offsets(kernel, stride, dilation, g.shape[-d:]):
        target = padded[(Ellipsis, *where)]
        target += g * (arg == number) if finite else np.where(arg == number, g, 0)
    return unpad(padded, padding, size)


def window_gather(
    x: np.ndarray, *, arg: np.ndarray, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints
) -> np.ndarray:
    """z[o] = x_pad[window o at offset arg[o]] (zero padding): the adjoint of ``window_scatter``."""
    d = len(kernel)
    padded = pad(x, padding)
    z = np.zeros(arg.shape, dtype=x.dtype)
    for number, where in offsets(kernel, stride, dilation, arg.shape[-d:]):
        z = np.where(arg == number, padded[(Ellipsis, *where)], z)
    return z


@register_op(
    reference=_naive.window_scatter, shapes=_draw_pool.window_scatter, derivative=window_scatter,
    xp_name="window_scatter",
)  # fmt: skip
class WindowScatter(Function):
    """x_pad[window o, offset arg[o]] += g[o];  δg = δx read at the same offsets (window_gather)"""

    @staticmethod
    def forward(
        ctx: Any, g: Any, *, arg: Any, size: Ints, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints
    ) -> Any:
        ctx.geometry = {"arg": arg, "kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
        return window_scatter(g, size=size, **ctx.geometry)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return ctx.xp.window_gather(grad, **ctx.geometry)


@register_op(
    reference=_naive.window_gather, shapes=_draw_pool.window_gather, derivative=window_gather,
    xp_name="window_gather",
)  # fmt: skip
class WindowGather(Function):
    """z[o] = x_pad[window o, offset arg[o]];  δx = δz added back at those offsets (window_scatter)"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, arg: Any, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints) -> Any:
        ctx.size = x.shape[x.ndim - len(kernel) :]
        ctx.geometry = {"arg": arg, "kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
        return window_gather(x, **ctx.geometry)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return ctx.xp.window_scatter(grad, size=ctx.size, **ctx.geometry)


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


def adaptive_windows(length: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive windows along one axis: [⌊o·L/O⌋, ⌈(o+1)·L/O⌉) for o < O, as (start, end)."""
    o = np.arange(out)
    return (o * length) // out, ((o + 1) * length + out - 1) // out


def adaptive_max_indices(x: np.ndarray, out: Ints) -> np.ndarray:
    """Flat index, in each input plane, of the maximum of every adaptive window (ties: the
    first in C order). A max over a box is a max along each axis in turn: last axis first."""
    d = len(out)
    spatial = x.shape[-d:]
    values, chosen = x, []
    for axis in reversed(range(d)):
        at = x.ndim - d + axis
        start, end = adaptive_windows(spatial[axis], out[axis])
        width = int((end - start).max())
        offsets = np.arange(width)
        index = np.minimum(start[:, None] + offsets, spatial[axis] - 1)  # (O, K)
        taken = np.take(values, index, axis=at)  # (..., O, K, ...)
        valid = (offsets < (end - start)[:, None]).reshape((out[axis], width) + (1,) * (values.ndim - at - 1))
        taken = np.where(valid, taken, -np.inf)
        arg = np.expand_dims(np.argmax(taken, axis=at + 1), at + 1)
        values = np.take_along_axis(taken, arg, axis=at + 1).squeeze(at + 1)
        position = arg.squeeze(at + 1) + start.reshape((-1,) + (1,) * (values.ndim - at - 1))
        chosen = [np.take_along_axis(c, position, axis=at) for c in chosen]
        chosen.insert(0, position)
    return np.ravel_multi_index(tuple(chosen), spatial).astype(np.int64)


@register_op(reference=_naive.adaptive_max_pool2d, shapes=_draw_pool.adaptive_max, distinct=True)
class AdaptiveMaxPool(Function):
    """z = max over PyTorch's adaptive windows;  δx = δz scattered to each window's argmax (plane_scatter)

    The argmax is found once, in forward, as a flat index per plane (``adaptive_max_indices``),
    and the maxima gathered by it; an op of its own (not a gather by an index computed from
    the values) so that ONNX export can write it as the windows' maxima.
    """

    @staticmethod
    def forward(ctx: Any, x: Any, *, output_size: Ints) -> Any:
        ctx.index = adaptive_max_indices(x, output_size)
        ctx.size = x.shape[x.ndim - len(output_size) :]
        return plane_gather(x, index=ctx.index, dims=len(output_size))

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return ctx.xp.plane_scatter(grad, index=ctx.index, size=ctx.size)


@register_op(reference=_naive.max_pool, shapes=_draw_pool.max_pool, distinct=True)
class MaxPool(Function):
    """z = max over each window;  δx = δz scattered to each window's argmax (ties: the first)

    x (N, C, *L), padded with −∞ by ``padding`` ((before, after) per axis).
    """

    @staticmethod
    def forward(ctx: Any, x: Any, *, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints) -> Any:
        z, ctx.arg = window_argmax(x, kernel, stride, padding, dilation)  # one byte per output
        ctx.geometry = {"size": x.shape[-len(kernel) :], "kernel": kernel, "stride": stride, "padding": padding,
                        "dilation": dilation}  # fmt: skip
        return z

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return ctx.xp.window_scatter(grad, arg=ctx.arg, **ctx.geometry)


@register_op(
    reference=lambda x, index, dims: plane_gather(x, index=index, dims=dims), shapes=_draw_pool.plane_gather,
    derivative=plane_gather, xp_name="plane_gather",
)  # fmt: skip
class PlaneGather(Function):
    """z[…, o] = x[…].flat[index[…, o]];  δx = δz scattered back to the indices (repeats add up)"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, index: Any, dims: int) -> Any:
        ctx.index, ctx.size = kept(ctx, index), x.shape[x.ndim - dims :]
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
        ctx.index, ctx.dims = kept(ctx, index), len(size)
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
        z = window.copy(order="K") if z is None else np.add(z, window, out=z)
    z /= divisor
    return z


def avg_pool_adjoint(g: np.ndarray, *, size: Ints, kernel: Ints, stride: Ints, padding: Pairs, divisor: Any) -> Any:
    """x = Σ over windows of g / divisor spread evenly over the window: the adjoint of ``avg_pool``."""
    d = len(kernel)
    ones = (1,) * d
    share = g / divisor
    padded = zeros_laid_out_as(share, g.shape[:-d] + tuple(n + lo + hi for n, (lo, hi) in zip(size, padding)))
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
