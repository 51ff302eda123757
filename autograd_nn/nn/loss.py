"""Losses as modules: ``loss_fn(input, target)`` with ``reduction='mean' | 'sum' | 'none'``."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..tensor import Tensor
from .module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """C = (1/n) Σ (ŷ − y)², PyTorch's definition (the post's cost ½·(1/n) Σ‖ŷ − y‖² is half of
    it per output); see ``functional.mse_loss``."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, C) against class labels (N,) or probabilities (N, C)."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.cross_entropy(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """ℓ = −[y ln σ(z) + (1 − y) ln(1 − σ(z))] on logits z, computed stably."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)
