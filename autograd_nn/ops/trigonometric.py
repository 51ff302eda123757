"""Trigonometric functions and their inverses, elementwise (numpy's names; PyTorch's asin, acos,
atan and atan2 are aliases, as in the array API)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op


@register_op(reference=np.sin, functions="sin", methods="sin", inplace="sin_", ufuncs=np.sin, derivative=np.sin)
class Sin(Function):
    """a = sin z;  δz = δa · cos z"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return np.sin(z)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        return grad * ctx.xp.cos(z)


@register_op(reference=np.cos, functions="cos", methods="cos", inplace="cos_", ufuncs=np.cos, derivative=np.cos)
class Cos(Function):
    """a = cos z;  δz = −δa · sin z"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return np.cos(z)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        return -grad * ctx.xp.sin(z)


@register_op(reference=np.tan, domain=(-1.3, 1.3), functions="tan", methods="tan", ufuncs=np.tan)
class Tan(Function):
    """a = tan z;  δz = δa · (1 + a²)"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        a = np.tan(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (a,) = ctx.saved_tensors
        return grad * (1 + a * a)


@register_op(
    reference=np.arcsin, domain=(-0.9, 0.9), functions=("arcsin", "asin"), methods=("arcsin", "asin"), ufuncs=np.arcsin
)
class Arcsin(Function):
    """a = arcsin z;  δz = δa / √(1 − z²)"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return np.arcsin(z)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        return grad / ctx.xp.sqrt((1 - z) * (1 + z))  # NOTE: not 1 − z², which loses digits near ±1


@register_op(
    reference=np.arccos, domain=(-0.9, 0.9), functions=("arccos", "acos"), methods=("arccos", "acos"), ufuncs=np.arccos
)
class Arccos(Function):
    """a = arccos z;  δz = −δa / √(1 − z²)"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return np.arccos(z)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        return -grad / ctx.xp.sqrt((1 - z) * (1 + z))  # NOTE: as Arcsin


@register_op(reference=np.arctan, functions=("arctan", "atan"), methods=("arctan", "atan"), ufuncs=np.arctan)
class Arctan(Function):
    """a = arctan z;  δz = δa / (1 + z²)"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return np.arctan(z)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        return grad / (1 + z * z)


@register_op(
    reference=np.arctan2, domain=[((-3, -0.3), (0.3, 3)), (-3, 3)], functions=("arctan2", "atan2"),
    methods=("arctan2", "atan2"), ufuncs=np.arctan2,
)  # fmt: skip
class Arctan2(Function):
    """a = arctan2(y, x), the angle of (x, y);  δy = δa · (x / r) / r,  δx = −δa · (y / r) / r,  r = hypot(x, y)

    ``y`` is kept off 0 in the property test: for x < 0 the angle jumps from π to −π there.
    """

    @staticmethod
    def forward(ctx: Any, y: Any, x: Any) -> Any:
        ctx.save_for_backward(y, x)
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        y, x = ctx.saved_tensors
        need_y, need_x = ctx.needs_input_grad
        # NOTE: x² + y² overflows for |x|, |y| > 1e154 and is subnormal or 0 below 1e-154
        # (arctan2(0, 1e-200): δy = 1e200, not ∞); hypot scales, and x / r lies in [−1, 1].
        r = ctx.xp.hypot(x, y)
        return (grad * ((x / r) / r) if need_y else None), (-grad * ((y / r) / r) if need_x else None)
