"""How the shared property test draws inputs: shape families and array-valued parameters.

An op's spec names a shape family (``shapes="reduction"``) that draws its input shapes
and shape-like parameters, and array kinds (``params={"target": "labels"}``) that draw
array parameters to fit those shapes. Sizes stay small (at most 3 axes of at most 3):
finite differences cost two forward passes per input element.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from ..opspec import OpSpec
from . import strategies as ats

MAX_DIMS = 3
MAX_SIDE = 3  # at most 27 elements per input: finite differences stay cheap

Shape = tuple[int, ...]
Draw = Callable[[st.SearchStrategy[Any]], Any]

# -------------------------------------------------------------------- shape families
@dataclass(frozen=True)
class ShapeFamily:
    """How to draw input shapes and shape-like parameters for a kind of op.

    ``draw_shapes(draw, spec) -> (input_shapes, params)``; ``provides`` names the
    parameters it draws; ``arity`` is the number of inputs it supports (None: variadic,
    "any": whatever the spec says).
    """

    draw_shapes: Callable[[Draw, OpSpec], tuple[list[Shape], dict[str, Any]]]
    provides: tuple[str, ...] = ()
    arity: int | None | str = 1


def _small_shapes(min_dims: int = 0) -> st.SearchStrategy[Shape]:
    return ats.shapes(min_dims=min_dims, max_dims=MAX_DIMS, max_side=MAX_SIDE)


def _elementwise(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    if spec.arity == 1:
        return [draw(_small_shapes())], {}
    return list(draw(ats.broadcastable_shapes(spec.arity, max_dims=MAX_DIMS, max_side=MAX_SIDE))), {}


def _nonscalar(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    return [draw(_small_shapes(min_dims=1))] * spec.arity, {}


def _same(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    return [draw(_small_shapes())] * spec.arity, {}


def _matmul(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    return list(draw(ats.matmul_shapes(max_batch_dims=2, max_side=MAX_SIDE))), {}


def _reduction(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    shape = draw(_small_shapes())
    return [shape], {"axis": draw(ats.valid_axes(len(shape))), "keepdims": draw(st.booleans())}


def _axis(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    shape = draw(_small_shapes(min_dims=1))
    return [shape], {"axis": draw(ats.valid_axes(len(shape), single=True, allow_none=False))}


def _reshape(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    shape = draw(_small_shapes())
    return [shape], {"shape": draw(ats.reshape_targets(shape))}


def _transpose(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    shape = draw(_small_shapes())
    return [shape], {"axes": draw(st.none() | ats.permutations(len(shape)))}


def _broadcast_to(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    shape = draw(_small_shapes())
    return [shape], {"shape": draw(ats.broadcast_targets(shape, max_side=MAX_SIDE))}


def _index(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    shape = draw(_small_shapes(min_dims=1))
    return [shape], {"index": draw(ats.indices(shape))}


def _index_add(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    shape = draw(_small_shapes(min_dims=1))
    index = draw(ats.indices(shape))
    return [np.empty(shape)[index].shape], {"shape": shape, "index": index}


def _concatenate(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    base = draw(_small_shapes(min_dims=1))
    axis = draw(ats.valid_axes(len(base), single=True, allow_none=False))
    count = draw(st.integers(1, 3))
    shapes = []
    for _ in range(count):
        shape = list(base)
        shape[axis] = draw(st.integers(1, MAX_SIDE))
        shapes.append(tuple(shape))
    return shapes, {"axis": axis}


def _setitem(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    shape = draw(_small_shapes(min_dims=1))
    index = draw(ats.indices(shape).filter(lambda i: _selects_each_once(shape, i)))
    return [shape, np.empty(shape)[index].shape], {"index": index}


def _selects_each_once(shape: Shape, index: Any) -> bool:
    counts = np.zeros(shape, dtype=np.intp)
    np.add.at(counts, index, 1)
    return counts.max(initial=0) <= 1


def _ddof(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    """A reduction over at least two elements, with ddof below the count."""
    shape = draw(ats.shapes(min_dims=1, max_dims=MAX_DIMS, min_side=2, max_side=MAX_SIDE))
    axis = draw(ats.valid_axes(len(shape)).filter(lambda a: a != ()))
    count = int(np.prod(shape)) // np.empty(shape).sum(axis=axis, keepdims=True).size
    return [shape], {"axis": axis, "keepdims": draw(st.booleans()), "ddof": draw(st.integers(0, count - 1))}


def _squeeze(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    shape = draw(_small_shapes())
    ones = [i for i, n in enumerate(shape) if n == 1]
    return [shape], {"axis": draw(st.none() | st.sampled_from(ones)) if ones else None}


def _expand_dims(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    shape = draw(_small_shapes())
    return [shape], {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


def _swapaxes(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    shape = draw(_small_shapes(min_dims=1))
    axes = st.integers(-len(shape), len(shape) - 1)
    return [shape], {"axis1": draw(axes), "axis2": draw(axes)}


def _stack(draw: Draw, spec: OpSpec) -> tuple[list[Shape], dict[str, Any]]:
    shape = draw(ats.shapes(max_dims=2, max_side=MAX_SIDE))
    return [shape] * draw(st.integers(1, 3)), {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


SHAPE_FAMILIES: dict[str, ShapeFamily] = {
    "elementwise": ShapeFamily(_elementwise, arity="any"),  # inputs broadcast together
    "same": ShapeFamily(_same, arity="any"),  # inputs of one shape (losses)
    "nonscalar": ShapeFamily(_nonscalar, arity="any"),  # inputs of one shape, at least 1-D
    "matmul": ShapeFamily(_matmul, arity=2),
    "reduction": ShapeFamily(_reduction, ("axis", "keepdims")),
    "axis": ShapeFamily(_axis, ("axis",)),
    "reshape": ShapeFamily(_reshape, ("shape",)),
    "transpose": ShapeFamily(_transpose, ("axes",)),
    "broadcast_to": ShapeFamily(_broadcast_to, ("shape",)),
    "index": ShapeFamily(_index, ("index",)),
    "index_add": ShapeFamily(_index_add, ("shape", "index")),
    "concatenate": ShapeFamily(_concatenate, ("axis",), arity=None),
    "setitem": ShapeFamily(_setitem, ("index",), arity=2),  # x, and a value of x[index]'s shape
    "ddof": ShapeFamily(_ddof, ("axis", "keepdims", "ddof")),  # var, std
    "squeeze": ShapeFamily(_squeeze, ("axis",)),
    "expand_dims": ShapeFamily(_expand_dims, ("axis",)),
    "swapaxes": ShapeFamily(_swapaxes, ("axis1", "axis2")),
    "stack": ShapeFamily(_stack, ("axis",), arity=None),  # inputs of one shape
}


# ------------------------------------------------------------------ array parameters
@st.composite
def _broadcast_source(draw: st.DrawFn, shape: Shape) -> Shape:
    """A shape that broadcasts to ``shape``: leading axes dropped, some axes set to 1."""
    kept = shape[draw(st.integers(0, len(shape))) :]
    return tuple(1 if draw(st.booleans()) else n for n in kept)


def _probabilities(draw: Draw, shapes: list[Shape]) -> np.ndarray:
    return draw(ats.arrays(shapes[0], elements=st.floats(0.0, 1.0)))


def _mask(draw: Draw, shapes: list[Shape]) -> np.ndarray:
    return draw(ats.arrays(_broadcast_source(np.broadcast_shapes(*shapes)), dtype=np.bool_, elements=st.booleans()))


def _labels(draw: Draw, shapes: list[Shape]) -> np.ndarray:
    if len(shapes[0]) != 2:
        raise ValueError(f"array kind 'labels' needs a first input of shape (N, C), got {shapes[0]}")
    n, classes = shapes[0]
    return np.array(draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)), dtype=np.int64)


# Parameters that are arrays, drawn to fit the input shapes.
ARRAY_KINDS: dict[str, Callable[[Draw, list[Shape]], np.ndarray]] = {
    "probabilities": _probabilities,  # floats in [0, 1], shaped like input 0 (targets)
    "mask": _mask,  # booleans that broadcast to the inputs' shape (where's condition)
    "labels": _labels,  # class indices in [0, C) for an input of shape (N, C)
}
