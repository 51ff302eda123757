"""Sorting: ``sort`` (values, numpy's meaning), ``topk`` (values and indices, PyTorch's),
``median`` (numpy's: the mean of the middle two for an even count). The values are
differentiable: each output element's δ goes back to the element it came from.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._shapes import normalize_axes
from ..function import Function
from ..registry import register_composite, register_op
from .arithmetic import Where


def along(indices: np.ndarray, axis: int) -> tuple[Any, ...]:
    """The advanced index that ``np.take_along_axis(x, indices, axis)`` reads with: ``x[along(indices, axis)]``."""
    ndim = indices.ndim
    grids = np.ogrid[tuple(slice(n) for n in indices.shape)] if ndim else []
    return tuple(indices if i == axis else grids[i] for i in range(ndim))


def _order(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    # NOTE: a stable descending sort, read off an ascending one of x reversed: equal elements
    # keep their order and a nan comes first (the largest, as in numpy's ascending order and
    # PyTorch's descending one). Sorting −x put nan last, and −x is wrong for unsigned and
    # smallest ints (uint8 [0, 1, 2] gave [0, 2, 1]) and refused for bools.
    last = x.shape[axis] - 1
    return last - np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)


@register_op(
    reference=lambda x, axis, descending: -np.sort(-x, axis) if descending else np.sort(x, axis),
    shapes="axis", distinct=True, params={"descending": (False, True)}, functions="sort", methods="sort",
)  # fmt: skip
class Sort(Function):
    """z = x sorted along axis (ascending; ``descending=True`` as PyTorch);  δx = δz put back where each value came from"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, axis: Any = -1, kind: Any = None, descending: bool = False) -> Any:
        ctx.input_shape = x.shape
        if axis is None:  # numpy: the flattened array
            x, axis = x.reshape(-1), 0
        axis = normalize_axes(axis, x.ndim, "sort")[0] if x.ndim else 0
        order = _order(x, axis, descending) if x.ndim else np.zeros((), dtype=np.intp)
        ctx.inverse = along(np.argsort(order, axis=axis) if x.ndim else order, axis)
        return x[along(order, axis)] if x.ndim else x.copy()

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad[ctx.inverse].reshape(ctx.input_shape) if ctx.inverse else grad


class TopK(NamedTuple):
    """What ``topk`` returns, as PyTorch's: the values (differentiable) and their indices."""

    values: Any
    indices: np.ndarray


def _topk_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return [shape], {"k": draw(st.integers(0, shape[axis])), "axis": axis, "largest": draw(st.booleans())}


def _topk_reference(x: np.ndarray, k: int, axis: int, largest: bool) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-x if largest else x, axis=axis, kind="stable")
    indices = np.take(order, np.arange(k), axis=axis)
    return np.take_along_axis(x, indices, axis), indices


@register_composite(
    reference=_topk_reference, shapes=_topk_shapes, distinct=True, arity=1, functions="topk", methods="topk"
)
def topk(x: Any, k: int, axis: int = -1, largest: bool = True, sorted: bool = True) -> TopK:  # noqa: A002
    """The k largest (``largest=False``: smallest) elements along ``axis``, in order, and
    their indices: PyTorch's ``topk(k, dim)`` (``sorted=False`` still sorts)."""
    axis = normalize_axes(axis, x.ndim, "topk")[0] if x.ndim else 0
    if not 0 <= k <= (x.shape[axis] if x.ndim else 1):
        raise ValueError(f"topk: k={k} is out of range for axis {axis} of shape {x.shape}")
    indices = np.take(_order(x.data, axis, largest), np.arange(k), axis=axis)
    return TopK(x[along(indices, axis)], indices)


def _median_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    axes = st.integers(-len(shape), len(shape) - 1)
    axis = draw(st.none() | axes | st.lists(axes, min_size=1, max_size=len(shape), unique_by=lambda a: a % len(shape))
                .map(tuple))  # fmt: skip
    return [shape], {"axis": axis, "keepdims": draw(st.booleans())}


@register_composite(reference=np.median, shapes=_median_shapes, distinct=True, functions="median", methods="median")
def median(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The middle value along ``axis`` (all axes for None), numpy's median: for an even
    count, the mean of the two middle values (PyTorch's is the lower one); nan where the
    values hold a nan."""
    axes = normalize_axes(axis, x.ndim, "median")
    kept = [a for a in range(x.ndim) if a not in axes]
    moved = x.transpose(kept + list(axes))
    rows = moved.reshape(moved.shape[: len(kept)] + (-1,)).sort(axis=-1)
    n = rows.shape[-1]
    middle = rows[..., n // 2] if n % 2 else (rows[..., n // 2 - 1] + rows[..., n // 2]) * 0.5
    # NOTE: a nan sorts last, so the middle of [1, nan, 2] is 2; numpy's median is nan there.
    # The last value is that nan, and δ goes to it (as PyTorch's median gives it δ).
    last = rows[..., n - 1]
    middle = Where.apply(last, middle, condition=np.isnan(last.data))
    if keepdims:
        middle = middle.reshape(tuple(1 if a in axes else s for a, s in enumerate(x.shape)))
    return middle
