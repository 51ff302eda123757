"""Converters of the sliding-window ops: convolution and its two adjoints, pooling, unfold/fold,
and the gathers and scatters that max pooling, adaptive pooling and interpolation use.

The forward ops map to ONNX's own (Conv, ConvTranspose, MaxPool, AveragePool). Padding is
written out with Pad where ONNX's ``pads`` attribute would mean something else (max pooling
pads with −∞, an asymmetric ``ceil_mode`` overhang may exceed the kernel). The ops that only
a backward pass records (the weight gradient, the window scatter) are written too, so a graph
of gradients exports; those that read positions (``arg``, ``index``) take them as constants
that must be the same in both recordings.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops
from ._registry import register_converter


def _flat_pads(padding: Any) -> list[int]:
    """ONNX's pads: every axis's "before", then every axis's "after"."""
    return [int(lo) for lo, _ in padding] + [int(hi) for _, hi in padding]


def _planes(g: Any, op: Any, x: str, i: int, spatial: int) -> str:
    """Input ``i`` as (planes, 1, *spatial): the (N, C) layout ONNX's pooling wants, whatever the lead."""
    shape = op.input_shape(i)
    return g.op("Reshape", x, g.ints([-1, 1, *shape[len(shape) - spatial :]]), dtype=op.dtype)


def _back(g: Any, op: Any, z: str) -> str:
    """(planes, 1, *out) back to the op's output shape."""
    return g.op("Reshape", z, op.session.shape_value(op.dims), dtype=op.dtype)


def _pad(g: Any, op: Any, x: str, padding: Any, value: float) -> str:
    pads = _flat_pads(padding)
    if not any(pads):
        return x
    zeros = [0, 0]  # the (planes, 1) axes
    full = zeros + pads[: len(padding)] + zeros + pads[len(padding) :]
    return g.op("Pad", x, g.ints(full), g.constant(np.asarray(value, dtype=op.dtype)), dtype=op.dtype)


def _cropped(g: Any, op: Any, x: str, padding: Any) -> tuple[str, list[int]]:
    """``x`` with a negative "after" pad applied as a crop of its spatial axes, and the pads
    that remain (ONNX's pads are never negative)."""
    d = len(padding)
    crops = [(axis + 2, hi) for axis, (_, hi) in enumerate(padding) if hi < 0]
    if crops:
        shape = op.input_shape(0)
        x = g.op("Slice", x, g.ints([0] * len(crops)), g.ints([shape[a] + hi for a, hi in crops]),
                 g.ints([a for a, _ in crops]), dtype=op.dtype)  # fmt: skip
    return x, [int(lo) for lo, _ in padding] + [max(int(hi), 0) for _, hi in padding][:d]


@register_converter(ops.Convolution)
def _convolution(g: Any, op: Any) -> str:
    x, w, *bias = op.inputs(op.dtype)
    x, pads = _cropped(g, op, x, op.param("padding"))
    return g.op(
        "Conv", x, w, *bias, strides=list(op.param("stride")), pads=pads, dilations=list(op.param("dilation")),
        group=int(op.param("groups")), dtype=op.dtype,
    )  # fmt: skip


@register_converter(ops.ConvolutionTranspose)
def _convolution_transpose(g: Any, op: Any) -> str:
    """The full ConvTranspose (no pads, no bias), sliced from each axis's "before" pad to the
    output size, zero rows padded at the end where no window reaches (what a negative "after"
    pad crops in the convolution), then the bias. Slicing, rather than ONNX's pads, keeps every
    intermediate size positive (ONNX Runtime refuses an empty one)."""
    stride, dilation, padding = op.param("stride"), op.param("dilation"), op.param("padding")
    kernel, size = op.input_shape(1)[2:], op.param("size")
    d = len(kernel)
    grad, w, *bias = op.inputs(op.dtype)
    starts, ends, extra = [], [], []
    for n, o, k, s, dl, (lo, _) in zip(size, op.input_shape(0)[2:], kernel, stride, dilation, padding):
        full = s * (o - 1) + dl * (k - 1) + 1
        take = max(0, min(n, full - lo))
        starts.append(min(lo, full))
        ends.append(min(lo, full) + take)
        extra.append(n - take)
    x = g.op("ConvTranspose", grad, w, strides=list(stride), dilations=list(dilation), group=int(op.param("groups")),
             dtype=op.dtype)  # fmt: skip
    x = g.op("Slice", x, g.ints(starts), g.ints(ends), g.ints(list(range(2, 2 + d))), dtype=op.dtype)
    if any(extra):
        x = g.op("Pad", x, g.ints([0] * (d + 2) + [0, 0] + extra), dtype=op.dtype)
    if bias:
        x = g.op("Add", x, g.op("Reshape", bias[0], g.ints([-1] + [1] * d), dtype=op.dtype), dtype=op.dtype)
    return x


@register_converter(ops.ConvolutionWeightGrad)
def _convolution_weight_grad(g: Any, op: Any) -> str:
    """δw = x ⋆ δz with the batch as the channels: per group, Conv(xᵀ, δzᵀ) with stride and
    dilation swapped, cropped to the kernel, transposed back to (C_out, C/groups, *k)."""
    x, grad = op.inputs(op.dtype)
    x, pads = _cropped(g, op, x, op.param("padding"))
    kernel, groups = op.param("kernel"), int(op.param("groups"))
    c, o = op.input_shape(0)[1], op.input_shape(1)[1]
    d = len(kernel)
    swap = [1, 0, *range(2, 2 + d)]
    pieces = []
    for j in range(groups):
        xj = g.op("Slice", x, g.ints([j * c // groups]), g.ints([(j + 1) * c // groups]), g.ints([1]), dtype=op.dtype)
        gj = g.op("Slice", grad, g.ints([j * o // groups]), g.ints([(j + 1) * o // groups]), g.ints([1]),
                  dtype=op.dtype)  # fmt: skip
        full = g.op(
            "Conv", g.op("Transpose", xj, perm=swap, dtype=op.dtype), g.op("Transpose", gj, perm=swap, dtype=op.dtype),
            strides=list(op.param("dilation")), dilations=list(op.param("stride")), pads=pads, dtype=op.dtype,
        )  # fmt: skip  (C/groups, C_out/groups, ≥ k ...)
        cropped = g.op("Slice", full, g.ints([0] * d), g.ints(list(kernel)), g.ints(list(range(2, 2 + d))),
                       dtype=op.dtype)  # fmt: skip
        pieces.append(g.op("Transpose", cropped, perm=swap, dtype=op.dtype))
    return pieces[0] if groups == 1 else g.op("Concat", *pieces, axis=0, dtype=op.dtype)


@register_converter(ops.MaxPool)
def _max_pool(g: Any, op: Any) -> str:
    kernel = op.param("kernel")
    x = _pad(g, op, _planes(g, op, op.input(0, op.dtype), 0, len(kernel)), op.param("padding"), -np.inf)
    z = g.op("MaxPool", x, kernel_shape=list(kernel), strides=list(op.param("stride")),
             dilations=list(op.param("dilation")), dtype=op.dtype)  # fmt: skip
    return _back(g, op, z)


@register_converter(ops.AvgPool)
def _avg_pool(g: Any, op: Any) -> str:
    """Σ over each window / divisor: AveragePool over the zero-padded input (Σ / prod(k)),
    times prod(k) / divisor (a constant: one divisor per window, or one for all)."""
    kernel = op.param("kernel")
    x = _pad(g, op, _planes(g, op, op.input(0, op.dtype), 0, len(kernel)), op.param("padding"), 0.0)
    mean = g.op("AveragePool", x, kernel_shape=list(kernel), strides=list(op.param("stride")), dtype=op.dtype)
    scale = math.prod(kernel) / np.asarray(op.param("divisor"), dtype=np.float64)
    return _back(g, op, g.op("Mul", mean, g.constant(scale.astype(op.dtype)), dtype=op.dtype))


@register_converter(ops.AvgPoolAdjoint)
def _avg_pool_adjoint(g: Any, op: Any) -> str:
    """δ / divisor spread over each window: every share added at each of its window's
    positions (ScatterElements, add), then the padding cropped."""
    kernel, stride, padding, size = op.param("kernel"), op.param("stride"), op.param("padding"), op.param("size")
    shape = op.input_shape(0)
    d, k = len(kernel), math.prod(kernel)
    lead, out = shape[: len(shape) - d], shape[len(shape) - d :]
    padded = [n + lo + hi for n, (lo, hi) in zip(size, padding)]
    starts = np.stack(np.meshgrid(*[np.arange(o) * s for o, s in zip(out, stride)], indexing="ij"), axis=-1)
    moves = np.stack(np.unravel_index(np.arange(k), kernel), axis=-1)  # (K, d)
    positions = starts.reshape(-1, 1, d) + moves  # (O, K, d)
    index = np.ravel_multi_index(tuple(np.moveaxis(positions, -1, 0)), tuple(padded)).reshape(-1)
    share = g.op("Div", op.input(0, op.dtype), g.constant(np.asarray(op.param("divisor"), dtype=op.dtype)),
                 dtype=op.dtype)  # fmt: skip
    rows = g.op("Reshape", share, g.ints([*lead, -1, 1]), dtype=op.dtype)
    spread = g.op("Expand", rows, g.ints([*lead, math.prod(out), k]), dtype=op.dtype)
    updates = g.op("Reshape", spread, g.ints([*lead, -1]), dtype=op.dtype)
    return _scatter_planes(g, op, updates, np.broadcast_to(index, (*lead, index.size)), lead, padded, padding, size)


def _scatter_planes(g: Any, op: Any, updates: str, index: np.ndarray, lead: Any, padded: Any, padding: Any,
                    size: Any) -> str:  # fmt: skip
    """Zero planes of the padded shape, ``updates`` added at flat ``index`` (both (*lead, M)), then cropped."""
    zeros = g.constant(np.zeros((*lead, math.prod(padded)), dtype=op.dtype))
    summed = g.op("ScatterElements", zeros, g.constant(np.ascontiguousarray(index, dtype=np.int64)), updates,
                  axis=len(lead), reduction="add", dtype=op.dtype)  # fmt: skip
    planes = g.op("Reshape", summed, g.ints([*lead, *padded]), dtype=op.dtype)
    if not any(_flat_pads(padding)):
        return planes
    axes = list(range(len(lead), len(lead) + len(size)))
    return g.op("Slice", planes, g.ints([lo for lo, _ in padding]), g.ints([lo + n for (lo, _), n in zip(padding, size)]),
                g.ints(axes), dtype=op.dtype)  # fmt: skip


def _one_hot_kernels(channels: int, kernel: Any, dtype: Any) -> np.ndarray:
    """(C·K, 1, *kernel): output channel c·K + k picks kernel offset k of channel c (groups = C)."""
    k = math.prod(kernel)
    eye = np.eye(k, dtype=dtype).reshape(k, 1, *kernel)
    return np.tile(eye, (channels, 1) + (1,) * len(kernel))


@register_converter(ops.Unfold)
def _unfold(g: Any, op: Any) -> str:
    """im2col as a depthwise Conv by one-hot kernels, then (N, C·K, L)."""
    kernel, padding = op.param("kernel_size"), op.param("padding")
    c = op.input_shape(0)[1]
    cols = g.op(
        "Conv", op.input(0, op.dtype), g.constant(_one_hot_kernels(c, kernel, op.dtype)),
        strides=list(op.param("stride")), dilations=list(op.param("dilation")), pads=list(padding) * 2, group=c,
        dtype=op.dtype,
    )  # fmt: skip
    return g.op("Reshape", cols, g.ints([0, 0, -1]), dtype=op.dtype)


@register_converter(ops.Fold)
def _fold(g: Any, op: Any) -> str:
    """col2im as the ConvTranspose of unfold's Conv (the same one-hot kernels)."""
    kernel, padding, stride = op.param("kernel_size"), op.param("padding"), op.param("stride")
    dilation, size = op.param("dilation"), op.param("output_size")
    k = math.prod(kernel)
    c = op.input_shape(0)[1] // k
    out = [(n + 2 * p - dl * (kk - 1) - 1) // s + 1 for n, p, dl, kk, s in zip(size, padding, dilation, kernel, stride)]
    extra = [n - (s * (o - 1) + dl * (kk - 1) + 1 - 2 * p) for n, s, o, dl, kk, p in zip(size, stride, out, dilation,
                                                                                           kernel, padding)]  # fmt: skip
    cols = g.op("Reshape", op.input(0, op.dtype), g.ints([0, 0, *out]), dtype=op.dtype)
    return g.op(
        "ConvTranspose", cols, g.constant(_one_hot_kernels(c, kernel, op.dtype)), strides=list(stride),
        dilations=list(dilation), pads=list(padding) * 2, output_padding=extra, group=c, dtype=op.dtype,
    )  # fmt: skip


def _window_positions(op: Any, arg: np.ndarray, padded: Any) -> np.ndarray:
    """The flat index, in its zero-padded plane, of the element each window reads at offset ``arg``."""
    kernel, stride, dilation = op.param("kernel"), op.param("stride"), op.param("dilation")
    d = len(kernel)
    out = arg.shape[arg.ndim - d :]
    offsets = np.stack(np.unravel_index(arg.astype(np.int64), kernel), axis=-1)  # (..., d)
    starts = np.stack(np.meshgrid(*[np.arange(o) * s for o, s in zip(out, stride)], indexing="ij"), axis=-1)
    positions = starts + offsets * np.asarray(dilation)
    return np.ravel_multi_index(tuple(np.moveaxis(positions, -1, 0)), tuple(padded)).astype(np.int64)


def _flat(g: Any, op: Any, x: str, lead: Any) -> str:
    return g.op("Reshape", x, g.ints([*lead, -1]), dtype=op.dtype)


@register_converter(ops.WindowGather)
def _window_gather(g: Any, op: Any) -> str:
    """z[o] = x_pad[window o at offset arg[o]]: GatherElements over the padded planes."""
    arg = np.asarray(op.param("arg"))
    padding, d = op.param("padding"), len(op.param("kernel"))
    shape = op.input_shape(0)
    lead, spatial = shape[: len(shape) - d], shape[len(shape) - d :]
    padded = [n + lo + hi for n, (lo, hi) in zip(spatial, padding)]
    index = np.broadcast_to(_window_positions(op, arg, padded), arg.shape).reshape(*lead, -1)
    planes = _pad(g, op, _planes(g, op, op.input(0, op.dtype), 0, d), padding, 0.0)
    z = g.op("GatherElements", _flat(g, op, planes, lead), g.constant(index), axis=len(lead), dtype=op.dtype)
    return g.op("Reshape", z, g.ints(list(op.shape)), dtype=op.dtype)


@register_converter(ops.WindowScatter)
def _window_scatter(g: Any, op: Any) -> str:
    """x_pad[window o at offset arg[o]] += δ[o]: ScatterElements (add) into zero planes, cropped."""
    arg = np.asarray(op.param("arg"))
    padding, size, d = op.param("padding"), op.param("size"), len(op.param("kernel"))
    lead = op.input_shape(0)[: len(op.input_shape(0)) - d]
    padded = [n + lo + hi for n, (lo, hi) in zip(size, padding)]
    index = _window_positions(op, arg, padded).reshape(*lead, -1)
    return _scatter_planes(g, op, _flat(g, op, op.input(0, op.dtype), lead), index, lead, padded, padding, size)


@register_converter(ops.PlaneGather)
def _plane_gather(g: Any, op: Any) -> str:
    """z[…, o] = x[…].flat[index[…, o]]: Gather by one index for every plane, else GatherElements."""
    dims = int(op.param("dims"))
    index = np.asarray(op.param("index")).astype(np.int64)
    shape = op.input_shape(0)
    lead = shape[: len(shape) - dims]
    flat = _flat(g, op, op.input(0, op.dtype), [0] * len(lead))
    if all(n == 1 for n in index.shape[: index.ndim - dims]):
        z = g.op("Gather", flat, g.constant(index.reshape(-1)), axis=len(lead), dtype=op.dtype)
    else:
        full = np.broadcast_to(index, (*lead, *index.shape[index.ndim - dims :])).reshape(*lead, -1)
        z = g.op("GatherElements", flat, g.constant(np.ascontiguousarray(full)), axis=len(lead), dtype=op.dtype)
    return g.op("Reshape", z, op.session.shape_value(op.dims), dtype=op.dtype)


@register_converter(ops.PlaneScatter)
def _plane_scatter(g: Any, op: Any) -> str:
    """x[…].flat[index[…, o]] += δ[…, o]: ScatterElements (add) into zero planes."""
    size = op.param("size")
    index = np.asarray(op.param("index")).astype(np.int64)
    shape = op.input_shape(0)
    lead = shape[: len(shape) - len(size)]
    full = np.broadcast_to(index, shape).reshape(*lead, -1)
    zeros = g.constant(np.zeros((*lead, math.prod(size)), dtype=op.dtype))
    summed = g.op("ScatterElements", zeros, g.constant(np.ascontiguousarray(full)),
                  _flat(g, op, op.input(0, op.dtype), lead), axis=len(lead), reduction="add", dtype=op.dtype)  # fmt: skip
    return g.op("Reshape", summed, g.ints(list(op.shape)), dtype=op.dtype)


@register_converter(ops.AdaptiveMaxPool)
def _adaptive_max_pool(g: Any, op: Any) -> str:
    """The maximum over PyTorch's adaptive windows, one axis at a time: for offset j, a Gather
    of every window's element j (its first element where the window is shorter), then Max."""
    output_size = op.param("output_size")
    shape = op.input_shape(0)
    d = len(output_size)
    z = op.input(0, op.dtype)
    for axis in reversed(range(d)):
        at = len(shape) - d + axis
        start, end = ops.pool.adaptive_windows(shape[at], output_size[axis])
        width = end - start
        taps = [
            g.op("Gather", z, g.constant(np.where(j < width, start + j, start).astype(np.int64)), axis=at, dtype=op.dtype)
            for j in range(int(width.max()))
        ]
        z = taps[0] if len(taps) == 1 else g.op("Max", *taps, dtype=op.dtype)
    return z
