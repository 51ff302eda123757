"""Joining and spreading several tensors, as composites: ``hstack``, ``vstack`` (numpy's),
and ``meshgrid`` (numpy's ``indexing='xy'`` by default; PyTorch's default is 'ij')."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import register_composite
from .shape import Concatenate


def _rows_or_columns(draw: Any, vertical: bool) -> list[tuple[int, ...]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    side = draw(st.integers(1, 3))
    if draw(st.booleans()):  # 1-D pieces
        return [(side,) if vertical else (draw(st.integers(0, 3)),) for _ in range(draw(st.integers(1, 3)))]
    count = draw(st.integers(1, 3))
    return [(draw(st.integers(1, 3)), side) if vertical else (side, draw(st.integers(1, 3))) for _ in range(count)]


@register_composite(
    reference=lambda *xs: np.vstack(xs), shapes=lambda draw: (_rows_or_columns(draw, True), {}), functions="vstack"
)
def vstack(*xs: Any) -> Any:
    """Stack rows: 1-D tensors become rows, then join along axis 0 (``np.vstack``)."""
    rows = [x.reshape(1, -1) if x.ndim < 2 else x for x in xs]
    return Concatenate.apply(*rows, axis=0)


@register_composite(
    reference=lambda *xs: np.hstack(xs), shapes=lambda draw: (_rows_or_columns(draw, False), {}), functions="hstack"
)
def hstack(*xs: Any) -> Any:
    """Join along axis 1 (axis 0 for 1-D tensors), as ``np.hstack``."""
    pieces = [x.reshape(1) if x.ndim == 0 else x for x in xs]
    return Concatenate.apply(*pieces, axis=0 if pieces[0].ndim == 1 else 1)


def _grid_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shapes = [(draw(st.integers(1, 3)),) for _ in range(draw(st.integers(1, 3)))]
    return shapes, {"indexing": draw(st.sampled_from(["xy", "ij"])), "sparse": draw(st.booleans())}


@register_composite(
    reference=lambda *xs, indexing, sparse: np.meshgrid(*xs, indexing=indexing, sparse=sparse), shapes=_grid_shapes,
    functions="meshgrid", parse=lambda *xs, indexing="xy", sparse=False: (xs, {"indexing": indexing, "sparse": sparse}),
    arguments=lambda inputs, params: (tuple(inputs), dict(params)),
)  # fmt: skip
def meshgrid(*xs: Any, indexing: str = "xy", sparse: bool = False) -> tuple[Any, ...]:
    """Coordinate grids from 1-D tensors, as ``np.meshgrid`` (``indexing='xy'``: the first two
    axes swapped, numpy's default; PyTorch's default is 'ij')."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    xs = tuple(x if hasattr(x, "broadcast_to") else xs[0].__autograd_tensor__(np.asanyarray(x)) for x in xs)
    n = len(xs)
    sides = [x.size for x in xs]
    if indexing == "xy" and n > 1:
        sides[0], sides[1] = sides[1], sides[0]
    grids = []
    for i, x in enumerate(xs):
        axis = (1 - i if i < 2 else i) if indexing == "xy" and n > 1 else i
        shape = [1] * n
        shape[axis] = x.size
        grid = x.reshape(tuple(shape))
        grids.append(grid if sparse else grid.broadcast_to(tuple(sides)))
    return tuple(grids)
