"""Sliding windows over the trailing (spatial) axes, in numpy: what convolution, unfold
and pooling share.

The geometry of a window is four tuples, one entry per spatial axis: ``kernel``
(its size), ``stride``, ``padding`` as ``(before, after)`` pairs (asymmetric: padding
"same" with an even kernel, ``ceil_mode``'s overhang) and ``dilation``. A window view
(``window_view``) is an ``as_strided`` view of the padded input, of shape
``(..., *out, *kernel)``: no copy. ``im2col`` copies it once into the matrix a
convolution multiplies by its weight (one GEMM); ``col2im``, its adjoint, adds columns
back into the input by kernel offset: ``prod(kernel)`` strided adds of the output's
size, never a loop over pixels and never ``np.add.at``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

Ints = tuple[int, ...]
Pairs = tuple[tuple[int, int], ...]


def per_axis(value: Any, dims: int, name: str, op: str, minimum: int = 1) -> Ints:
    """An int or a tuple of ``dims`` ints, each at least ``minimum``, as a tuple."""
    values = (value,) * dims if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    if (
        not isinstance(values, (tuple, list))
        or len(values) != dims
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum for v in values)
    ):
        raise ValueError(f"{op}: {name} must be an int ≥ {minimum} or a tuple of {dims} such ints, got {value!r}")
    return tuple(int(v) for v in values)


def out_size(length: int, pad: tuple[int, int], kernel: int, stride: int, dilation: int) -> int:
    """Windows along one axis: ⌊(L + before + after − d(k − 1) − 1) / s⌋ + 1 (may be ≤ 0)."""
    return (length + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


def out_shape(spatial: Sequence[int], kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints) -> Ints:
    """The number of windows along every spatial axis."""
    return tuple(out_size(n, p, k, s, d) for n, p, k, s, d in zip(spatial, padding, kernel, stride, dilation))


def pad(x: np.ndarray, padding: Pairs, value: float = 0.0) -> np.ndarray:
    """``x`` with its trailing ``len(padding)`` axes padded by ``value`` (``x`` itself if no padding).

    A negative "after" amount crops instead: a transposed convolution's ``output_padding``
    is the adjoint of that (elements no window reaches).
    """
    if not any(lo or hi for lo, hi in padding):
        return x
    d = len(padding)
    spatial = x.shape[-d:]
    out = np.full(x.shape[:-d] + tuple(n + lo + hi for n, (lo, hi) in zip(spatial, padding)), value, dtype=x.dtype)
    kept = tuple(n + min(hi, 0) for n, (_, hi) in zip(spatial, padding))
    out[(Ellipsis, *(slice(lo, lo + k) for k, (lo, _) in zip(kept, padding)))] = x[
        (Ellipsis, *(slice(0, k) for k in kept))
    ]
    return out


def unpad(padded: np.ndarray, padding: Pairs, size: Ints) -> np.ndarray:
    """The adjoint of ``pad``: the part of ``padded`` that came from an input of spatial
    shape ``size`` (a view; zeros where ``pad`` cropped)."""
    d = len(padding)
    window = tuple(slice(lo, lo + n) for n, (lo, _) in zip(size, padding))
    if all(hi >= 0 for _, hi in padding):
        return padded[(Ellipsis, *window)]
    out = np.zeros(padded.shape[:-d] + tuple(size), dtype=padded.dtype)
    kept = tuple(n + min(hi, 0) for n, (_, hi) in zip(size, padding))
    out[(Ellipsis, *(slice(0, k) for k in kept))] = padded[
        (Ellipsis, *(slice(lo, lo + k) for k, (lo, _) in zip(kept, padding)))
    ]
    return out


def window_view(padded: np.ndarray, kernel: Ints, stride: Ints, dilation: Ints, out: Ints) -> np.ndarray:
    """Read-only view ``(..., *out, *kernel)``: element ``[..., o, k]`` is ``padded[..., o·s + k·d]``."""
    d = len(kernel)
    spatial = padded.strides[-d:]
    strides = padded.strides[:-d] + tuple(t * s for t, s in zip(spatial, stride))
    strides += tuple(t * dl for t, dl in zip(spatial, dilation))
    return as_strided(padded, padded.shape[:-d] + tuple(out) + tuple(kernel), strides, writeable=False)


def offsets(kernel: Ints, stride: Ints, dilation: Ints, out: Ints) -> Iterator[tuple[int, tuple[slice, ...]]]:
    """For each kernel offset k (in C order, numbered 0, 1, ...): the slices of the padded
    input that the k-th element of every window reads, ``o·s + k·d`` for o < out."""
    for number, position in enumerate(np.ndindex(*kernel)):
        yield (
            number,
            tuple(slice(k * dl, k * dl + s * (o - 1) + 1, s) for k, s, dl, o in zip(position, stride, dilation, out)),
        )


def im2col(x: np.ndarray, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints, groups: int) -> np.ndarray:
    """The columns of a convolution: shape (groups, C/groups · prod(kernel), N · prod(out)).

    Row (c, k) of group g holds input channel g·C/groups + c at kernel offset k, for
    every sample and window: the weight (C_out/groups, C/groups · prod(kernel)) of each
    group times this matrix is the convolution, in one matmul. One copy of the window view.
    """
    n, c = x.shape[:2]
    d = len(kernel)
    out = out_shape(x.shape[2:], kernel, stride, padding, dilation)
    windows = window_view(pad(x, padding), kernel, stride, dilation, out)  # (N, C, *out, *kernel)
    order = (1, *range(2 + d, 2 + 2 * d), 0, *range(2, 2 + d))  # (C, *kernel, N, *out)
    return windows.transpose(order).reshape(groups, c // groups * math.prod(kernel), n * math.prod(out))


def col2im(cols: np.ndarray, shape: Ints, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints) -> np.ndarray:
    """The adjoint of ``im2col``: every column entry added back where it was read from.

    ``cols`` holds C · prod(kernel) rows of N · prod(out) (any grouping of them);
    ``shape`` is the input's (N, C, *spatial). One strided add per kernel offset.
    """
    n, c = shape[:2]
    out = out_shape(shape[2:], kernel, stride, padding, dilation)
    blocks = cols.reshape((c, math.prod(kernel), n) + out)
    padded = np.zeros((n, c) + tuple(s + lo + hi for s, (lo, hi) in zip(shape[2:], padding)), dtype=cols.dtype)
    for number, where in offsets(kernel, stride, dilation, out):
        padded[(slice(None), slice(None), *where)] += blocks[:, number].swapaxes(0, 1)
    return unpad(padded, padding, shape[2:])


def channels_first(y: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, *out) as (groups, C/groups, N · prod(out)): a free view when ``y`` is laid out
    as the convolution writes it (channel-major), a copy otherwise."""
    n, c = y.shape[:2]
    return y.swapaxes(0, 1).reshape(groups, c // groups, -1)


def check_window(name: str, spatial: Sequence[int], kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints) -> Ints:
    """The output's spatial shape, or a ValueError naming ``name`` if a window does not fit."""
    out = out_shape(spatial, kernel, stride, padding, dilation)
    if any(o < 1 for o in out):
        padded = tuple(n + lo + hi for n, (lo, hi) in zip(spatial, padding))
        extent = tuple(dl * (k - 1) + 1 for k, dl in zip(kernel, dilation))
        raise ValueError(
            f"{name}: the padded input of spatial shape {padded} is smaller than the (dilated) kernel {extent}; "
            f"the input's spatial shape is {tuple(spatial)}"
        )
    return out


def reduce_channels(grad: Any, spatial_dims: int) -> Any:
    """δb of a per-channel bias: δz summed over the batch and spatial axes."""
    return grad.sum(axis=(0, *range(2, 2 + spatial_dims)))
