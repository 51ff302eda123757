"""The ops behind in-place writes: ``x[index] = v``, ``x.fill_(v)``/``x.zero_()``, ``x.copy_(src)``.

Each is an ordinary out-of-place op (so it has a derivative and a contract) with a
``forward_inplace`` that writes straight into the array when nothing is recorded
(``autograd_nn._inplace`` decides which runs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op
from ._kept import kept_index
from .shape import is_basic_index, plain_index


def _setitem_args(x: Any, index: Any, value: Any) -> tuple[tuple[Any, Any], dict[str, Any]]:
    return (x, value), {"index": plain_index(index)}


def _setitem_reference(x: np.ndarray, value: np.ndarray, index: Any) -> np.ndarray:
    z = x.copy()
    z[index] = value
    return z


@register_op(
    reference=_setitem_reference, shapes="setitem", inplace="__setitem__", parse=_setitem_args,
    arguments=lambda inputs, params: ((inputs[0], params["index"], inputs[1]), {}),
)  # fmt: skip
class SetItem(Function):
    """z = x with z[index] = v;  δx = δz with δz[index] = 0,  δv = δz[index]"""

    @staticmethod
    def forward(ctx: Any, x: Any, value: Any, *, index: Any) -> Any:
        z = np.copy(x)
        written = np.zeros_like(z, dtype=bool)  # (made from z: a compiled step sees it made, and written)
        if not is_basic_index(index):
            counts = np.zeros_like(z, dtype=np.intp)  # (from z too: a compiled step checks every call's index)
            np.add.at(counts, index, 1)
            if counts.max(initial=0) > 1:
                raise ValueError(
                    "setitem: the index selects some elements more than once, so which value they get is "
                    "ambiguous and so is its gradient; use index_add-style accumulation or unique indices"
                )
        try:
            z[index] = value
        except (IndexError, ValueError) as error:
            raise type(error)(f"setitem: cannot assign a value of shape {np.shape(value)} at {index!r} of an "
                              f"array of shape {z.shape}: {error}") from None
        written[index] = True
        ctx.written, ctx.index = written, kept_index(ctx, index)
        return z

    @staticmethod
    def forward_inplace(x: np.ndarray, value: Any, *, index: Any) -> None:
        x[index] = value

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        need_x, need_value = ctx.needs_input_grad
        grad_x = ctx.xp.where(ctx.written, 0, grad) if need_x else None
        return grad_x, (grad[ctx.index] if need_value else None)


def _fill_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    return [tuple(draw(st.lists(st.integers(1, 3), max_size=3))), ()], {}


@register_op(
    reference=lambda x, value: np.full_like(x, value), shapes=_fill_shapes, inplace=("fill_", "zero_"),
    parse={"zero_": lambda x: ((x, 0.0), {}), None: lambda x, value: ((x, value), {})},
    arguments={"zero_": lambda inputs, params: ((inputs[0],), {})},
)  # fmt: skip
class Fill(Function):
    """z = full_like(x, v);  δx = 0,  δv = Σ δz"""

    @staticmethod
    def forward(ctx: Any, x: Any, value: Any) -> Any:
        return np.full_like(x, value)

    @staticmethod
    def forward_inplace(x: np.ndarray, value: Any) -> None:
        x[...] = value

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return (ctx.xp.zeros_like(grad) if ctx.needs_input_grad[0] else None), grad


def _copy_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    source = shape[draw(st.integers(0, len(shape))) :]
    return [shape, tuple(1 if draw(st.booleans()) else n for n in source)], {}


@register_op(reference=lambda x, src: np.broadcast_to(src, x.shape).copy(), shapes=_copy_shapes, inplace="copy_")
class CopyFrom(Function):
    """z = broadcast(src) as x's dtype;  δx = 0,  δsrc = δz summed back to src's shape"""

    @staticmethod
    def forward(ctx: Any, x: Any, src: Any) -> Any:
        try:
            return np.broadcast_to(src, np.shape(x)).astype(np.asanyarray(x).dtype)
        except ValueError:
            raise ValueError(f"copy_: cannot broadcast a source of shape {np.shape(src)} to {np.shape(x)}") from None

    @staticmethod
    def forward_inplace(x: np.ndarray, src: Any) -> None:
        np.copyto(x, src, casting="same_kind")

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return (ctx.xp.zeros_like(grad) if ctx.needs_input_grad[0] else None), grad
