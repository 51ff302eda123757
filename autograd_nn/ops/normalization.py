"""Normalisation: ``Standardize`` (x̂ = (x − μ)/√(σ² + ε) over some axes, one fused node),
and the functional forms built on it with PyTorch's signatures: ``layer_norm``,
``group_norm``, ``rms_norm`` and ``normalize`` (``batch_norm`` and ``instance_norm``, which
keep running statistics, are in ``ops/batch_norm.py``).

Each layer is Standardize followed by its affine map (x̂·w + b, two cheap nodes): the
statistics, the part that costs passes over the data and a careful derivative, are one
primitive with a vectorised backward.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_composite, register_op
from ._recompute import recorded


def _statistics(x: Any, axes: tuple[int, ...], eps: float) -> tuple[Any, Any, Any]:
    """Mean, biased variance and 1/√(σ² + ε) over ``axes`` (kept), for arrays or Tensors."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    return mean, var, (var + eps) ** -0.5


def _standardize_primitives(x: Any, axes: tuple[int, ...], eps: float = 1e-5, update: Any = None) -> Any:
    """What Standardize computes, in primitives: (x − mean) · (var + ε)^(−½)."""
    mean, _, rstd = _statistics(x, axes, eps)
    return (x - mean) * rstd


def small_shape(draw: Any, min_dims: int = 1, max_dims: int = 3) -> tuple[int, ...]:
    """A shape for the shared property test: at most 3 axes of at most 3 (finite differences are costly)."""
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    return tuple(draw(st.lists(st.integers(1, 3), min_size=min_dims, max_size=max_dims)))


def drawn_eps(draw: Any) -> float:
    """ε for contract examples: large enough that finite differences stay well conditioned."""
    from hypothesis import strategies as st

    return draw(st.sampled_from((0.01, 0.5)))


def _standardize_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st

    shape = small_shape(draw)
    axes = draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))
    return [shape], {"axes": tuple(sorted(axes)), "eps": drawn_eps(draw)}


def _standardize_reference(x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    return (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


@register_op(reference=_standardize_reference, shapes=_standardize_shapes, decomposition=_standardize_primitives)
class Standardize(Function):
    """x̂ = (x − μ)/√(σ² + ε) over axes;  δx = (δx̂ − mean δx̂ − x̂ · mean(δx̂ ⊙ x̂)) / √(σ² + ε)

    μ and σ² (biased) are taken over ``axes``. ``update``, if given, is called with the
    batch's ``(mean, var, count)`` (kept axes): how BatchNorm keeps its running averages
    without a second pass over the data.
    """

    @staticmethod
    def forward(
        ctx: Any, x: Any, *, axes: tuple[int, ...], eps: float = 1e-5, update: Callable[..., None] | None = None
    ) -> Any:
        x = np.asanyarray(x)
        mean, var, rstd = _statistics(x, axes, eps)
        xhat = x - mean
        xhat *= rstd  # a fresh buffer of ours: scale it in place
        if update is not None:
            update(mean, var, math.prod(x.shape[a] for a in axes))
        ctx.save_for_backward(x, xhat)
        ctx.axes, ctx.eps, ctx.rstd = axes, eps, rstd
        return xhat

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, xhat = ctx.saved_tensors
        axes = ctx.axes
        rstd = _statistics(x, axes, ctx.eps)[2] if recorded(ctx, grad) else ctx.rstd
        mean_grad = grad.mean(axis=axes, keepdims=True)
        mean_projection = (grad * xhat).mean(axis=axes, keepdims=True)
        return (grad - mean_grad - xhat * mean_projection) * rstd


# ------------------------------------------------------------------ functional forms
def last_axes(x: Any, normalized_shape: Any, op_name: str) -> tuple[int, ...]:
    """The axes of ``x`` that ``normalized_shape`` names (its trailing ones), checked."""
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k :]) != tuple(int(n) for n in shape):
        raise ValueError(
            f"{op_name}: given normalized_shape={list(shape)}, expected input with shape [*, "
            f"{', '.join(map(str, shape))}], but got input of shape {tuple(x.shape)}"
        )
    return tuple(range(x.ndim - k, x.ndim))


def _check_affine(name: str, value: Any, shape: tuple[int, ...], op_name: str) -> None:
    if value is not None and tuple(np.shape(value)) != tuple(shape):
        raise ValueError(f"{op_name}: {name} must have shape {tuple(shape)}, got {tuple(np.shape(value))}")


def affine(y: Any, weight: Any, bias: Any) -> Any:
    """y · w + b, skipping what is None."""
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def how_many(draw: Any, most: int = 3) -> int:
    """How many of (input, weight, bias) a contract example passes (1: no affine map)."""
    from hypothesis import strategies as st

    return draw(st.integers(1, most))


def _layer_norm_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st

    shape = small_shape(draw)
    normalized = shape[len(shape) - draw(st.integers(1, len(shape))) :]
    return [shape, normalized, normalized][: how_many(draw)], {"normalized_shape": normalized, "eps": drawn_eps(draw)}


def _layer_norm_reference(x: np.ndarray, w: Any = None, b: Any = None, *, normalized_shape: Any, eps: float) -> Any:
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    y = _standardize_reference(x, axes, eps)
    return y * (1 if w is None else w) + (0 if b is None else b)


def _layer_norm_args(
    input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return (input, weight, bias), {"normalized_shape": normalized_shape, "eps": eps}


def _layer_norm_call(inputs: Any, params: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    x, w, b = (list(inputs) + [None, None])[:3]
    return (x, params["normalized_shape"], w, b), {"eps": params["eps"]}


@register_composite(
    arity=1, shapes=_layer_norm_shapes, reference=_layer_norm_reference, functional="layer_norm",
    parse=_layer_norm_args, arguments=_layer_norm_call,
)  # fmt: skip
def layer_norm(input: Any, weight: Any = None, bias: Any = None, *, normalized_shape: Any, eps: float = 1e-5) -> Any:
    """y = x̂ · w + b, x̂ standardised over the trailing ``normalized_shape`` axes (PyTorch's ``F.layer_norm``)."""
    axes = last_axes(input, normalized_shape, "layer_norm")
    normalized = input.shape[axes[0] :]
    _check_affine("weight", weight, normalized, "layer_norm")
    _check_affine("bias", bias, normalized, "layer_norm")
    return affine(Standardize.apply(input, axes=axes, eps=eps), weight, bias)


def channel_view(value: Any, ndim: int) -> Any:
    """A per-channel vector (C,) shaped (C, 1, …, 1) to broadcast over (N, C, *spatial)."""
    return None if value is None else value.reshape((-1,) + (1,) * (ndim - 2))


def _group_norm_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st

    groups = draw(st.integers(1, 2))
    channels = groups * draw(st.integers(1, 2))
    shape = (draw(st.integers(1, 2)), channels) + tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
    shapes = [shape, (channels,), (channels,)][: how_many(draw)]
    return shapes, {"num_groups": groups, "eps": drawn_eps(draw)}


def _group_norm_reference(x: np.ndarray, w: Any = None, b: Any = None, *, num_groups: int, eps: float) -> Any:
    grouped = x.reshape(x.shape[0], num_groups, -1)
    y = _standardize_reference(grouped, (2,), eps).reshape(x.shape)
    view = (-1,) + (1,) * (x.ndim - 2)
    return y * (1 if w is None else w.reshape(view)) + (0 if b is None else b.reshape(view))


def _group_norm_args(
    input: Any, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return (input, weight, bias), {"num_groups": num_groups, "eps": eps}


def _group_norm_call(inputs: Any, params: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    x, w, b = (list(inputs) + [None, None])[:3]
    return (x, params["num_groups"], w, b), {"eps": params["eps"]}


@register_composite(
    arity=1, shapes=_group_norm_shapes, reference=_group_norm_reference, functional="group_norm",
    parse=_group_norm_args, arguments=_group_norm_call,
)  # fmt: skip
def group_norm(input: Any, weight: Any = None, bias: Any = None, *, num_groups: int, eps: float = 1e-5) -> Any:
    """Standardise each group of C/G channels of (N, C, …) over its channels and positions,
    then y = x̂ · w_c + b_c per channel (PyTorch's ``F.group_norm``)."""
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected input of shape (N, C, *), got shape {input.shape}")
    channels = input.shape[1]
    if num_groups < 1 or channels % num_groups:
        raise ValueError(f"group_norm: {channels} channels cannot be split into num_groups={num_groups} groups")
    _check_affine("weight", weight, (channels,), "group_norm")
    _check_affine("bias", bias, (channels,), "group_norm")
    grouped = input.reshape(input.shape[0], num_groups, -1)
    y = Standardize.apply(grouped, axes=(2,), eps=eps).reshape(input.shape)
    return affine(y, channel_view(weight, input.ndim), channel_view(bias, input.ndim))


def _rms_norm_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st

    shape = small_shape(draw)
    normalized = shape[len(shape) - draw(st.integers(1, len(shape))) :]
    return [shape, normalized][: how_many(draw, 2)], {"normalized_shape": normalized, "eps": drawn_eps(draw)}


def _rms_norm_reference(x: np.ndarray, w: Any = None, *, normalized_shape: Any, eps: float) -> Any:
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    y = x / np.sqrt((x**2).mean(axis=axes, keepdims=True) + eps)
    return y if w is None else y * w


def _rms_norm_args(
    input: Any, normalized_shape: Any, weight: Any = None, eps: float | None = None
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return (input, weight), {"normalized_shape": normalized_shape, "eps": eps}


def _rms_norm_call(inputs: Any, params: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    x, w = (list(inputs) + [None])[:2]
    return (x, params["normalized_shape"], w), {"eps": params["eps"]}


@register_composite(
    arity=1, shapes=_rms_norm_shapes, reference=_rms_norm_reference, functional="rms_norm", parse=_rms_norm_args,
    arguments=_rms_norm_call,
)  # fmt: skip
def rms_norm(input: Any, weight: Any = None, *, normalized_shape: Any, eps: float | None = None) -> Any:
    """y = x / √(mean(x²) + ε) · w over the trailing ``normalized_shape`` axes (PyTorch's
    ``F.rms_norm``; ``eps=None`` is the machine epsilon of the input's dtype, as there)."""
    axes = last_axes(input, normalized_shape, "rms_norm")
    _check_affine("weight", weight, input.shape[axes[0] :], "rms_norm")
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    y = input * ((input * input).mean(axis=axes, keepdims=True) + eps) ** -0.5
    return affine(y, weight, None)


def _normalize_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st

    shape = small_shape(draw)
    return [shape], {"dim": draw(st.integers(-len(shape), len(shape) - 1)), "p": draw(st.sampled_from((1.0, 2.0, 3.0)))}


def _normalize_reference(x: np.ndarray, p: float, dim: int, eps: float = 1e-12) -> np.ndarray:
    norm = np.linalg.norm(x, ord=p, axis=dim, keepdims=True) if x.ndim > 0 else np.abs(x)
    return x / np.maximum(norm, eps)


@register_composite(
    shapes=_normalize_shapes, reference=_normalize_reference, kinks=[0.0], functional="normalize"
)
def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Any:
    """y = x / max(‖x‖ₚ, ε) along ``dim`` (PyTorch's ``F.normalize``; a zero vector stays zero).

    Written as x / max(Σ|x|ᵖ, εᵖ)^(1/p), the same value, so that at a zero vector the
    root is taken of εᵖ > 0 and the derivative is finite (0), as PyTorch's is.
    """
    if not (p > 0):
        raise ValueError(f"normalize: p must be positive, got {p}")
    magnitude = input.abs()
    if math.isinf(p):
        return input / magnitude.max(axis=dim, keepdims=True).clip(eps, None)
    if p == 2:
        total = (input * input).sum(axis=dim, keepdims=True)
    else:
        total = (magnitude**p).sum(axis=dim, keepdims=True)
    return input * total.clip(eps**p, None) ** (-1.0 / p)
