"""User-facing functions: elementwise math, activations and losses (``autograd_nn.functional``,
usually imported as ``F``).

Functions accept Tensors, ndarrays, lists and scalars. Losses follow PyTorch's names,
argument order ``(input, target)`` and ``reduction='mean' | 'sum' | 'none'``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .ops import (
    Abs,
    BinaryCrossEntropy,
    Exp,
    LeakyRelu,
    Linear,
    Log,
    LogSoftmax,
    Matmul,
    MseLoss,
    Relu,
    Sigmoid,
    Softmax,
    Softplus,
    Sqrt,
    Tanh,
)  # fmt: skip
from .tensor import Tensor, as_tensor, concatenate, maximum, minimum, stack, where

__all__ = [
    "abs", "binary_cross_entropy", "binary_cross_entropy_with_logits", "broadcast_to", "clip",
    "concatenate", "cross_entropy", "dropout", "exp", "expand_dims", "flatten", "leaky_relu",
    "linear", "log", "log_softmax", "matmul", "max", "maximum", "mean", "min", "minimum",
    "mse_loss", "relu", "reshape", "sigmoid", "softmax", "softplus", "sqrt", "squeeze", "stack",
    "std", "sum", "tanh", "transpose", "var", "where",
]  # fmt: skip


# --- elementwise math --------------------------------------------------------
def exp(x: Any) -> Tensor:
    """eˣ, elementwise."""
    return Exp.apply(x)


def log(x: Any) -> Tensor:
    """Natural logarithm, elementwise."""
    return Log.apply(x)


def sqrt(x: Any) -> Tensor:
    """Square root, elementwise."""
    return Sqrt.apply(x)


def abs(x: Any) -> Tensor:  # noqa: A001 - numpy's name
    """``|x|``, elementwise; the gradient at 0 is 0."""
    return Abs.apply(x)


def clip(x: Any, a_min: Any, a_max: Any) -> Tensor:
    """Limit values to [a_min, a_max], as ``np.clip``."""
    return as_tensor(x).clip(a_min, a_max)


def matmul(x: Any, y: Any) -> Tensor:
    """Matrix product with numpy's semantics (1-D operands, broadcast batches)."""
    return Matmul.apply(x, y)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (an int, a tuple, or None for all axes), as ``np.sum``."""
    return as_tensor(x).sum(axis=axis, keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (an int, a tuple, or None for all axes), as ``np.mean``."""
    return as_tensor(x).mean(axis=axis, keepdims=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001 - numpy's name
    """The maximum over ``axis``; tied maxima share the gradient evenly."""
    return as_tensor(x).max(axis=axis, keepdims=keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001 - numpy's name
    """The minimum over ``axis``; tied minima share the gradient evenly."""
    return as_tensor(x).min(axis=axis, keepdims=keepdims)


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Variance over ``axis`` with numpy's ``ddof`` convention."""
    return as_tensor(x).var(axis=axis, ddof=ddof, keepdims=keepdims)


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Standard deviation over ``axis`` with numpy's ``ddof`` convention."""
    return as_tensor(x).std(axis=axis, ddof=ddof, keepdims=keepdims)


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """Remove axes of length one, as ``np.squeeze``."""
    return as_tensor(x).squeeze(axis)


def expand_dims(x: Any, axis: Any) -> Tensor:
    """Insert axes of length one, as ``np.expand_dims``."""
    return as_tensor(x).expand_dims(axis)


def flatten(x: Any) -> Tensor:
    """The elements as one axis (C order)."""
    return as_tensor(x).flatten()


def broadcast_to(x: Any, shape: Any) -> Tensor:
    """A broadcast view as ``np.broadcast_to``; its gradient is summed back to ``x``'s shape."""
    return as_tensor(x).broadcast_to(shape)


def reshape(x: Any, shape: Any) -> Tensor:
    """The same elements in a new shape, as ``np.reshape``."""
    return as_tensor(x).reshape(shape)


def transpose(x: Any, axes: Any = None) -> Tensor:
    """Permute the axes (reverse them when ``axes`` is None), as ``np.transpose``."""
    return as_tensor(x).transpose(axes) if axes is not None else as_tensor(x).transpose()


# --- activations: a = f(z) ----------------------------------------------------
def sigmoid(z: Any) -> Tensor:
    """a = σ(z) = 1 / (1 + e⁻ᶻ);  σ'(z) = a (1 − a)."""
    return Sigmoid.apply(z)


def relu(z: Any) -> Tensor:
    """a = max(z, 0); the gradient at 0 is 0."""
    return Relu.apply(z)


def tanh(z: Any) -> Tensor:
    """a = tanh z;  tanh'(z) = 1 − a²."""
    return Tanh.apply(z)


def leaky_relu(z: Any, negative_slope: float = 0.01) -> Tensor:
    """a = z for z > 0, else negative_slope · z."""
    return LeakyRelu.apply(z, negative_slope=negative_slope)


def softplus(z: Any) -> Tensor:
    """a = ln(1 + eᶻ), computed without overflow;  softplus'(z) = σ(z)."""
    return Softplus.apply(z)


def softmax(z: Any, axis: int = -1) -> Tensor:
    """eᶻ / Σ eᶻ along ``axis``; stable for any finite logits."""
    return Softmax.apply(z, axis=axis)


def log_softmax(z: Any, axis: int = -1) -> Tensor:
    """z − ln Σ eᶻ along ``axis``; stable (finite) for logits of ±1000."""
    return LogSoftmax.apply(z, axis=axis)


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """z = x Wᵀ + b, with W of shape (out_features, in_features) as in PyTorch (one graph node)."""
    return Linear.apply(x, weight) if bias is None else Linear.apply(x, weight, bias)


def dropout(x: Any, p: float = 0.5, training: bool = True, rng: np.random.Generator | None = None) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1 − p)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    x = as_tensor(x)
    if not training or p == 0:
        return x
    if p == 1:
        return x * np.zeros(x.shape, dtype=x.dtype)
    rng = np.random.default_rng() if rng is None else rng
    keep = (rng.random(x.shape) >= p).astype(x.dtype)
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


def cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of logits ``input`` (N, C) against ``target``.

    ``target`` is either integer class labels of shape (N,) in [0, C), or class
    probabilities of shape (N, C). Computed through log_softmax, so it stays finite
    for any finite logits.
    """
    input = as_tensor(input)
    if input.ndim != 2:
        raise ValueError(f"cross_entropy: input must be logits of shape (N, C), got shape {input.shape}")
    log_p = log_softmax(input, axis=1)
    if not isinstance(target, Tensor):
        target = np.asarray(target)
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
        target = np.zeros(input.shape, dtype=input.dtype)
        target[np.arange(n), labels] = 1
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


def binary_cross_entropy_with_logits(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """ℓ = softplus(z) − z·y = −[y ln σ(z) + (1 − y) ln(1 − σ(z))], stable for any z."""
    input = as_tensor(input)
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    target = np.asarray(target.data if isinstance(target, Tensor) else target, dtype=input.dtype)
    return _reduce(softplus(input) - input * target, reduction, "binary_cross_entropy_with_logits")


def binary_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """ℓ = −[y ln p + (1 − y) ln(1 − p)] for probabilities p ∈ [0, 1] (logs clamped at −100)."""
    input = as_tensor(input)
    _same_shape(input, target, "binary_cross_entropy")
    target = np.asarray(target.data if isinstance(target, Tensor) else target, dtype=input.dtype)
    return _reduce(BinaryCrossEntropy.apply(input, target=target), reduction, "binary_cross_entropy")
