"""PyTorch's functional pooling: ``max_pool1d/2d``, ``avg_pool1d/2d``,
``adaptive_avg_pool1d/2d`` and ``adaptive_max_pool2d``, as front ends over the
primitives of ``pool`` (and ``matmul``, for adaptive averages whose windows overlap)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..registry import register_composite
from . import _draw_pool, _naive
from ._windows import Ints, Pairs, per_axis
from .pool import AdaptiveMaxPool, AvgPool, MaxPool, adaptive_max_indices, adaptive_windows, max_pool_indices


def _batched(op: str, input: Any, dims: int) -> bool:
    """True if ``input`` is unbatched (C, *L); a ValueError if it has neither form."""
    if input.ndim not in (dims + 1, dims + 2):
        raise ValueError(
            f"{op}: input must have shape (N, C, *spatial) or (C, *spatial) with {dims} spatial axes, got {input.shape}"
        )
    return input.ndim == dims + 1


def pool_geometry(
    op: str, spatial: Ints, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool
) -> tuple[Ints, Ints, Pairs, Ints, Ints]:
    """(kernel, stride, (before, after) padding, dilation, output size), as PyTorch sizes a pool.

    ``ceil_mode`` counts a last, partial window, provided it starts inside the input or its
    left padding; the padding after grows to hold it.
    """
    dims = len(spatial)
    kernel = per_axis(kernel_size, dims, "kernel_size", op)
    stride_ = kernel if stride is None or stride == () or stride == [] else per_axis(stride, dims, "stride", op)
    pads = per_axis(padding, dims, "padding", op, minimum=0)
    dilation_ = per_axis(dilation, dims, "dilation", op)
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(f"{op}: padding {pads} must be at most half the kernel size {kernel}")
    out, pairs = [], []
    for n, k, s, p, d in zip(spatial, kernel, stride_, pads, dilation_):
        extent = d * (k - 1) + 1
        o = (n + 2 * p - extent + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        if o < 1:
            raise ValueError(
                f"{op}: input of spatial shape {tuple(spatial)} padded by {pads} is smaller than the kernel {kernel} "
                f"dilated by {dilation_}"
            )
        out.append(o)
        pairs.append((p, max(p, (o - 1) * s + extent - n - p)))
    return kernel, stride_, tuple(pairs), dilation_, tuple(out)


def _max_pool(dims: int) -> Callable[..., Any]:
    op = f"max_pool{dims}d"

    def max_pool(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 ceil_mode: bool = False, return_indices: bool = False) -> Any:  # fmt: skip
        unbatched = _batched(op, input, dims)
        x = input.reshape((1,) + input.shape) if unbatched else input
        kernel, stride_, pairs, dilation_, _ = pool_geometry(
            op, x.shape[2:], kernel_size, stride, padding, dilation, ceil_mode
        )
        z = MaxPool.apply(x, kernel=kernel, stride=stride_, padding=pairs, dilation=dilation_)
        if return_indices:  # the argmax once more, as flat indices (the op keeps kernel offsets)
            _, index = max_pool_indices(x.data, kernel, stride_, pairs, dilation_)
        if unbatched:
            z = z.reshape(z.shape[1:])
        if not return_indices:
            return z
        return z, (index[0] if unbatched else index)

    max_pool.__name__ = max_pool.__qualname__ = op
    max_pool.__doc__ = (
        f"z = max over each window: {dims}-D max pooling (PyTorch's ``F.{op}``), input ``(N, C, *L)`` or ``(C, *L)``.\n\n"
        "``stride`` defaults to ``kernel_size``; padding (at most half the kernel) reads as −∞; ``ceil_mode`` "
        "keeps a last partial window; ``return_indices`` also gives each maximum's flat index in its input plane "
        "(an int64 ndarray, as ``argmax`` gives; PyTorch's indices)."
    )
    return max_pool


def avg_divisor(
    spatial: Ints, kernel: Ints, stride: Ints, pairs: Pairs, out: Ints, count_include_pad: bool, dtype: Any
) -> np.ndarray:
    """PyTorch's divisor per window: its size clipped to input + padding (``count_include_pad``)
    or to the input alone; a product over axes."""
    divisor = np.ones((), dtype=dtype)
    for n, k, s, (p, _), o in zip(spatial, kernel, stride, pairs, out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        count = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        divisor = np.multiply.outer(divisor, count.astype(dtype))
    return divisor


def _avg_pool(dims: int) -> Callable[..., Any]:
    op = f"avg_pool{dims}d"

    def avg_pool(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: Any = None) -> Any:  # fmt: skip
        unbatched = _batched(op, input, dims)
        x = input.reshape((1,) + input.shape) if unbatched else input
        kernel, stride_, pairs, _, out = pool_geometry(op, x.shape[2:], kernel_size, stride, padding, 1, ceil_mode)
        if divisor_override is not None:
            if (
                isinstance(divisor_override, bool)
                or not isinstance(divisor_override, (int, np.integer))
                or divisor_override < 1
            ):
                raise ValueError(f"{op}: divisor_override must be a positive int, got {divisor_override!r}")
            divisor: Any = np.asarray(divisor_override, dtype=x.dtype)
        else:
            divisor = avg_divisor(x.shape[2:], kernel, stride_, pairs, out, count_include_pad, x.dtype)
        z = AvgPool.apply(x, kernel=kernel, stride=stride_, padding=pairs, divisor=divisor)
        return z.reshape(z.shape[1:]) if unbatched else z

    avg_pool.__name__ = avg_pool.__qualname__ = op
    avg_pool.__doc__ = (
        f"z = mean over each window: {dims}-D average pooling (PyTorch's ``F.{op}``).\n\n"
        "Padding counts as zeros in the mean (``count_include_pad=False``: only input elements are counted); "
        "``ceil_mode`` keeps a last partial window (its overhang never counts)."
    )
    if dims == 1:  # PyTorch's avg_pool1d has no divisor_override

        def avg_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                       count_include_pad: bool = True) -> Any:  # fmt: skip
            return avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad)

        avg_pool1d.__doc__ = avg_pool.__doc__
        avg_pool1d.__qualname__ = "avg_pool1d"
        return avg_pool1d
    return avg_pool


def _averaging_matrix(length: int, out: int, dtype: Any) -> np.ndarray:
    start, end = adaptive_windows(length, out)
    positions = np.arange(length)
    inside = (positions >= start[:, None]) & (positions < end[:, None])
    return np.where(inside, 1 / (end - start)[:, None], 0).astype(dtype)


def _output_size(op: str, output_size: Any, spatial: Ints) -> Ints:
    sizes = (output_size,) * len(spatial) if not isinstance(output_size, (tuple, list)) else tuple(output_size)
    if len(sizes) != len(spatial):
        raise ValueError(f"{op}: output_size must be an int or a tuple of {len(spatial)}, got {output_size!r}")
    sizes = tuple(n if o is None else o for o, n in zip(sizes, spatial))  # None keeps the input's size
    return per_axis(sizes, len(spatial), "output_size", op)


def _adaptive_avg_pool(dims: int) -> Callable[..., Any]:
    op = f"adaptive_avg_pool{dims}d"

    def adaptive_avg_pool(input: Any, output_size: Any) -> Any:
        _batched(op, input, dims)
        spatial = input.shape[-dims:]
        out = _output_size(op, output_size, spatial)
        if all(n % o == 0 for n, o in zip(spatial, out)):  # equal windows side by side: one average pool
            kernel = tuple(n // o for n, o in zip(spatial, out))
            divisor = np.asarray(np.prod(kernel), dtype=input.dtype)
            return AvgPool.apply(input, kernel=kernel, stride=kernel, padding=((0, 0),) * dims, divisor=divisor)
        z = input
        for axis in range(dims):  # a mean over a box is a mean along each of its axes in turn
            matrix = _averaging_matrix(spatial[axis], out[axis], input.dtype)
            moved = z.swapaxes(z.ndim - dims + axis, -1)
            z = (moved.reshape(-1, moved.shape[-1]) @ matrix.T).reshape(moved.shape[:-1] + (out[axis],))
            z = z.swapaxes(z.ndim - dims + axis, -1)
        return z

    adaptive_avg_pool.__name__ = adaptive_avg_pool.__qualname__ = op
    adaptive_avg_pool.__doc__ = (
        f"z = mean over PyTorch's adaptive windows [⌊o·L/O⌋, ⌈(o+1)·L/O⌉) ({dims}-D, ``F.{op}``): any input size "
        "gives ``output_size`` (an int, a tuple, None entries keep that axis)."
    )
    return adaptive_avg_pool


@register_composite(
    reference=_naive.adaptive_max_pool2d, shapes=_draw_pool.adaptive(2, batched_only=True), distinct=True,
    functional="adaptive_max_pool2d",
)  # fmt: skip
def adaptive_max_pool2d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """z = max over PyTorch's adaptive windows (``F.adaptive_max_pool2d``), input (N, C, H, W) or (C, H, W);
    ``return_indices`` also gives each maximum's flat index in its input plane (an int64 ndarray)."""
    _batched("adaptive_max_pool2d", input, 2)
    out = _output_size("adaptive_max_pool2d", output_size, input.shape[-2:])
    z = AdaptiveMaxPool.apply(input, output_size=out)
    if not return_indices:
        return z
    return z, adaptive_max_indices(input.data, out)


max_pool1d = register_composite(
    reference=_naive.public_max_pool, shapes=_draw_pool.public_max_pool(1), distinct=True, functional="max_pool1d"
)(_max_pool(1))
max_pool2d = register_composite(
    reference=_naive.public_max_pool, shapes=_draw_pool.public_max_pool(2), distinct=True, functional="max_pool2d"
)(_max_pool(2))
avg_pool1d = register_composite(
    reference=_naive.public_avg_pool, shapes=_draw_pool.public_avg_pool(1), functional="avg_pool1d"
)(_avg_pool(1))
avg_pool2d = register_composite(
    reference=_naive.public_avg_pool, shapes=_draw_pool.public_avg_pool(2), functional="avg_pool2d"
)(_avg_pool(2))
adaptive_avg_pool1d = register_composite(
    reference=lambda x, output_size: _naive.adaptive_avg_pool(x, output_size, dims=1),
    shapes=_draw_pool.adaptive(1),
    functional="adaptive_avg_pool1d",
)(_adaptive_avg_pool(1))
adaptive_avg_pool2d = register_composite(
    reference=lambda x, output_size: _naive.adaptive_avg_pool(x, output_size, dims=2),
    shapes=_draw_pool.adaptive(2),
    functional="adaptive_avg_pool2d",
)(_adaptive_avg_pool(2))
