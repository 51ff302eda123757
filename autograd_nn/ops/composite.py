"""Composites: ops defined by the primitives they call, so they need no derivative code.

Each takes a Tensor first (the generated entries convert it) and uses only the Tensor's
methods, operators and the primitives' ``apply``, so it lives here beside the
primitives and becomes a Tensor method and a function like any of them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._shapes import normalize_axes
from ..registry import register_composite
from .norm import VectorNorm
from .shape import Concatenate, Reshape


def _deviation(x: Any, axis: Any, name: str) -> tuple[Any, int]:
    """x − x̄ over ``axis``, and the number of elements each mean is taken over."""
    count = math.prod(x.shape[a] for a in normalize_axes(axis, x.ndim, name))
    return x - x.mean(axis=axis, keepdims=True), count


def _variance(x: Any, axis: Any, ddof: int, keepdims: bool, name: str) -> Any:
    deviation, count = _deviation(x, axis, name)
    # A Python float keeps float32 float32; n − ddof ≤ 0 gives inf/nan, as numpy does.
    scale = 1.0 / (count - ddof) if count > ddof else math.inf
    return (deviation * deviation).sum(axis=axis, keepdims=keepdims) * scale


def _ddof_args(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False, *, unbiased: Any = None,
               correction: Any = None, **aliases: Any) -> tuple[tuple[Any], dict[str, Any]]:  # fmt: skip
    """numpy's (x, axis, ddof, keepdims); PyTorch's ``unbiased=True`` is ``ddof=1`` and its
    ``correction=c`` is ``ddof=c`` (only the default differs: numpy's ddof is 0)."""
    axis, keepdims = aliases.pop("dim", axis), aliases.pop("keepdim", keepdims)
    if aliases:
        raise TypeError(f"var/std: unexpected argument(s) {sorted(aliases)}")
    if unbiased is not None:
        ddof = int(bool(unbiased))
    if correction is not None:
        ddof = correction
    return (x,), {"axis": axis, "ddof": ddof, "keepdims": keepdims}


@register_composite(reference=np.var, shapes="ddof", functions="var", methods="var", parse=_ddof_args)
def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """σ² = (1/(n − ddof)) Σ (x − x̄)², numpy's definition (``ddof=0``: divide by n)."""
    return _variance(x, axis, ddof, keepdims, "var")


@register_composite(reference=np.std, shapes="ddof", distinct=True, functions="std", methods="std", parse=_ddof_args)
def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """σ = √var(x), numpy's definition (``ddof=0``; PyTorch's default ``unbiased`` is ``ddof=1``)."""
    deviation, count = _deviation(x, axis, "std")
    # NOTE: ‖x − x̄‖ / √(n − ddof), not √var: where every deviation is 0 (a constant slice) or
    # their squares underflow, √'s slope is ∞ and δx = ∞ · 0 = nan; the norm's is the
    # subgradient 0 there, as PyTorch's std gives. n − ddof ≤ 0 gives inf/nan, as numpy does.
    scale = 1.0 / math.sqrt(count - ddof) if count > ddof else math.inf
    return VectorNorm.apply(deviation, ord=2, axis=axis, keepdims=keepdims) * scale


@register_composite(reference=np.squeeze, shapes="squeeze", functions="squeeze", methods="squeeze")
def squeeze(x: Any, axis: Any = None) -> Any:
    """The same elements without the axes of length one (``axis``: only those), as ``np.squeeze``."""
    try:
        shape = np.empty(x.shape, dtype=np.bool_).squeeze(axis).shape
    except ValueError:
        raise ValueError(
            f"squeeze: cannot select an axis to squeeze out which has size not equal to one "
            f"(axis={axis}, shape {x.shape})"
        ) from None
    return Reshape.apply(x, shape=shape)


def _expanded_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    ndim = len(shape) + len(axes)
    out = list(shape)
    for a in sorted(normalize_axes(tuple(axes), ndim, "expand_dims")):
        out.insert(a, 1)
    return tuple(out)


@register_composite(
    reference=np.expand_dims, shapes="expand_dims", arity=1, functions="expand_dims", methods=("expand_dims", "unsqueeze")
)
def expand_dims(x: Any, axis: Any) -> Any:
    """Insert axes of length one at ``axis``, as ``np.expand_dims`` (PyTorch: ``unsqueeze``)."""
    return Reshape.apply(x, shape=_expanded_shape(np.shape(x), axis))


@register_composite(reference=np.ravel, functions="ravel", methods="ravel")
def ravel(x: Any) -> Any:
    """All elements in one axis, in C order (numpy's ``ravel``)."""
    return Reshape.apply(x, shape=(x.size,))


def _flatten_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=4)))
    start = draw(st.integers(-len(shape), len(shape) - 1))
    end = draw(st.integers(start % len(shape), len(shape) - 1)) - (len(shape) if draw(st.booleans()) else 0)
    return [shape], {"start_dim": start, "end_dim": end}


def _flatten_reference(x: np.ndarray, start_dim: int, end_dim: int) -> np.ndarray:
    start, end = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1 :])


@register_composite(reference=_flatten_reference, shapes=_flatten_shapes, functions="flatten", methods="flatten")
def flatten(x: Any, start_dim: Any = 0, end_dim: int = -1) -> Any:
    """Axes start_dim … end_dim merged into one (PyTorch's ``flatten``); with no arguments all
    of them, numpy's ``flatten()`` (whose ``order='C'`` is accepted as the first argument)."""
    if isinstance(start_dim, str):  # numpy's flatten(order)
        if start_dim != "C":
            raise ValueError(f"flatten: only order='C' is supported, got {start_dim!r}")
        start_dim = 0
    if x.ndim == 0:
        return Reshape.apply(x, shape=(1,))
    start, end = (int(normalize_axes(a, x.ndim, "flatten")[0]) for a in (start_dim, end_dim))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}")
    return Reshape.apply(x, shape=x.shape[:start] + (math.prod(x.shape[start : end + 1]),) + x.shape[end + 1 :])


def _unflatten_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    sizes = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    lead, trail = (tuple(draw(st.lists(st.integers(1, 3), max_size=1))) for _ in range(2))
    return [lead + (math.prod(sizes),) + trail], {"dim": len(lead), "sizes": sizes}


@register_composite(
    reference=lambda x, dim, sizes: x.reshape(x.shape[:dim] + sizes + x.shape[dim + 1 :]), shapes=_unflatten_shapes,
    arity=1, functions="unflatten", methods="unflatten",
)  # fmt: skip
def unflatten(x: Any, dim: int, sizes: Any) -> Any:
    """Axis ``dim`` split into axes of ``sizes`` (one may be −1), PyTorch's ``unflatten``."""
    axis = normalize_axes(dim, x.ndim, "unflatten")[0]
    return Reshape.apply(x, shape=x.shape[:axis] + tuple(sizes) + x.shape[axis + 1 :])


def _narrow_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    dim = draw(st.integers(0, len(shape) - 1))
    start = draw(st.integers(0, shape[dim]))
    return [shape], {"dim": dim, "start": start, "length": draw(st.integers(0, shape[dim] - start))}


@register_composite(
    reference=lambda x, dim, start, length: np.take(x, np.arange(start, start + length), axis=dim),
    shapes=_narrow_shapes, arity=1, methods="narrow", functions="narrow",
)  # fmt: skip
def narrow(x: Any, dim: int, start: int, length: int) -> Any:
    """The ``length`` elements from ``start`` along ``dim`` (PyTorch's ``narrow``), a view."""
    axis = normalize_axes(dim, x.ndim, "narrow")[0]
    if not 0 <= length <= x.shape[axis] - (start % x.shape[axis] if x.shape[axis] else 0):
        raise ValueError(f"narrow: start {start} and length {length} do not fit axis {dim} of shape {x.shape}")
    start = start % x.shape[axis] if x.shape[axis] else 0
    return x[(slice(None),) * axis + (slice(start, start + length),)]


@register_composite(reference=np.swapaxes, shapes="swapaxes", arity=1, functions="swapaxes", methods="swapaxes")
def swapaxes(x: Any, axis1: int, axis2: int) -> Any:
    """Interchange two axes, as ``np.swapaxes`` (PyTorch's ``transpose(dim0, dim1)``)."""
    order = list(range(x.ndim))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return x.transpose(order)


def _matrices_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    return [tuple(draw(st.lists(st.integers(1, 3), min_size=2, max_size=4)))], {}


@register_composite(
    reference=lambda x: np.swapaxes(x, -1, -2), shapes=_matrices_shapes, arity=1, functions="matrix_transpose",
    properties="mT",
)  # fmt: skip
def matrix_transpose(x: Any) -> Any:
    """z = x with its last two axes swapped (numpy's ``matrix_transpose``, PyTorch's ``x.mT``), a view"""
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: needs at least 2 dimensions (a matrix or a batch of them), got shape {x.shape}")
    return swapaxes(x, -1, -2)


@register_composite(reference=lambda x: np.array(x, order="C"), methods="contiguous")
def contiguous(x: Any) -> Any:
    """z = x in row-major (C) order: x itself when it already is, else a C-ordered copy;  δx = δz

    PyTorch's ``x.contiguous()``. A transpose, ``mT`` or a step slice is not contiguous; its
    copy is a recorded ``Copy`` with ``order="C"``. (numpy's ``ascontiguousarray`` is not
    this op's function: it turns a 0-d array into a 1-d one.)"""
    return x if x.data.flags.c_contiguous else x.copy(order="C")


def _moveaxis_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    ndim = len(shape)
    count = draw(st.integers(1, ndim))
    source = draw(st.permutations(range(ndim)))[:count]
    destination = draw(st.permutations(range(-ndim, 0)))[:count]
    if count == 1 and draw(st.booleans()):
        return [shape], {"source": source[0], "destination": destination[0]}
    return [shape], {"source": tuple(source), "destination": tuple(destination)}


@register_composite(
    reference=np.moveaxis, shapes=_moveaxis_shapes, arity=1, functions=("moveaxis", "movedim"),
    methods=("moveaxis", "movedim"), derivative=np.moveaxis,
)  # fmt: skip
def moveaxis(x: Any, source: Any, destination: Any) -> Any:
    """Move axes ``source`` to positions ``destination``, the others keeping their order, as ``np.moveaxis``."""
    sources = normalize_axes_in_order(source, x.ndim, "moveaxis")
    destinations = normalize_axes_in_order(destination, x.ndim, "moveaxis")
    if len(sources) != len(destinations):
        raise ValueError(f"moveaxis: source {source!r} and destination {destination!r} must have the same length")
    order = [a for a in range(x.ndim) if a not in sources]
    for place, axis in sorted(zip(destinations, sources)):
        order.insert(place, axis)
    return x.transpose(order)


def normalize_axes_in_order(axis: Any, ndim: int, name: str) -> list[int]:
    """``axis`` (an int or a sequence of them) as non-negative ints, in the order given."""
    axes = list(axis) if isinstance(axis, (tuple, list)) else [axis]
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            raise ValueError(f"{name}: axis {a!r} is out of bounds for an array of dimension {ndim}")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in {axis!r}")
    return out


@register_composite(reference=lambda *xs, axis: np.stack(xs, axis=axis), shapes="stack", functions="stack")
def stack(*xs: Any, axis: int = 0) -> Any:
    """Join arrays of one shape along a new axis, as ``np.stack``."""
    shapes = {np.shape(x) for x in xs}
    if len(shapes) > 1:
        raise ValueError(f"stack: all arrays must have the same shape, got {sorted(shapes)}")
    return Concatenate.apply(*[expand_dims(x, axis) for x in xs], axis=axis)


