"""Elementwise arithmetic: + − × ÷ **, negation, abs, max/min, where, clip, casts.

Binary ops broadcast like numpy; each backward returns gradients of the output's
shape and the engine sums them back to each input's shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._record import array_of
from ..function import Function
from ..registry import register_op
from ._kept import kept
from ._to_arguments import to_arguments


@register_op(
    reference=np.add, functions="add", methods="add", operators=("__add__", "__radd__"),
    inplace=("add_", "__iadd__"), ufuncs=np.add,
)  # fmt: skip
class Add(Function):
    """z = x + y;  δx = δz,  δy = δz"""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        return x + y

    @staticmethod
    def forward_inplace(x: np.ndarray, y: Any) -> None:
        np.add(x, y, out=x)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad, grad


@register_op(
    reference=np.subtract, functions="subtract", methods="sub", operators=("__sub__", "__rsub__"),
    inplace=("sub_", "__isub__"), ufuncs=np.subtract,
)  # fmt: skip
class Sub(Function):
    """z = x − y;  δx = δz,  δy = −δz"""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        return x - y

    @staticmethod
    def forward_inplace(x: np.ndarray, y: Any) -> None:
        np.subtract(x, y, out=x)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad, (-grad if ctx.needs_input_grad[1] else None)


@register_op(
    reference=np.multiply, functions="multiply", methods="mul", operators=("__mul__", "__rmul__"),
    inplace=("mul_", "__imul__"), ufuncs=np.multiply,
)  # fmt: skip
class Mul(Function):
    """z = x ⊙ y;  δx = δz ⊙ y,  δy = δz ⊙ x"""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def forward_inplace(x: np.ndarray, y: Any) -> None:
        np.multiply(x, y, out=x)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (grad * y if need_x else None), (grad * x if need_y else None)


@register_op(
    reference=np.true_divide, domain=[(-3, 3), ((-3, -0.5), (0.5, 3))], functions=("divide", "true_divide"),
    methods="div", operators=("__truediv__", "__rtruediv__"), inplace=("div_", "__itruediv__"), ufuncs=np.true_divide,
)  # fmt: skip
class Div(Function):
    """z = x / y;  δx = δz / y,  δy = −δz · (x / y) / y"""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def forward_inplace(x: np.ndarray, y: Any) -> None:
        np.true_divide(x, y, out=x)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        grad_x = grad / y if need_x else None
        # NOTE: (x / y) / y, not x / y²: y² overflows for |y| > 1e154 (δy 0 for x = y = 1e200,
        # not −1e-200), and is subnormal or 0 for |y| < 1e-154 (inaccurate, or x / 0).
        grad_y = -grad * ((x / y) / y) if need_y else None
        return grad_x, grad_y


@register_op(
    reference=lambda x, y: np.exp(y * np.log(x)), domain=[(0.5, 2), (-2, 2)], functions="power", methods="pow",
    operators=("__pow__", "__rpow__"), inplace=("pow_", "__ipow__"), ufuncs=np.power,
)  # fmt: skip
class Pow(Function):
    """z = xʸ;  δx = δz · y · xʸ⁻¹,  δy = δz · z · ln x   (δx = 0 where y = 0; δy = 0 where x = 0 ≤ y)"""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        z = x**y
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, y, z = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        where, at_zero = ctx.xp.where, np.asanyarray(x == 0)
        grad_x = grad_y = None
        if need_x:
            # NOTE: x⁰ = 1 has slope 0 everywhere, also where x⁻¹ overflows (x = 0, or a
            # subnormal such as 1e-310) and y · xʸ⁻¹ would be 0 · ∞ = nan (PyTorch masks every
            # y = 0). The base is replaced there only, not the result, so that the derivative
            # of this formula (create_graph) has no nan either and keeps ∂²/∂x∂y = 1/x elsewhere.
            tiny = np.finfo(x.dtype).tiny if np.issubdtype(x.dtype, np.floating) else 1
            base = where(np.asanyarray(y == 0) & (np.abs(array_of(x)) < tiny), 1, x)
            grad_x = grad * y * base ** (y - 1)
        if need_y:
            # NOTE: 0ʸ = 0 for every y > 0 (and 0⁰ = 1): the slope in y is 0 there whatever
            # ln 0 says, as PyTorch has it; for y < 0, 0ʸ = ∞ and so is the slope.
            grad_y = grad * z * ctx.xp.log(where(at_zero & np.asanyarray(y >= 0), 1, x))
        return grad_x, grad_y


@register_op(
    reference=np.negative, functions="negative", methods="neg", operators="__neg__", inplace="neg_", ufuncs=np.negative
)
class Neg(Function):
    """z = −x;  δx = −δz"""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return -x

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return -grad


@register_op(
    reference=lambda x: np.where(x < 0, -x, x), kinks=[0.0], functions=("abs", "absolute"), methods="abs",
    operators="__abs__", inplace="abs_", ufuncs=(np.absolute, np.fabs), derivative=np.abs,
)  # fmt: skip
class Abs(Function):
    """z = abs(x);  δx = δz · sign(x)   (0 at x = 0)"""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad * ctx.xp.sign(x)


@register_op(reference=np.sign, kinks=[0.0], functions="sign", methods="sign", ufuncs=np.sign, derivative=np.sign)
class Sign(Function):
    """z = sign(x);  δx = 0   (a step function: its derivative is zero wherever it exists)"""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return np.sign(x)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return ctx.xp.zeros_like(grad)


def _tie_weights(x: Any, y: Any, dtype: np.dtype) -> np.ndarray:
    """1 where x wins, ½ where x and y tie, 0 where y wins: ties split the gradient."""
    # (astype, not np.asanyarray(..., dtype): a compiled step records a method call, not that conversion)
    wins = np.asanyarray(x > y).astype(dtype)
    wins += np.asanyarray(x == y).astype(dtype) * 0.5
    return wins


@register_op(
    reference=lambda x, y: np.where(x > y, x, y), distinct=True, functions="maximum", methods="maximum",
    ufuncs=np.maximum, derivative=np.maximum,
)  # fmt: skip
class Maximum(Function):
    """z = max(x, y);  δx = δz · [x > y],  δy = δz · [y > x];  ties split δz evenly"""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x, y)
        return np.maximum(x, y)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, y = ctx.saved_tensors
        weight_x = _tie_weights(x, y, grad.dtype)
        return grad * weight_x, grad * (1 - weight_x)


@register_op(
    reference=lambda x, y: np.where(x < y, x, y), distinct=True, functions="minimum", methods="minimum",
    ufuncs=np.minimum, derivative=np.minimum,
)
class Minimum(Function):
    """z = min(x, y);  δx = δz · [x < y],  δy = δz · [y < x];  ties split δz evenly"""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x, y)
        return np.minimum(x, y)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, y = ctx.saved_tensors
        weight_x = _tie_weights(y, x, grad.dtype)
        return grad * weight_x, grad * (1 - weight_x)


def _where_args(condition: Any, x: Any, y: Any) -> tuple[tuple[Any, Any], dict[str, Any]]:
    """numpy's order: where(condition, x, y); the condition is a constant mask."""
    return (x, y), {"condition": np.asanyarray(array_of(condition), dtype=bool)}


@register_op(
    reference=lambda x, y, condition: np.where(condition, x, y), params={"condition": "mask"}, functions="where",
    parse=_where_args, derivative=np.where,
    arguments=lambda inputs, params: ((params["condition"], *inputs), {}),
)  # fmt: skip
class Where(Function):
    """z = where(c, x, y);  δx = δz · c,  δy = δz · ¬c   (c is a constant boolean array)"""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any, *, condition: np.ndarray) -> Any:
        ctx.condition = kept(ctx, condition)  # the caller's mask may change before the backward
        return np.where(condition, x, y)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        where, condition = ctx.xp.where, ctx.condition
        need_x, need_y = ctx.needs_input_grad
        return (where(condition, grad, 0) if need_x else None), (where(condition, 0, grad) if need_y else None)


def _or(bound: Any, default: float) -> Any:
    return default if bound is None else bound


def _clip_args(x: Any, a_min: Any = None, a_max: Any = None, *, min: Any = None, max: Any = None) -> Any:  # noqa: A002
    """numpy's clip(x, a_min, a_max); PyTorch's clamp(x, min, max) is the same call."""
    a_min, a_max = _or(a_min, min), _or(a_max, max)
    return (x,), {"a_min": array_of(a_min), "a_max": array_of(a_max)}


@register_op(
    reference=lambda x, a_min, a_max: np.minimum(np.maximum(x, _or(a_min, -np.inf)), _or(a_max, np.inf)),
    kinks=["a_min", "a_max"], params={"a_min": (None, -1.0, -0.25), "a_max": (None, 0.5, 2.0)},
    functions=("clip", "clamp"), methods=("clip", "clamp", "clamp_min", "clamp_max"),
    inplace=("clip_", "clamp_", "clamp_min_", "clamp_max_"),
    parse={**dict.fromkeys(("clamp_min", "clamp_min_"), lambda x, min: _clip_args(x, min)),  # noqa: A006
           **dict.fromkeys(("clamp_max", "clamp_max_"), lambda x, max: _clip_args(x, None, max)),  # noqa: A006
           None: _clip_args},
    arguments={**dict.fromkeys(("clamp_min", "clamp_min_"), lambda inputs, params: ((inputs[0], params["a_min"]), {})),
               **dict.fromkeys(("clamp_max", "clamp_max_"), lambda inputs, params: ((inputs[0], params["a_max"]), {}))},
)  # fmt: skip
class Clip(Function):
    """z = clip(x, lo, hi);  δx = δz · [lo ≤ x ≤ hi]"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, a_min: Any, a_max: Any) -> Any:
        ctx.save_for_backward(x)
        ctx.bounds = (a_min, a_max)
        return np.clip(x, a_min, a_max)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        low, high = ctx.bounds
        inside = None  # the mask is made of comparisons only (no buffer written into): a compiled step follows it
        if low is not None:
            inside = np.asanyarray(x >= low)
        if high is not None:
            below = np.asanyarray(x <= high)
            inside = below if inside is None else inside & below
        return grad if inside is None else grad * inside


def _astype_args(x: Any, dtype: Any) -> tuple[tuple[Any], dict[str, Any]]:
    return (x,), {"dtype": np.dtype(dtype)}


# PyTorch's casts: x.float() is float32, x.double() float64, x.half() float16, x.long() int64, ...
_CASTS = {"float": np.float32, "double": np.float64, "half": np.float16, "long": np.int64, "int": np.int32,
          "bool": np.bool_}  # fmt: skip
_CAST_PARSE: dict[Any, Any] = {name: (lambda x, _t=t: ((x,), {"dtype": np.dtype(_t)})) for name, t in _CASTS.items()}


@register_op(
    reference=lambda x, dtype: x.astype(dtype), params={"dtype": (np.float64, np.longdouble)},
    methods=("astype", "to", "type_as", *_CASTS),
    parse={**_CAST_PARSE, "to": to_arguments, "type_as": lambda x, other: _astype_args(x, other.dtype), None: _astype_args},
    arguments={**{name: lambda inputs, params: ((inputs[0],), {}) for name in _CASTS},
               "type_as": lambda inputs, params: ((inputs[0], np.zeros((), params["dtype"])), {})},
)  # fmt: skip
class Cast(Function):
    """z = x.astype(dtype);  δx = δz.astype(x.dtype)"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, dtype: Any) -> Any:
        ctx.source_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad.astype(ctx.source_dtype)
