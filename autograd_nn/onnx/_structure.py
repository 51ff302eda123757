"""Converters of the ops that combine or rearrange whole arrays: matrix products, the
affine layer (Gemm), reductions, reshape, transpose, broadcasting and concatenation.

Shapes are written so that they follow the dynamic axes: a reshape copies a dim from its
input (``0``) or infers it (``-1``) where the size varies, and a broadcast expands only
the dims it has to.
"""

from __future__ import annotations

from typing import Any

from .. import ops
from .._shapes import normalize_axes
from ._registry import register_converter


@register_converter(ops.Matmul)
def _matmul(g: Any, op: Any) -> str:
    return g.op("MatMul", *op.inputs(op.dtype), dtype=op.dtype)


@register_converter(ops.Linear)
def _linear(g: Any, op: Any) -> str:
    """z = x Wᵀ + b: one Gemm (transB) for a batch of rows, else MatMul by Wᵀ and Add."""
    x, w, *bias = op.inputs(op.dtype)
    if len(op.input_shape(0)) == 2 and (not bias or len(op.input_shape(2)) <= 1):
        return g.op("Gemm", x, w, *bias, transB=1, dtype=op.dtype)
    z = g.op("MatMul", x, g.op("Transpose", w, perm=[1, 0], dtype=op.dtype), dtype=op.dtype)
    return g.op("Add", z, bias[0], dtype=op.dtype) if bias else z


# Since opset 18 every reduction takes its axes as an input; ReduceSum has since opset 13.
_REDUCE = {
    ops.Sum: ("ReduceSum", 13),
    ops.Mean: ("ReduceMean", 18),
    ops.Max: ("ReduceMax", 18),
    ops.Min: ("ReduceMin", 18),
    ops.Prod: ("ReduceProd", 18),
    ops.LogSumExp: ("ReduceLogSumExp", 18),
}


@register_converter(*_REDUCE)
def _reduce(g: Any, op: Any) -> str:
    kind, axes_as_input = _REDUCE[op.node.fn]
    rank = len(op.input_shape(0))
    axes = normalize_axes(op.param("axis"), rank, kind)
    keepdims = int(bool(op.param("keepdims")))
    x = op.input(0, op.dtype)  # the mean of integers is a float, as numpy's
    if not axes:  # numpy reduces over no axis: the array itself (ONNX would reduce them all)
        return g.op("Identity", x, dtype=op.dtype)
    if g.opset >= axes_as_input:
        return g.op(kind, x, g.ints(axes), keepdims=keepdims, dtype=op.dtype)
    return g.op(kind, x, axes=list(axes), keepdims=keepdims, dtype=op.dtype)


@register_converter(ops.Reshape)
def _reshape(g: Any, op: Any) -> str:
    """Static sizes as they are; a varying one copied from the input (0) where it stays in
    place, else inferred (-1) — once; more than that is built from the inputs' shapes."""
    source = op.input_dims(0)
    target: list[Any] = []
    inferred = False
    for axis, dim in enumerate(op.dims):
        if dim[0] == dim[1]:
            target.append(dim[0])
        elif axis < len(source) and source[axis] == dim:
            target.append(0)
        elif not inferred:
            target.append(-1)
            inferred = True
        else:
            target.append(dim)
    if 0 in op.shape:  # an empty array: 0 must mean 0, not "copy", so every size is written out
        shape = op.session.shape_value(op.dims)
        return g.op("Reshape", op.input(0), shape, allowzero=1, dtype=op.dtype)
    if any(isinstance(d, tuple) for d in target):
        shape = op.session.shape_value(op.dims)
    else:
        shape = g.ints(target)
    return g.op("Reshape", op.input(0), shape, dtype=op.dtype)


@register_converter(ops.Transpose)
def _transpose(g: Any, op: Any) -> str:
    rank = len(op.input_shape(0))
    axes = op.param("axes")
    perm = list(range(rank - 1, -1, -1)) if axes is None else [a % rank for a in axes]
    if perm == sorted(perm):  # no axis moves (a 0-d or 1-d array, or the identity permutation)
        return g.op("Identity", op.input(0), dtype=op.dtype)
    return g.op("Transpose", op.input(0), perm=perm, dtype=op.dtype)


@register_converter(ops.BroadcastTo)
def _broadcast_to(g: Any, op: Any) -> str:
    """Expand broadcasts like numpy: a dim the input has already is written as 1 (so it
    keeps the input's size, dynamic or not)."""
    source = op.input_dims(0)
    offset = len(op.dims) - len(source)
    dims = [1 if k >= offset and source[k - offset] == dim else dim for k, dim in enumerate(op.dims)]
    return g.op("Expand", op.input(0), op.session.shape_value(dims), dtype=op.dtype)


@register_converter(ops.Concatenate)
def _concatenate(g: Any, op: Any) -> str:
    return g.op("Concat", *op.inputs(op.dtype), axis=int(op.param("axis")) % len(op.shape), dtype=op.dtype)
