"""Converters of indexing: ``x[index]`` (Slice, Squeeze, Unsqueeze, Gather, GatherND),
``x[index] = v`` (ScatterND) and its adjoint ``index_add`` (ScatterND with reduction add).

numpy's rules, as ONNX can say them: slices, integers, ``None`` and ``...`` anywhere; one
integer array (an embedding lookup: Gather); several integer arrays or a boolean mask
(GatherND over the axes they index) when there is no ``None`` among them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ._registry import register_converter

_LAST = np.iinfo(np.int64).max  # "to the end" for Slice (ONNX clamps it)
_FIRST = np.iinfo(np.int64).min  # "past the beginning" for a negative step


def _items(index: Any, rank: int, where: Any) -> list[Any]:
    """The index as a list of items with ``...`` expanded and boolean masks as their
    integer arrays (``np.nonzero``), one item per axis it consumes (``None`` consumes none)."""
    items = list(index) if isinstance(index, tuple) else [index]
    expanded: list[Any] = []
    for item in items:
        if isinstance(item, np.ndarray) and item.dtype == bool:
            expanded.extend(np.nonzero(item))
        else:
            expanded.append(item)
    used = sum(1 for item in expanded if item is not None and item is not Ellipsis)
    if sum(1 for item in expanded if item is Ellipsis) > 1:
        raise where.fail("an index may hold one ellipsis (...) at most")
    at = next((k for k, item in enumerate(expanded) if item is Ellipsis), len(expanded))
    fill = [slice(None)] * (rank - used)
    return expanded[:at] + fill + expanded[at + 1 :]


def _bound(value: Any, twin: Any, default: int, op: Any) -> Any:
    """One end of a slice: an int, or (first, second) when it follows the dynamic axes."""
    if value is None and twin is None:
        return default
    if value is None or twin is None or value == twin:
        if value is None or twin is None:
            raise op.fail("a slice bound that is None for some inputs only has no ONNX form")
        return int(value)
    return int(value), int(twin)  # x[:, :n] with n = x.shape[1]: read from the input's shape


def _slice_bounds(item: slice, twin: slice, size: tuple[int, int], op: Any) -> tuple[Any, Any, int] | None:
    """(start, end, step) for ONNX Slice, or None when the slice takes the whole axis."""
    step = 1 if item.step is None else int(item.step)
    if step != (1 if twin.step is None else int(twin.step)):
        raise op.fail(f"the step of the slice {item} changes with the input, which ONNX cannot express")
    if item.start is None and item.stop is None and step == 1:
        return None
    if size[0] != size[1] or (item.start, item.stop) != (twin.start, twin.stop):
        # a dynamic axis or bound: keep the open ends open, and read a varying bound from the input
        start = _bound(item.start, twin.start, 0 if step > 0 else _LAST, op)
        stop = _bound(item.stop, twin.stop, _LAST if step > 0 else _FIRST, op)
        return start, stop, step
    start, stop, step = item.indices(size[0])
    if len(range(start, stop, step)) == 0:
        return 0, 0, 1
    if stop < 0:  # before element 0 (a negative step): -1 would mean the last element to ONNX
        stop = _FIRST
    return start, stop, step


@register_converter(ops.GetItem)
def _getitem(g: Any, op: Any) -> str:
    dims = op.input_dims(0)
    items = _items(op.param("index", varying=True), len(dims), op)  # the same in every value probe
    twins = _items(op.partner.params["index"], len(dims), op)
    # With an integer array among the items, integers index like 0-d arrays (numpy's rule).
    arrays = any(isinstance(item, np.ndarray) for item in items)
    starts, ends, steps, axes = [], [], [], []
    squeeze, unsqueeze, advanced = [], [], []
    axis = position = 0  # the axis of x the next item indexes; the axis of the result it makes
    for item, twin in zip(items, twins):
        if item is None:
            unsqueeze.append(position)
            position += 1
            continue
        if isinstance(item, slice):
            bounds = _slice_bounds(item, twin, dims[axis], op)
            if bounds is not None:
                for found, bound in zip((starts, ends, steps, axes), (*bounds, axis)):
                    found.append(bound)
            position += 1
        elif isinstance(item, (int, np.integer)) and not arrays:
            i = int(item)
            if i != twin:
                raise op.fail(f"the index {i} changes with the input, which a constant index cannot express")
            for found, bound in zip((starts, ends, steps, axes), (i, i + 1 if i != -1 else _LAST, 1, axis)):
                found.append(bound)
            squeeze.append(axis)
        elif isinstance(item, (int, np.integer, np.ndarray)) and np.asarray(item).dtype.kind in "iu":
            advanced.append((axis, np.asarray(item), np.asarray(twin)))
        else:
            raise op.fail(f"cannot export the index item {item!r} ({type(item).__name__})")
        axis += 1
    x = op.input(0)
    if starts:
        bounds = [
            g.ints(b) if all(isinstance(v, int) for v in b) else op.session.shape_value(b) for b in (starts, ends)
        ]
        x = g.op("Slice", x, *bounds, g.ints(axes), g.ints(steps), dtype=op.dtype)
    if advanced:
        if unsqueeze:
            raise op.fail("an index that mixes None with integer arrays has no ONNX form here; index in two steps")
        return _gather(g, op, x, advanced)
    if squeeze:
        x = g.op("Squeeze", x, g.ints(squeeze), dtype=op.dtype)
    if unsqueeze:
        x = g.op("Unsqueeze", x, g.ints(unsqueeze), dtype=op.dtype)
    return x


def _gather(g: Any, op: Any, x: str, advanced: list[tuple[int, np.ndarray, np.ndarray]]) -> str:
    """Integer-array indexing (after the slices), with numpy's placement of the new axes."""
    if len(advanced) == 1:  # one array: Gather puts its axes where the indexed axis was
        axis, item, twin = advanced[0]
        indices = op.session.constant(item, twin, f"the index of the {op.name}", np.int64)
        return g.op("Gather", x, indices, axis=axis, dtype=op.dtype)
    if not all(np.array_equal(item, twin) for _, item, twin in advanced):
        raise op.fail("several index arrays that change with the input have no ONNX form here; use one array")
    shape = op.input_shape(0)
    picked = [a for a, _, _ in advanced]
    rest = [a for a in range(len(shape)) if a not in picked]
    arrays = np.broadcast_arrays(*[item % shape[a] for a, item, _ in advanced])  # GatherND: indices in [0, size)
    x = g.op("Transpose", x, perm=picked + rest, dtype=op.dtype)
    indices = g.constant(np.stack(arrays, axis=-1).astype(np.int64))
    out = g.op("GatherND", x, indices, dtype=op.dtype)  # (broadcast shape, then the other axes)
    batch, front = arrays[0].ndim, picked[0]
    if front > 0 and picked == list(range(front, front + len(picked))):
        # adjacent arrays: numpy puts their axes where the first of them was
        perm = [*range(batch, batch + front), *range(batch), *range(batch + front, batch + len(rest))]
        out = g.op("Transpose", out, perm=perm, dtype=op.dtype)
    return out


def _scatter_indices(op: Any, shape: tuple[int, ...], index: Any) -> tuple[np.ndarray, tuple[int, ...]]:
    """The (…, rank) int64 indices ScatterND writes at, and the shape of what is written."""
    if any(d[0] != d[1] for d in op.dims):
        raise op.fail("writing at an index of an array whose size follows a dynamic axis has no ONNX form here")
    items = index if isinstance(index, tuple) else (index,)
    grid = np.moveaxis(np.indices(shape), 0, -1)[(*items, slice(None))]  # (the last axis: the coordinates)
    return np.ascontiguousarray(grid, dtype=np.int64), grid.shape[:-1]


@register_converter(ops.SetItem)
def _setitem(g: Any, op: Any) -> str:
    indices, selected = _scatter_indices(op, op.input_shape(0), op.param("index"))
    updates = g.op("Expand", op.input(1, op.dtype), g.ints(selected), dtype=op.dtype)
    if not op.input_shape(0):  # x[()] = v on a 0-d x is v (ScatterND needs rank ≥ 1)
        return updates
    return g.op("ScatterND", op.input(0, op.dtype), g.constant(indices), updates, dtype=op.dtype)


@register_converter(ops.IndexAdd)
def _index_add(g: Any, op: Any) -> str:
    if g.opset < 16:
        raise op.fail("index_add needs ScatterND with reduction='add', which ONNX has from opset 16")
    indices, selected = _scatter_indices(op, tuple(op.param("shape")), op.param("index"))
    zeros = g.constant(np.zeros(op.shape, dtype=op.dtype))
    updates = g.op("Expand", op.input(0, op.dtype), g.ints(selected), dtype=op.dtype)
    if not op.shape:  # a 0-d result: the values themselves (ScatterND needs rank ≥ 1)
        return updates
    return g.op("ScatterND", zeros, g.constant(indices), updates, reduction="add", dtype=op.dtype)
