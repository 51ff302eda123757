"""Losses as modules, with PyTorch's names, arguments and buffers: ``loss_fn(input, target)``
with ``reduction='mean' | 'sum' | 'none'``; each calls its function in ``functional``.

Class weights (``weight``, ``pos_weight``) are buffers, as in PyTorch, so they move with
``state_dict`` and ``to(dtype)``.
"""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..creation import as_tensor
from ..tensor import Tensor
from .module import Module

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    _reductions: tuple[str, ...] = _REDUCTIONS

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in self._reductions:
            allowed = ", ".join(repr(r) for r in self._reductions)
            raise ValueError(f"{type(self).__name__}: reduction must be one of {allowed}, got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight: Any = None, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", None if weight is None else as_tensor(weight))


class MSELoss(_Loss):
    """C = (1/n) Σ (ŷ − y)², PyTorch's definition (the post's cost ½·(1/n) Σ‖ŷ − y‖² is half of
    it per output); see ``functional.mse_loss``."""

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002 - PyTorch's names
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """ℓ = abs(ŷ − y); see ``functional.l1_loss``."""

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """ℓ = ½d²/β for abs(d) < β, else abs(d) − ½β; see ``functional.smooth_l1_loss``."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """ℓ = ½d² for abs(d) < δ, else δ(abs(d) − ½δ); see ``functional.huber_loss``."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class NLLLoss(_WeightedLoss):
    """C = −w_y · input_y on log-probabilities; see ``functional.nll_loss``."""

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits (N, C, …) against class labels or probabilities, with
    ``weight``, ``ignore_index`` and ``label_smoothing``; see ``functional.cross_entropy``."""

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):  # fmt: skip
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)  # fmt: skip


class KLDivLoss(_Loss):
    """ℓ = y (ln y − x) on log-probabilities x; ``reduction='batchmean'`` is the KL divergence
    proper; see ``functional.kl_div``."""

    _reductions = (*_REDUCTIONS, "batchmean")

    def __init__(self, reduction: str = "mean", log_target: bool = False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class BCELoss(_WeightedLoss):
    """ℓ = −w [y ln p + (1 − y) ln(1 − p)] on probabilities; see ``functional.binary_cross_entropy``."""

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """ℓ = −w [q y ln σ(z) + (1 − y) ln(1 − σ(z))] on logits z, computed stably; see
    ``functional.binary_cross_entropy_with_logits``."""

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None):
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", None if pos_weight is None else as_tensor(pos_weight))

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)  # fmt: skip


class CosineEmbeddingLoss(_Loss):
    """ℓ = 1 − cos(x₁, x₂) where y = 1, max(0, cos − margin) where y = −1."""

    def __init__(self, margin: float = 0.0, reduction: str = "mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1: Any, input2: Any, target: Any) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """ℓ = max(0, −y (x₁ − x₂) + margin)."""

    def __init__(self, margin: float = 0.0, reduction: str = "mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1: Any, input2: Any, target: Any) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """ℓ = max(margin + d(a, p) − d(a, n), 0) with the pairwise p-distance d."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 reduction: str = "mean"):  # fmt: skip
        super().__init__(reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Any, positive: Any, negative: Any) -> Tensor:
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)  # fmt: skip


class CosineSimilarity(Module):
    """cos(x₁, x₂) along ``dim``; see ``functional.cosine_similarity``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Any, x2: Any) -> Tensor:
        return F.cosine_similarity(x1, x2, axis=self.dim, eps=self.eps)


class PairwiseDistance(Module):
    """‖x₁ − x₂ + ε‖ₚ along the last axis; see ``functional.pairwise_distance``."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Any, x2: Any) -> Tensor:
        return F.pairwise_distance(x1, x2, p=self.norm, eps=self.eps, keepdim=self.keepdim)
