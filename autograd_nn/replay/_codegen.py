"""The program: a recording written out as one Python function of numpy calls.

Like the recorder's compiled steps (``_record``), the replay is Python source, generated
and ``exec``-ed once: each recorded call is one line (``multiply(s3, c0, s7)``: a ufunc's
output buffer passed positionally) with the buffers, constants and functions bound as
globals, so a replay costs the numpy calls and nothing between them. A Python number in a
float call is bound once as a 0-d array of the call's dtype (``subtract(float32_1, s5, s6)``),
the operand numpy would otherwise convert it to on every call. The source is kept
(``Compiled.source()``) because it is the clearest explanation of what a replay does.

The function starts with the guards (``_guards``; any one failing means "not this program": a
``Miss``), then the calls (a check whose value differs means the call took another branch:
``Diverged``), then the epilogue: the leaves' ``.grad``, version counters of what it
wrote, and the results. A replay that diverges first puts back what it changed (``_undo``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._errors import CompileError
from ._guards import held_weakly
from ._plan import STATIC_VALUES, Layout
from ._recording import Recording
from ._slots import Instr, Slot
from ._tree import tree_map
from ._undo import check_shapes, diverge_if, grad_marks, is_check, mark_reached, save_for_undo, value_shaped

# Generator methods that can draw into a buffer (``out=``); others are copied in.
_DRAWS_INTO = frozenset({"random", "standard_normal", "standard_exponential"})


# Methods that are a numpy kernel behind a Python wrapper, called as that kernel (same
# arguments, same result): ndarray.sum is np.add.reduce (numpy's _methods._sum).
_SAME_KERNEL: dict[Any, Any] = {np.ndarray.sum: np.add.reduce}

# Ufuncs whose positional output numpy deprecates (numpy 2.4: it reads like max(a, b, c)).
_OUT_BY_NAME = frozenset({np.maximum, np.minimum})

# Names the generated source uses for itself (see ``_program``), which a function's name must not take.
RESERVED = frozenset({"copyto", "note_writes", "wrap", "mode", "Miss", "Diverged", "o", "replay"})


def _readable_name(fn: Any) -> str | None:
    """``matmul`` for np.matmul, ``ndarray_sum`` for np.ndarray.sum, ``rng_random`` for a
    generator's method; None when no identifier of the kind would be clear."""
    if isinstance(fn, functools.partial):  # an optimizer's numbers or effect: Adam._numbers -> Adam_numbers
        name = getattr(fn.func, "__qualname__", None)
        return "_".join(part.strip("_") for part in name.split(".")) if isinstance(name, str) else None
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str):
        return None
    if isinstance(owner, np.random.Generator):
        name = f"rng_{name}"
    elif isinstance(owner, np.ufunc):  # np.add.reduce -> add_reduce
        name = f"{owner.__name__}_{name}"
    elif getattr(fn, "__objclass__", None) is np.ndarray:
        name = f"ndarray_{name}"
    elif owner is not None and not isinstance(owner, type(np)):
        return None  # a bound method of some object: keep the neutral fN name
    name = name.strip("_")
    return (
        name
        if name.isidentifier()
        and not name[0].isdigit()
        and not (len(name) > 1 and name[0] in "slcf" and name[1:].isdigit())
        else None
    )


@dataclass
class Epilogue:
    """What a replay leaves behind besides its buffers."""

    grads: list[tuple[Any, Any, Slot | None, int | None]] = field(default_factory=list)  # (leaf, tensor, slot, arg)
    stores: list[tuple[dict[str, Any], str, Slot]] = field(default_factory=list)
    written: list[Slot] = field(default_factory=list)  # externals and arguments written in place
    outputs: Any = None  # the result's tree, with Out leaves


class _Src(str):
    """Source text that ``repr`` leaves as it is (so containers of it render as code)."""

    def __repr__(self) -> str:
        return str(self)


class Writer:
    """Names and lines of one generated function."""

    def __init__(self, rec: Recording, layout: Layout):
        self.rec = rec
        self.layout = layout
        self.globals: dict[str, Any] = {}
        self._by_id: dict[Any, str] = {}
        self._typed_names: dict[tuple[str, type, str], str] = {}
        self.lines: list[str] = []
        # Undoing a replay that diverges (``_undo``): what the calls before the last check changed.
        self.last_check = -1  # the last instruction that can raise Diverged
        self.undo: list[str] = []  # lines that put back what the replay changed so far
        self.saved: set[Any] = set()  # the memory (slot index) and generators already saved
        self.irreversible: Instr | None = None  # the first call whose effect cannot be put back
        self.returned_numbers: set[int] = set()  # values read with .item() that the result returns
        self.weak: dict[int, str] = {}  # id(tensor) -> the name of a weak reference to it

    def slot(self, slot: Slot) -> str:
        return f"s{self.layout.target(slot)}"

    def bind(self, prefix: str, value: Any) -> str:
        """A global name for ``value`` (one per object): a function by its own name
        (``matmul``, ``ndarray_sum``, ``rng_random``), so the source reads as numpy."""
        # (each np.add.reduce is a new bound-method object: a ufunc's method is keyed by ufunc and name)
        owner = getattr(value, "__self__", None)
        key = (id(owner), value.__name__) if isinstance(owner, np.ufunc) else id(value)
        name = self._by_id.get(key)
        if name is None:
            name = f"{prefix}{len(self._by_id)}"
            if prefix == "f":
                readable = _readable_name(value)
                if readable and readable not in RESERVED:
                    name, n = readable, 1
                    while name in self.globals:  # the same name for another object: number it
                        n += 1
                        name = f"{readable}_{n}"
            self._by_id[key] = name
            self.globals[name] = value
        return name

    def value(self, x: Any) -> Any:
        if isinstance(x, Slot):
            return _Src(self.slot(x))
        if type(x) is _Src:  # already source (a typed number's name)
            return x
        if x is None or x is Ellipsis or isinstance(x, (bool, int, str)) and type(x) in (bool, int, str):
            return _Src(repr(x))
        if type(x) is float and math.isfinite(x):
            return _Src(repr(x))
        return _Src(self.bind("c", x))

    def call(self, instr: Instr, out: str | None = None) -> str:
        kernel = _SAME_KERNEL.get(instr.fn, instr.fn)
        fn = self.bind("f", kernel)
        args, kwargs = list(instr.args), dict(instr.kwargs)
        if type(kernel) is np.ufunc and kernel.nout == 1 and len(args) == kernel.nin:
            args = [self._typed(a, kernel, instr) for a in args]
            given = kwargs.get("out")
            if isinstance(given, tuple) and len(given) == 1:  # `z += b` calls add(z, b, out=(z,))
                given = given[0]
            if out is None and isinstance(given, Slot):
                out = self.slot(given)
                del kwargs["out"]
            if out is not None and kernel not in _OUT_BY_NAME:  # multiply(a, b, out): parsed faster than out=
                args.append(_Src(out))
                out = None
        parts = [repr(self.value_tree(a)) for a in args] + [f"{k}={self.value_tree(v)!r}" for k, v in kwargs.items()]
        if out is not None:
            parts.append(f"out={out}")
        return f"{fn}({', '.join(parts)})"

    def _typed(self, x: Any, ufunc: np.ufunc, instr: Instr) -> Any:
        """A Python number operand of a ufunc whose array operands all have one float dtype D,
        as a 0-d array of D, where the ufunc has a loop taking D for every operand: numpy casts
        the number to D either way (NEP 50) and runs that loop, so the values are the same,
        but a 0-d array skips the number's conversion on every call (a third of a small ufunc
        call's time)."""
        if type(x) not in (int, float) or "dtype" in instr.kwargs or "signature" in instr.kwargs:
            return x
        dtypes = {getattr(a.value, "dtype", None) for a in instr.args if isinstance(a, Slot)}
        dtype = dtypes.pop() if len(dtypes) == 1 else None
        loop = f"{dtype.char * ufunc.nin}->" if dtype is not None else ""
        if dtype is None or dtype.kind != "f" or not any(t.startswith(loop) for t in ufunc.types):
            return x  # (ldexp's exponent, for one, must stay an integer)
        try:
            with np.errstate(over="ignore"):
                typed = np.array(x, dtype)
        except OverflowError:  # an int beyond any float
            return x
        if not np.isfinite(typed):  # a number beyond the dtype's range: numpy's own overflow rules decide
            return x
        key = (dtype.str, type(x), repr(x))  # (repr: 0.0 and -0.0 are equal, and different)
        name = self._typed_names.get(key)
        if name is None:  # one global per dtype and value, named by them: float32_1, float64_0_5
            name = f"{dtype.name}_{x!r}".replace(".", "_").replace("-", "neg").replace("+", "")
            if not name.isidentifier() or name in self.globals:
                name = f"k{len(self._typed_names)}"
            typed.flags.writeable = False
            self._typed_names[key] = name
            self.globals[name] = typed
        return _Src(name)

    def value_tree(self, tree: Any) -> Any:
        return tree_map(self.value, tree)


def write_numbers(w: Writer, verify: bool) -> None:
    """The steps' Python numbers, first: they read Python state only; a True/False among
    them decides a branch, so it is a guard."""
    for instr in w.rec.instrs:
        if instr.kind == "number":
            value = w.bind("c", instr.result.value) if verify else w.call(instr)
            w.lines.append(f"{w.slot(instr.result)} = {value}")
        elif instr.kind == "entry":  # numbers[name], subscripted in place rather than called
            numbers, name = instr.args
            w.lines.append(f"{w.slot(instr.result)} = {w.slot(numbers)}[{name!r}]")
            value = instr.result.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                w.lines.append(f"if {w.slot(instr.result)} != {w.value(value)!r}: raise Miss")


def write_body(w: Writer, verify: bool) -> None:
    """One line (or two) per instruction the layout keeps."""
    layout = w.layout
    write_numbers(w, verify)
    w.last_check = max(
        (
            i
            for i, instr in enumerate(w.rec.instrs)
            if i not in layout.dropped and (is_check(instr) or _checked_item(w, i, instr) or _made_here(w, i, instr))
        ),
        default=-1,
    )
    block: dict[str, str] | None = None  # the errstate of the `with` block the last line is in
    marks = [] if verify else grad_marks(w)  # (how far a replay that raises got: see _undo)
    for i, instr in enumerate(w.rec.instrs):
        if i in layout.dropped or instr.kind in ("number", "entry"):
            continue
        if marks and marks[0] <= i:
            mark_reached(w, i, marks)
            block = None
        start = len(w.lines)
        write_instr(w, i, instr, verify)
        if len(w.lines) == start:
            continue
        lines = w.lines[start:]
        if instr.errstate is None:
            block = None
        elif instr.errstate == block:  # the same errstate as the call before: one block (entering one costs µs)
            w.lines[start:] = ["    " + line for line in lines]
        else:  # as the eager call ran: under the op's errstate
            w.lines[start:] = [f"with {w.bind('f', np.errstate)}(**{w.bind('c', instr.errstate)}):"] + [
                "    " + line for line in lines
            ]
            block = instr.errstate


def write_instr(w: Writer, i: int, instr: Instr, verify: bool) -> None:
    """The line (or lines) of instruction ``i``."""
    layout = w.layout
    if i < w.last_check:
        save_for_undo(w, instr, verify)
    if instr.kind == "effect":
        if not verify:
            w.lines.append(w.call(instr))
        return
    how = layout.how.get(i, "call")
    result = instr.result
    if isinstance(result, tuple) and len(result) == 2 and result[0] == "check":
        if instr.fn not in STATIC_VALUES:
            diverge_if(w, i, instr, f"{w.call(instr)} != {w.value(result[1])!r}", "branches on a value")
        return
    if instr.kind == "random":
        if verify:  # the recording's draws: checking must not move the generator
            w.lines.append(f"copyto({w.slot(result)}, {w.bind('c', result.value.copy())})")
        elif getattr(instr.fn, "__name__", "") in _DRAWS_INTO:
            w.lines.append(w.call(instr, out=w.slot(result)))
        else:
            w.lines.append(f"copyto({w.slot(result)}, {w.call(instr)})")
        return
    if how == "out":
        w.lines.append(w.call(instr, out=w.slot(result)))
    elif how == "copy":
        source = w.value(instr.args[0])
        cast = ", casting='unsafe'" if instr.fn is np.ndarray.astype else ""
        w.lines.append(f"copyto({w.slot(result)}, {source!r}{cast})")
    elif how == "fill":
        from ._plan import _FILLS

        w.lines.append(f"{w.slot(result)}.fill({_FILLS[instr.fn]})")
    elif result is None or (isinstance(result, Slot) and result.producer != i and instr.kind == "call"):
        w.lines.append(w.call(instr))  # nothing new (an input handed back, as out= does)
    elif isinstance(result, Slot) and result.kind == "number" and instr.fn is np.ndarray.item:
        w.lines.append(f"{w.slot(result)} = {w.call(instr)}")
        if _checked_item(w, i, instr):
            condition = f"{w.slot(result)} != {w.value(result.value)!r}"
            diverge_if(w, i, instr, condition, "uses a value read with .item() where a recording cannot follow it")
    elif isinstance(result, Slot):
        value = w.call(instr)
        if isinstance(result.value, np.ndarray) and result.value.ndim == 0:  # a numpy scalar, as the recording held it
            value = f"{w.bind('f', np.asarray)}({value})"
        w.lines.append(f"{w.slot(result)} = {value}")
        if _made_here(w, i, instr):
            check_shapes(w, i, instr, [result])
    else:
        names = ", ".join(w.slot(s) for s in result)
        w.lines.append(f"{names}, = {w.call(instr)}")
        if _made_here(w, i, instr):
            check_shapes(w, i, instr, list(result))


def hoist(w: Writer, namespace: dict[str, Any]) -> None:
    """Make the views of fixed memory once, in recording order."""
    for i in w.layout.hoisted:
        instr = w.rec.instrs[i]
        call = w.call(instr)
        for name, value in w.globals.items():
            namespace.setdefault(name, value)
        view = eval(call, namespace)  # noqa: S307 - our own generated call
        owner = namespace.get(w.slot(instr.result.view_of)) if instr.result.view_of is not None else None
        if owner is not None and not np.shares_memory(view, owner):
            raise CompileError(  # (arrays that are slices of one larger array: their views are not rebuilt alike)
                f"compile: {w.rec.name}: the view made at {instr.line} is not a view of the same memory once "
                "rebuilt (tensors whose arrays are slices of one larger array?); it is not replayed"
            )
        namespace[w.slot(instr.result)] = view


def _made_here(w: Writer, i: int, instr: Instr) -> bool:
    """Whether ``instr`` makes a value-shaped array whose shape the replay checks (see
    ``write_instr``: a result it makes, not one it writes into a buffer)."""
    if instr.kind != "call" or w.layout.how.get(i, "call") != "call" or not value_shaped(instr):
        return False
    result = instr.result
    if isinstance(result, Slot):
        return result.producer == i
    return isinstance(result, (tuple, list)) and bool(result) and result[0] != "check"


def _checked_item(w: Writer, i: int, instr: Instr) -> bool:
    """A value read with .item() that neither a later call reads nor the result returns: the
    step used it where a recording cannot follow (math.isfinite(v), a list index, float(v)),
    so a replay checks it is the same, as it checks a branch."""
    result = instr.result
    if instr.fn is not np.ndarray.item or not isinstance(result, Slot) or result.kind != "number":
        return False
    if result.index in w.returned_numbers:
        return False
    return not any(result in later.reads for later in w.rec.instrs[i + 1 :])


def write_epilogue(w: Writer, epilogue: Epilogue) -> None:
    if epilogue.written:  # one stamp for all the arrays the call wrote
        w.lines.append(f"note_writes({', '.join(w.slot(slot) for slot in epilogue.written)})")
    for leaf, tensor, slot, arg in epilogue.grads:
        owner = "o" if arg is None else f"l{arg}"
        if tensor is None:
            lines = [f"{owner}.grad = None"]
        elif slot is None:
            lines = [f"{owner}.grad = {w.bind('c', tensor)}"]
        elif arg is not None:  # a new tensor each call, as the argument is
            lines = [f"{owner}.grad = wrap({w.slot(slot)}.copy())"]
        else:
            t = w.bind("c", tensor)
            lines = [f"{t}.data = {w.slot(slot)}", f"{owner}.grad = {t}"]
        if arg is None:  # held weakly (gone, a leaf's .grad is no one's to set)
            w.lines += [f"o = {held_weakly(w, leaf)}()", "if o is not None:"]
            lines = ["    " + line for line in lines]
        w.lines += lines
    for state, key, slot in epilogue.stores:
        if w.layout.role.get(w.layout.target(slot)) != "buffer":
            w.lines.append(f"{w.bind('c', state)}[{key!r}] = {w.slot(slot)}")

    def render(leaf: Any) -> Any:
        if not isinstance(leaf, Out):
            return w.value(leaf)
        if leaf.kind == "tensor":
            return _Src(f"wrap({w.slot(leaf.value)}.copy())")
        if leaf.kind == "array":
            return _Src(f"{w.slot(leaf.value)}.copy()")
        if leaf.kind == "number":
            return _Src(w.slot(leaf.value))
        return _Src(w.bind("c", leaf.value))

    w.lines.append(f"return {tree_map(render, epilogue.outputs)!r}")


@dataclass
class Out:
    """A leaf of the result: a tensor, an array or a number a replay refreshes, or a constant."""

    kind: str  # "tensor", "array", "number", "const"
    value: Any


def assemble(w: Writer, n_leaves: int, name: str) -> str:
    params = ", ".join(f"l{i}" for i in range(n_leaves))
    body = "\n".join("    " + line for line in w.lines) or "    pass"
    return f"def {name}({params}):\n{body}\n"
