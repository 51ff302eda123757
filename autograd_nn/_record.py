"""The recorder: where every op runs, and where the graph grows.

Every entry point comes here: operators and methods (``x * y``, ``x.exp()``), the
functions of ``autograd_nn`` and ``functional``, ``Function.apply`` and the in-place
ops. ``record`` takes any number of inputs and parameters; ``record_unary`` and
``record_binary`` are the same steps for the shapes operators have, spelled out because
they run for every op. All three end in ``_output``, the one place a node is finished.

The recorder does not import the Tensor class: any input whose type carries
``__autograd_tensor__`` is a tensor, and outputs are made with that tensor's ``_wrap``.
With no tensor among the inputs there is nothing to record or wrap, and the op's forward
result comes back as it is (as numpy does for plain arrays).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import grad_mode
from .anomaly import forward_trace
from .graph import Context, Node, NullContext, VersionCounter

_ndarray = np.ndarray
_NULL_CTX = NullContext()
_NO_PARAMS: dict[str, Any] = {}
_node_numbers = itertools.count()
_mode = grad_mode._MODE.get
_GRAD = grad_mode.GRAD
_ANOMALY = grad_mode.ANOMALY
_new = object.__new__
# Shared needs_input_grad tuples: one allocation (and one object for the cyclic GC) fewer per op.
_NEEDS_ONE = (True,)
_NEEDS_TWO = ((False, False), (True, False), (False, True), (True, True))

_TENSOR_TYPES: dict[type, bool] = {}


def is_tensor(x: Any) -> bool:
    """True if ``x`` is a tensor (its type declares ``__autograd_tensor__``)."""
    kind = _TENSOR_TYPES.get(type(x))
    if kind is None:
        kind = _TENSOR_TYPES[type(x)] = bool(getattr(type(x), "__autograd_tensor__", False))
    return kind


def array_of(x: Any) -> Any:
    """A tensor's array, or ``x`` itself."""
    return x.data if is_tensor(x) else x


def operand(x: Any) -> Any:
    """A non-tensor input as forward sees it. Lists become arrays; Python scalars stay
    scalars, so numpy's weak-scalar promotion keeps float32 float32."""
    return np.asarray(x) if isinstance(x, (list, tuple)) else x


def record(fn: type, inputs: Sequence[Any], params: dict[str, Any]) -> Any:
    """Run ``fn.forward`` on the inputs' arrays; if a gradient will be needed (an input
    requires grad and grad mode is on), add a node to the graph. Returns the output tensor."""
    arrays = []
    parents = []
    wrap = None
    needed = False
    for x in inputs:
        if is_tensor(x):
            arrays.append(x.data)
            if wrap is None:
                wrap = x._wrap
            if x.requires_grad:
                needed = True
                parents.append(x.grad_fn or x)
                continue
        else:
            arrays.append(operand(x))
        parents.append(None)
    mode = _mode()
    if not (needed and mode & _GRAD):
        return _constant(fn, _forward(fn, _NULL_CTX, arrays, params), wrap, inputs, arrays)
    ctx = _new(Context)
    ctx.needs_input_grad = tuple([p is not None for p in parents])
    ctx._saved = ()
    raw = _forward(fn, ctx, arrays, params)
    return _output(fn, ctx, tuple(parents), params, inputs, arrays, raw, wrap, mode)


def record_unary(fn: type, x: Any) -> Any:
    """``record`` for one tensor input and no parameters."""
    a = x.data
    mode = _mode()
    if not (x.requires_grad and mode & _GRAD):
        try:
            raw = fn.forward(_NULL_CTX, a)
        except ValueError as error:
            raise named_error(fn, (a,), error) from None
        return _constant(fn, raw, x._wrap, (x,), (a,))
    ctx = _new(Context)
    ctx.needs_input_grad = _NEEDS_ONE
    ctx._saved = ()
    try:
        raw = fn.forward(ctx, a)
    except ValueError as error:
        raise named_error(fn, (a,), error) from None
    return _output(fn, ctx, (x.grad_fn or x,), _NO_PARAMS, (x,), (a,), raw, x._wrap, mode)


def record_binary(fn: type, x: Any, y: Any) -> Any:
    """``record`` for two inputs (at least one a tensor) and no parameters."""
    wrap = None
    if is_tensor(x):
        a, wrap = x.data, x._wrap
        edge_x = (x.grad_fn or x) if x.requires_grad else None
    else:
        a, edge_x = operand(x), None
    if is_tensor(y):
        b = y.data
        wrap = wrap or y._wrap
        edge_y = (y.grad_fn or y) if y.requires_grad else None
    else:
        b, edge_y = operand(y), None
    mode = _mode()
    if (edge_x is None and edge_y is None) or not mode & _GRAD:
        try:
            raw = fn.forward(_NULL_CTX, a, b)
        except ValueError as error:
            raise named_error(fn, (a, b), error) from None
        return _constant(fn, raw, wrap, (x, y), (a, b))
    ctx = _new(Context)
    ctx.needs_input_grad = _NEEDS_TWO[(edge_x is not None) + 2 * (edge_y is not None)]
    ctx._saved = ()
    try:
        raw = fn.forward(ctx, a, b)
    except ValueError as error:
        raise named_error(fn, (a, b), error) from None
    return _output(fn, ctx, (edge_x, edge_y), _NO_PARAMS, (x, y), (a, b), raw, wrap, mode)


def _forward(fn: type, ctx: Any, arrays: list[Any], params: dict[str, Any]) -> Any:
    try:
        return fn.forward(ctx, *arrays, **params)
    except ValueError as error:
        raise named_error(fn, arrays, error) from None


def _constant(fn: type, raw: Any, wrap: Any, inputs: Sequence[Any], arrays: Sequence[Any]) -> Any:
    """The output of an op that records nothing."""
    if wrap is None:
        return raw
    data = raw if type(raw) is _ndarray else np.asarray(raw)
    out = wrap(data)
    if data.base is not None or _is_one_of(data, arrays):
        _share_memory(out, data, inputs, arrays)
    return out


def _output(
    fn: type,
    ctx: Context,
    parents: tuple[Any, ...],
    params: dict[str, Any],
    inputs: Sequence[Any],
    arrays: Sequence[Any],
    raw: Any,
    wrap: Any,
    mode: int,
) -> Any:
    """Finish the node of an op whose forward returned ``raw``; the tensor it made."""
    data = raw if type(raw) is _ndarray else np.asarray(raw)
    if data.dtype.kind != "f":  # integers or booleans: nothing to differentiate
        return _constant(fn, raw, wrap, inputs, arrays)
    if wrap is None:
        raise TypeError(f"{fn.__name__}: cannot record an op none of whose inputs is a tensor")
    node = _new(Node)
    node.fn = fn
    node.ctx = ctx
    node.parents = parents
    node.params = params
    node.shape = data.shape
    node.dtype = data.dtype
    node.seq = next(_node_numbers)
    node.hooks = node.trace = None
    out = wrap(data, node)
    if data.base is not None or _is_one_of(data, arrays):
        _share_memory(out, data, inputs, arrays)
    saved = ctx._saved
    if saved:
        node.sources, node.versions = _track_saved(saved, inputs, arrays, raw, out)
    else:
        node.sources = node.versions = ()
    if mode & _ANOMALY:  # anomaly mode only: off, it costs nothing
        node.trace = forward_trace(node)
    return out


def _is_one_of(value: Any, arrays: Sequence[Any]) -> bool:
    for a in arrays:
        if value is a:
            return True
    return False


def _track_saved(
    saved: tuple[Any, ...], inputs: Sequence[Any], arrays: Sequence[Any], raw: Any, out: Any
) -> tuple[tuple[int | None, ...], tuple[Any, ...]]:
    """Which input or output each saved value is, and each saved tensor's version now.

    Matched by identity right after forward, while every array is alive: ``save_for_backward``
    was handed the very arrays forward received or returned.
    """
    sources: list[int | None] = []
    versions: list[Any] = []
    for value in saved:
        tensor = None
        source: int | None = None
        for i, a in enumerate(arrays):
            if value is a:
                source = i
                if is_tensor(inputs[i]):
                    tensor = inputs[i]
                break
        else:
            if value is raw:
                source, tensor = -1, out
        sources.append(source)
        if tensor is None:
            versions += (None, 0)
        else:
            counter = tensor._version_counter or counter_of(tensor)
            versions += (counter, counter.version)
    return tuple(sources), tuple(versions)


def counter_of(tensor: Any) -> VersionCounter:
    """The tensor's version counter, made on first need."""
    counter = tensor._version_counter
    if counter is None:
        counter = tensor._version_counter = VersionCounter()
    return counter


def _share_memory(out: Any, data: np.ndarray, inputs: Sequence[Any], arrays: Sequence[Any]) -> None:
    """``out`` is a view of a tensor input (a reshape, a transpose, a basic index): they
    share one block of memory, so they share one version counter."""
    for x, a in zip(inputs, arrays):
        if type(a) is _ndarray and is_tensor(x) and (data is a or np.may_share_memory(data, a)):
            counter = counter_of(x)
            counter.shared = True
            out._version_counter = counter
            return


def named_error(fn: type, arrays: Sequence[Any], error: ValueError) -> ValueError:
    """Re-word numpy's error so it names the op and the shapes involved."""
    name = fn.__name__.lower()
    message = str(error)
    if message.split(" ", 1)[0].endswith(":"):
        return error  # already names its op
    shapes = " and ".join(str(np.shape(a)) for a in arrays)
    if "broadcast" in message:
        return ValueError(f"{name}: shapes {shapes} cannot be broadcast together")
    return ValueError(f"{name}: {message} (input shapes {shapes})")
