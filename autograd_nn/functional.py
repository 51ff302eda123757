"""User-facing functions (``autograd_nn.functional``, usually imported as ``F``).

Every op declared with a function name appears here, generated from the registry
(``exp``, ``sigmoid``, ``matmul``, ``linear``, ``sum``, ``where``, …); the top-level
``autograd_nn.exp`` and friends are the same functions. Defined here, as composites of
those ops, are the losses and ``dropout``; they follow PyTorch's names, argument order
``(input, target)`` and ``reduction='mean' | 'sum' | 'none'``.

Functions accept Tensors, ndarrays, lists and scalars.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _tracing
from ._surface import public_functions
from .creation import as_tensor
from .ops._random import uniform
from .ops.loss import BinaryCrossEntropy, MseLoss
from .registry import builtin_specs, register_composite
from .tensor import Tensor

TOP_LEVEL, _FUNCTIONAL_ONLY = public_functions(as_tensor)
globals().update(TOP_LEVEL)
globals().update(_FUNCTIONAL_ONLY)

REDUCTIONS = {"reduction": ("mean", "sum", "none")}


def _reduce_reference(loss: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](loss)


def _log_softmax_reference(z: np.ndarray) -> np.ndarray:
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _logits(draw: Any) -> tuple[list[tuple[int, int]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    return [(draw(st.integers(1, 4)), draw(st.integers(1, 4)))], {}


@register_composite(
    arity=1,
    reference=lambda x, p, rng: np.where(np.random.default_rng(rng).random(x.shape) >= p, x / (1 - p), 0.0),
    params={"p": (0.0, 0.25, 0.5), "rng": (7,)},
)
def dropout(x: Any, p: float = 0.5, training: bool = True, rng: np.random.Generator | int | None = None) -> Tensor:
    """aᵢ ← aᵢ · mᵢ / (1 − p), mᵢ ~ Bernoulli(1 − p): zero each element with probability ``p``.

    ``rng`` is a ``numpy.random.Generator`` or a seed (None: fresh entropy).
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    x = as_tensor(x)
    if not training or p == 0:
        return x
    if p == 1:
        return x * np.zeros(x.shape, dtype=x.dtype)
    keep = (uniform(rng, x.shape) >= p).astype(x.dtype)  # (a compiled step draws afresh, as eager)
    return x * (keep / np.asarray(1 - p, dtype=x.dtype))


# --- losses ------------------------------------------------------------------
def _reduce(loss: Tensor, reduction: str, op_name: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op_name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _same_shape(input: Tensor, target: Any, op_name: str) -> None:
    if np.shape(target) != input.shape:
        raise ValueError(
            f"{op_name}: input has shape {input.shape} but target has shape {np.shape(target)}; they must match"
        )


@register_composite(shapes="same", reference=lambda x, y, reduction: _reduce_reference((x - y) ** 2, reduction),
                    params=REDUCTIONS)  # fmt: skip
def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """C = (1/n) Σ (ŷ − y)²  (PyTorch's definition; the post's cost is half of this).

    δ for ŷ is 2(ŷ − y)/n. ``input`` and ``target`` must have the same shape: silent
    broadcasting of (n,) against (n, 1) is a classic bug.
    """
    input = as_tensor(input)
    _same_shape(input, target, "mse_loss")
    if reduction in ("mean", "sum"):
        return MseLoss.apply(input, target, reduction=reduction)
    difference = input - target
    return _reduce(difference * difference, reduction, "mse_loss")


@register_composite(
    name="cross_entropy(labels)", arity=1, shapes=_logits, params={"target": "labels", **REDUCTIONS},
    reference=lambda z, target, reduction: _reduce_reference(
        -_log_softmax_reference(z)[np.arange(len(z)), target], reduction),
)  # fmt: skip
@register_composite(
    name="cross_entropy(probabilities)", arity=1, shapes=_logits, params={"target": "probabilities", **REDUCTIONS},
    reference=lambda z, target, reduction: _reduce_reference(-(_log_softmax_reference(z) * target).sum(axis=1),
                                                             reduction),
)  # fmt: skip
def cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """C = −Σₖ yₖ ln softmax(z)ₖ: softmax cross-entropy of logits ``input`` (N, C) against ``target``.

    ``target`` is either integer class labels of shape (N,) in [0, C), or class
    probabilities of shape (N, C). Computed through log_softmax, so it stays finite
    for any finite logits.
    """
    input = as_tensor(input)
    if input.ndim != 2:
        raise ValueError(f"cross_entropy: input must be logits of shape (N, C), got shape {input.shape}")
    log_p = input.log_softmax(axis=1)
    if not isinstance(target, Tensor):
        target = np.asanyarray(target)
    if np.issubdtype(target.dtype, np.integer):
        labels = target.data if isinstance(target, Tensor) else target
        n, classes = input.shape
        if labels.shape != (n,):
            raise ValueError(
                f"cross_entropy: class labels must have shape ({n},) for input of shape {input.shape}, got {labels.shape}"
            )
        if n and (labels.min() < 0 or labels.max() >= classes):
            raise ValueError(
                f"cross_entropy: class labels must be in [0, {classes}), got values in [{labels.min()}, {labels.max()}]"
            )
        # one-hot rows by comparison, not by writing into zeros: a compiled step then sees
        # them made from the labels (a write into a fresh np.zeros it could not follow)
        target = (labels[:, None] == np.arange(classes)).astype(input.dtype)
    elif target.ndim == 1:
        raise TypeError(
            f"cross_entropy: class labels must be integers, got dtype {target.dtype} for target of shape "
            f"{target.shape} (class probabilities must have the input's shape {input.shape})"
        )
    else:  # class probabilities; a Tensor target receives its δ too
        _same_shape(input, target, "cross_entropy")
        if target.dtype != input.dtype:
            target = target.astype(input.dtype)
    return _reduce(-(log_p * target).sum(axis=1), reduction, "cross_entropy")


def _sigmoid_reference(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


@register_composite(
    arity=1, domain=(-8, 8), params={"target": "probabilities", **REDUCTIONS},
    reference=lambda z, target, reduction: _reduce_reference(
        -(target * np.log(_sigmoid_reference(z)) + (1 - target) * np.log(_sigmoid_reference(-z))), reduction),
)  # fmt: skip
def binary_cross_entropy_with_logits(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """ℓ = softplus(z) − z·y = −[y ln σ(z) + (1 − y) ln(1 − σ(z))], stable for any z."""
    input = as_tensor(input)
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    target = _tracing.as_array(target.data if isinstance(target, Tensor) else target, input.dtype)
    return _reduce(input.softplus() - input * target, reduction, "binary_cross_entropy_with_logits")


@register_composite(
    arity=1, domain=(0.02, 0.98), params={"target": "probabilities", **REDUCTIONS},
    reference=lambda p, target, reduction: _reduce_reference(
        -(target * np.log(p) + (1 - target) * np.log1p(-p)), reduction),
)  # fmt: skip
def binary_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """ℓ = −[y ln p + (1 − y) ln(1 − p)] for probabilities p ∈ [0, 1] (logs clamped at −100)."""
    input = as_tensor(input)
    _same_shape(input, target, "binary_cross_entropy")
    target = _tracing.as_array(target.data if isinstance(target, Tensor) else target, input.dtype)
    return _reduce(BinaryCrossEntropy.apply(input, target=target), reduction, "binary_cross_entropy")


DEFINED_HERE = sorted({s.apply.__name__ for s in builtin_specs("composite") if s.apply.__module__ == __name__})
__all__ = sorted({*TOP_LEVEL, *_FUNCTIONAL_ONLY, *DEFINED_HERE})
