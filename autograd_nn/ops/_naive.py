"""Loop-by-definition references for the windowed ops: what the shared property test
compares convolution, unfold and pooling against.

Each follows the textbook formula one output position and one kernel offset at a time,
with ``np.pad`` for the borders: nothing here shares code with ``_windows`` (no strided
views, no im2col), so an indexing slip there cannot hide in both. Slow, and only ever
run on the property test's tiny shapes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Ints = tuple[int, ...]
Pairs = tuple[tuple[int, int], ...]


def _windows(out: Ints, kernel: Ints, stride: Ints, dilation: Ints) -> Any:
    """(output position, kernel offset, input position in the padded input) for every pair."""
    for i in np.ndindex(*out):
        for k in np.ndindex(*kernel):
            yield i, k, tuple(a * s + b * d for a, b, s, d in zip(i, k, stride, dilation))


def _out(spatial: Ints, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints) -> Ints:
    return tuple(
        (n + lo + hi - d * (k - 1) - 1) // s + 1
        for n, k, s, (lo, hi), d in zip(spatial, kernel, stride, padding, dilation)
    )


def _padded(x: np.ndarray, padding: Pairs, value: float = 0.0) -> np.ndarray:
    """np.pad on the trailing axes; a negative amount after the data drops that many elements."""
    lead = ((0, 0),) * (x.ndim - len(padding))
    padded = np.pad(x, lead + tuple((lo, max(hi, 0)) for lo, hi in padding), constant_values=value)
    return padded[(Ellipsis, *(slice(0, n + min(hi, 0)) for n, (_, hi) in zip(padded.shape[-len(padding) :], padding)))]


def _crop(x: np.ndarray, padding: Pairs, size: Ints) -> np.ndarray:
    """The elements of a padded array that came from an input of spatial shape ``size``
    (zeros for any the padding dropped)."""
    d = len(padding)
    out = np.zeros(x.shape[:-d] + tuple(size), dtype=x.dtype)
    for i in np.ndindex(*size):
        p = tuple(a + lo for a, (lo, _) in zip(i, padding))
        if all(q < n for q, n in zip(p, x.shape[-d:])):
            out[(Ellipsis, *i)] = x[(Ellipsis, *p)]
    return out


def convolution(x: Any, w: Any, b: Any = None, *, stride: Ints, padding: Pairs, dilation: Ints, groups: int) -> Any:
    """z[n, o, i] = b[o] + Σ_c Σ_k w[o, c, k] · x_pad[n, group(o)·C/G + c, i·s + k·d]."""
    kernel = w.shape[2:]
    out = _out(x.shape[2:], kernel, stride, padding, dilation)
    xp = _padded(x, padding)
    c_in, c_out = x.shape[1] // groups, w.shape[0] // groups
    z = np.zeros((x.shape[0], w.shape[0]) + out, dtype=np.result_type(x, w))
    for i, k, p in _windows(out, kernel, stride, dilation):
        for o in range(w.shape[0]):
            g = o // c_out
            z[(slice(None), o, *i)] += xp[(slice(None), slice(g * c_in, (g + 1) * c_in), *p)] @ w[(o, slice(None), *k)]
    if b is not None:
        z += np.reshape(b, (-1,) + (1,) * len(out))
    return z


def convolution_transpose(
    g: Any, w: Any, b: Any = None, *, size: Ints, stride: Ints, padding: Pairs, dilation: Ints, groups: int
) -> Any:
    """x_pad[n, group·C/G + c, i·s + k·d] += w[o, c, k] · g[n, o, i], then the padding cropped."""
    kernel = w.shape[2:]
    c_in, c_out = w.shape[1], w.shape[0] // groups
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(size, padding))
    x = np.zeros((g.shape[0], groups * c_in) + padded, dtype=np.result_type(g, w))
    for i, k, p in _windows(g.shape[2:], kernel, stride, dilation):
        for o in range(w.shape[0]):
            grp = o // c_out
            x[(slice(None), slice(grp * c_in, (grp + 1) * c_in), *p)] += np.outer(
                g[(slice(None), o, *i)], w[(o, slice(None), *k)]
            )
    x = _crop(x, padding, size)
    if b is not None:
        x = x + np.reshape(b, (-1,) + (1,) * len(size))
    return x


def convolution_weight_grad(
    x: Any, g: Any, *, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints, groups: int
) -> Any:
    """δw[o, c, k] = Σ_n Σ_i δz[n, o, i] · x_pad[n, group(o)·C/G + c, i·s + k·d]."""
    xp = _padded(x, padding)
    c_in, c_out = x.shape[1] // groups, g.shape[1] // groups
    dw = np.zeros((g.shape[1], c_in) + tuple(kernel), dtype=np.result_type(x, g))
    for i, k, p in _windows(g.shape[2:], kernel, stride, dilation):
        for o in range(g.shape[1]):
            grp = o // c_out
            dw[(o, slice(None), *k)] += (
                g[(slice(None), o, *i)] @ xp[(slice(None), slice(grp * c_in, (grp + 1) * c_in), *p)]
            )
    return dw


def unfold(x: Any, *, kernel_size: Ints, dilation: Ints, padding: Ints, stride: Ints) -> Any:
    """cols[n, c·prod(k) + k, l] = x_pad[n, c, window l's position + k·d] (PyTorch's F.unfold)."""
    pairs = tuple((p, p) for p in padding)
    out = _out(x.shape[2:], kernel_size, stride, pairs, dilation)
    xp = _padded(x, pairs)
    n, c = x.shape[:2]
    cols = np.zeros((n, c) + tuple(kernel_size) + out, dtype=x.dtype)
    for i, k, p in _windows(out, kernel_size, stride, dilation):
        cols[(slice(None), slice(None), *k, *i)] = xp[(slice(None), slice(None), *p)]
    return cols.reshape(n, c * int(np.prod(kernel_size)), -1)


def fold(cols: Any, *, output_size: Ints, kernel_size: Ints, dilation: Ints, padding: Ints, stride: Ints) -> Any:
    """The adjoint of unfold: every column entry added back at its window position."""
    pairs = tuple((p, p) for p in padding)
    out = _out(output_size, kernel_size, stride, pairs, dilation)
    n = cols.shape[0]
    c = cols.shape[1] // int(np.prod(kernel_size))
    blocks = cols.reshape((n, c) + tuple(kernel_size) + out)
    x = np.zeros((n, c) + tuple(s + 2 * p for s, p in zip(output_size, padding)), dtype=cols.dtype)
    for i, k, p in _windows(out, kernel_size, stride, dilation):
        x[(slice(None), slice(None), *p)] += blocks[(slice(None), slice(None), *k, *i)]
    return _crop(x, pairs, output_size)


def max_pool(x: Any, *, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints) -> Any:
    """z[n, c, i] = max over the window of x padded with −∞."""
    out = _out(x.shape[2:], kernel, stride, padding, dilation)
    xp = _padded(x, padding, -np.inf)
    z = np.full(x.shape[:2] + out, -np.inf, dtype=x.dtype)
    for i, _, p in _windows(out, kernel, stride, dilation):
        z[(Ellipsis, *i)] = np.maximum(z[(Ellipsis, *i)], xp[(Ellipsis, *p)])
    return z


def avg_pool(x: Any, *, kernel: Ints, stride: Ints, padding: Pairs, divisor: Any) -> Any:
    """z[n, c, i] = (Σ over the window of x padded with zeros) / divisor[i]."""
    ones = (1,) * len(kernel)
    out = _out(x.shape[2:], kernel, stride, padding, ones)
    xp = _padded(x, padding)
    z = np.zeros(x.shape[:2] + out, dtype=x.dtype)
    for i, _, p in _windows(out, kernel, stride, ones):
        z[(Ellipsis, *i)] += xp[(Ellipsis, *p)]
    return z / divisor


def avg_pool_adjoint(g: Any, *, size: Ints, kernel: Ints, stride: Ints, padding: Pairs, divisor: Any) -> Any:
    """x_pad[n, c, window i + k] += g[n, c, i] / divisor[i], then the padding cropped."""
    ones = (1,) * len(kernel)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(size, padding))
    x = np.zeros(g.shape[:2] + padded, dtype=g.dtype)
    share = g / divisor
    for i, _, p in _windows(g.shape[2:], kernel, stride, ones):
        x[(Ellipsis, *p)] += share[(Ellipsis, *i)]
    return _crop(x, padding, size)


def _axes(value: Any, dims: int) -> Ints:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims


def public_conv(
    x: Any, w: Any, b: Any = None, *, dims: int, stride: Any, padding: Any, dilation: Any, groups: int
) -> Any:
    """``conv1d``/``conv2d`` by their documented meaning; "same" puts an odd extra after."""
    kernel, dilation = w.shape[2:], _axes(dilation, dims)
    if padding == "valid":
        pairs: Pairs = ((0, 0),) * dims
    elif padding == "same":
        pairs = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))
    else:
        pairs = tuple((p, p) for p in _axes(padding, dims))
    return convolution(x, w, b, stride=_axes(stride, dims), padding=pairs, dilation=dilation, groups=groups)


def public_conv_transpose(
    x: Any, w: Any, b: Any = None, *, dims: int, stride: Any, padding: Any, output_padding: Any, groups: int,
    dilation: Any,
) -> Any:  # fmt: skip
    """``conv_transpose1d``/``2d``: the adjoint of the convolution whose input has the output's size."""
    stride, padding, dilation = _axes(stride, dims), _axes(padding, dims), _axes(dilation, dims)
    size = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + e + 1
        for n, s, p, d, k, e in zip(x.shape[2:], stride, padding, dilation, w.shape[2:], _axes(output_padding, dims))
    )
    pairs = tuple((p, p) for p in padding)
    return convolution_transpose(x, w, b, size=size, stride=stride, padding=pairs, dilation=dilation, groups=groups)


def plane_scatter(g: Any, *, index: Any, size: Ints) -> Any:
    """x[..., plane].flat[index[..., o]] += g[..., o], one element at a time."""
    d = len(size)
    x = np.zeros(g.shape[: g.ndim - d] + tuple(size), dtype=g.dtype)
    index = np.broadcast_to(index, g.shape)
    for position in np.ndindex(*g.shape):
        lead = position[: g.ndim - d]
        x[lead + np.unravel_index(index[position], size)] += g[position]
    return x


def _pool_windows(spatial: Ints, kernel: Ints, stride: Ints, padding: Ints, dilation: Ints, ceil_mode: bool) -> Any:
    """For every output position: the input positions (inside the input) its window covers,
    and the window's size clipped to input + padding (PyTorch's count_include_pad count)."""
    sizes = []
    for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        o = -(-span // s) + 1 if ceil_mode else span // s + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        sizes.append(o)
    for i in np.ndindex(*sizes):
        axes = []
        padded_count = 1
        for a, n, k, s, p, d in zip(i, spatial, kernel, stride, padding, dilation):
            start = a * s - p
            axes.append([start + j * d for j in range(k) if 0 <= start + j * d < n])
            padded_count *= min(start + k, n + p) - start
        yield i, [tuple(q) for q in np.array(np.meshgrid(*axes, indexing="ij")).reshape(len(axes), -1).T], padded_count


def public_max_pool(
    x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:  # fmt: skip
    """max_pool1d/2d: the largest input element each window covers (padding never wins)."""
    dims = x.ndim - 2
    kernel = _axes(kernel_size, dims)
    stride = kernel if stride is None else _axes(stride, dims)
    cells = list(_pool_windows(x.shape[2:], kernel, stride, _axes(padding, dims), _axes(dilation, dims), ceil_mode))
    out = tuple(np.max([c[0] for c in cells], axis=0) + 1)
    z = np.empty(x.shape[:2] + out, dtype=x.dtype)
    for i, positions, _ in cells:
        z[(Ellipsis, *i)] = np.max([x[(Ellipsis, *q)] for q in positions], axis=0)
    return z


def public_avg_pool(
    x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
    count_include_pad: bool = True, divisor_override: Any = None,
) -> Any:  # fmt: skip
    """avg_pool1d/2d: the sum of the input elements a window covers over PyTorch's divisor."""
    dims = x.ndim - 2
    kernel = _axes(kernel_size, dims)
    stride = kernel if stride is None else _axes(stride, dims)
    cells = list(_pool_windows(x.shape[2:], kernel, stride, _axes(padding, dims), (1,) * dims, ceil_mode))
    out = tuple(np.max([c[0] for c in cells], axis=0) + 1)
    z = np.zeros(x.shape[:2] + out, dtype=x.dtype)
    for i, positions, padded_count in cells:
        total = sum(x[(Ellipsis, *q)] for q in positions)
        divisor = divisor_override or (padded_count if count_include_pad else len(positions))
        z[(Ellipsis, *i)] = total / divisor
    return z


def _adaptive_boxes(spatial: Ints, output_size: Any) -> Any:
    sizes = _axes(output_size, len(spatial))
    sizes = tuple(n if o is None else o for o, n in zip(sizes, spatial))
    for i in np.ndindex(*sizes):
        yield (
            i,
            tuple(slice(int(np.floor(a * n / o)), int(np.ceil((a + 1) * n / o))) for a, n, o in zip(i, spatial, sizes)),
            sizes,
        )


def adaptive_avg_pool(x: Any, output_size: Any, *, dims: int) -> Any:
    """adaptive_avg_pool1d/2d: the mean of box [⌊o·L/O⌋, ⌈(o+1)·L/O⌉) per axis."""
    boxes = list(_adaptive_boxes(x.shape[-dims:], output_size))
    z = np.zeros(x.shape[:-dims] + boxes[0][2], dtype=x.dtype)
    for i, box, _ in boxes:
        z[(Ellipsis, *i)] = x[(Ellipsis, *box)].mean(axis=tuple(range(-dims, 0)))
    return z


def adaptive_max_pool2d(x: Any, output_size: Any, return_indices: bool = False) -> Any:
    """adaptive_max_pool2d: the maximum of each adaptive box."""
    boxes = list(_adaptive_boxes(x.shape[-2:], output_size))
    z = np.zeros(x.shape[:-2] + boxes[0][2], dtype=x.dtype)
    for i, box, _ in boxes:
        z[(Ellipsis, *i)] = x[(Ellipsis, *box)].max(axis=(-2, -1))
    return z


def _nearest(o: int, n: int, out: int, scale: Any) -> int:
    if out == n:
        return o
    if out == 2 * n:
        return o // 2
    step = np.float32(1.0 / scale) if scale else np.float32(n) / np.float32(out)
    return min(int(np.floor(np.float32(o) * step)), n - 1)


def _linear(o: int, n: int, out: int, align_corners: bool, scale: Any) -> tuple[int, int, float, float]:
    if align_corners:
        source = o * ((n - 1) / (out - 1) if out > 1 else 0.0)
    else:
        source = max(((1.0 / scale) if scale else n / out) * (o + 0.5) - 0.5, 0.0)
    low = min(int(np.floor(source)), n - 1)
    weight = min(max(source - low, 0.0), 1.0)
    return low, low + (1 if low < n - 1 else 0), 1 - weight, weight


def interpolate(
    x: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest", align_corners: Any = None,
    recompute_scale_factor: Any = None, antialias: bool = False,
) -> Any:  # fmt: skip
    """F.interpolate (float64 inputs), one output element at a time."""
    dims = x.ndim - 2
    spatial = x.shape[2:]
    if size is not None:
        out, scales = _axes(size, dims), (None,) * dims
    else:
        factors = _axes(scale_factor, dims)
        out = tuple(int(np.floor(n * f)) for n, f in zip(spatial, factors))
        scales = (None,) * dims if recompute_scale_factor else factors
    if mode == "area":
        return adaptive_avg_pool(x, out, dims=dims)
    z = np.zeros(x.shape[:2] + out, dtype=x.dtype)
    for i in np.ndindex(*out):
        if mode == "nearest":
            z[(Ellipsis, *i)] = x[(Ellipsis, *(_nearest(a, n, o, s) for a, n, o, s in zip(i, spatial, out, scales)))]
            continue
        taps = [_linear(a, n, o, bool(align_corners), s) for a, n, o, s in zip(i, spatial, out, scales)]
        if dims == 1:
            ((i0, i1, w0, w1),) = taps
            z[..., i[0]] = x[..., i0] * w0 + x[..., i1] * w1
        else:
            (h0, h1, a0, a1), (c0, c1, b0, b1) = taps
            z[..., i[0], i[1]] = (x[..., h0, c0] * b0 + x[..., h0, c1] * b1) * a0 + (
                x[..., h1, c0] * b0 + x[..., h1, c1] * b1
            ) * a1
    return z


def pixel_shuffle(x: Any, upscale_factor: int) -> Any:
    """z[..., c, h·r + i, w·r + j] = x[..., c·r² + i·r + j, h, w]."""
    r = upscale_factor
    *lead, channels, h, w = x.shape
    z = np.zeros((*lead, channels // (r * r), h * r, w * r), dtype=x.dtype)
    for c, i, j, a, b in np.ndindex(channels // (r * r), r, r, h, w):
        z[..., c, a * r + i, b * r + j] = x[..., c * r * r + i * r + j, a, b]
    return z


def pixel_unshuffle(x: Any, downscale_factor: int) -> Any:
    """z[..., c·r² + i·r + j, h, w] = x[..., c, h·r + i, w·r + j]."""
    r = downscale_factor
    *lead, channels, h, w = x.shape
    z = np.zeros((*lead, channels * r * r, h // r, w // r), dtype=x.dtype)
    for c, i, j, a, b in np.ndindex(channels, r, r, h // r, w // r):
        z[..., c * r * r + i * r + j, a, b] = x[..., c, a * r + i, b * r + j]
    return z


def window_scatter(g: Any, *, arg: Any, size: Ints, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints) -> Any:
    """x_pad[window o's position + arg[o]'s offset · d] += g[o], then the padding cropped."""
    d = len(kernel)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(size, padding))
    x = np.zeros(g.shape[: g.ndim - d] + padded, dtype=g.dtype)
    for position in np.ndindex(*g.shape):
        lead, o = position[: g.ndim - d], position[g.ndim - d :]
        k = np.unravel_index(arg[position], kernel)
        x[lead + tuple(a * s + b * dl for a, b, s, dl in zip(o, k, stride, dilation))] += g[position]
    return _crop(x, padding, size)


def window_gather(x: Any, *, arg: Any, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints) -> Any:
    """z[o] = x_pad[window o's position + arg[o]'s offset · d] (zero padding)."""
    d = len(kernel)
    xp = _padded(x, padding)
    z = np.zeros(arg.shape, dtype=x.dtype)
    for position in np.ndindex(*arg.shape):
        lead, o = position[: arg.ndim - d], position[arg.ndim - d :]
        k = np.unravel_index(arg[position], kernel)
        z[position] = xp[lead + tuple(a * s + b * dl for a, b, s, dl in zip(o, k, stride, dilation))]
    return z
