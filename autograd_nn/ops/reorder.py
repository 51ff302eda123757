"""Moving elements without changing them, as composites of indexing, reshaping and
broadcasting: ``flip``, ``roll``, ``tile``, ``repeat`` (numpy's meaning: PyTorch's
``repeat_interleave``), and splitting one tensor into several: ``split``, ``array_split``
(numpy's), ``chunk``, ``unbind`` (PyTorch's).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _tracing
from .._record import array_of
from .._shapes import normalize_axes
from ..registry import register_composite
from .shape import Concatenate


def _small(draw: Any, min_dims: int = 1) -> tuple[int, ...]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    return tuple(draw(st.lists(st.integers(1, 3), min_size=min_dims, max_size=3)))


def _flip_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st

    shape = _small(draw)
    axes = st.integers(-len(shape), len(shape) - 1)
    axis = draw(st.none() | axes | st.lists(axes, max_size=len(shape), unique_by=lambda a: a % len(shape)).map(tuple))
    return [shape], {"axis": axis}


def _flip_args(x: Any, axis: Any = None, *, dims: Any = None) -> tuple[tuple[Any], dict[str, Any]]:
    """numpy's flip(x, axis); PyTorch's flip(x, dims) names it ``dims``."""
    return (x,), {"axis": axis if dims is None else dims}


@register_composite(reference=np.flip, shapes=_flip_shapes, functions="flip", methods="flip", parse=_flip_args)
def flip(x: Any, axis: Any = None) -> Any:
    """The elements in reverse order along ``axis`` (all axes for None), as ``np.flip``."""
    axes = normalize_axes(axis, x.ndim, "flip")
    return x[tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(x.ndim))]


def _roll_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st

    shape = _small(draw)
    if draw(st.booleans()):
        return [shape], {"shift": draw(st.integers(-4, 4)), "axis": draw(st.none() | st.integers(0, len(shape) - 1))}
    axes = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True))
    return [shape], {"shift": tuple(draw(st.integers(-4, 4)) for _ in axes), "axis": tuple(axes)}


def _roll_args(x: Any, shift: Any = None, axis: Any = None, *, shifts: Any = None, dims: Any = None) -> Any:
    """numpy's roll(x, shift, axis); PyTorch's roll(x, shifts, dims)."""
    return (x,), {"shift": shift if shifts is None else shifts, "axis": axis if dims is None else dims}


@register_composite(reference=np.roll, shapes=_roll_shapes, functions="roll", methods="roll", parse=_roll_args)
def roll(x: Any, shift: Any, axis: Any = None) -> Any:
    """Elements shifted by ``shift`` along ``axis``, those pushed off the end coming back at the
    start; for ``axis=None`` along the flattened tensor. As ``np.roll``."""
    shape = x.shape
    if axis is None:
        x, axis = x.reshape(-1), 0
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    shifts = [shift] * len(axes) if isinstance(shift, (int, np.integer)) else list(shift)
    if len(shifts) != len(axes):
        raise ValueError(f"roll: shift {shift!r} and axis {axis!r} must have the same length")
    for s, a in zip(shifts, axes):
        a = normalize_axes(a, x.ndim, "roll")[0] if x.ndim else 0
        n = x.shape[a] if x.ndim else 1
        s = int(s) % n if n else 0
        if s:
            lead = (slice(None),) * a
            x = Concatenate.apply(x[lead + (slice(n - s, None),)], x[lead + (slice(0, n - s),)], axis=a)
    return x.reshape(shape) if x.shape != shape else x


def _tile_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st

    reps = draw(st.integers(1, 3) | st.lists(st.integers(1, 3), max_size=4).map(tuple))
    return [_small(draw, 0)], {"reps": reps}


@register_composite(reference=np.tile, shapes=_tile_shapes, arity=1, functions="tile", methods="tile")
def tile(x: Any, reps: Any) -> Any:
    """x repeated ``reps`` times along each axis, as ``np.tile`` (PyTorch's ``tile``, and
    PyTorch's ``Tensor.repeat(*sizes)``)."""
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    ndim = max(x.ndim, len(reps))
    shape, reps = (1,) * (ndim - x.ndim) + x.shape, (1,) * (ndim - len(reps)) + reps
    spread = x.reshape(tuple(n for s in shape for n in (1, s)))
    tiled = spread.broadcast_to(tuple(n for r, s in zip(reps, shape) for n in (r, s)))
    return tiled.reshape(tuple(r * s for r, s in zip(reps, shape)))


def _repeat_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st

    shape = _small(draw)
    axis = draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    n = math.prod(shape) if axis is None else shape[axis]
    repeats = draw(st.integers(0, 3) | st.lists(st.integers(0, 3), min_size=n, max_size=n).map(tuple))
    return [shape], {"repeats": repeats, "axis": axis}


@register_composite(
    reference=np.repeat, shapes=_repeat_shapes, arity=1, functions=("repeat", "repeat_interleave"),
    methods=("repeat", "repeat_interleave"),
)  # fmt: skip
def repeat(x: Any, repeats: Any, axis: Any = None) -> Any:
    """Each element repeated ``repeats`` times (an int, or one count per element) along
    ``axis``, the flattened tensor for None: numpy's ``repeat``, PyTorch's ``repeat_interleave``.
    (PyTorch's ``Tensor.repeat(*sizes)`` is ``tile``.)"""
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = normalize_axes(axis, x.ndim, "repeat")[0]
    n = x.shape[axis]
    if isinstance(repeats, (int, np.integer)):
        spread = x.reshape(x.shape[: axis + 1] + (1,) + x.shape[axis + 1 :])
        tiled = spread.broadcast_to(x.shape[: axis + 1] + (int(repeats),) + x.shape[axis + 1 :])
        return tiled.reshape(x.shape[:axis] + (n * int(repeats),) + x.shape[axis + 1 :])
    counts = np.asanyarray(array_of(repeats))
    if counts.shape != (n,):
        raise ValueError(f"repeat: {counts.size} repeats for axis {axis} of length {n} (shape {x.shape})")
    # (np.repeat dispatches on its first argument only: a plain arange would hide the counts from a
    # compiled step, whose replays would keep the recording's; made, the call is one it records)
    return x[(slice(None),) * axis + (np.repeat(_tracing.made(np.arange(n)), counts),)]


def _pieces(x: Any, bounds: list[int], axis: int) -> list[Any]:
    lead = (slice(None),) * axis
    return [x[lead + (slice(start, stop),)] for start, stop in zip(bounds[:-1], bounds[1:])]


def _split_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st

    shape = list(_small(draw))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    sections = draw(st.integers(1, 3))
    if draw(st.booleans()):
        shape[axis] *= sections
        return [tuple(shape)], {"indices_or_sections": sections, "axis": axis}
    cuts = draw(st.lists(st.integers(0, shape[axis]), max_size=3))
    return [tuple(shape)], {"indices_or_sections": sorted(cuts), "axis": axis}


def _bounds(n: int, indices_or_sections: Any, equal: bool, name: str) -> list[int]:
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError(f"{name}: the number of sections must be positive, got {sections}")
        if equal and n % sections:
            raise ValueError(f"{name}: an axis of length {n} does not split into {sections} equal sections")
        size, extra = divmod(n, sections)
        return [i * size + min(i, extra) for i in range(sections + 1)]
    return [0] + [min(int(i), n) for i in indices_or_sections] + [n]


@register_composite(reference=np.split, shapes=_split_shapes, arity=1, functions="split", methods="split")
def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """Pieces of x along ``axis``: ``sections`` equal ones, or cut before each index, as
    ``np.split`` (PyTorch's ``split(size)`` takes a piece's size: use ``chunk``)."""
    axis = normalize_axes(axis, x.ndim, "split")[0]
    return _pieces(x, _bounds(x.shape[axis], indices_or_sections, True, "split"), axis)


@register_composite(reference=np.array_split, shapes=_split_shapes, arity=1, functions="array_split",
                    methods="array_split")  # fmt: skip
def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """As ``split``, but ``sections`` need not divide the axis: the first pieces get one more."""
    axis = normalize_axes(axis, x.ndim, "array_split")[0]
    return _pieces(x, _bounds(x.shape[axis], indices_or_sections, False, "array_split"), axis)


def _chunk_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st

    shape = _small(draw)
    return [shape], {"chunks": draw(st.integers(1, 4)), "axis": draw(st.integers(-len(shape), len(shape) - 1))}


def _chunk_reference(x: np.ndarray, chunks: int, axis: int) -> tuple[np.ndarray, ...]:
    size = -(-x.shape[axis] // chunks)
    return tuple(np.split(x, range(size, x.shape[axis], size), axis=axis))


@register_composite(reference=_chunk_reference, shapes=_chunk_shapes, arity=1, functions="chunk", methods="chunk")
def chunk(x: Any, chunks: int, axis: int = 0) -> tuple[Any, ...]:
    """PyTorch's ``chunk``: pieces of ⌈n / chunks⌉ along ``axis`` (``dim=``), the last maybe
    smaller, so there may be fewer than ``chunks`` (numpy's ``array_split`` always gives ``chunks``)."""
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks < 1:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    axis = normalize_axes(axis, x.ndim, "chunk")[0]
    n = x.shape[axis]
    size = max(-(-n // chunks), 1)
    return tuple(_pieces(x, list(range(0, n, size)) + [n], axis)) if n else (x,)


@register_composite(
    reference=lambda x, axis: tuple(np.moveaxis(x, axis, 0)), shapes="axis", functions="unbind", methods="unbind"
)
def unbind(x: Any, axis: int = 0) -> tuple[Any, ...]:
    """PyTorch's ``unbind``: the slices of x along ``axis`` (``dim=``), that axis removed."""
    axis = normalize_axes(axis, x.ndim, "unbind")[0]
    return tuple(x[(slice(None),) * axis + (i,)] for i in range(x.shape[axis]))
