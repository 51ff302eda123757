"""Regression losses with PyTorch's semantics (``autograd_nn.functional``): ``mse_loss``,
``l1_loss``, ``smooth_l1_loss``, ``huber_loss``. Both input and target receive their δ."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._record import array_of
from ..registry import register_composite
from .arithmetic import Where
from .loss import REDUCTIONS, MseLoss, reduce, reduce_reference, same_shape

# The difference d = x − y stays away from 0 and from ±1 (the corners of the Huber losses):
# x from these, y from (−0.2, 0.2), so abs(d) < 0.8 or abs(d) > 1.3, and never 0.
_INPUTS = ((-2.9, -1.5), (-0.6, -0.3), (0.3, 0.6), (1.5, 2.9))
_DOMAIN = [_INPUTS, (-0.2, 0.2)]


@register_composite(
    shapes="same", reference=lambda x, y, reduction: reduce_reference((x - y) ** 2, reduction), params=REDUCTIONS,
    functional="mse_loss",
)  # fmt: skip
def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Any:  # noqa: A002 - PyTorch's names
    """C = (1/n) Σ (ŷ − y)²  (PyTorch's definition; the post's cost is half of this).

    δ for ŷ is 2(ŷ − y)/n. ``input`` and ``target`` must have the same shape: silent
    broadcasting of (n,) against (n, 1) is a classic bug.
    """
    same_shape(input, target, "mse_loss")
    if reduction in ("mean", "sum"):
        return MseLoss.apply(input, target, reduction=reduction)
    difference = input - target
    return reduce(difference * difference, reduction, "mse_loss")


@register_composite(
    shapes="same", reference=lambda x, y, reduction: reduce_reference(np.abs(x - y), reduction), params=REDUCTIONS,
    domain=_DOMAIN, functional="l1_loss",
)  # fmt: skip
def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Any:  # noqa: A002
    """C = mean abs(ŷ − y)  (δ for ŷ: sign(ŷ − y)/n, 0 where they are equal)"""
    same_shape(input, target, "l1_loss")
    return reduce((input - target).abs(), reduction, "l1_loss")


def _huber(d: Any, width: float, scale: float) -> Any:
    """½d²/scale inside abs(d) < width, else width/scale · (abs(d) − ½width): quadratic, then linear."""
    size = d.abs()
    inside = np.asanyarray(np.abs(array_of(d)) < width)
    return Where.apply(d * d * (0.5 / scale), (size - 0.5 * width) * (width / scale), condition=inside)


def _smooth_l1_reference(x: np.ndarray, y: np.ndarray, reduction: str, beta: float) -> np.ndarray:
    d = np.abs(x - y)
    return reduce_reference(np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


@register_composite(
    shapes="same", reference=_smooth_l1_reference, params={**REDUCTIONS, "beta": (1.0,)}, domain=_DOMAIN,
    functional="smooth_l1_loss",
)  # fmt: skip
def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> Any:  # noqa: A002
    """ℓ = ½d²/β for abs(d) < β, else abs(d) − ½β, with d = ŷ − y (``beta=0``: the L1 loss)"""
    same_shape(input, target, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)
    return reduce(_huber(input - target, beta, beta), reduction, "smooth_l1_loss")


def _huber_reference(x: np.ndarray, y: np.ndarray, reduction: str, delta: float) -> np.ndarray:
    d = np.abs(x - y)
    return reduce_reference(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


@register_composite(
    shapes="same", reference=_huber_reference, params={**REDUCTIONS, "delta": (1.0,)}, domain=_DOMAIN,
    functional="huber_loss",
)  # fmt: skip
def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Any:  # noqa: A002
    """ℓ = ½d² for abs(d) < δ, else δ(abs(d) − ½δ), with d = ŷ − y (δ · smooth_l1 with β = δ)"""
    same_shape(input, target, "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    return reduce(_huber(input - target, delta, 1.0), reduction, "huber_loss")
