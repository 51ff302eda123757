"""Trigonometric functions, elementwise."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op


@register_op(reference=np.sin, functions="sin", methods="sin", ufuncs=np.sin, derivative=np.sin)
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


@register_op(reference=np.cos, functions="cos", methods="cos", ufuncs=np.cos, derivative=np.cos)
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
