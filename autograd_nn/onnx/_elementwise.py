"""Converters of the elementwise ops: arithmetic, activations, exp/log/sqrt, trigonometry,
and the ops that pick or bound elements (where, clip, cast).

ONNX never promotes types, numpy does: every operand is cast to the op's output dtype
(``op.input(i, op.dtype)``), which is what numpy computed in.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ._registry import register_converter

#: op class → the ONNX op that computes the same elementwise (broadcasting like numpy)
SAME: dict[type, str] = {
    ops.Add: "Add", ops.Sub: "Sub", ops.Mul: "Mul", ops.Div: "Div", ops.Pow: "Pow", ops.Neg: "Neg",
    ops.Abs: "Abs", ops.Sign: "Sign", ops.Maximum: "Max", ops.Minimum: "Min",
    ops.Exp: "Exp", ops.Log: "Log", ops.Sqrt: "Sqrt", ops.Sin: "Sin", ops.Cos: "Cos",
    ops.Tanh: "Tanh", ops.Sigmoid: "Sigmoid", ops.Relu: "Relu",
}  # fmt: skip


def _same(onnx_op: str) -> Any:
    def convert(g: Any, op: Any) -> str:
        return g.op(onnx_op, *op.inputs(op.dtype), dtype=op.dtype)

    convert.__qualname__ = f"convert_{onnx_op}"
    return convert


for _cls, _onnx_op in SAME.items():
    register_converter(_cls)(_same(_onnx_op))


@register_converter(ops.LeakyRelu)
def _leaky_relu(g: Any, op: Any) -> str:
    return g.op("LeakyRelu", op.input(0, op.dtype), alpha=float(op.param("negative_slope")), dtype=op.dtype)


@register_converter(ops.Softmax, ops.LogSoftmax)
def _softmax(g: Any, op: Any) -> str:
    kind = "Softmax" if op.node.fn is ops.Softmax else "LogSoftmax"
    return g.op(kind, op.input(0, op.dtype), axis=int(op.param("axis")), dtype=op.dtype)


@register_converter(ops.Where)
def _where(g: Any, op: Any) -> str:
    condition = op.param_value("condition", np.bool_)
    return g.op("Where", condition, *op.inputs(op.dtype), dtype=op.dtype)


@register_converter(ops.Clip)
def _clip(g: Any, op: Any) -> str:
    x = op.input(0, op.dtype)
    bounds = [op.param("a_min"), op.param("a_max")]
    if all(b is None or np.ndim(b) == 0 for b in bounds):  # ONNX Clip takes scalar bounds
        low, high = ("" if b is None else g.constant(b, op.dtype) for b in bounds)
        return g.op("Clip", x, low, high, dtype=op.dtype)
    for bound, kind in zip(bounds, ("Max", "Min")):  # array bounds: np.clip is min(max(x, lo), hi)
        if bound is not None:
            x = g.op(kind, x, g.constant(bound, op.dtype), dtype=op.dtype)
    return x


# The dtypes ONNX has that numpy has too.
DTYPES = tuple(np.dtype(t) for t in ("float16", "float32", "float64", "int8", "int16", "int32", "int64",
                                      "uint8", "uint16", "uint32", "uint64", "bool"))  # fmt: skip


@register_converter(ops.Cast)
def _cast(g: Any, op: Any) -> str:
    if op.dtype not in DTYPES:
        raise op.fail(f"ONNX has no {op.dtype} type; cast to one of {', '.join(str(d) for d in DTYPES)}")
    return g.op("Cast", op.input(0), to=op.dtype, dtype=op.dtype)


@register_converter(ops.Fill, ops.CopyFrom)
def _broadcast_second_to_first(g: Any, op: Any) -> str:
    """full_like(x, v) and x.copy_(src): the second input, as x's dtype, expanded to x's shape
    (read from x, so it follows dynamic axes)."""
    shape = g.op("Shape", op.input(0), dtype=np.int64)
    return g.op("Expand", op.input(1, op.dtype), shape, dtype=op.dtype)


@register_converter(ops.BinaryCrossEntropy)
def _binary_cross_entropy(g: Any, op: Any) -> str:
    """−[y ln p + (1 − y) ln(1 − p)], each log clamped at −100 as the op does."""
    dtype = op.dtype
    p, y = op.input(0, dtype), op.input(1, dtype)  # the target is an input: it has a gradient
    one, floor = g.constant(1.0, dtype), g.constant(-100.0, dtype)
    log_p = g.op("Max", g.op("Log", p, dtype=dtype), floor, dtype=dtype)
    log_q = g.op("Max", g.op("Log", g.op("Sub", one, p, dtype=dtype), dtype=dtype), floor, dtype=dtype)
    terms = g.op(
        "Add",
        g.op("Mul", y, log_p, dtype=dtype),
        g.op("Mul", g.op("Sub", one, y, dtype=dtype), log_q, dtype=dtype),
        dtype=dtype,
    )
    return g.op("Neg", terms, dtype=dtype)
