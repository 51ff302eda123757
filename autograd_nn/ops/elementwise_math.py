"""More elementwise math: hypot, copysign, nan_to_num (primitives), and the composites
square, reciprocal, rsqrt, lerp, deg2rad/rad2deg and positive, each one op of another."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_composite, register_op


@register_op(
    reference=lambda x, y: np.sqrt(x * x + y * y), domain=[((-3, -0.3), (0.3, 3)), (-3, 3)], functions="hypot",
    methods="hypot", ufuncs=np.hypot, derivative=np.hypot,
)  # fmt: skip
class Hypot(Function):
    """z = √(x² + y²);  δx = δz · x / z,  δy = δz · y / z"""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        z = np.hypot(x, y)  # NOTE: scaled by numpy, so x² + y² cannot overflow
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, y, z = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        # NOTE: x / z and y / z lie in [−1, 1]; δz / z first would overflow for z < 5.6e-309
        # (hypot(0, 1e-310): δx = ∞ · 0 = nan, δy = ∞, not 0 and 1).
        return (grad * (x / z) if need_x else None), (grad * (y / z) if need_y else None)


@register_op(reference=np.copysign, kinks=[0.0], functions="copysign", methods="copysign", ufuncs=np.copysign)
class Copysign(Function):
    """z = abs(x) with the sign of y;  δx = δz · sign(x) · sign(y),  δy = 0"""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        z = np.copysign(x, y)
        ctx.slope = np.sign(x) * np.copysign(1.0, y).astype(z.dtype, copy=False)
        return z

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad * ctx.slope, (ctx.xp.zeros_like(grad) if ctx.needs_input_grad[1] else None)


def _nan_to_num_args(x: Any, copy: Any = True, nan: float = 0.0, posinf: Any = None, neginf: Any = None) -> Any:
    """numpy's nan_to_num(x, copy, nan, posinf, neginf); a number (not a bool) second is
    PyTorch's nan_to_num(x, nan, ...). A new tensor is always made: ``copy`` has no effect."""
    if not isinstance(copy, (bool, np.bool_)):
        nan, copy = copy, True
    return (x,), {"nan": nan, "posinf": posinf, "neginf": neginf}


@register_op(
    reference=lambda x, nan, posinf, neginf: np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf),
    params={"nan": (0.0, 1.5), "posinf": (None, 9.0), "neginf": (None, -9.0)}, functions="nan_to_num",
    methods="nan_to_num", parse=_nan_to_num_args,
)  # fmt: skip
class NanToNum(Function):
    """z = x with nan, +inf, −inf replaced (by 0 and the largest finite values by default);
    δx = δz where x is finite, 0 where it was replaced (as PyTorch)"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, nan: float = 0.0, posinf: Any = None, neginf: Any = None) -> Any:
        ctx.finite = np.isfinite(x)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad * ctx.finite


@register_composite(reference=np.square, functions="square", methods="square", inplace="square_", ufuncs=np.square)
def square(x: Any) -> Any:
    """z = x²  (x · x: one Mul node)"""
    return x * x


@register_composite(
    reference=lambda x: 1 / x, domain=((-3, -0.3), (0.3, 3)), functions="reciprocal", methods="reciprocal",
    ufuncs=np.reciprocal,
)  # fmt: skip
def reciprocal(x: Any) -> Any:
    """z = 1 / x"""
    return 1.0 / x


@register_composite(reference=lambda x: 1 / np.sqrt(x), domain=(0.2, 5), functions="rsqrt", methods="rsqrt")
def rsqrt(x: Any) -> Any:
    """z = 1 / √x  (x ** −0.5: one Pow node)"""
    return x**-0.5


@register_composite(reference=lambda x, end, weight: x + weight * (end - x), functions="lerp", methods="lerp")
def lerp(x: Any, end: Any, weight: Any) -> Any:
    """z = x + w · (end − x), linear interpolation from x to end (PyTorch's ``lerp``)"""
    return x + weight * (end - x)


@register_composite(
    reference=lambda x: x * (np.pi / 180), functions=("deg2rad", "radians"), methods=("deg2rad", "radians"),
    ufuncs=(np.deg2rad, np.radians),
)  # fmt: skip
def deg2rad(x: Any) -> Any:
    """z = x · π/180, degrees to radians"""
    return x * (math.pi / 180)


@register_composite(
    reference=lambda x: x * (180 / np.pi), functions=("rad2deg", "degrees"), methods=("rad2deg", "degrees"),
    ufuncs=(np.rad2deg, np.degrees),
)  # fmt: skip
def rad2deg(x: Any) -> Any:
    """z = x · 180/π, radians to degrees"""
    return x * (180 / math.pi)


@register_composite(reference=np.positive, functions="positive", operators="__pos__", ufuncs=np.positive)
def positive(x: Any) -> Any:
    """z = +x: the tensor itself"""
    return x
