"""Hypothesis strategies for property-testing tensors and ops (needs the ``testing`` extra).

Values: ``elements`` (a float range that keeps away from kinks), ``bounded``, ``positive``,
``probabilities``. Arrays: ``arrays`` and ``tensors`` (optionally with all elements, or
all their absolute values, pairwise apart, for ops where ties are kinks). Shapes and
arguments: ``shapes``, ``broadcastable_shapes``, ``broadcast_targets``, ``matmul_shapes``,
``reshape_targets``, ``valid_axes``, ``permutations``, ``basic_indices``,
``advanced_indices``, ``indices``.

Sizes default to small (at most 3 axes of at most 4): finite differences cost two
forward passes per input element.

>>> from hypothesis import given
>>> from autograd_nn.testing import strategies as ats
>>> @given(ats.tensors(elements=ats.positive(), requires_grad=True))
... def test_log_is_finite(x):
...     assert np.isfinite(x.log().data).all()
>>> test_log_is_finite()
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor

Shape = tuple[int, ...]

MAX_DIMS = 3
MAX_SIDE = 4
KINK_MARGIN = 1e-3  # far beyond a finite-difference step (1e-6), so no stencil straddles a kink

__all__ = [
    "advanced_indices", "arrays", "basic_indices", "bounded", "broadcast_targets",
    "broadcastable_shapes", "elements", "indices", "matmul_shapes", "permutations",
    "positive", "probabilities", "reshape_targets", "shapes", "tensors", "valid_axes",
]  # fmt: skip


# ------------------------------------------------------------------------ values
def elements(
    low: float = -3.0,
    high: float = 3.0,
    *,
    avoid: Sequence[float] = (),
    margin: float = KINK_MARGIN,
) -> st.SearchStrategy[float]:
    """Finite floats in [low, high] kept at least ``margin`` away from the points in ``avoid``
    (kinks such as 0 for relu and abs)."""
    if not low < high:
        raise ValueError(f"elements: need low < high, got [{low}, {high}]")
    values = st.floats(low, high, allow_nan=False, allow_infinity=False)
    kinks = sorted(float(k) for k in avoid)
    if not kinks:
        return values
    return values.map(lambda v: _push_away(v, kinks, margin)).filter(
        lambda v: low <= v <= high and all(abs(v - k) >= margin for k in kinks)
    )


def _push_away(value: float, kinks: list[float], margin: float) -> float:
    for kink in kinks:
        if abs(value - kink) < margin:
            value = _margin_from(kink, margin, above=value >= kink)
    return value


def _margin_from(kink: float, margin: float, *, above: bool) -> float:
    """kink ± margin, an ulp further out where rounding left it nearer (−1.25 + 0.001 is
    0.00099999999999989 from −1.25)."""
    value = kink + margin if above else kink - margin
    while abs(value - kink) < margin:
        value = math.nextafter(value, math.inf if above else -math.inf)
    return value


def bounded(low: float = -1.0, high: float = 1.0, **kwargs: Any) -> st.SearchStrategy[float]:
    """Floats in a symmetric (by default) bounded range: inputs of tanh, sigmoid, exp."""
    return elements(low, high, **kwargs)


def positive(low: float = 0.1, high: float = 10.0, **kwargs: Any) -> st.SearchStrategy[float]:
    """Floats kept away from 0: inputs of log, sqrt, and of a divisor's magnitude."""
    if low <= 0:
        raise ValueError(f"positive: low must be > 0, got {low}")
    return elements(low, high, **kwargs)


def probabilities(margin: float = 0.01) -> st.SearchStrategy[float]:
    """Floats in [margin, 1 − margin]: inputs of binary cross-entropy."""
    return elements(margin, 1.0 - margin)


# ------------------------------------------------------------------------ shapes
def shapes(
    *, min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1, max_side: int = MAX_SIDE
) -> st.SearchStrategy[Shape]:
    """Array shapes, 0-d (a scalar) included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(
    n: int = 2, *, min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1, max_side: int = MAX_SIDE
) -> st.SearchStrategy[tuple[Shape, ...]]:
    """``n`` shapes that broadcast together (numpy rules), e.g. ((3, 1), (4,))."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda b: tuple(b.input_shapes))


@st.composite
def broadcast_targets(draw: st.DrawFn, shape: Shape, *, max_extra_dims: int = 1, max_side: int = MAX_SIDE) -> Shape:
    """A shape that ``shape`` broadcasts to: size-1 axes stretched, leading axes added."""
    stretched = tuple(draw(st.integers(1, max_side)) if n == 1 else n for n in shape)
    lead = draw(st.lists(st.integers(1, max_side), max_size=max_extra_dims))
    return tuple(lead) + stretched


def matmul_shapes(*, max_batch_dims: int = 2, max_side: int = MAX_SIDE) -> st.SearchStrategy[tuple[Shape, Shape]]:
    """Operand shapes for ``x @ y``: vectors, matrices and broadcast batches of matrices."""
    return hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature, max_dims=max_batch_dims, max_side=max_side
    ).map(lambda b: tuple(b.input_shapes))


@st.composite
def reshape_targets(draw: st.DrawFn, shape: Shape, *, max_dims: int = MAX_DIMS + 1) -> tuple[int, ...]:
    """A shape with the same number of elements as ``shape``, sometimes with one −1."""
    remaining = math.prod(shape)
    if remaining == 0:  # no -1 (ambiguous for 0 elements), and the sides stay as they are
        return tuple(draw(st.permutations(shape)))
    if remaining == 1 and draw(st.booleans()):
        return ()
    target = []
    for _ in range(draw(st.integers(0, max_dims - 1))):
        divisors = [d for d in range(1, remaining + 1) if remaining % d == 0]
        side = draw(st.sampled_from(divisors))
        target.append(side)
        remaining //= side
    target.append(remaining)
    target = draw(st.permutations(target))
    if draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return tuple(target)


def valid_axes(ndim: int, *, single: bool = False, allow_none: bool = True) -> st.SearchStrategy[Any]:
    """An ``axis`` argument for an array of ``ndim`` axes: None, an int (maybe negative)
    or, unless ``single``, a tuple of distinct axes."""
    options: list[st.SearchStrategy[Any]] = []
    if allow_none:
        options.append(st.none())
    if ndim > 0:
        options.append(st.integers(-ndim, ndim - 1))
    if not single:
        options.append(hnp.valid_tuple_axes(ndim))
    if not options:
        raise ValueError(f"valid_axes: an array with {ndim} axes has no single axis")
    return st.one_of(options)


@st.composite
def permutations(draw: st.DrawFn, ndim: int) -> tuple[int, ...]:
    """An ``axes`` argument for ``transpose``: a permutation, some axes given as negatives."""
    order = draw(st.permutations(range(ndim)))
    return tuple(a - ndim if draw(st.booleans()) else a for a in order)


# ----------------------------------------------------------------------- indices
def basic_indices(shape: Shape) -> st.SearchStrategy[Any]:
    """Ints, slices, ``None`` and ``...`` (each element selected at most once)."""
    return hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True)


def advanced_indices(shape: Shape) -> st.SearchStrategy[Any]:
    """Integer arrays (with repeats, whose gradients must accumulate) or a boolean mask."""
    if not shape:
        raise ValueError("advanced_indices: a 0-d array has no axis to index with arrays")
    if 0 in shape:
        return hnp.arrays(np.bool_, shape)
    first_axis = hnp.arrays(
        np.intp, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4), elements=st.integers(-shape[0], shape[0] - 1)
    )
    return st.one_of(
        first_axis,
        hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)),
        hnp.arrays(np.bool_, shape),
    )


def indices(shape: Shape) -> st.SearchStrategy[Any]:
    """Any index numpy accepts for ``shape``: basic or advanced."""
    return st.one_of(basic_indices(shape), advanced_indices(shape)) if shape else basic_indices(shape)


# ------------------------------------------------------------------------ arrays
Domain = Sequence[tuple[float, float]]


def arrays(
    shape: Shape | st.SearchStrategy[Shape] | None = None,
    *,
    dtype: Any = np.float64,
    elements: st.SearchStrategy[float] | tuple[float, float] | None = None,
    distinct: bool = False,
    distinct_abs: bool = False,
    avoid: Sequence[float] = (),
) -> st.SearchStrategy[np.ndarray]:
    """Arrays of ``shape`` (any small shape by default) with ``elements`` (a strategy or a
    ``(low, high)`` range; default [−3, 3]). With ``distinct=True`` the elements lie on a
    grid, pairwise at least KINK_MARGIN apart: no ties for max/min/maximum to split. With
    ``distinct_abs=True`` their absolute values are (no ties for a norm's largest one)."""
    shape_strategy = (
        shapes() if shape is None else shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape))
    )
    if distinct or distinct_abs:
        if isinstance(elements, st.SearchStrategy):
            raise TypeError("arrays: distinct or distinct_abs needs elements as a (low, high) range, not a strategy")
        domain = [elements or (-3.0, 3.0)]
        return shape_strategy.flatmap(
            lambda s: distinct_values([s], domain, avoid=avoid, absolute=distinct_abs).map(
                lambda xs: xs[0].astype(dtype)
            )
        )
    if elements is None:
        elements = (-3.0, 3.0)
    if isinstance(elements, tuple):
        elements = _union_elements([elements], avoid)
    return shape_strategy.flatmap(lambda s: hnp.arrays(dtype, s, elements=elements))


def tensors(
    shape: Shape | st.SearchStrategy[Shape] | None = None,
    *,
    dtype: Any = np.float64,
    elements: st.SearchStrategy[float] | tuple[float, float] | None = None,
    requires_grad: bool = False,
    distinct: bool = False,
    distinct_abs: bool = False,
    avoid: Sequence[float] = (),
) -> st.SearchStrategy[Tensor]:
    """Tensors built from ``arrays(...)``; float64 by default, the dtype gradcheck needs.

    >>> from hypothesis import given
    >>> from autograd_nn.testing import gradcheck, strategies as ats
    >>> @given(ats.tensors(shape=ats.shapes(max_dims=2), requires_grad=True))
    ... def test_tanh(x):
    ...     assert gradcheck(lambda x: x.tanh(), [x])
    >>> test_tanh()
    """
    drawn = arrays(shape, dtype=dtype, elements=elements, distinct=distinct, distinct_abs=distinct_abs, avoid=avoid)
    return drawn.map(lambda a: Tensor(a, requires_grad=requires_grad))


def _union_elements(domain: Domain, avoid: Sequence[float]) -> st.SearchStrategy[float]:
    return st.one_of([elements(lo, hi, avoid=avoid) for lo, hi in domain])


@st.composite
def domain_arrays(draw: st.DrawFn, shape: Shape, domain: Domain, *, avoid: Sequence[float] = ()) -> np.ndarray:
    """A float64 array of ``shape`` with elements in a union of intervals ``domain``."""
    return draw(hnp.arrays(np.float64, shape, elements=_union_elements(domain, avoid)))


@st.composite
def distinct_values(
    draw: st.DrawFn,
    shapes_: Sequence[Shape],
    domains: Sequence[Domain] | Domain,
    *,
    avoid: Sequence[float] = (),
    absolute: bool = False,
) -> list[np.ndarray]:
    """float64 arrays of the given shapes whose elements, across all arrays, are pairwise at
    least KINK_MARGIN apart (and from ``avoid``). ``domains`` holds one union of intervals
    per array, or is a single union for all of them. With ``absolute=True`` the absolute
    values are pairwise KINK_MARGIN apart (so the values are too, and none is within
    KINK_MARGIN of 0): no ties for the largest or smallest absolute value to split."""
    if domains and isinstance(domains[0][0], (int, float)):
        domains = [domains] * len(shapes_)  # one union of (lo, hi) pairs for all arrays
    n = len(shapes_)
    spacing = (n + 1) * KINK_MARGIN * 2
    out = []
    for j, (shape, domain) in enumerate(zip(shapes_, domains)):
        # Array j uses its own grid, shifted by j/(n+1) of a step: unique grid points keep
        # its elements `spacing` apart, the shift keeps arrays ≥ 2·KINK_MARGIN from each other.
        # With `absolute` the grid is one of magnitudes, each taking a sign the domain allows.
        shift = (j + 1) / (n + 1)
        if absolute:
            grid, signs = _magnitude_grid(domain, spacing, shift)
        else:
            grid, signs = _grid(domain, spacing, shift), None
        size = math.prod(shape)
        chosen = draw(st.lists(st.integers(0, len(grid) - 1), min_size=size, max_size=size, unique=True))
        drawn = [grid[k] * (1.0 if signs is None else draw(st.sampled_from(signs[k]))) for k in chosen]
        values = [_push_away(float(v), sorted(avoid), KINK_MARGIN) for v in drawn]
        out.append(np.array(values, dtype=np.float64).reshape(shape))
    flat = np.concatenate([a.ravel() for a in out] + [np.empty(0)])
    if absolute:  # |x| apart, and from 0 (the grid starts at 2·KINK_MARGIN; a push keeps ≥ KINK_MARGIN)
        flat = np.concatenate([np.abs(flat), [0.0]])
    flat = np.sort(flat)
    assume(flat.size < 2 or np.diff(flat).min() >= KINK_MARGIN)  # a push can only rarely undo this
    return out


def _grid(domain: Domain, spacing: float, shift: float) -> np.ndarray:
    return np.concatenate([np.arange(lo + shift * spacing, hi, spacing) for lo, hi in domain])


def _magnitude_grid(domain: Domain, spacing: float, shift: float) -> tuple[np.ndarray, list[tuple[float, ...]]]:
    """Magnitudes (k + shift)·spacing that lie in ``domain`` with one sign or both, and for
    each the signs (+1 first, so hypothesis shrinks towards positive values) that do."""
    top = max(max(abs(lo), abs(hi)) for lo, hi in domain)
    magnitudes, signs = [], []
    for m in np.arange(shift * spacing, top, spacing):
        allowed = tuple(sign for sign in (1.0, -1.0) if any(lo < sign * m < hi for lo, hi in domain))
        if allowed:
            magnitudes.append(float(m))
            signs.append(allowed)
    return np.array(magnitudes), signs
