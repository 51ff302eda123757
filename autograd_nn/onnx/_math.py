"""Converters of the elementwise math of issue 12: inverse and hyperbolic trigonometry,
rounding, exp/log variants, erf and the smooth activations (written with ONNX's opset-18
ops: Gelu, for one, came later), floor division and remainders, hypot.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops
from ._elementwise import _same
from ._registry import register_converter

#: op class → the ONNX op that computes the same elementwise
SAME: dict[type, str] = {
    ops.Arccos: "Acos", ops.Arccosh: "Acosh", ops.Arcsin: "Asin", ops.Arcsinh: "Asinh", ops.Arctan: "Atan",
    ops.Arctanh: "Atanh", ops.Cosh: "Cosh", ops.Sinh: "Sinh", ops.Tan: "Tan", ops.Erf: "Erf", ops.Ceil: "Ceil",
    ops.Floor: "Floor", ops.Copy: "Identity",
}  # fmt: skip

for _cls, _onnx_op in SAME.items():
    register_converter(_cls)(_same(_onnx_op))


def _unary(g: Any, op: Any, kind: str, x: str) -> str:
    return g.op(kind, x, dtype=op.dtype)


def _binary(g: Any, op: Any, kind: str, a: str, b: str) -> str:
    return g.op(kind, a, b, dtype=op.dtype)


@register_converter(ops.Round)
def _round(g: Any, op: Any) -> str:
    if op.param("decimals") != 0:
        raise op.fail("ONNX's Round has no decimals; only decimals=0 exports")
    return g.op("Round", op.input(0, op.dtype), dtype=op.dtype)  # half to even, as numpy


@register_converter(ops.Trunc)
def _trunc(g: Any, op: Any) -> str:
    """trunc(x) = sign(x) · floor(|x|)"""
    x = op.input(0, op.dtype)
    return _binary(g, op, "Mul", _unary(g, op, "Sign", x), _unary(g, op, "Floor", _unary(g, op, "Abs", x)))


@register_converter(ops.Elu)
def _elu(g: Any, op: Any) -> str:
    return g.op("Elu", op.input(0, op.dtype), alpha=float(op.param("alpha")), dtype=op.dtype)


@register_converter(ops.Silu)
def _silu(g: Any, op: Any) -> str:
    x = op.input(0, op.dtype)
    return _binary(g, op, "Mul", x, _unary(g, op, "Sigmoid", x))


@register_converter(ops.LogSigmoid)
def _log_sigmoid(g: Any, op: Any) -> str:
    """ln σ(z) = −softplus(−z)"""
    return _unary(g, op, "Neg", _unary(g, op, "Softplus", _unary(g, op, "Neg", op.input(0, op.dtype))))


@register_converter(ops.Gelu)
def _gelu(g: Any, op: Any) -> str:
    """½z(1 + erf(z/√2)), or ½z(1 + tanh(√(2/π)(z + 0.044715z³))) with approximate='tanh'"""
    z, dtype = op.input(0, op.dtype), op.dtype
    if op.param("approximate") == "tanh":
        cube = _binary(g, op, "Mul", _binary(g, op, "Mul", z, z), z)
        inner = _binary(g, op, "Add", z, _binary(g, op, "Mul", cube, g.constant(0.044715, dtype)))
        squashed = _unary(g, op, "Tanh", _binary(g, op, "Mul", inner, g.constant(math.sqrt(2 / math.pi), dtype)))
    else:
        squashed = _unary(g, op, "Erf", _binary(g, op, "Mul", z, g.constant(1 / math.sqrt(2), dtype)))
    half_z = _binary(g, op, "Mul", z, g.constant(0.5, dtype))
    return _binary(g, op, "Mul", half_z, _binary(g, op, "Add", squashed, g.constant(1.0, dtype)))


@register_converter(ops.Expm1)
def _expm1(g: Any, op: Any) -> str:
    return _binary(g, op, "Sub", _unary(g, op, "Exp", op.input(0, op.dtype)), g.constant(1.0, op.dtype))


@register_converter(ops.Log1p)
def _log1p(g: Any, op: Any) -> str:
    return _unary(g, op, "Log", _binary(g, op, "Add", op.input(0, op.dtype), g.constant(1.0, op.dtype)))


@register_converter(ops.Log2, ops.Log10)
def _log_base(g: Any, op: Any) -> str:
    base = 2.0 if op.node.fn is ops.Log2 else 10.0
    natural = _unary(g, op, "Log", op.input(0, op.dtype))
    return _binary(g, op, "Mul", natural, g.constant(1 / math.log(base), op.dtype))


@register_converter(ops.Exp2)
def _exp2(g: Any, op: Any) -> str:
    return _binary(g, op, "Pow", g.constant(2.0, op.dtype), op.input(0, op.dtype))


@register_converter(ops.Hypot)
def _hypot(g: Any, op: Any) -> str:
    x, y = op.inputs(op.dtype)
    return _unary(g, op, "Sqrt", _binary(g, op, "Add", _binary(g, op, "Mul", x, x), _binary(g, op, "Mul", y, y)))


@register_converter(ops.FloorDivide)
def _floor_divide(g: Any, op: Any) -> str:
    return _unary(g, op, "Floor", _binary(g, op, "Div", *op.inputs(op.dtype)))


@register_converter(ops.Remainder)
def _remainder(g: Any, op: Any) -> str:
    """x − y·floor(x / y): the sign of y, as numpy's remainder"""
    x, y = op.inputs(op.dtype)
    return _binary(g, op, "Sub", x, _binary(g, op, "Mul", y, _unary(g, op, "Floor", _binary(g, op, "Div", x, y))))


@register_converter(ops.Fmod)
def _fmod(g: Any, op: Any) -> str:
    """the sign of x, as C's fmod: ONNX's Mod with fmod=1"""
    return g.op("Mod", *op.inputs(op.dtype), fmod=1, dtype=op.dtype)


@register_converter(ops.Cbrt)
def _cbrt(g: Any, op: Any) -> str:
    """∛x = sign(x) · |x|^⅓ (Pow of a negative base to ⅓ is nan)"""
    x = op.input(0, op.dtype)
    root = _binary(g, op, "Pow", _unary(g, op, "Abs", x), g.constant(1 / 3, op.dtype))
    return _binary(g, op, "Mul", _unary(g, op, "Sign", x), root)


@register_converter(ops.Logaddexp, ops.Logaddexp2)
def _logaddexp(g: Any, op: Any) -> str:
    """m + ln(e^(x−m) + e^(y−m)) with m = max(x, y); in base 2 for logaddexp2"""
    x, y = op.inputs(op.dtype)
    top = _binary(g, op, "Max", x, y)
    if op.node.fn is ops.Logaddexp:
        total = _binary(g, op, "Add", _unary(g, op, "Exp", _binary(g, op, "Sub", x, top)),
                        _unary(g, op, "Exp", _binary(g, op, "Sub", y, top)))  # fmt: skip
        return _binary(g, op, "Add", top, _unary(g, op, "Log", total))
    two = g.constant(2.0, op.dtype)
    total = _binary(g, op, "Add", _binary(g, op, "Pow", two, _binary(g, op, "Sub", x, top)),
                    _binary(g, op, "Pow", two, _binary(g, op, "Sub", y, top)))  # fmt: skip
    log2 = _binary(g, op, "Mul", _unary(g, op, "Log", total), g.constant(1 / math.log(2.0), op.dtype))
    return _binary(g, op, "Add", top, log2)


@register_converter(ops.Cumsum)
def _cumsum(g: Any, op: Any) -> str:
    """numpy's cumsum: along ``axis``, or over the flattened array for axis=None"""
    x, axis = op.input(0, op.dtype), op.param("axis")
    if axis is None:
        x, axis = g.op("Reshape", x, g.ints([-1]), dtype=op.dtype), 0
    return g.op("CumSum", x, g.constant(int(axis), "int64"), dtype=op.dtype)


@register_converter(ops.Einsum)
def _einsum(g: Any, op: Any) -> str:
    return g.op("Einsum", *op.inputs(op.dtype), equation=str(op.param("subscripts")).replace(" ", ""), dtype=op.dtype)


@register_converter(ops.Arctan2)
def _arctan2(g: Any, op: Any) -> str:
    """atan(y / x), moved by ±π where x < 0 (the sign of y's), 0 at the origin, as numpy"""
    y, x = op.inputs(op.dtype)
    dtype = op.dtype
    zero = g.constant(0.0, dtype)
    base = _unary(g, op, "Atan", _binary(g, op, "Div", y, x))
    turn = g.op("Where", g.op("Less", y, zero, dtype=bool), g.constant(-math.pi, dtype), g.constant(math.pi, dtype),
                dtype=dtype)  # fmt: skip
    angle = g.op("Where", g.op("Less", x, zero, dtype=bool), _binary(g, op, "Add", base, turn), base, dtype=dtype)
    x_zero = g.op("Equal", x, zero, dtype=bool)  # ±π/2 by y's sign (y / −0 would flip it)
    upright = g.op("Where", g.op("Less", y, zero, dtype=bool), g.constant(-math.pi / 2, dtype),
                   g.constant(math.pi / 2, dtype), dtype=dtype)  # fmt: skip
    angle = g.op("Where", x_zero, upright, angle, dtype=dtype)
    origin = g.op("And", x_zero, g.op("Equal", y, zero, dtype=bool), dtype=bool)
    return g.op("Where", origin, zero, angle, dtype=dtype)


@register_converter(ops.Copysign)
def _copysign(g: Any, op: Any) -> str:
    """|x| with y's sign (a negative zero counts as positive here: ONNX cannot read the sign bit)"""
    x, y = op.inputs(op.dtype)
    sign = g.op("Where", g.op("Less", y, g.constant(0.0, op.dtype), dtype=bool), g.constant(-1.0, op.dtype),
                g.constant(1.0, op.dtype), dtype=op.dtype)  # fmt: skip
    return _binary(g, op, "Mul", _unary(g, op, "Abs", x), sign)


@register_converter(ops.NanToNum)
def _nan_to_num(g: Any, op: Any) -> str:
    x, dtype = op.input(0, op.dtype), op.dtype
    largest = float(np.finfo(dtype).max)
    posinf = largest if op.param("posinf") is None else float(op.param("posinf"))
    neginf = -largest if op.param("neginf") is None else float(op.param("neginf"))
    out = g.op("Where", g.op("IsNaN", x, dtype=bool), g.constant(float(op.param("nan")), dtype), x, dtype=dtype)
    out = g.op("Where", g.op("IsInf", x, detect_negative=0, dtype=bool), g.constant(posinf, dtype), out, dtype=dtype)
    return g.op("Where", g.op("IsInf", x, detect_positive=0, dtype=bool), g.constant(neginf, dtype), out, dtype=dtype)


@register_converter(ops.Cumprod)
def _cumprod(g: Any, op: Any) -> str:
    """ONNX has no cumulative product: one Mul per step along the (static) axis, then Concat"""
    x, axis, shape = op.input(0, op.dtype), op.param("axis"), op.input_shape(0)
    if axis is None:
        x, axis, shape = g.op("Reshape", x, g.ints([-1]), dtype=op.dtype), 0, (int(np.prod(shape)),)
    axis = int(axis) % max(len(shape), 1)
    if shape[axis] == 0:
        return g.op("Identity", x, dtype=op.dtype)
    parts = []
    for i in range(shape[axis]):
        step = g.op("Slice", x, g.ints([i]), g.ints([i + 1]), g.ints([axis]), dtype=op.dtype)
        parts.append(step if not parts else _binary(g, op, "Mul", parts[-1], step))
    return parts[0] if len(parts) == 1 else g.op("Concat", *parts, axis=axis, dtype=op.dtype)


@register_converter(ops.Sort)
def _sort(g: Any, op: Any) -> str:
    """the values of TopK with k = the axis' length (sorted; largest first if descending)"""
    x, shape = op.input(0, op.dtype), op.input_shape(0)
    axis = int(op.param("axis")) % len(shape)
    values, _ = g.op("TopK", x, g.ints([shape[axis]]), axis=axis, largest=int(bool(op.param("descending"))),
                     sorted=1, outputs=2, dtype=op.dtype)  # fmt: skip
    return values


@register_converter(ops.VectorNorm)
def _vector_norm(g: Any, op: Any) -> str:
    """(Σ|x|ᵖ)^(1/p) over ``axis``; max |x| for p = ∞, min |x| for p = −∞"""
    x, dtype, rank = op.input(0, op.dtype), op.dtype, len(op.input_shape(0))
    p, keepdims = float(op.param("ord")), int(bool(op.param("keepdims")))
    axis = op.param("axis")
    axes = list(range(rank)) if axis is None else [int(a) % rank for a in np.atleast_1d(axis)]
    size = _unary(g, op, "Abs", x)
    if not axes:
        return size
    if math.isinf(p):
        kind = "ReduceMax" if p > 0 else "ReduceMin"
        return g.op(kind, size, g.ints(axes), keepdims=keepdims, dtype=dtype)
    powered = _binary(g, op, "Pow", size, g.constant(p, dtype))
    total = g.op("ReduceSum", powered, g.ints(axes), keepdims=keepdims, dtype=dtype)
    return _binary(g, op, "Pow", total, g.constant(1 / p, dtype))


@register_converter(ops.Softplus)
def _softplus(g: Any, op: Any) -> str:
    """softplus(βz)/β, and z itself where βz > threshold (PyTorch's beta and threshold; ONNX's
    Softplus has neither)"""
    z, dtype = op.input(0, op.dtype), op.dtype
    beta, threshold = float(op.param("beta")), float(op.param("threshold"))
    scaled = _binary(g, op, "Mul", z, g.constant(beta, dtype))
    smooth = _binary(g, op, "Mul", _unary(g, op, "Softplus", scaled), g.constant(1 / beta, dtype))
    linear = g.op("Greater", scaled, g.constant(threshold, dtype), dtype=bool)
    return g.op("Where", linear, z, smooth, dtype=dtype)
