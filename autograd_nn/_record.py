"""The recorder: where every op runs, and where the graph grows.

Every entry point comes here: operators and methods (``x * y``, ``x.exp()``), the
functions of ``autograd_nn`` and ``functional``, ``Function.apply`` and the in-place
ops. ``record`` takes any number of inputs and parameters; ``unary(fn)`` and
``binary(fn)`` make the same steps into a function of one or two inputs for the
operators and methods, one Python call shorter because they run for every op. All
three end in ``_output``, the one place a node is finished.

The recorder does not import the Tensor class. Any input whose type carries
``__autograd_tensor__`` is a tensor: that attribute is the class outputs are made of
(``data``, ``grad``, ``requires_grad`` and ``grad_fn`` are the fields the recorder sets).
With no tensor among the inputs there is nothing to record or wrap, and the op's forward
result comes back as it is (as numpy does for plain arrays).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import grad_mode, versions
from .anomaly import forward_trace
from .graph import Context, Node, NullContext

_ndarray = np.ndarray
_NULL_CTX = NullContext()
_NO_PARAMS: dict[str, Any] = {}
_tick = versions.tick
_mode = grad_mode._MODE.get
_GRAD = grad_mode.GRAD
_ANOMALY = grad_mode.ANOMALY
_new = object.__new__
# Shared needs_input_grad tuples: one allocation (and one object for the cyclic GC) fewer per op.
_NEEDS_ONE = (True,)
_NEEDS_TWO = ((False, False), (True, False), (False, True), (True, True))

# type -> the class its tensors' op outputs are made of (None: not a tensor type)
_OUTPUT_TYPES: dict[type, Any] = {}


def output_type(x: Any) -> Any:
    """The class of the outputs of ops on ``x`` if ``x`` is a tensor, else None."""
    kind = type(x)
    cls = _OUTPUT_TYPES.get(kind, _UNSEEN)
    if cls is _UNSEEN:
        cls = _OUTPUT_TYPES[kind] = getattr(kind, "__autograd_tensor__", None)
    return cls


_UNSEEN = object()


def is_tensor(x: Any) -> bool:
    """True if ``x`` is a tensor (its type declares ``__autograd_tensor__``)."""
    return output_type(x) is not None


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
    cls = None
    needed = False
    for x in inputs:
        kind = _OUTPUT_TYPES.get(type(x), _UNSEEN)
        if kind is _UNSEEN:
            kind = output_type(x)
        if kind is not None:
            arrays.append(x.data)
            cls = cls or kind
            if x.requires_grad:
                needed = True
                parents.append(x.grad_fn or x)
                continue
        else:
            arrays.append(operand(x))
        parents.append(None)
    mode = _mode()
    if not (needed and mode & _GRAD):
        return _constant(_forward(fn, _NULL_CTX, arrays, params), cls, arrays)
    _distinct(arrays, parents)
    ctx = _new(Context)
    ctx.needs_input_grad = tuple([p is not None for p in parents])
    ctx.saved_tensors = ()
    raw = _forward(fn, ctx, arrays, params)
    if np.asarray(raw).dtype.kind != "f":  # integers or booleans: nothing to differentiate
        return _constant(raw, cls, arrays)  # (the built-in ops of unary/binary return floats)
    return _output(fn, ctx, tuple(parents), params, arrays, raw, cls, mode, True)


def unary(fn: type, view: bool = True) -> Any:
    """``record`` for an op of one tensor input and no parameters, as a function of it
    (what ``x.exp()`` and ``-x`` are): the same steps, with one Python call fewer.
    ``view=False`` says the op never returns its input's memory (as its declaration does)."""
    forward = fn.forward

    def run(x: Any) -> Any:
        a = x.data
        mode = _mode()
        if not (x.requires_grad and mode & _GRAD):
            try:
                raw = forward(_NULL_CTX, a)
            except ValueError as error:
                raise named_error(fn, (a,), error) from None
            return _constant(raw, x.__autograd_tensor__, (a,))
        ctx = _new(Context)
        ctx.needs_input_grad = _NEEDS_ONE
        ctx.saved_tensors = ()
        try:
            raw = forward(ctx, a)
        except ValueError as error:
            raise named_error(fn, (a,), error) from None
        return _output(fn, ctx, (x.grad_fn or x,), _NO_PARAMS, (a,), raw, x.__autograd_tensor__, mode, view)

    return run


def binary(fn: type, view: bool = True) -> Any:
    """``record`` for an op of two inputs (at least one a tensor) and no parameters, as a
    function of them (what ``x * y`` is): the same steps, with one Python call fewer.
    ``view=False`` says the op never returns an input's memory (as its declaration does)."""
    forward = fn.forward
    types, unseen = _OUTPUT_TYPES, _UNSEEN

    def run(x: Any, y: Any) -> Any:
        cls = types.get(type(x), unseen)
        if cls is unseen:
            cls = output_type(x)
        if cls is not None:
            a = x.data
            edge_x = (x.grad_fn or x) if x.requires_grad else None
        else:
            a, edge_x = (np.asarray(x) if isinstance(x, (list, tuple)) else x), None
        kind = types.get(type(y), unseen)
        if kind is unseen:
            kind = output_type(y)
        if kind is not None:
            b = y.data
            cls = cls or kind
            edge_y = (y.grad_fn or y) if y.requires_grad else None
        else:
            b, edge_y = (np.asarray(y) if isinstance(y, (list, tuple)) else y), None  # as operand(y)
        mode = _mode()
        if (edge_x is None and edge_y is None) or not mode & _GRAD:
            try:
                raw = forward(_NULL_CTX, a, b)
            except ValueError as error:
                raise named_error(fn, (a, b), error) from None
            return _constant(raw, cls, (a, b))
        if a is b and edge_x is not edge_y:  # x * x.detach(): one array, two roles
            b = b.view()  # its own object, so what forward saves says which input it is
        ctx = _new(Context)
        ctx.needs_input_grad = _NEEDS_TWO[(edge_x is not None) + 2 * (edge_y is not None)]
        ctx.saved_tensors = ()
        try:
            raw = forward(ctx, a, b)
        except ValueError as error:
            raise named_error(fn, (a, b), error) from None
        return _output(fn, ctx, (edge_x, edge_y), _NO_PARAMS, (a, b), raw, cls, mode, view)

    return run


def _forward(fn: type, ctx: Any, arrays: list[Any], params: dict[str, Any]) -> Any:
    try:
        return fn.forward(ctx, *arrays, **params)
    except ValueError as error:
        raise named_error(fn, arrays, error) from None


def _constant(raw: Any, wrap: Any, arrays: Sequence[Any]) -> Any:
    """The output of an op that records nothing."""
    if wrap is None:
        return raw
    data = raw if type(raw) is _ndarray else np.asarray(raw)
    out = wrap._wrap(data)
    if data.base is not None or _is_one_of(data, arrays):
        versions.mark_shared(data)  # a view of an input: shared memory
    return out


def _output(
    fn: type,
    ctx: Context,
    parents: tuple[Any, ...],
    params: dict[str, Any],
    arrays: Sequence[Any],
    raw: Any,
    wrap: Any,
    mode: int,
    view: bool,
) -> Any:
    """Finish the node of an op whose forward returned ``raw``; the tensor it made.
    ``view``: the output may share an input's memory (check and note it)."""
    data = raw if type(raw) is _ndarray else np.asarray(raw)
    node = _new(Node)
    node.fn = fn
    node.ctx = ctx
    node.parents = parents
    node.params = params
    node.shape = data.shape
    node.dtype = data.dtype
    node.seq = _tick()
    out = _new(wrap)  # the tensor protocol: a type with data, grad, requires_grad and grad_fn
    out.data = data
    out.grad = None
    out.requires_grad = True
    out.grad_fn = node
    n = len(arrays)
    if not view:
        pass
    elif data.base is not None:  # a view (a reshape, a transpose, a basic index): shared memory
        versions.mark_shared(data)
    elif n and (data is arrays[0] or (n > 1 and (data is arrays[1] or (n > 2 and _is_one_of(data, arrays))))):
        versions.mark_shared(data)  # forward returned an input unchanged: one block, two tensors
    if ctx.saved_tensors:
        # What each saved value is (an input, the output, a constant) is read from these ids
        # when needed (Node.saved_sources): exact, because every saved value is alive, and
        # every input slot holds its own array object (see _distinct). Spelled out for the
        # one or two inputs nearly every op has: this runs for every op that saves.
        if n == 1:
            node.ids = (id(arrays[0]), id(raw))
        elif n == 2:
            node.ids = (id(arrays[0]), id(arrays[1]), id(raw))
        else:
            node.ids = (*map(id, arrays), id(raw))
    else:
        node.ids = ()
    if mode & _ANOMALY:  # anomaly mode only: off, it costs nothing
        node.trace = forward_trace(node)
    return out




def _distinct(arrays: list[Any], parents: list[Any]) -> None:
    """Give each input slot its own array object where one array fills two slots with
    different roles (``x`` and ``x.detach()``), so a saved value names its slot exactly."""
    for i in range(1, len(arrays)):
        for j in range(i):
            if arrays[i] is arrays[j] and parents[i] is not parents[j] and isinstance(arrays[i], _ndarray):
                arrays[i] = arrays[i].view()
                break


def _is_one_of(value: Any, arrays: Sequence[Any]) -> bool:
    for a in arrays:
        if value is a:
            return True
    return False


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
