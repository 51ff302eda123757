"""``Compiled``: record a function's calls, confirm, check, then replay.

A call is looked up by the *spec* of its arguments (their structure, and every
non-array value in it). Under one spec a program is tried after another: its guards say
whether it applies (``Miss``), a check inside it whether the call branches the same way
(``Diverged``). If none applies, the call is recorded: it runs eagerly, watched, and its
eager result is the result. A recording becomes a program only when the next recording
under the same spec and guards is the same, call for call and constant for constant (a
constant that changed means a value the recording could not follow: that is an error,
not a program), and the program, replayed once on copies, matches the eager call bit for
bit.
"""

from __future__ import annotations

import functools
import math
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _tracing, grad_mode, versions
from ._codegen import Epilogue, Out
from ._errors import CompileError, CompileWarning, Diverged, Miss
from ._guards import CallShape
from ._program import Program, build, same_recording
from ._recording import Recording
from ._slots import Slot
from ._traced import Traced, _Guarded, plain

_MAX_VARIANTS = 8  # recordings kept per spec before compile gives up on a function
_MAX_PROGRAMS = 8  # programs kept per spec, the least recently replayed dropped first


class Compiled:
    """What ``autograd_nn.compile(fn)`` returns (see its docstring)."""

    def __init__(self, fn: Callable[..., Any], fullgraph: bool = False):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.fullgraph = fullgraph
        self.eager_because: str | None = None  #: why calls now run eagerly (None: they do not)
        self._programs: dict[Any, list[Program]] = {}
        self._candidates: dict[Any, list[Recording]] = {}
        self._dropped: dict[Any, list[Any]] = {}  # spec -> keys of candidates let go when programs were made
        self._lock = threading.RLock()
        self.recordings = 0  #: calls that ran eagerly, recorded
        self.replays = 0  #: calls answered by a program
        self.history: list[str] = []  #: why each recording happened

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        mode = grad_mode.current()
        if mode & (grad_mode.TRACE | grad_mode.ANOMALY) or self.eager_because is not None:
            # inside another recording, under anomaly mode, or given up: eagerly, and detached as a replay's result
            return _detached(self.fn(*args, **kwargs), recorded=bool(mode & grad_mode.TRACE))
        leaves, spec = _flatten((args, kwargs))
        with self._lock:
            reason = (
                "it is the first call with these arguments"
                if spec not in self._candidates
                else ("a recording is confirmed by a second one")
            )
            programs = self._programs.get(spec, ())
            for program in programs:
                try:
                    result = program.replay(*leaves)
                except Miss:
                    reason = "a guard changed (a shape, a module's attributes, an optimizer's settings, ...)"
                    continue
                except Diverged as diverged:
                    reason = f"a value the call branches on changed (at {program.line(diverged)})"
                    continue
                self.replays += 1
                if program is not programs[0]:  # the most recently used first (and the last to be dropped)
                    programs.remove(program)
                    programs.insert(0, program)
                return result
            return self._record(args, kwargs, leaves, spec, mode, reason)

    def programs(self) -> list[Any]:
        """The programs made so far (each has ``.source``, the Python it replays)."""
        return [p for group in self._programs.values() for p in group]

    def source(self) -> str:
        """The source of the latest program: what a replay runs, one numpy call per line."""
        programs = self.programs()
        if not programs:
            raise RuntimeError(f"compile: {self.__name__} has no program yet (it is made on the second call)")
        return programs[-1].source

    # --------------------------------------------------------------- recording
    def _record(self, args: Any, kwargs: Any, leaves: list[Any], spec: Any, mode: int, reason: str) -> Any:
        rec = Recording(getattr(self.fn, "__qualname__", repr(self.fn)))
        self.recordings += 1
        self.history.append(reason)
        watched_args, watched_kwargs, restore, call = _watch_arguments(rec, args, kwargs, leaves)
        known = self._known_arrays()
        tokens = _tracing.start(rec)
        left = None
        try:
            result = self.fn(*watched_args, **watched_kwargs)
            left = grad_mode.current() & ~grad_mode.TRACE
            if left != mode:  # set_grad_enabled(False) outside a with block: the call leaves it so
                rec.refuse(
                    "it leaves the grad mode changed (set_grad_enabled(...) outside a with block), which a "
                    "replay would not do",
                    "change it inside a with block (with ag.no_grad():), or outside the compiled function",
                )
            if rec.broken is None:
                rec.check_unseen_writes(known)
            epilogue = _finish(rec, result, leaves) if rec.broken is None else None
        finally:
            _tracing.stop(tokens)
            rec.closed = True
            for tensor, array in reversed(rec.adopted):
                if isinstance(tensor.data, Traced) and tensor.data._rec is rec:
                    tensor.data = array
            for tensor, array in restore:
                tensor.data = array
            rec.release()  # (also after an exception or a refusal: no state keeps a watched array)
            if left is not None and left != mode:
                grad_mode.switch(left)  # as the eager call leaves it
        if rec.broken is not None:
            return self._give_up(rec.broken, result)
        assert epilogue is not None
        rec.settle_guards()
        # (the arguments' shapes, dtypes and layouts too: recordings of two batch sizes are two
        # candidates, not one whose divisor 1/n changed)
        rec.key = key = (mode, tuple(call.leaves), tuple(_guard_values(rec)))  # type: ignore[attr-defined]
        candidates = self._candidates.setdefault(spec, [])
        dropped = self._dropped.setdefault(spec, [])
        rec.recurs = key in dropped  # type: ignore[attr-defined]  # (a kind of call that comes back: keep it)
        for previous in candidates:
            if previous.key != key:  # type: ignore[attr-defined]
                continue
            problem = same_recording(previous, rec)
            if problem is None:  # two recordings agree: a program
                # The others of these arguments' shapes are let go (a first call that made the optimizer's
                # state is dead weight), but not a kind that came back after being let go once: the first
                # call after each zero_grad of a loop that accumulates gradients over several calls.
                gone = [c for c in candidates if c is previous or (c.key[1] == key[1] and not c.recurs)]  # type: ignore[attr-defined]
                dropped += [c.key for c in gone if c is not previous]  # type: ignore[attr-defined]
                del dropped[:-_MAX_VARIANTS]
                candidates[:] = [c for c in candidates if all(c is not g for g in gone)]
                try:
                    program = build(rec, epilogue, call, _guards(rec), mode, len(leaves))  # (never TRACE: __call__ runs fn eagerly then)
                except CompileError as error:
                    return self._give_up(str(error), result)
                programs = self._programs.setdefault(spec, [])
                programs.insert(0, program)
                # Bounded: a program whose guards can no longer hold (a module changed since,
                # as each model.eval() / model.train() between epochs does) keeps its buffers.
                del programs[_MAX_PROGRAMS:]
                return _outputs_of(epilogue, program)
            if problem[0] == "constant":
                return self._give_up(problem[1], result)
        if len(candidates) >= _MAX_VARIANTS:
            return self._give_up(
                f"compile: {rec.name} recorded {len(candidates) + 1} different ways for the same arguments: "
                f"{_what_changed(candidates[-1], rec)} changed from one call to the next",
                result,
            )
        candidates.append(rec)
        return _detached(result)

    def _known_arrays(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The arrays of the tensors earlier recordings used (parameters, their ``.grad``), each
        with a copy made as this call begins. A recording watches such an array only from the
        first op that takes its tensor: numpy writing into it before that (``w.data *= 0.5``,
        ``np.copyto(w.grad.data, 0)``) is unseen, and a replay would leave it out."""
        used = [t for group in self._candidates.values() for r in group for t in r.used_tensors()]
        used += [ref() for group in self._programs.values() for p in group for ref in p.tensors]
        tensors = [t for t in used if t is not None]
        tensors += [t.grad for t in tensors if t.grad is not None]  # (a leaf's .grad: in place, as eager accumulates)
        arrays = {id(t.data): t.data for t in tensors if type(t.data) is np.ndarray}
        return [(array, array.copy()) for array in arrays.values()]

    def _give_up(self, why: str, result: Any) -> Any:
        """Run eagerly from now on (or, with ``fullgraph``, raise): never replay on a guess."""
        if self.fullgraph:
            raise CompileError(
                why + " (this call ran eagerly to the end; its result is the error's .result)"
            )._with_result(_detached(result))
        self.eager_because = why
        warnings.warn(f"{why}. {self.__name__} runs eagerly from now on", CompileWarning, stacklevel=3)
        return _detached(result)


def _flatten(tree: Any) -> tuple[list[Any], Any]:
    """The call's tensors and arrays, and its spec: its structure and every other value in it."""
    leaves: list[Any] = []
    spec: list[Any] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        kind = type(node)
        if kind is tuple or kind is list:
            spec.append((kind, len(node)))
            todo.extend(reversed(node))
        elif kind is dict:
            spec.append((dict, tuple(node)))
            todo.extend(reversed(list(node.values())))
        elif getattr(kind, "__autograd_tensor__", None) is not None or isinstance(node, np.ndarray):
            leaves.append(node)
            spec.append(kind)
        else:
            try:
                hash(node)
                # (-0.0 == 0.0, and hashes alike, but 1 / -0.0 is -inf: a float's sign is part of it)
                sign = math.copysign(1.0, node) if isinstance(node, (float, np.floating)) else None
                spec.append((kind, node, sign))
            except TypeError:
                spec.append((kind, id(node)))
    return leaves, tuple(spec)


def _watch_arguments(
    rec: Recording, args: Any, kwargs: Any, leaves: list[Any]
) -> tuple[Any, Any, list[tuple[Any, np.ndarray]], CallShape]:
    """Tensors among the arguments are watched in place (their ``.data`` swapped until the
    call ends); arrays are replaced by watched views."""
    restore: list[tuple[Any, np.ndarray]] = []
    shapes: list[tuple[bool, tuple[int, ...], np.dtype, bool, tuple[int, ...]]] = []
    slots: list[Slot | None] = []
    replaced: dict[int, Any] = {}
    for leaf in leaves:
        is_tensor = not isinstance(leaf, np.ndarray)
        array = leaf.data if is_tensor else leaf
        shapes.append((is_tensor, array.shape, array.dtype, bool(is_tensor and leaf.requires_grad), array.strides))
        watched = rec.argument(plain(array) if isinstance(array, Traced) else array, "an argument")
        slots.append(watched._slot)
        rec.snapshots[watched._slot.index] = np.array(array)
        if is_tensor:
            restore.append((leaf, array))
            rec.arg_leaves[id(leaf)] = len(shapes) - 1
            leaf.data = watched
        else:
            replaced[id(leaf)] = watched
    if replaced:
        from ._tree import tree_map

        args, kwargs = tree_map(lambda x: replaced.get(id(x), x) if isinstance(x, np.ndarray) else x, (args, kwargs))
    return args, kwargs, restore, CallShape(shapes, slots)


def _finish(rec: Recording, result: Any, leaves: list[Any]) -> Epilogue:
    """What a replay must leave behind, read while the arrays are still watched."""
    from ._tree import tree_map

    epilogue = Epilogue()
    arg_of = {id(leaf): i for i, leaf in enumerate(leaves)}

    def output(x: Any) -> Any:
        if getattr(type(x), "__autograd_tensor__", None) is not None:
            data = x.data
            if isinstance(data, Traced) and data._rec is rec and data._slot is not None:
                data._slot.persistent = True
                return Out("tensor", data._slot)
            return Out("const", x)
        if isinstance(x, Traced) and x._rec is rec and x._slot is not None:
            x._slot.persistent = True
            return Out("array", x._slot)
        if isinstance(x, _Guarded) and x.rec is rec:
            return Out("number", x.source)
        if isinstance(x, (int, float, complex, np.generic)):  # (bool too) a number of Python's, not from a tensor
            rec.refuse(
                f"its result holds a number that is not a tensor's value ({x!r}: an optimizer's step count, a "
                "learning rate, a counter, or a constant), which a replay could only repeat",
                "return it as a tensor, or read it outside the compiled function",
            )
        elif isinstance(x, np.ndarray):  # numpy made it where the recording could not see (np.array(t.data))
            rec.refuse(
                f"its result holds an array the recording did not see made (shape {x.shape}: np.array(t.data), "
                "np.asarray(...), a global), which a replay could only repeat",
                "return the tensor, or t.numpy(), or an array made with np.copy",
            )
        return Out("const", x)

    epilogue.outputs = tree_map(output, result)
    for leaf in rec.leaves.values():
        grad = leaf.grad
        slot = None
        if grad is not None and isinstance(grad.data, Traced) and grad.data._rec is rec:
            slot = grad.data._slot
            slot.persistent = True
        epilogue.grads.append((leaf, grad, slot, arg_of.get(id(leaf))))
    for state, key, slot in rec.state_stores:
        slot.persistent = True
        epilogue.stores.append((state, key, slot))
    epilogue.written = [s for s in rec.slots if s.written and s.kind in ("external", "arg") and s.view_of is None]
    return epilogue


def _detached(result: Any, recorded: bool = False) -> Any:
    """The eager result as a replay returns it: tensors detached copies, arrays and numbers plain.

    ``recorded``: the call ran inside another compiled function's recording, whose replay
    must make the same copies (a copy numpy makes as a call is recorded; ``.item()`` values
    stay the recording's, which it guards or follows)."""
    from ..creation import Tensor
    from ._tree import tree_map

    def leaf(x: Any) -> Any:
        if getattr(type(x), "__autograd_tensor__", None) is not None:
            data = x.data
            if isinstance(data, Traced):
                return Tensor._wrap(np.copy(data, subok=True) if recorded else plain(data).copy())
            return Tensor._wrap(data.copy()) if x.requires_grad else x  # (an eager result: given up, anomaly mode)
        if isinstance(x, Traced):
            return np.copy(x, subok=True) if recorded else plain(x).copy()
        if isinstance(x, _Guarded) and not recorded:
            return int.__index__(x) if isinstance(x, int) else float.__float__(x)
        return x

    return tree_map(leaf, result)


def _outputs_of(epilogue: Epilogue, program: Program) -> Any:
    """The recording call's result, from the values now in the program's buffers."""
    from ..creation import Tensor
    from ._tree import tree_map

    def leaf(x: Any) -> Any:
        if not isinstance(x, Out):
            return x
        if x.kind == "tensor":
            return Tensor._wrap(x.value.value.copy())
        if x.kind == "array":
            return x.value.value.copy()
        if x.kind == "number":
            return x.value.value
        return x.value

    return tree_map(leaf, epilogue.outputs)


def _guard_values(rec: Recording) -> list[Any]:
    values: list[Any] = [(id(array), rec.adopted_flags[id(tensor)]) for tensor, array in rec.adopted]
    # (an argument's .grad by its place: a new tensor x with requires_grad=True each call is no change)
    values += [(("arg", rec.arg_leaves[id(leaf)]) if id(leaf) in rec.arg_leaves else id(leaf), id(grad))
               for leaf, grad in rec.grad_guards.values()]  # fmt: skip
    values += [(what, value) for what, _, value in rec.guards if not isinstance(value, np.ndarray)]
    return values


def _what_changed(before: Recording, after: Recording) -> str:
    """What differs between two recordings' guards, in words (why neither replays the other)."""
    changes = []
    if [id(array) for _, array in before.adopted] != [id(array) for _, array in after.adopted]:
        changes.append("the arrays of tensors the step reads but is not given (state kept in Python: pass it in)")
    if [id(grad) for _, grad in before.grad_guards.values()] != [id(grad) for _, grad in after.grad_guards.values()]:
        changes.append("the .grad the step found on a leaf")
    reads = {what: value for what, _, value in before.guards if not isinstance(value, np.ndarray)}
    changes += [
        what for what, _, value in after.guards
        if not isinstance(value, np.ndarray) and what in reads and reads[what] != value
    ]  # fmt: skip
    return "; ".join(changes) or "the mode or the guards"


def _guards(rec: Recording) -> list[tuple[Any, ...]]:
    guards: list[tuple[Any, ...]] = []
    seen: set[int] = set()
    for tensor, array in rec.adopted:
        if id(array) not in seen:
            seen.add(id(array))
            guards.append(("external", tensor, array, *rec.adopted_flags[id(tensor)]))
    guards += [("grad", leaf, grad, rec.arg_leaves.get(id(leaf))) for leaf, grad in rec.grad_guards.values()]
    guards += [("read", what, read, value) for what, read, value in rec.guards if not isinstance(value, np.ndarray)]
    return guards


__all__ = ["Compiled", "versions"]
