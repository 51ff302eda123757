"""A program: built from a confirmed recording, checked against it, then replayed.

``build`` lays the recording out (``_plan``), writes two functions from the same layout
(``_codegen``): the replay, with its guards and epilogue, and a check that runs the same
calls on copies of everything the call started from (the draws and per-step numbers
the recording saw, so nothing outside moves). The check's results must equal the eager
call's bit for bit, or the program is refused. ``same_recording`` compares two
recordings call for call.
"""

from __future__ import annotations

import functools
import math
import weakref
from typing import Any

import numpy as np

from .. import grad_mode, versions
from ..tensor import Tensor
from ._codegen import Epilogue, Out, Writer, assemble, hoist, write_body, write_epilogue
from ._errors import CompileError, Diverged, Miss
from ._guards import CallShape, write_guards
from ._plan import Layout, lay_out
from ._recording import Recording
from ._slots import Slot
from ._tree import leaves, tree_map
from ._undo import catch_failure

_BASE = {
    "copyto": np.copyto, "note_writes": versions.note_writes, "wrap": Tensor._wrap, "mode": grad_mode.current,
    "Diverged": Diverged, "Miss": Miss,
}  # fmt: skip


class Program:
    """One recording as a replay: ``replay(*leaves)`` and its ``source``."""

    def __init__(self, source: str, replay: Any, rec: Recording, layout: Layout):
        self.source = source
        self.replay = replay
        self._lines = [instr.line for instr in rec.instrs]
        self.buffers = len(layout.buffers)
        self.calls = len(rec.instrs) - len(layout.dropped)
        # (held weakly: a later recording checks that numpy did not write their arrays behind its back)
        self.tensors = tuple(weakref.ref(t) for t in rec.used_tensors())

    def line(self, diverged: Diverged) -> str:
        return self._lines[diverged.args[0]]

    def __repr__(self) -> str:
        return f"<compiled program: {self.calls} numpy calls, {self.buffers} buffers>"


def build(rec: Recording, epilogue: Epilogue, call: CallShape, guards: list[Any], mode: int, n: int) -> Program:
    persistent = {s.index for s in rec.slots if s.persistent}
    layout = lay_out(rec, persistent)

    # Values read with .item() that the result returns: any other one no later call reads is
    # checked instead (it went where the recording cannot follow: math.isfinite(v), a list index)
    returned = {o.value.index for o in leaves(epilogue.outputs) if isinstance(o, Out) and o.kind == "number"}
    w = Writer(rec, layout)
    w.returned_numbers = v_returned = returned
    write_guards(w, call, guards, mode)
    body = len(w.lines)
    write_body(w, verify=False)
    catch_failure(w, body)
    write_epilogue(w, epilogue)
    source = assemble(w, n, "replay")
    namespace = _namespace(rec, layout, w, verify=False)
    exec(compile(source, f"<compiled {rec.name}>", "exec"), namespace)  # noqa: S102 - our own generated code

    checked = [s for s in rec.slots if s.persistent or (s.written and s.kind in ("external", "arg"))]
    v = Writer(rec, layout)
    v.returned_numbers = v_returned
    write_body(v, verify=True)
    v.lines.append("return {" + ", ".join(f"{s.index}: {v.slot(s)}" for s in checked) + "}")
    check_source = assemble(v, 0, "check")
    check_space = _namespace(rec, layout, v, verify=True)
    for slot in call.arg_slots:
        if slot is not None:  # the arguments as the call found them
            check_space[v.slot(slot)] = rec.snapshots[slot.index].copy()
    _check(rec, check_source, check_space, checked)

    for slot in rec.slots:  # what outlives the call now lives in the program's buffers
        if slot.persistent and layout.role.get(layout.target(slot)) == "buffer":
            buffer = namespace[w.slot(slot)]
            np.copyto(buffer, slot.value)
            slot.value = buffer
    for _, tensor, slot, arg in epilogue.grads:
        if slot is not None and arg is None:
            tensor.data = slot.value
    for state, key, slot in epilogue.stores:
        state[key] = slot.value
    return Program(source, namespace["replay"], rec, layout)


def _namespace(rec: Recording, layout: Layout, w: Writer, verify: bool) -> dict[str, Any]:
    namespace = dict(_BASE)
    namespace.update(w.globals)
    for slot in rec.slots:
        role = layout.role.get(slot.index)
        if role == "fixed":
            snapshot = rec.snapshots.get(slot.index) if verify and slot.kind == "external" else None
            namespace[f"s{slot.index}"] = slot.value if snapshot is None else snapshot.copy()
    made: dict[int, np.ndarray] = {}
    for slot in rec.slots:
        if layout.role.get(slot.index) == "buffer":
            number = layout.buffer[slot.index]
            if number not in made:
                made[number] = np.empty_like(layout.buffers[number].value)
            namespace[f"s{slot.index}"] = made[number]
    hoist(w, namespace)
    return namespace


def _check(rec: Recording, source: str, namespace: dict[str, Any], checked: list[Slot]) -> None:
    """Run the program once on copies; it must give what the eager call gave, bit for bit."""
    exec(compile(source, f"<check of {rec.name}>", "exec"), namespace)  # noqa: S102
    try:
        results = namespace["check"]()
    except Exception as error:  # noqa: BLE001 - any failure means the program is wrong
        raise CompileError(f"compile: the program made from {rec.name} failed when checked: {error!r}") from error
    for slot in checked:
        got, want = results[slot.index], slot.value
        if not _same_array(got, want):
            what = slot.what or f"an array of shape {np.shape(want)}"
            shared = [s for s in rec.slots if s.kind == "arg" and s.view_of is not None]
            why = (
                "two of its arguments share memory (one array passed twice, or a view of another), which the "
                "program's check on copies of the arguments keeps apart: pass copies"
                if shared
                else "this is a bug in autograd_nn.compile or a computation it cannot see: please report it"
            )
            raise CompileError(
                f"compile: the program made from {rec.name} computes {what} differently from the eager call; it "
                f"is not used ({why})"
            )


def _same_array(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


# ------------------------------------------------------------- two recordings
def same_recording(a: Recording, b: Recording) -> tuple[str, str] | None:
    """None if ``a`` and ``b`` made the same calls with the same constants; else
    ("structure", why) when they took different paths, ("constant", why) when a value changed."""
    if len(a.instrs) != len(b.instrs) or len(a.slots) != len(b.slots):
        return "structure", "a different number of calls"
    for x, y in zip(a.instrs, b.instrs):
        if x.kind != y.kind or not _same_fn(x, y):
            return "structure", f"a different call at {y.line}"
        if _shape(x.args, x.kwargs, x.result) != _shape(y.args, y.kwargs, y.result):
            return "structure", f"different arguments at {y.line}"
        if _result_shapes(x) != _result_shapes(y):  # (a mask's count: another path, not a changed constant)
            return "structure", f"an array of another shape at {y.line}"
        for u, v in zip(leaves((x.args, x.kwargs)), leaves((y.args, y.kwargs))):
            if isinstance(u, Slot):
                u, v = (u.value, v.value) if u.kind == "const" else (None, None)
            if not _same_value(u, v):
                scalar = isinstance(u, np.generic) and not isinstance(u, (float, int, np.bool_))
                return "constant", (
                    f"compile: {a.name} cannot be replayed: the call at {y.line} used a value that changed from "
                    f"one call to the next ({_describe(u)}, then {_describe(v)}), which a replay would freeze. "
                    "It is a Python number or an array made outside the tensors the function computes with "
                    "(np.array(t.data), a global): pass it in as an argument, or compute it with tensor operations"
                    + (
                        f". A numpy {type(u).__name__} is such a number even where a Python float is followed: an "
                        "optimizer given lr as one computes its step size as one; give it float(lr)"
                        if scalar
                        else ""
                    )
                )
    return None


def _result_shapes(instr: Any) -> list[Any]:
    return [s.value.shape for s in leaves(instr.result) if isinstance(s, Slot) and isinstance(s.value, np.ndarray)]


def _same_fn(x: Any, y: Any) -> bool:
    if x.fn is y.fn or x.fn == y.fn:
        return True
    f, g = x.fn, y.fn  # the same step of the same optimizer comes as a new functools.partial each call
    return (
        isinstance(f, functools.partial)
        and isinstance(g, functools.partial)
        and f.func == g.func
        and len(f.args) == len(g.args)
        and all(a is b for a, b in zip(f.args, g.args))
    )


def _shape(*tree: Any) -> Any:
    def mark(v: Any) -> Any:
        if isinstance(v, Slot):
            return ("slot", v.index, v.kind)
        return ("value", type(v).__name__, v if isinstance(v, str) else None)

    return repr(tree_map(mark, tree))


def _same_value(u: Any, v: Any) -> bool:
    if u is v:
        return True
    if isinstance(u, np.ndarray) or isinstance(v, np.ndarray):
        return isinstance(u, np.ndarray) and isinstance(v, np.ndarray) and _same_array(u, v)
    if type(u) is not type(v):
        return False
    if isinstance(u, float) and math.isnan(u) and math.isnan(v):
        return True
    try:
        return bool(u == v)
    except Exception:  # noqa: BLE001 - incomparable objects are different
        return False


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return repr(value)
