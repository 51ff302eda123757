"""Indexing by arrays of indices, as composites of ``GetItem``, ``IndexAdd`` and ``SetItem``:
numpy's ``take_along_axis`` and ``take``; PyTorch's ``gather``, ``scatter``, ``scatter_add``,
``index_select``, ``index_add``; ``masked_fill`` and the method ``x.where(condition, y)``; and
numpy's ``put_along_axis``, which writes in place (through ``x[index] = values``) and so is a
plain function, not an op. Gathers send δ back to the elements they read (repeats add up); a
scatter's δ for its source is the δ at the written places.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._record import array_of
from .._shapes import normalize_axes
from ..registry import register_composite
from .arithmetic import Where
from .inplace import SetItem
from .shape import IndexAdd
from .sorting import along


def _indices(name: str, indices: Any, x: Any) -> np.ndarray:
    array = np.asanyarray(array_of(indices))
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be integers, got dtype {array.dtype}")
    if array.ndim != x.ndim:
        raise ValueError(f"{name}: indices of shape {array.shape} need as many dimensions as the input {x.shape}")
    return array


def _gather_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here
    from hypothesis.extra import numpy as hnp

    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = tuple(draw(st.integers(1, n)) if a != axis % len(shape) else draw(st.integers(1, 4))
                        for a, n in enumerate(shape))  # fmt: skip
    index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[axis] - 1)))
    return [shape], {"axis": axis, "index": index}


def _gather_reference(x: np.ndarray, axis: int, index: np.ndarray) -> np.ndarray:
    return x[along(index, axis % x.ndim)]


@register_composite(
    reference=_gather_reference, shapes=_gather_shapes, arity=1, functions="gather", methods="gather",
    arguments=lambda inputs, params: ((inputs[0], params["axis"], params["index"]), {}),
)  # fmt: skip
def gather(x: Any, axis: int, index: Any) -> Any:
    """PyTorch's ``gather(input, dim, index)``: out[…, i, …] = x[…, index[…, i, …], …] along
    ``axis``; the output has index's shape (which may be smaller than x's in the other axes)."""
    index = _indices("gather", index, x)
    axis = normalize_axes(axis, x.ndim, "gather")[0]
    return x[along(index, axis)]


def _take_along_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here
    from hypothesis.extra import numpy as hnp

    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = tuple(draw(st.integers(1, 4)) if a == axis % len(shape) else draw(st.sampled_from([1, n]))
                        for a, n in enumerate(shape))  # fmt: skip (non-axis sides broadcast: 1 or x's)
    indices = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(-shape[axis], shape[axis] - 1)))
    return [shape], {"indices": indices, "axis": axis}


@register_composite(reference=np.take_along_axis, shapes=_take_along_shapes, arity=1, functions="take_along_axis")
def take_along_axis(x: Any, indices: Any, axis: Any) -> Any:
    """out = x picked along ``axis`` at ``indices`` (which broadcast against x in the other
    axes), as ``np.take_along_axis``; ``axis=None`` works on the flattened x."""
    if axis is None:
        x, axis = x.reshape(-1), 0
    index = _indices("take_along_axis", indices, x)
    axis = normalize_axes(axis, x.ndim, "take_along_axis")[0]
    shape = tuple(n if a == axis else max(n, m) for a, (n, m) in enumerate(zip(index.shape, x.shape)))
    return x[along(np.broadcast_to(index, shape), axis)]


def _select_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    index = np.array(draw(st.lists(st.integers(0, shape[axis] - 1), max_size=4)), dtype=np.int64)
    return [shape], {"axis": axis, "index": index}


@register_composite(
    reference=lambda x, axis, index: np.take(x, index, axis=axis), shapes=_select_shapes, arity=1,
    functions="index_select", methods="index_select",
    arguments=lambda inputs, params: ((inputs[0], params["axis"], params["index"]), {}),
)  # fmt: skip
def index_select(x: Any, axis: int, index: Any) -> Any:
    """PyTorch's ``index_select(input, dim, index)``: the slices at a 1-D ``index`` along ``axis``."""
    index = np.asanyarray(array_of(index))
    if index.ndim != 1 or index.dtype.kind not in "iu":
        raise ValueError(f"index_select: index must be a 1-D array of integers, got shape {index.shape} {index.dtype}")
    axis = normalize_axes(axis, x.ndim, "index_select")[0]
    return x[(slice(None),) * axis + (index,)]


def _take_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here
    from hypothesis.extra import numpy as hnp

    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    axis = draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    n = int(np.prod(shape)) if axis is None else shape[axis]
    indices = draw(hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), elements=st.integers(-n, n - 1)))
    return [shape], {"indices": indices, "axis": axis}


@register_composite(reference=np.take, shapes=_take_shapes, arity=1, functions="take", methods="take")
def take(x: Any, indices: Any, axis: Any = None) -> Any:
    """The elements (``axis=None``: of the flattened x) or slices along ``axis`` at ``indices``, as ``np.take``."""
    indices = np.asanyarray(array_of(indices))
    if axis is None:
        return x.reshape(-1)[indices]
    axis = normalize_axes(axis, x.ndim, "take")[0]
    return x[(slice(None),) * axis + (indices,)]


def _scatter_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    axis = draw(st.integers(0, len(shape) - 1))
    index_shape = tuple(draw(st.integers(1, n)) for n in shape)
    # distinct targets along the axis, so that which source lands where is unambiguous
    columns = [draw(st.permutations(range(shape[axis])))[: index_shape[axis]] for _ in range(int(np.prod(index_shape)))]
    index = np.moveaxis(np.array(columns).reshape(index_shape[:axis] + index_shape[axis + 1 :] + (-1,)), -1, axis)
    index = index[tuple(slice(0, n) for n in index_shape)]
    source = tuple(n + draw(st.integers(0, 1)) for n in index_shape)  # PyTorch reads the leading part of src
    return [shape, source], {"axis": axis, "index": np.ascontiguousarray(index)}


def _leading(src: Any, shape: tuple[int, ...]) -> Any:
    return src[tuple(slice(0, n) for n in shape)] if np.ndim(array_of(src)) else src


def _scatter_reference(x: np.ndarray, src: np.ndarray, axis: int, index: np.ndarray) -> np.ndarray:
    out = x.copy()
    out[along(index, axis)] = src[tuple(slice(0, n) for n in index.shape)]
    return out


def _scatter_args(x: Any, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Any:
    """PyTorch's order: (input, dim, index, src), or ``value=`` a number."""
    return (x, value if src is None else src), {"axis": dim, "index": index}


_TORCH_ORDER = lambda inputs, params: ((inputs[0], params["axis"], params["index"], inputs[1]), {})  # noqa: E731


@register_composite(
    reference=_scatter_reference, shapes=_scatter_shapes, arity=2, functions="scatter", methods="scatter",
    parse=_scatter_args, arguments=_TORCH_ORDER,
)  # fmt: skip
def scatter(x: Any, src: Any, axis: int, index: Any) -> Any:
    """PyTorch's ``scatter(input, dim, index, src)``, out of place: a copy of x with
    out[…, index[…, i, …], …] = src[…, i, …] along ``axis`` (``src`` may be a number).
    Out-of-place numpy spelling: ``put_along_axis`` writes in place."""
    index = _indices("scatter", index, x)
    axis = normalize_axes(axis, x.ndim, "scatter")[0]
    return SetItem.apply(x, _leading(src, index.shape), index=along(index, axis))


@register_composite(
    reference=lambda x, src, axis, index: x + _add_at(x.shape, src, axis, index), shapes=_scatter_shapes, arity=2,
    functions="scatter_add", methods="scatter_add", parse=_scatter_args, arguments=_TORCH_ORDER,
)  # fmt: skip
def scatter_add(x: Any, src: Any, axis: int, index: Any) -> Any:
    """PyTorch's ``scatter_add(input, dim, index, src)``: x plus each src[…, i, …] added at
    […, index[…, i, …], …] along ``axis``; repeated indices add up."""
    index = _indices("scatter_add", index, x)
    axis = normalize_axes(axis, x.ndim, "scatter_add")[0]
    return x + IndexAdd.apply(_leading(src, index.shape), shape=x.shape, index=along(index, axis))


def _add_at(shape: tuple[int, ...], src: np.ndarray, axis: int, index: np.ndarray) -> np.ndarray:
    out = np.zeros(shape)
    np.add.at(out, along(index, axis), src[tuple(slice(0, n) for n in index.shape)])
    return out


def _masked_fill_args(x: Any, mask: Any, value: Any) -> tuple[tuple[Any, Any], dict[str, Any]]:
    return (x, value), {"mask": np.asanyarray(array_of(mask), dtype=bool)}


@register_composite(
    reference=lambda x, value, mask: np.where(mask, value, x), shapes="elementwise", params={"mask": "mask"}, arity=2,
    functions="masked_fill", methods="masked_fill", inplace="masked_fill_", parse=_masked_fill_args,
    arguments=lambda inputs, params: ((inputs[0], params["mask"], inputs[1]), {}),
)  # fmt: skip
def masked_fill(x: Any, value: Any, mask: Any) -> Any:
    """x with ``value`` where ``mask`` is True (PyTorch's ``masked_fill(mask, value)``); δ for
    x where the mask is False, and for a tensor ``value`` where it is True."""
    return Where.apply(value, x, condition=np.asanyarray(mask, dtype=bool))


def _where_method_args(x: Any, condition: Any, y: Any) -> tuple[tuple[Any, Any], dict[str, Any]]:
    return (x, y), {"condition": np.asanyarray(array_of(condition), dtype=bool)}


@register_composite(
    reference=lambda x, y, condition: np.where(condition, x, y), shapes="elementwise", params={"condition": "mask"},
    arity=2, methods="where", parse=_where_method_args,
    arguments=lambda inputs, params: ((inputs[0], params["condition"], inputs[1]), {}),
)  # fmt: skip
def where_method(x: Any, y: Any, condition: Any) -> Any:
    """z = where(c, x, y), PyTorch's method order ``x.where(condition, y)``;  δx = δz · c,  δy = δz · ¬c
    (the function keeps numpy's order: ``where(condition, x, y)``)"""
    return Where.apply(x, y, condition=np.asanyarray(condition, dtype=bool))


def _index_add_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    index = np.array(draw(st.lists(st.integers(0, shape[axis] - 1), max_size=4)), dtype=np.int64)  # repeats add up
    source = shape[: axis % len(shape)] + (len(index),) + shape[axis % len(shape) + 1 :]
    return [shape, source], {"axis": axis, "index": index}


def _index_add_reference(x: np.ndarray, source: np.ndarray, axis: int, index: np.ndarray, alpha: float) -> np.ndarray:
    out = x.copy()
    np.add.at(out, (slice(None),) * (axis % x.ndim) + (index,), alpha * source)
    return out


def _index_add_args(x: Any, dim: int, index: Any, source: Any, *, alpha: float = 1) -> Any:
    """PyTorch's order: ``index_add(input, dim, index, source, *, alpha=1)``."""
    return (x, source), {"axis": dim, "index": index, "alpha": alpha}


@register_composite(
    reference=_index_add_reference, shapes=_index_add_shapes, arity=2, params={"alpha": (1.0, 2.5, -0.5)},
    functions="index_add", methods="index_add", inplace="index_add_", parse=_index_add_args,
    arguments=lambda inputs, params: ((inputs[0], params["axis"], params["index"], inputs[1]), {"alpha": params["alpha"]}),
)  # fmt: skip
def index_add(x: Any, source: Any, axis: int, index: Any, alpha: float = 1) -> Any:
    """z = x with α · source[…, i, …] added at […, index[i], …] along dim;  δx = δz,  δsource = α · δz[…, index, …]

    PyTorch's ``index_add(input, dim, index, source, alpha=1)``: ``index`` is a vector of
    positions along ``dim`` in ``[0, x.shape[dim])``, one per slice of ``source``, whose shape
    is x's with ``len(index)`` along ``dim``; repeated positions add up (numpy's analogue is
    ``np.add.at(x, (slice(None),) * dim + (index,), alpha * source)``, which writes in place)."""
    index = np.asanyarray(array_of(index))
    if index.dtype.kind not in "iu":
        raise TypeError(f"index_add: index must hold integers, got dtype {index.dtype}")
    if index.ndim > 1:
        raise ValueError(f"index_add: index must be a vector (0-d or 1-D), got shape {index.shape}")
    if x.ndim == 0:
        raise ValueError("index_add: needs a tensor with at least one dimension, got a 0-d tensor")
    index = index.reshape(-1)
    axis = normalize_axes(axis, x.ndim, "index_add")[0]
    expected = x.shape[:axis] + (len(index),) + x.shape[axis + 1 :]
    if np.shape(array_of(source)) != expected:
        raise ValueError(
            f"index_add: source has shape {np.shape(array_of(source))}, but x of shape {x.shape} with {len(index)} "
            f"index entries along dim {axis} needs source of shape {expected}"
        )
    if index.size and (index.min() < 0 or index.max() >= x.shape[axis]):
        bad = index[(index < 0) | (index >= x.shape[axis])][0]
        raise IndexError(f"index_add: index {bad} is out of range for dim {axis} of size {x.shape[axis]}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise TypeError(f"index_add: alpha must be a number, got {type(alpha).__name__}")
    scaled = source if alpha == 1 else source * alpha
    return x + IndexAdd.apply(scaled, shape=x.shape, index=(slice(None),) * axis + (index,))


def put_along_axis(arr: Any, indices: Any, values: Any, axis: int | None) -> None:
    """Write ``values`` into ``arr`` in place at ``indices`` along ``axis``, as
    ``np.put_along_axis`` (returns None). Recorded like ``arr[index] = values`` when a
    gradient needs it; ``scatter`` is the out-of-place form (PyTorch's argument order)."""
    if not hasattr(arr, "__autograd_tensor__"):
        raise TypeError(f"put_along_axis: writes into a Tensor in place, got a {type(arr).__name__}")
    index = np.asanyarray(array_of(indices))
    if axis is None:
        if arr.ndim != 1:
            raise ValueError(f"put_along_axis: axis=None needs a 1-D tensor (numpy's rule), got shape {arr.shape}")
        axis = 0
    if index.ndim != arr.ndim or index.dtype.kind not in "iu":
        raise ValueError(f"put_along_axis: indices of shape {index.shape} ({index.dtype}) do not fit shape {arr.shape}")
    axis = axis % arr.ndim
    shape = tuple(n if a == axis else max(n, m) for a, (n, m) in enumerate(zip(index.shape, arr.shape)))
    arr[along(np.broadcast_to(index, shape), axis)] = values
