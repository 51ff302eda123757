"""Exponential, logarithm and square root."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op


@register_op(reference=np.exp, domain=(-5, 5), functions="exp", methods="exp", ufuncs=np.exp, derivative=np.exp)
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


@register_op(reference=np.log, domain=(0.2, 5), functions="log", methods="log", ufuncs=np.log, derivative=np.log)
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


@register_op(reference=lambda z: z**0.5, domain=(0.2, 5), functions="sqrt", methods="sqrt", ufuncs=np.sqrt)
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
