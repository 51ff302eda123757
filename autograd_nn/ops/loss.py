"""Loss primitives that need a dedicated, numerically careful derivative."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function, register_op

_LOG_FLOOR = -100.0  # as PyTorch: log p is clamped so p = 0 gives a finite loss
_EPS = 1e-12  # as PyTorch: the gradient's denominator p(1 − p) is at least this


@register_op(
    reference=lambda p, target: -(target * np.log(p) + (1 - target) * np.log(1 - p)),
    domain=(0.02, 0.98),
    params={"target": "probabilities"},
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
        (p,) = ctx.saved
        return grad * (p - ctx.target) / ctx.xp.maximum(p * (1 - p), _EPS)
