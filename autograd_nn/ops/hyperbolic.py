"""Hyperbolic functions and their inverses, elementwise (``tanh`` is an activation:
``ops/activation.py``). PyTorch's asinh, acosh and atanh are aliases, as in the array API."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op


@register_op(reference=np.sinh, functions="sinh", methods="sinh", ufuncs=np.sinh, derivative=np.sinh)
class Sinh(Function):
    """a = sinh z;  δz = δa · cosh z"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return np.sinh(z)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        return grad * ctx.xp.cosh(z)


@register_op(reference=np.cosh, functions="cosh", methods="cosh", ufuncs=np.cosh, derivative=np.cosh)
class Cosh(Function):
    """a = cosh z;  δz = δa · sinh z"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return np.cosh(z)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        return grad * ctx.xp.sinh(z)


@register_op(reference=np.arcsinh, functions=("arcsinh", "asinh"), methods=("arcsinh", "asinh"), ufuncs=np.arcsinh)
class Arcsinh(Function):
    """a = arsinh z;  δz = δa / √(1 + z²)"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return np.arcsinh(z)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        return grad / ctx.xp.sqrt(1 + z * z)


@register_op(
    reference=np.arccosh, domain=(1.1, 4), functions=("arccosh", "acosh"), methods=("arccosh", "acosh"),
    ufuncs=np.arccosh,
)  # fmt: skip
class Arccosh(Function):
    """a = arcosh z (z ≥ 1);  δz = δa / √(z² − 1)"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return np.arccosh(z)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        # NOTE: (z − 1)(z + 1), not z² − 1: near z = 1, z² rounds by an ulp of 1 and z² − 1 kept
        # only a few digits (z = 1 + 1e-8: 1e-8 relative error); z − 1 is exact there.
        return grad / ctx.xp.sqrt((z - 1) * (z + 1))


@register_op(
    reference=np.arctanh, domain=(-0.9, 0.9), functions=("arctanh", "atanh"), methods=("arctanh", "atanh"),
    ufuncs=np.arctanh,
)  # fmt: skip
class Arctanh(Function):
    """a = artanh z (for −1 < z < 1);  δz = δa / (1 − z²)"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return np.arctanh(z)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        return grad / ((1 - z) * (1 + z))  # NOTE: not 1 − z², which loses digits near ±1 (see Arccosh)
