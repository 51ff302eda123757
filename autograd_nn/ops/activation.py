"""Activations a = f(z), applied elementwise or along one axis (softmax)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op


def stable_sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e⁻ᶻ), accurate to a few ulps relative to σ(z) for every z."""
    # NOTE: not ½(1 + tanh(z/2)), which is a third cheaper in float32 but loses σ(z)'s relative
    # accuracy for z < 0 (its error is an ulp of 1) and is exactly 0 from z ≈ −17 (float32):
    # log σ(z) and BCE on σ(z) went silently wrong. e⁻ᶻ overflows to ∞ only where σ(z) is
    # below the smallest normal number (z < −88.7 in float32, −709 in float64), and 1/(1 + ∞)
    # = 0 is then what is meant, so the overflow is not a warning.
    with np.errstate(over="ignore"):
        e = np.negative(z)
        if type(e) is not np.ndarray or e.dtype.kind != "f":  # a 0-d input's scalar, integers
            return 1 / (1 + np.exp(e))
        np.exp(e, out=e)  # in place: one array for the whole formula
        e += 1
        return np.divide(1, e, out=e)


@register_op(
    reference=lambda z: 1 / (1 + np.exp(-z)), domain=(-8, 8), functions="sigmoid", methods="sigmoid", inplace="sigmoid_",
    derivative=stable_sigmoid, role="activation",
)  # fmt: skip
class Sigmoid(Function):
    """a = σ(z);  δz = δa · a · (1 − a)"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        a = stable_sigmoid(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (a,) = ctx.saved_tensors
        if not isinstance(a, np.ndarray):  # Tensors, under create_graph: the formula, recorded
            return grad * a * (1 - a)
        # One new array, not three: σ' = a (1 − a) into a fresh 1 − a, then times δa in place
        # (δa · σ' in the hand-written numpy's order; a 0-d a gives numpy scalars, computed anew).
        derivative = 1 - a
        derivative *= a
        derivative *= grad
        return derivative


@register_op(reference=lambda z: z * (z > 0), kinks=[0.0], functions="relu", methods="relu", inplace="relu_", role="activation")
class Relu(Function):
    """a = max(z, 0);  δz = δa · [z > 0]"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        a = np.maximum(z, 0)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (a,) = ctx.saved_tensors
        return grad * np.asanyarray(a > 0)


@register_op(
    reference=lambda z: 1 - 2 / (np.exp(2 * z) + 1), domain=(-4, 4), functions="tanh", methods="tanh", inplace="tanh_",
    ufuncs=np.tanh, derivative=np.tanh, role="activation",
)
class Tanh(Function):
    """a = tanh z;  δz = δa · (1 − a²)"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        a = np.tanh(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (a,) = ctx.saved_tensors
        return grad * (1 - a * a)


@register_op(
    reference=lambda z, negative_slope: np.maximum(z, 0) + negative_slope * np.minimum(z, 0),
    kinks=[0.0],
    params={"negative_slope": (0.0, 0.01, 0.2, 1.5)},
    functions="leaky_relu",
    methods="leaky_relu",
    role="activation",
)
class LeakyRelu(Function):
    """a = z if z > 0 else s·z;  δz = δa if z > 0 else s·δa"""

    @staticmethod
    def forward(ctx: Any, z: Any, *, negative_slope: float = 0.01) -> Any:
        positive = np.asanyarray(z > 0)
        ctx.positive, ctx.negative_slope = positive, negative_slope
        return np.where(positive, z, z * negative_slope)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return ctx.xp.where(ctx.positive, grad, grad * ctx.negative_slope)


@register_op(
    reference=lambda z, beta, threshold: np.log1p(np.exp(beta * z)) / beta, domain=(-8, 8),
    params={"beta": (1.0, 0.5, 2.0), "threshold": (20.0,)}, functions="softplus", methods="softplus", role="activation",
)  # fmt: skip
class Softplus(Function):
    """a = ln(1 + e^(βz)) / β, or z where βz > threshold (PyTorch's);  δz = δa · σ(βz) (1 past the threshold)"""

    @staticmethod
    def forward(ctx: Any, z: Any, *, beta: float = 1.0, threshold: float = 20.0) -> Any:
        ctx.save_for_backward(z)
        scaled = z * beta
        ctx.beta, ctx.linear = beta, np.asanyarray(scaled > threshold)
        a = np.logaddexp(0, scaled)  # NOTE: ln(1 + eᵘ) without overflow for large u
        if beta != 1:
            a /= beta
        return np.where(ctx.linear, z, a)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        slope = ctx.xp.sigmoid(z * ctx.beta)
        return grad * ctx.xp.where(ctx.linear, 1, slope)


def shifted_by_max(z: np.ndarray, axis: int) -> np.ndarray:
    # NOTE: subtracting the row max makes every exponent ≤ 0, so e^x cannot overflow
    # and at least one term of the sum is 1 (no log 0) even for logits of ±1000.
    return z - z.max(axis=axis, keepdims=True)


@register_op(
    reference=lambda z, axis: np.exp(z) / np.exp(z).sum(axis, keepdims=True), shapes="axis", domain=(-5, 5),
    functions="softmax", methods="softmax",
)  # fmt: skip
class Softmax(Function):
    """sᵢ = eᶻⁱ / Σⱼ eᶻʲ;  δz = s ⊙ (δs − Σ δs ⊙ s)"""

    @staticmethod
    def forward(ctx: Any, z: Any, *, axis: int = -1) -> Any:
        e = np.exp(shifted_by_max(z, axis))
        e /= e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(e)
        ctx.axis = axis
        return e

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (s,) = ctx.saved_tensors
        weighted = grad * s
        return weighted - s * weighted.sum(axis=ctx.axis, keepdims=True)


@register_op(
    reference=lambda z, axis: z - np.log(np.exp(z).sum(axis, keepdims=True)), shapes="axis", domain=(-5, 5),
    functions="log_softmax", methods="log_softmax",
)  # fmt: skip
class LogSoftmax(Function):
    """yᵢ = zᵢ − ln Σⱼ eᶻʲ;  δz = δy − eʸ · Σ δy"""

    @staticmethod
    def forward(ctx: Any, z: Any, *, axis: int = -1) -> Any:
        shifted = shifted_by_max(z, axis)
        y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (y,) = ctx.saved_tensors
        return grad - ctx.xp.exp(y) * grad.sum(axis=ctx.axis, keepdims=True)
