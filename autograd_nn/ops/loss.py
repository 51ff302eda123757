"""Loss primitives that need a dedicated, numerically careful derivative, and what every loss
shares: PyTorch's reductions and the shape check of (input, target)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op

_LOG_FLOOR = -100.0  # as PyTorch: log p is clamped so p = 0 gives a finite loss
_EPS = 1e-12  # as PyTorch: the gradient's denominator p(1 − p) is at least this


def _bce_reference(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -(y * np.log(p) + (1 - y) * np.log1p(-p))


@register_op(reference=_bce_reference, shapes="same", domain=[(0.02, 0.98), (0.0, 1.0)], role="loss")
class BinaryCrossEntropy(Function):
    """ℓ = −[y ln p + (1 − y) ln(1 − p)];  δp = δℓ · (p − y) / (p (1 − p)),  δy = δℓ · (ln(1 − p) − ln p)

    Logs are clamped at −100 and the denominator at 1e-12 (PyTorch's constants), so p = 0
    or 1 give finite losses and gradients. p outside [0, 1], or nan, is refused.
    """

    @staticmethod
    def forward(ctx: Any, p: Any, y: Any) -> Any:
        if not np.all((p >= 0) & (p <= 1)):
            bad = np.asanyarray(p)[~((p >= 0) & (p <= 1))]
            raise ValueError(
                f"binary_cross_entropy: input probabilities must lie in [0, 1], got {bad.size} value(s) outside "
                f"(e.g. {bad.flat[0]:g}); apply sigmoid first, or use binary_cross_entropy_with_logits"
            )
        ctx.save_for_backward(p, y)
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), _LOG_FLOOR)
            log_not_p = np.maximum(np.log1p(-p), _LOG_FLOOR)
        return -(y * log_p + (1 - y) * log_not_p)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        p, y = ctx.saved_tensors
        xp = ctx.xp
        need_p, need_y = ctx.needs_input_grad
        grad_p = grad * (p - y) / xp.maximum(p * (1 - p), _EPS) if need_p else None
        grad_y = None
        if need_y:
            with np.errstate(divide="ignore"):
                grad_y = grad * (xp.maximum(xp.log1p(-p), _LOG_FLOOR) - xp.maximum(xp.log(p), _LOG_FLOOR))
        return grad_p, grad_y


def reduce(loss: Any, reduction: str, op_name: str) -> Any:
    """A loss's elements reduced as PyTorch's ``reduction='mean' | 'sum' | 'none'``."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    check_reduction(reduction, op_name)
    return loss


def check_reduction(reduction: str, op_name: str) -> None:
    """Refuse a ``reduction`` that is not one of PyTorch's three."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op_name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def mean_of_all(values: np.ndarray) -> Any:
    """``values.mean()`` as one reduction and one division, without numpy's Python wrapper
    around them (a few µs of a small training step). Float16 keeps ``mean``: it sums in float32."""
    if values.dtype.itemsize >= 4 and values.dtype.kind == "f":
        return np.add.reduce(values, axis=None) / values.size
    return values.mean()


def reduce_reference(loss: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](loss)


REDUCTIONS = {"reduction": ("mean", "sum", "none")}


def same_shape(input: Any, target: Any, op_name: str) -> None:  # noqa: A002 - PyTorch's argument names
    # (a tensor's or an array's own shape first: np.shape is a Python function, run on every step's loss)
    shape = getattr(target, "shape", None)
    if type(shape) is not tuple:
        shape = np.shape(target)
    if shape != input.shape:
        raise ValueError(f"{op_name}: input has shape {input.shape} but target has shape {shape}; they must match")


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
        return mean_of_all(squares) if reduction == "mean" else squares.sum()

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        grad_x = (x - y) * (grad * ctx.scale)
        return (grad_x if need_x else None), (-grad_x if need_y else None)
