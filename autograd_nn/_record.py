"""The recorder: where every op runs, and where the graph grows.

Every entry point comes here: operators and methods (``x * y``, ``x.exp()``), the
functions of ``autograd_nn`` and ``functional``, ``Function.apply`` and the in-place
ops. ``recorder(fn, arity)`` gives, for each op, the function that runs it; its steps
(``_STEPS``) are written once, and compiled for one, two and three inputs and any number,
so an operator such as ``Tensor.__mul__`` *is* the recorder and ``x * y`` costs one call.

The recorder does not import the Tensor class. Any input whose type carries
``__autograd_tensor__`` is a tensor: that attribute is the class outputs are made of
(``data``, ``_grad`` (behind the ``grad`` property), ``requires_grad`` and ``grad_fn`` are
the fields the recorder sets). With no tensor among the inputs there is nothing to record
or wrap, and the op's forward result comes back as it is (as numpy does for plain arrays).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _tracing, grad_mode, versions
from .anomaly import forward_trace  # noqa: F401 - used by the compiled recorder (_STEPS)
from .graph import Context, Node, NullContext  # noqa: F401 - Context and Node too

_ndarray = np.ndarray
_NULL_CTX = NullContext()
_NO_PARAMS: dict[str, Any] = {}
_tick = versions.tick
_mode = grad_mode._MODE.get
_GRAD = grad_mode.GRAD
_ANOMALY = grad_mode.ANOMALY
_TRACE = grad_mode.TRACE
_adopt = _tracing.adopt
_KEEP_INPUTS = grad_mode.KEEP_INPUTS
_NOTE = grad_mode.ANOMALY | grad_mode.KEEP_INPUTS
_new = object.__new__
# Shared needs_input_grad tuples: one allocation (and one object for the cyclic GC) fewer per op.
_NEEDS_ONE = (True,)
_NEEDS_X, _NEEDS_Y, _NEEDS_XY = (True, False), (False, True), (True, True)

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


# --------------------------------------------------------------------- the recorder
# The recorder's steps, written once. ``recorder(fn, arity)`` compiles them for one or two
# inputs (what operators and methods take; unrolled, since they run for every op), three
# (a layer's input, weight and bias), or any number (a loop), the way ``dataclasses``
# writes an ``__init__``: one source, so the fast paths are the same code as the general
# one. Only the capitalised markers vary.
_STEPS = """
def make(fn, view):
    forward = fn.forward

    def run(SIGNATURE):
        mode = _mode()
        if mode & _TRACE:  # a compiled function is recording: it watches these arrays
            _adopt(ADOPT)
        TAKE_INPUTS
        if not (needs and mode & _GRAD):  # nothing to record: forward with a null context
            try:
                raw = forward(_NULL_CTX, CALL)
            except ValueError as error:
                raise named_error(fn, ARRAYS, error) from None
            return _constant(raw, cls, ARRAYS, view)
        ctx = Context()
        ctx.needs_input_grad = needs
        ctx.saved_tensors = ()
        try:
            raw = forward(ctx, CALL)
        except ValueError as error:
            raise named_error(fn, ARRAYS, error) from None
        data = raw if type(raw) is _ndarray else np.asanyarray(raw)
        CHECK_KIND
        node = Node()
        node.fn = fn
        node.ctx = ctx
        node.parents = PARENTS
        node.params = PARAMS
        node.shape = data.shape
        node.dtype = data.dtype
        node.seq = _tick()
        out = _new(cls)  # the tensor protocol: a type with data, _grad, requires_grad and grad_fn
        out.data = data
        out._grad = None
        out.requires_grad = True
        out.grad_fn = node
        if view and (data.base is not None or _is_one_of(data, ARRAYS)):
            versions.mark_shared(data)  # a view, or an input returned unchanged: shared memory
        # What each saved value is (an input, the output, a constant) is read from these ids
        # when needed (Node.saved_sources): exact, because every saved value is alive and
        # every input slot holds its own array object (see _distinct).
        node.ids = IDS if ctx.saved_tensors else ()
        if mode & _NOTE:  # anomaly or keep-inputs mode only: off, they cost nothing
            if mode & _ANOMALY:
                node.trace = forward_trace(node)
            if mode & _KEEP_INPUTS:  # every input, constants too (an exporter reads them; see Node.inputs)
                node.inputs = tuple(ARRAYS)
        return out

    return run
"""

# A forward that returns integers or booleans gives an output that does not require grad.
# (Our own ops of one, two or three inputs return floating point for floating-point inputs:
# the unrolled forms, which only they reach, leave the check out.)
_CHECK_KIND = """if data.dtype.kind != "f":
            return _constant(raw, cls, ARRAYS, view)"""

_FORMS = {
    1: {  # run(x): a tensor, no parameters
        "SIGNATURE": "x",
        "ADOPT": "(x,)",
        "TAKE_INPUTS": """cls = x.__autograd_tensor__
        a = x.data
        needs = _NEEDS_ONE if x.requires_grad else None""",
        "CALL": "a",
        "ARRAYS": "(a,)",
        "PARENTS": "(x.grad_fn or x,)",
        "PARAMS": "_NO_PARAMS",
        "IDS": "(id(a), id(raw))",
        "CHECK_KIND": "",
    },
    2: {  # run(x, y): at least one a tensor, no parameters
        "SIGNATURE": "x, y",
        "ADOPT": "(x, y)",
        "TAKE_INPUTS": """try:
            cls = _OUTPUT_TYPES[type(x)]
        except KeyError:  # a type not met before
            cls = output_type(x)
        if cls is not None:
            a = x.data
            edge_x = (x.grad_fn or x) if x.requires_grad else None
        else:
            a, edge_x = (x if type(x) is _ndarray else operand(x)), None
        TAKE(y, b, edge_y)
        if edge_x is None:
            needs = None if edge_y is None else _NEEDS_Y
        else:
            needs = _NEEDS_X if edge_y is None else _NEEDS_XY
        if a is b and needs and edge_x is not edge_y:  # x * x.detach(): one array, two roles
            b = b.view()  # its own object, so what forward saves says which input it is""",
        "CALL": "a, b",
        "ARRAYS": "(a, b)",
        "PARENTS": "(edge_x, edge_y)",
        "PARAMS": "_NO_PARAMS",
        "IDS": "(id(a), id(b), id(raw))",
        "CHECK_KIND": "",
    },
    3: {  # run(x, y, w): three inputs, no parameters (a layer's input, weight and bias)
        "SIGNATURE": "x, y, w",
        "ADOPT": "(x, y, w)",
        "TAKE_INPUTS": """cls = None
        TAKE(x, a, edge_x)
        TAKE(y, b, edge_y)
        TAKE(w, c, edge_w)
        needs = (edge_x is not None, edge_y is not None, edge_w is not None)
        if True not in needs:
            needs = None
        elif a is b or a is c or b is c:  # one array in two slots: give each its own object
            a, b, c = _distinct([a, b, c], [edge_x, edge_y, edge_w])""",
        "CALL": "a, b, c",
        "ARRAYS": "(a, b, c)",
        "PARENTS": "(edge_x, edge_y, edge_w)",
        "PARAMS": "_NO_PARAMS",
        "IDS": "(id(a), id(b), id(c), id(raw))",
        "CHECK_KIND": "",
    },
    None: {  # run(inputs, params): any number of inputs, keyword parameters
        "SIGNATURE": "inputs, params",
        "ADOPT": "inputs",
        "TAKE_INPUTS": """arrays = []
        parents = []
        flags = []
        cls = None
        for x in inputs:
            try:
                kind = _OUTPUT_TYPES[type(x)]
            except KeyError:  # a type not met before
                kind = output_type(x)
            if kind is not None:
                arrays.append(x.data)
                cls = cls or kind
                if x.requires_grad:
                    parents.append(x.grad_fn or x)
                    flags.append(True)
                    continue
            else:
                arrays.append(x if type(x) is _ndarray else operand(x))
            parents.append(None)
            flags.append(False)
        needs = tuple(flags) if True in flags else None
        n = len(arrays)
        if needs and n > 1 and (arrays[0] is arrays[1] or (n > 2 and _has_twin(arrays))):
            _distinct(arrays, parents)""",
        "CALL": "*arrays, **params",
        "ARRAYS": "arrays",
        "PARENTS": "tuple(parents)",
        "PARAMS": "params",
        "IDS": "(*map(id, arrays), id(raw))",
        "CHECK_KIND": _CHECK_KIND,
    },
}


# ``TAKE(x, a, edge_x)``: one input taken, its array and its edge (None: no gradient).
_TAKE = """try:
            kind = _OUTPUT_TYPES[type(IN)]
        except KeyError:  # a type not met before
            kind = output_type(IN)
        if kind is not None:
            ARRAY = IN.data
            cls = cls or kind
            EDGE = (IN.grad_fn or IN) if IN.requires_grad else None
        else:
            ARRAY, EDGE = (IN if type(IN) is _ndarray else operand(IN)), None"""


def _expand_takes(code: str) -> str:
    """``TAKE(x, a, edge_x)`` lines, written out as ``_TAKE`` for that input."""
    lines = []
    for line in code.split("\n"):
        stripped = line.strip()
        if stripped.startswith("TAKE("):
            name, array, edge = (part.strip() for part in stripped[5:-1].split(","))
            line = " " * 8 + _TAKE.replace("IN", name).replace("ARRAY", array).replace("EDGE", edge)
        lines.append(line)
    return "\n".join(lines)


def _compile(form: dict[str, str]) -> Callable[..., Any]:
    form = {**form, "TAKE_INPUTS": _expand_takes(form["TAKE_INPUTS"])}
    source = _STEPS
    for marker, code in form.items():  # CHECK_KIND first: it holds a marker of its own
        source = source.replace(marker, code) if marker != "ARRAYS" else source
    source = source.replace("ARRAYS", form["ARRAYS"])
    scope: dict[str, Any] = {}
    # compiled under this file's name: tracebacks and anomaly mode's frame walk place it here
    exec(compile(source, __file__, "exec"), globals(), scope)
    return scope["make"]


def recorder(fn: type, arity: int | None = None, view: bool = True) -> Callable[..., Any]:
    """The function that runs ``fn`` and records it: ``run(x)``, ``run(x, y)`` or
    ``run(x, y, w)`` for an op called with one, two or three inputs and no parameters
    (``arity`` 1, 2 or 3), else ``run(inputs, params)``. ``fn.forward`` sees the inputs'
    arrays; if an input requires grad and grad mode is on, a node is added to the graph
    and the output tensor points to it.
    ``view=False``: the op never returns its input's memory (as its declaration says), so
    that check is spared; a user's op is always checked.
    """
    run = _MAKERS[arity](fn, view)
    run.__qualname__ = run.__name__ = f"record_{fn.__name__}"
    return run


def record(fn: type, inputs: Sequence[Any], params: dict[str, Any]) -> Any:
    """Run ``fn`` on ``inputs`` with ``params`` through its general recorder (the in-place
    ops, and any Function): the recorder its class keeps (``Function.__init_subclass__``)."""
    return fn._recorder(inputs, params)


def _constant(raw: Any, cls: Any, arrays: Sequence[Any], view: bool) -> Any:
    """The output of an op that records nothing (``view``: it may share an input's memory)."""
    if cls is None:
        return raw
    data = raw if type(raw) is _ndarray else np.asanyarray(raw)
    out = _new(cls)  # the tensor protocol, as for a recorded output
    out.data = data
    out._grad = None
    out.requires_grad = False
    out.grad_fn = None
    if view and (data.base is not None or _is_one_of(data, arrays)):
        versions.mark_shared(data)  # a view of an input: shared memory
    return out


def _has_twin(arrays: Sequence[Any]) -> bool:
    """True if one array object fills two input slots (the first two are already compared)."""
    if len(arrays) == 3:
        return arrays[2] is arrays[0] or arrays[2] is arrays[1]
    for i in range(1, len(arrays)):
        for j in range(i):
            if arrays[i] is arrays[j]:
                return True
    return False


def _distinct(arrays: list[Any], parents: list[Any]) -> list[Any]:
    """Give each input slot its own array object where one array fills two slots with
    different roles (``x`` and ``x.detach()``), so a saved value names its slot exactly.
    Changes ``arrays`` in place, and returns it."""
    for i in range(1, len(arrays)):
        for j in range(i):
            if arrays[i] is arrays[j] and parents[i] is not parents[j] and isinstance(arrays[i], _ndarray):
                arrays[i] = arrays[i].view()
                break
    return arrays


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


_MAKERS = {arity: _compile(form) for arity, form in _FORMS.items()}
