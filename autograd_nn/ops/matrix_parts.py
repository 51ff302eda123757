"""Parts of matrices (the last two axes, or two chosen ones): ``diagonal``, ``trace``,
``tril``, ``triu``: composites of indexing and ``where``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import register_composite
from .arithmetic import Where
from .composite import moveaxis, normalize_axes_in_order


def _diagonal_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=2, max_size=3)))
    axis1, axis2 = draw(st.permutations(range(len(shape))))[:2]
    return [shape], {"offset": draw(st.integers(-2, 2)), "axis1": axis1, "axis2": axis2}


def _diagonal_args(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, *, dim1: Any = None,
                   dim2: Any = None) -> tuple[tuple[Any], dict[str, Any]]:  # fmt: skip
    """numpy's (offset, axis1, axis2); PyTorch's ``dim1``/``dim2`` too."""
    return (x,), {"offset": offset, "axis1": axis1 if dim1 is None else dim1, "axis2": axis2 if dim2 is None else dim2}


@register_composite(
    reference=np.diagonal, shapes=_diagonal_shapes, functions="diagonal", methods="diagonal", parse=_diagonal_args
)
def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The diagonal ``offset`` of the matrices over (axis1, axis2), as a new last axis (``np.diagonal``)."""
    if x.ndim < 2:
        raise ValueError(f"diagonal: needs at least 2 dimensions, got shape {x.shape}")
    first, second = normalize_axes_in_order((axis1, axis2), x.ndim, "diagonal")
    moved = moveaxis(x, (first, second), (-2, -1))
    rows, cols = moved.shape[-2:]
    start_row, start_col = max(0, -offset), max(0, offset)
    count = max(0, min(rows - start_row, cols - start_col))
    steps = np.arange(count)
    return moved[..., steps + start_row, steps + start_col]


@register_composite(reference=np.trace, shapes=_diagonal_shapes, functions="trace", methods="trace",
                    parse=_diagonal_args)  # fmt: skip
def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The sum of ``diagonal(x, offset, axis1, axis2)``, as ``np.trace``."""
    return diagonal(x, offset, axis1, axis2).sum(axis=-1)


def _triangle_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    return [tuple(draw(st.lists(st.integers(1, 3), min_size=2, max_size=3)))], {"k": draw(st.integers(-2, 2))}


def _triangle_args(x: Any, k: int = 0, *, diagonal: Any = None) -> tuple[tuple[Any], dict[str, Any]]:
    """numpy's ``k``; PyTorch's ``diagonal=``."""
    return (x,), {"k": k if diagonal is None else diagonal}


def _triangle(x: Any, k: int, lower: bool, name: str) -> Any:
    if x.ndim < 2:
        raise ValueError(f"{name}: needs at least 2 dimensions, got shape {x.shape}")
    rows, cols = x.shape[-2:]
    keep = np.tri(rows, cols, k, dtype=bool) if lower else ~np.tri(rows, cols, k - 1, dtype=bool)
    return Where.apply(x, np.zeros((), dtype=x.dtype), condition=keep)


@register_composite(reference=np.tril, shapes=_triangle_shapes, functions="tril", methods="tril", parse=_triangle_args)
def tril(x: Any, k: int = 0) -> Any:
    """x with the elements above diagonal ``k`` of its last two axes zeroed, as ``np.tril``."""
    return _triangle(x, k, True, "tril")


@register_composite(reference=np.triu, shapes=_triangle_shapes, functions="triu", methods="triu", parse=_triangle_args)
def triu(x: Any, k: int = 0) -> Any:
    """x with the elements below diagonal ``k`` of its last two axes zeroed, as ``np.triu``."""
    return _triangle(x, k, False, "triu")
