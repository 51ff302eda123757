"""Similarities, distances and the losses built on them, with PyTorch's semantics
(``autograd_nn.functional``): ``cosine_similarity``, ``pairwise_distance``,
``cosine_embedding_loss``, ``margin_ranking_loss``, ``triplet_margin_loss``.

Their property tests draw inputs from intervals that keep each hinge max(0, ·) away from
its corner, where the derivative jumps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._record import array_of
from ..registry import register_composite
from .arithmetic import Maximum, Minimum, Where
from .loss import REDUCTIONS, reduce, reduce_reference
from .norm import VectorNorm

_AWAY_FROM_ZERO = ((-3, -0.5), (0.5, 3))


def _rows(draw: Any, count: int) -> list[tuple[int, ...]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = draw(st.sampled_from([(draw(st.integers(1, 3)),), (draw(st.integers(1, 3)), draw(st.integers(1, 3)))]))
    return [shape] * count


def _cosine_reference(x1: np.ndarray, x2: np.ndarray, axis: int, eps: float) -> np.ndarray:
    n1 = np.maximum(np.linalg.norm(x1, axis=axis, keepdims=True), eps)
    n2 = np.maximum(np.linalg.norm(x2, axis=axis, keepdims=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(axis=axis)


@register_composite(
    reference=lambda x1, x2, axis, eps: _cosine_reference(x1, x2, axis, eps), domain=_AWAY_FROM_ZERO,
    shapes=lambda draw: (_rows(draw, 2), {"axis": -1, "eps": 1e-8}), functional="cosine_similarity",
)  # fmt: skip
def cosine_similarity(x1: Any, x2: Any, axis: int = 1, eps: float = 1e-8) -> Any:
    """cos = Σ (x₁ / max(‖x₁‖, ε)) (x₂ / max(‖x₂‖, ε)) along ``axis`` (``dim=``), as PyTorch"""
    n1 = Maximum.apply(VectorNorm.apply(x1, ord=2, axis=axis, keepdims=True), eps)
    n2 = Maximum.apply(VectorNorm.apply(x2, ord=2, axis=axis, keepdims=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(axis=axis)


@register_composite(
    reference=lambda x1, x2, p, eps, keepdim: np.linalg.norm(x1 - x2 + eps, ord=p, axis=-1, keepdims=keepdim),
    shapes=lambda draw: (_rows(draw, 2), {}), domain=[(-3, -1), (1, 3)],
    params={"p": (2.0, 1.5), "eps": (1e-6,), "keepdim": (False, True)}, functional="pairwise_distance",
)  # fmt: skip
def pairwise_distance(x1: Any, x2: Any, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Any:
    """‖x₁ − x₂ + ε‖ₚ along the last axis, as PyTorch"""
    return VectorNorm.apply(x1 - x2 + eps, ord=p, axis=-1, keepdims=keepdim)


def _cosine_embedding_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shapes = _rows(draw, 2)
    labels = np.array(draw(st.lists(st.sampled_from([-1, 1]), min_size=1, max_size=1) if len(shapes[0]) == 1 else
                           st.lists(st.sampled_from([-1, 1]), min_size=shapes[0][0], max_size=shapes[0][0])))  # fmt: skip
    target = labels[0] if len(shapes[0]) == 1 else labels
    return shapes, {"target": target, "margin": draw(st.sampled_from([0.5, -0.3])),
                    "reduction": draw(st.sampled_from(["mean", "sum", "none"]))}  # fmt: skip


def _cosine_embedding_reference(x1: np.ndarray, x2: np.ndarray, target: Any, margin: float, reduction: str) -> Any:
    axis = -1
    cos = (x1 * x2).sum(axis) / np.sqrt(((x1 * x1).sum(axis) + 1e-12) * ((x2 * x2).sum(axis) + 1e-12))
    return reduce_reference(np.where(target == 1, 1 - cos, np.maximum(cos - margin, 0)), reduction)


@register_composite(
    reference=_cosine_embedding_reference, shapes=_cosine_embedding_shapes, domain=_AWAY_FROM_ZERO, arity=2,
    functional="cosine_embedding_loss",
)  # fmt: skip
def cosine_embedding_loss(x1: Any, x2: Any, target: Any, margin: float = 0.0, reduction: str = "mean") -> Any:
    """ℓ = 1 − cos(x₁, x₂) where y = 1, max(0, cos − margin) where y = −1, with PyTorch's
    cos = x₁·x₂ / √((‖x₁‖² + 10⁻¹²)(‖x₂‖² + 10⁻¹²)) along the last axis of (N, D) or (D,) inputs"""
    labels = np.asanyarray(array_of(target))
    if not np.all(np.isin(labels, (-1, 1))):
        raise ValueError(f"cosine_embedding_loss: target must hold 1 or -1, got {np.unique(labels)}")
    squares1, squares2 = (x1 * x1).sum(axis=-1) + 1e-12, (x2 * x2).sum(axis=-1) + 1e-12
    cos = (x1 * x2).sum(axis=-1) / (squares1 * squares2).sqrt()
    loss = Where.apply(1 - cos, (cos - margin).clip(a_min=0), condition=np.asanyarray(labels == 1))
    return reduce(loss, reduction, "cosine_embedding_loss")


# x₁ − x₂ is near 0 or near 2, y near ±1: −y(x₁ − x₂) + 0.5 is never near 0.
_RANKING = [((-0.1, 0.1), (1.9, 2.1)), (-0.1, 0.1), ((-1.2, -0.8), (0.8, 1.2))]


@register_composite(
    reference=lambda x1, x2, y, margin, reduction: reduce_reference(np.maximum(0, -y * (x1 - x2) + margin), reduction),
    shapes="same", domain=_RANKING, params={**REDUCTIONS, "margin": (0.5,)}, functional="margin_ranking_loss",
)  # fmt: skip
def margin_ranking_loss(x1: Any, x2: Any, target: Any, margin: float = 0.0, reduction: str = "mean") -> Any:
    """ℓ = max(0, −y (x₁ − x₂) + margin) for y = ±1 (x₁ should rank above x₂ where y = 1)"""
    return reduce((-target * (x1 - x2) + margin).clip(a_min=0), reduction, "margin_ranking_loss")


# The anchor is near 0, the positive 0.3–0.4 away, the negative either near (−0.5 … −0.3) or
# far (≈ 3): margin 1 + d(a, p) − d(a, n) is then clearly positive or clearly negative.
_TRIPLETS = [(-0.1, 0.1), (0.3, 0.4), ((-0.5, -0.3), (2.9, 3.1))]


def _triplet_reference(a: np.ndarray, p: np.ndarray, n: np.ndarray, margin: float, swap: bool,
                       reduction: str) -> Any:  # fmt: skip
    def distance(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.linalg.norm(u - v + 1e-6, axis=-1)

    d_an = np.minimum(distance(a, n), distance(p, n)) if swap else distance(a, n)
    return reduce_reference(np.maximum(margin + distance(a, p) - d_an, 0), reduction)


@register_composite(
    reference=_triplet_reference, shapes=lambda draw: (_rows(draw, 3), {}), domain=_TRIPLETS,
    params={"margin": (1.0,), "swap": (False, True), **REDUCTIONS}, functional="triplet_margin_loss",
)  # fmt: skip
def triplet_margin_loss(anchor: Any, positive: Any, negative: Any, margin: float = 1.0, p: float = 2.0,
                        eps: float = 1e-6, swap: bool = False, reduction: str = "mean") -> Any:  # fmt: skip
    """ℓ = max(margin + d(a, p) − d(a, n), 0), d the pairwise p-distance; ``swap=True`` uses
    min(d(a, n), d(p, n)) for the negative, as PyTorch"""
    to_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        to_negative = Minimum.apply(to_negative, pairwise_distance(positive, negative, p, eps))
    return reduce((pairwise_distance(anchor, positive, p, eps) - to_negative + margin).clip(a_min=0), reduction,
                  "triplet_margin_loss")  # fmt: skip
