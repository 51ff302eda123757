"""Sliding windows over the spatial axes, in numpy: what convolution, unfold and pooling share.

The geometry of a window is four tuples, one entry per spatial axis: ``kernel``
(its size), ``stride``, ``padding`` as ``(before, after)`` pairs (asymmetric: padding
"same" with an even kernel, ``ceil_mode``'s overhang) and ``dilation``. Pooling reads
windows through one strided slice of the padded input per kernel offset (``offsets``).

Convolution works batch-last: (C, *L, N) in memory, the layout its GEMM writes. Then
the elements of a window row for all samples are one contiguous run (Ow · N values, not
Ow), so ``im2col`` (the window view, copied once into the matrix the weight multiplies)
and ``col2im`` (its adjoint: ``prod(kernel)`` strided adds, never a loop over pixels and
never ``np.add.at``) move long runs: 4–6× faster than batch-first on LeNet's layers. The
tensors users see keep PyTorch's shape (N, C, *L), as views of that memory.

Every array here is made from the op's own arrays (``np.zeros_like(x, shape=...)``, not
``np.zeros``) and every view through a numpy function (``sliding_window_view``, not
``as_strided``, which returns a plain array): under ``autograd_nn.compile`` the recording
watches the op's arrays and sees only what is made from them that way, so a replay
recomputes all of it instead of reading the first call's values.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._scratch import scratch

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


def _spatial(ndim: int, first: int, slices: Sequence[slice]) -> tuple[slice, ...]:
    """An index that applies ``slices`` to axes first, first + 1, ... and takes all of the rest."""
    index = [slice(None)] * ndim
    index[first : first + len(slices)] = slices
    return tuple(index)


def pad(x: np.ndarray, padding: Pairs, value: float = 0.0, first: int | None = None) -> np.ndarray:
    """``x`` padded by ``value`` along its spatial axes (``first`` and on; the last
    ``len(padding)`` by default): ``x`` itself if there is no padding.

    A negative "after" amount crops instead: a transposed convolution's ``output_padding``
    is the adjoint of that (elements no window reaches).
    """
    if not any(lo or hi for lo, hi in padding):
        return x
    d = len(padding)
    first = x.ndim - d if first is None else first
    spatial = x.shape[first : first + d]
    shape = list(x.shape)
    shape[first : first + d] = [n + lo + hi for n, (lo, hi) in zip(spatial, padding)]
    out = np.full_like(x, value, shape=shape)
    kept = [n + min(hi, 0) for n, (_, hi) in zip(spatial, padding)]
    target = _spatial(x.ndim, first, [slice(lo, lo + k) for k, (lo, _) in zip(kept, padding)])
    out[target] = x[_spatial(x.ndim, first, [slice(0, k) for k in kept])]
    return out


def unpad(padded: np.ndarray, padding: Pairs, size: Ints, first: int | None = None) -> np.ndarray:
    """The adjoint of ``pad``: the part of ``padded`` that came from an input of spatial
    shape ``size`` (a view; zeros where ``pad`` cropped)."""
    d = len(padding)
    first = padded.ndim - d if first is None else first
    if all(hi >= 0 for _, hi in padding):
        return padded[_spatial(padded.ndim, first, [slice(lo, lo + n) for n, (lo, _) in zip(size, padding)])]
    shape = list(padded.shape)
    shape[first : first + d] = size
    out = np.zeros_like(padded, shape=shape)
    kept = [n + min(hi, 0) for n, (_, hi) in zip(size, padding)]
    source = _spatial(padded.ndim, first, [slice(lo, lo + k) for k, (lo, _) in zip(kept, padding)])
    out[_spatial(padded.ndim, first, [slice(0, k) for k in kept])] = padded[source]
    return out


def offsets(kernel: Ints, stride: Ints, dilation: Ints, out: Ints) -> Iterator[tuple[int, tuple[slice, ...]]]:
    """For each kernel offset k (in C order, numbered 0, 1, ...): the slices of the padded
    input that the k-th element of every window reads, ``o·s + k·d`` for o < out."""
    for number, position in enumerate(np.ndindex(*kernel)):
        yield (
            number,
            tuple(slice(k * dl, k * dl + s * (o - 1) + 1, s) for k, s, dl, o in zip(position, stride, dilation, out)),
        )


def zeros_laid_out_as(like: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Zeros of ``shape`` whose axes lie in memory in the order ``like``'s do (batch-last
    stays batch-last), so elementwise work between the two runs over contiguous memory."""
    order = sorted(range(like.ndim), key=lambda axis: -like.strides[axis])  # outermost first
    return np.zeros_like(like, shape=[shape[axis] for axis in order], order="C").transpose(np.argsort(order))


def batch_last(x: np.ndarray) -> np.ndarray:
    """(N, C, *L) as a contiguous (C, *L, N) array: free when ``x`` is a view of such memory
    (what convolutions return), one copy otherwise (``copy``, not ``np.ascontiguousarray``,
    whose copy a recording could not see)."""
    moved = np.moveaxis(x, 0, -1)
    return moved if moved.flags.c_contiguous else moved.copy()


def batch_first(y: np.ndarray) -> np.ndarray:
    """(C, *L, N) viewed as (N, C, *L)."""
    return np.moveaxis(y, -1, 0)


def im2col(x: np.ndarray, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints, groups: int) -> np.ndarray:
    """The columns of a convolution, in this thread's scratch buffer: shape
    (groups, C/groups · prod(kernel), prod(out) · N).

    Row (c, k) of group g holds input channel g·C/groups + c at kernel offset k; column
    (o, n) is window o of sample n. The weight of each group, (C_out/groups,
    C/groups · prod(kernel)), times this matrix is the convolution: one matmul. Valid
    until the next scratch request (``_scratch``): use it before any other op runs.
    """
    n, c = x.shape[:2]
    d = len(kernel)
    out = out_shape(x.shape[2:], kernel, stride, padding, dilation)
    padded = pad(batch_last(x), padding, first=1)  # (C, *Lp, N)
    extent = tuple(dl * (k - 1) + 1 for k, dl in zip(kernel, dilation))
    spans = sliding_window_view(padded, extent, axis=tuple(range(1, 1 + d)))  # (C, *starts, N, *extent): a view
    picked = spans[(slice(None), *(slice(None, None, s) for s in stride), slice(None),
                    *(slice(None, None, dl) for dl in dilation))]  # fmt: skip
    windows = picked.transpose(0, *range(d + 2, 2 * d + 2), *range(1, d + 2))  # (C, *kernel, *out, N)
    shape = (groups, c // groups * math.prod(kernel), math.prod(out) * n)
    cols = scratch(shape, x.dtype, x)
    if cols is None:  # a recording: a copy, which a replay makes into a buffer it keeps
        return windows.copy().reshape(shape)
    np.copyto(cols.reshape(windows.shape), windows)
    return cols


def col2im(cols: np.ndarray, shape: Ints, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints) -> np.ndarray:
    """The adjoint of ``im2col``: every column entry added back where it was read from.

    ``cols`` holds C · prod(kernel) rows (c, k) of prod(out) · N columns (o, n), in any
    grouping; ``shape`` is the input's (N, C, *L). One strided add per kernel offset;
    returns (N, C, *L) as a view of batch-last memory.
    """
    n, c = shape[:2]
    spatial = shape[2:]
    out = out_shape(spatial, kernel, stride, padding, dilation)
    blocks = cols.reshape((c, math.prod(kernel)) + out + (n,))
    padded = np.zeros_like(cols, shape=(c, *(s + lo + hi for s, (lo, hi) in zip(spatial, padding)), n), order="C")
    for number, where in offsets(kernel, stride, dilation, out):
        padded[(slice(None), *where)] += blocks[:, number]
    return batch_first(unpad(padded, padding, spatial, first=1))


def channels_first(y: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, *out) as the GEMM operand (groups, C/groups, prod(out) · N): a free view when
    ``y`` is batch-last in memory (a convolution's output, and what elementwise ops keep)."""
    return batch_last(y).reshape(groups, y.shape[1] // groups, -1)


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
