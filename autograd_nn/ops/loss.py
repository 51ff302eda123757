"""Loss primitives that need a dedicated, numerically careful derivative."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op

_LOG_FLOOR = -100.0  # as PyTorch: log p is clamped so p = 0 gives a finite loss
_EPS = 1e-12  # as PyTorch: the gradient's denominator p(1 − p) is at least this


@register_op(
    reference=lambda p, target: -(target * np.log(p) + (1 - target) * np.log(1 - p)),
    domain=(0.02, 0.98),
    params={"target": "probabilities"},
    role="loss",
)
class BinaryCrossEntropy(Function):
    """ℓ = −[y ln p + (1 − y) ln(1 − p)];  δp = δℓ · (p − y) / (p (1 − p))

    ``y`` (the target) is a constant. Logs are clamped at −100 and the denominator at
    1e-12, so p = 0 or 1 give finite losses and gradients.
    """

    @staticmethod
    def forward(ctx: Any, p: Any, *, target: Any) -> Any:
        if np.any((p < 0) | (p > 1)):
            raise ValueError(
                "binary_cross_entropy: input probabilities must lie in [0, 1], got values "
                f"in [{np.min(p):g}, {np.max(p):g}]"
            )
        ctx.save_for_backward(p)
        ctx.target = target
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), _LOG_FLOOR)
            log_not_p = np.maximum(np.log1p(-p), _LOG_FLOOR)
        return -(target * log_p + (1 - target) * log_not_p)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (p,) = ctx.saved_tensors
        return grad * (p - ctx.target) / ctx.xp.maximum(p * (1 - p), _EPS)


def _mse_primitives(x: Any, y: Any, reduction: str = "mean") -> Any:
    """What MseLoss computes, in primitives: Σ or mean of (ŷ − y)²."""
    difference = x - y
    squares = difference * difference
    return squares.mean() if reduction == "mean" else squares.sum()


@register_op(
    shapes="same",
    params={"reduction": ("mean", "sum")},
    reference=lambda x, y, reduction: getattr(np, reduction)((x - y) ** 2),
    decomposition=_mse_primitives,
    role="loss",
)
class MseLoss(Function):
    """C = (1/n) Σ (ŷ − y)²  (or Σ for reduction='sum');  δŷ = δC · 2(ŷ − y)/n,  δy = −δŷ

    One node for the whole cost, not three (subtract, square, mean), and one n-sized
    temporary (ŷ − y, squared in place). The difference is recomputed in backward from the saved
    inputs, so the formula stays differentiable under ``create_graph``.
    """

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any, *, reduction: str = "mean") -> Any:
        squares = np.subtract(x, y)
        if type(squares) is not np.ndarray:  # 0-d operands give a numpy scalar
            squares = np.asanyarray(squares)
        ctx.save_for_backward(x, y)
        np.square(squares, out=squares)  # a fresh buffer of ours: square it in place
        n = squares.size
        ctx.scale = 2.0 / max(n, 1) if reduction == "mean" else 2.0
        return squares.mean() if reduction == "mean" else squares.sum()

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        grad_x = (x - y) * (grad * ctx.scale)
        return (grad_x if need_x else None), (-grad_x if need_y else None)
