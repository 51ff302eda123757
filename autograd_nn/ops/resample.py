"""Resampling images: ``interpolate`` (nearest, linear, bilinear, area), ``pixel_shuffle`` and
``pixel_unshuffle``, with PyTorch's names and arithmetic (``dropout2d``, which draws its
masks, is in ``functional``).

Interpolation gathers input elements by their flat index in each plane (``PlaneGather``,
whose derivative scatters δ back) and mixes them with constant weights, so it is
differentiable to any order and reads each output's sources only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..registry import register_composite
from . import _draw_pool, _naive
from ._windows import per_axis
from .pool import PlaneGather
from .pool_functions import adaptive_avg_pool1d, adaptive_avg_pool2d

_MODES = {"nearest": (1, 2), "linear": (1,), "bilinear": (2,), "area": (1, 2)}


def nearest_source(length: int, out: int, scale: float | None) -> np.ndarray:
    """PyTorch's 'nearest' source of every output index: ⌊o · L/O⌋ in float32, at most L − 1."""
    if out == length:
        return np.arange(out)
    if out == 2 * length:
        return np.arange(out) >> 1
    step = np.float32(1.0 / scale) if scale else np.float32(length) / np.float32(out)
    return np.minimum(np.floor(np.arange(out, dtype=np.float32) * step).astype(np.int64), length - 1)


def linear_source(length: int, out: int, align_corners: bool, scale: float | None, dtype: Any) -> tuple[Any, ...]:
    """(i₀, i₁, λ₀, λ₁): output o = λ₀·x[i₀] + λ₁·x[i₁], with PyTorch's source coordinate
    (corners aligned: o·(L − 1)/(O − 1); else (o + ½)·L/O − ½, clamped at 0)."""
    dtype = np.dtype(dtype).type
    o = np.arange(out, dtype=dtype)
    if align_corners:
        step = dtype(length - 1) / dtype(out - 1) if out > 1 else dtype(0)
        source = step * o
    else:
        step = dtype(1.0 / scale) if scale else dtype(length) / dtype(out)
        source = np.maximum(step * (o + dtype(0.5)) - dtype(0.5), dtype(0))
    low = np.minimum(np.floor(source).astype(np.int64), length - 1)
    upper = np.clip(source - low, 0, 1).astype(dtype)
    return low, low + (low < length - 1), (1 - upper).astype(dtype), upper


def _sizes(input: Any, dims: int, size: Any, scale_factor: Any, recompute: Any) -> tuple[tuple[int, ...], Any]:
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    spatial = input.shape[2:]
    if size is not None:
        return per_axis(size, dims, "size", "interpolate"), (None,) * dims
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * dims
    if len(factors) != dims or not all(isinstance(f, (int, float)) and f > 0 for f in factors):
        raise ValueError(f"interpolate: scale_factor must be a positive number or {dims} of them, got {scale_factor!r}")
    out = tuple(math.floor(n * float(f)) for n, f in zip(spatial, factors))
    return out, ((None,) * dims if recompute else tuple(float(f) for f in factors))


@register_composite(
    reference=_naive.interpolate, shapes=_draw_pool.interpolate, functional="interpolate",
)  # fmt: skip
def interpolate(
    input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest", align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None, antialias: bool = False,
) -> Any:  # fmt: skip
    """Resize (N, C, L) or (N, C, H, W) to ``size`` or by ``scale_factor``, as PyTorch's ``F.interpolate``.

    ``mode``: 'nearest' (⌊o·L/O⌋), 'linear' (3-D input) or 'bilinear' (4-D; ``align_corners``
    maps corner pixel centres onto each other), or 'area' (adaptive average pooling).
    """
    dims = input.ndim - 2
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode must be one of {sorted(_MODES)}, got {mode!r}")
    if dims not in _MODES[mode]:
        wanted = " or ".join(f"{d + 2}-D" for d in _MODES[mode])
        raise ValueError(f"interpolate: mode {mode!r} needs a {wanted} input, got shape {input.shape}")
    if antialias:
        raise ValueError("interpolate: antialias=True is not supported")
    if align_corners is not None and mode not in ("linear", "bilinear"):
        raise ValueError("interpolate: align_corners can only be set with the interpolating modes linear and bilinear")
    out, scales = _sizes(input, dims, size, scale_factor, recompute_scale_factor)
    if any(o < 1 for o in out):
        raise ValueError(f"interpolate: the output size {out} must be at least 1 along every axis")
    spatial = input.shape[2:]
    if mode == "area":
        return (adaptive_avg_pool1d if dims == 1 else adaptive_avg_pool2d)(input, out)
    lead = (1, 1)
    if mode == "nearest":
        sources = [nearest_source(n, o, s) for n, o, s in zip(spatial, out, scales)]
        index = sources[0] if dims == 1 else sources[0][:, None] * spatial[1] + sources[1][None, :]
        return PlaneGather.apply(input, index=index.reshape(lead + out), dims=dims)
    taps = [linear_source(n, o, bool(align_corners), s, input.dtype) for n, o, s in zip(spatial, out, scales)]
    if dims == 1:
        low, high, w_low, w_high = taps[0]
        x0 = PlaneGather.apply(input, index=low.reshape(lead + out), dims=1)
        x1 = PlaneGather.apply(input, index=high.reshape(lead + out), dims=1)
        return x0 * w_low + x1 * w_high
    (h0, h1, wh0, wh1), (c0, c1, wc0, wc1) = taps
    width = spatial[1]

    def row(h: np.ndarray) -> Any:  # λ₀·x[h, c₀] + λ₁·x[h, c₁] along the width, as PyTorch's inner sum
        left = PlaneGather.apply(input, index=(h[:, None] * width + c0[None, :]).reshape(lead + out), dims=2)
        right = PlaneGather.apply(input, index=(h[:, None] * width + c1[None, :]).reshape(lead + out), dims=2)
        return left * wc0 + right * wc1

    return row(h0) * wh0[:, None] + row(h1) * wh1[:, None]


@register_composite(
    reference=_naive.pixel_shuffle, shapes=_draw_pool.pixel_shuffle, functional="pixel_shuffle",
)  # fmt: skip
def pixel_shuffle(input: Any, upscale_factor: int) -> Any:
    """(*, C·r², H, W) → (*, C, H·r, W·r): z[…, c, h·r + i, w·r + j] = x[…, c·r² + i·r + j, h, w]."""
    r = upscale_factor
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 1:
        raise ValueError(f"pixel_shuffle: upscale_factor must be a positive int, got {r!r}")
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise ValueError(
            f"pixel_shuffle: input must have shape (*, C·{r * r}, H, W) for upscale_factor {r}, got {input.shape}"
        )
    *lead, c, h, w = input.shape
    n = len(lead)
    blocks = input.reshape((*lead, c // (r * r), r, r, h, w))
    moved = blocks.transpose((*range(n), n, n + 3, n + 1, n + 4, n + 2))
    return moved.reshape((*lead, c // (r * r), h * r, w * r))


@register_composite(
    reference=_naive.pixel_unshuffle, shapes=_draw_pool.pixel_unshuffle, functional="pixel_unshuffle",
)  # fmt: skip
def pixel_unshuffle(input: Any, downscale_factor: int) -> Any:
    """(*, C, H·r, W·r) → (*, C·r², H, W), the inverse of ``pixel_shuffle``:
    z[…, c·r² + i·r + j, h, w] = x[…, c, h·r + i, w·r + j]."""
    r = downscale_factor
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 1:
        raise ValueError(f"pixel_unshuffle: downscale_factor must be a positive int, got {r!r}")
    if input.ndim < 3 or input.shape[-2] % r or input.shape[-1] % r:
        raise ValueError(
            f"pixel_unshuffle: input must have shape (*, C, H·{r}, W·{r}) for downscale_factor {r}, got {input.shape}"
        )
    *lead, c, h, w = input.shape
    n = len(lead)
    blocks = input.reshape((*lead, c, h // r, r, w // r, r))
    moved = blocks.transpose((*range(n), n, n + 2, n + 4, n + 1, n + 3))
    return moved.reshape((*lead, c * r * r, h // r, w // r))
