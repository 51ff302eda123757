"""Exponentials, logarithms and roots, elementwise; ``logaddexp`` (ln(eˣ + eʸ)) without overflow."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op

_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))


@register_op(reference=np.exp, domain=(-5, 5), functions="exp", methods="exp", inplace="exp_", ufuncs=np.exp, derivative=np.exp)
class Exp(Function):
    """a = eᶻ;  δz = δa · a"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        a = np.exp(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (a,) = ctx.saved_tensors
        return grad * a


@register_op(reference=np.log, domain=(0.2, 5), functions="log", methods="log", inplace="log_", ufuncs=np.log, derivative=np.log)
class Log(Function):
    """a = ln z;  δz = δa / z"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return np.log(z)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        return grad / z


@register_op(
    reference=lambda z: z**0.5, domain=(0.2, 5), functions="sqrt", methods="sqrt", inplace="sqrt_", ufuncs=np.sqrt, derivative=np.sqrt
)
class Sqrt(Function):
    """a = √z;  δz = δa / (2a)"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        a = np.sqrt(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (a,) = ctx.saved_tensors
        return grad * 0.5 / a


@register_op(reference=np.cbrt, kinks=[0.0], functions="cbrt", methods="cbrt", ufuncs=np.cbrt)
class Cbrt(Function):
    """a = ∛z;  δz = δa / (3a²)"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        a = np.cbrt(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (a,) = ctx.saved_tensors
        return grad / (3 * a * a)


@register_op(
    reference=lambda z: np.log(1 + z), domain=(-0.8, 5), functions="log1p", methods="log1p", ufuncs=np.log1p,
    derivative=np.log1p,
)  # fmt: skip
class Log1p(Function):
    """a = ln(1 + z), accurate for small z;  δz = δa / (1 + z)"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return np.log1p(z)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        return grad / (1 + z)


@register_op(reference=lambda z: np.exp(z) - 1, domain=(-5, 5), functions="expm1", methods="expm1", ufuncs=np.expm1)
class Expm1(Function):
    """a = eᶻ − 1, accurate for small z;  δz = δa · eᶻ"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return np.expm1(z)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        # NOTE: eᶻ, not a + 1: a = eᶻ − 1 rounds to −1 for z < −37 (float64; −17 in float32),
        # and a + 1 gave slope 0 where eᶻ is representable (z = −40: 0, not 4.25e-18).
        return grad * ctx.xp.exp(z)


@register_op(reference=lambda z: np.log(z) / np.log(2), domain=(0.2, 5), functions="log2", methods="log2", ufuncs=np.log2)
class Log2(Function):
    """a = log₂ z;  δz = δa / (z ln 2)"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return np.log2(z)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        return grad / (z * _LN2)


@register_op(
    reference=lambda z: np.log(z) / np.log(10), domain=(0.2, 5), functions="log10", methods="log10", ufuncs=np.log10
)
class Log10(Function):
    """a = log₁₀ z;  δz = δa / (z ln 10)"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return np.log10(z)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        return grad / (z * _LN10)


@register_op(
    reference=lambda z: np.exp(z * np.log(2)), domain=(-5, 5), functions="exp2", methods="exp2", ufuncs=np.exp2,
    derivative=np.exp2,
)  # fmt: skip
class Exp2(Function):
    """a = 2ᶻ;  δz = δa · a · ln 2"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        a = np.exp2(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (a,) = ctx.saved_tensors
        return grad * a * _LN2


@register_op(
    reference=lambda x, y: np.log(np.exp(x) + np.exp(y)), domain=(-5, 5), functions="logaddexp", methods="logaddexp",
    ufuncs=np.logaddexp,
)  # fmt: skip
class Logaddexp(Function):
    """z = ln(eˣ + eʸ);  δx = δz / (1 + eʸ⁻ˣ),  δy = δz / (1 + eˣ⁻ʸ)   (eˣ⁻ᶻ and eʸ⁻ᶻ, summing to 1)"""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x, y)
        return np.logaddexp(x, y)  # NOTE: numpy factors out the larger exponent: no overflow

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        # NOTE: not eˣ⁻ᶻ: where |z| ≫ 1, z = x + ln 2 at a tie rounds to x, and eˣ⁻ᶻ = eʸ⁻ᶻ = 1
        # would sum to 2 (x = y = 1e20). The difference of the inputs carries no such rounding.
        exp = ctx.xp.exp
        return (grad / (1 + exp(y - x)) if need_x else None), (grad / (1 + exp(x - y)) if need_y else None)


@register_op(
    reference=lambda x, y: np.log2(2.0**x + 2.0**y), domain=(-5, 5), functions="logaddexp2", methods="logaddexp2",
    ufuncs=np.logaddexp2,
)  # fmt: skip
class Logaddexp2(Function):
    """z = log₂(2ˣ + 2ʸ);  δx = δz / (1 + 2ʸ⁻ˣ),  δy = δz / (1 + 2ˣ⁻ʸ)   (2ˣ⁻ᶻ and 2ʸ⁻ᶻ; see Logaddexp)"""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x, y)
        return np.logaddexp2(x, y)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        exp2 = ctx.xp.exp2
        return (grad / (1 + exp2(y - x)) if need_x else None), (grad / (1 + exp2(x - y)) if need_y else None)
