"""A recording: one eager call of a compiled function, written down as numpy calls.

Every array the call touches gets a ``Slot``: an argument of the call, an *external*
(the memory of a tensor that existed before the call: a parameter, a buffer, an
optimizer's state; the replay uses the same array, so writes land where eager writes
would), a constant (a plain array read by reference), or the *result* of a recorded call.
Every numpy call becomes an ``Instr``: the function, its arguments with slots where the
arrays were, what it produced and what it wrote. A value read becomes an instruction
too (a check), and so do random draws and an optimizer's per-step numbers.

The recording runs each call for real, on the plain arrays, so the eager result is the
recording's result. What it cannot see it refuses, naming the line of your code.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._slots import Instr, Slot
from ._traced import GuardedFloat, GuardedInt, Traced, _unwatched, exact, guarded_number, plain
from ._tree import leaves, tree_map

_PACKAGE = str(Path(__file__).resolve().parents[1])
_NUMPY = str(Path(np.__file__).resolve().parent)


# Calls that write into their first argument (beyond ``out=``).
_WRITES_FIRST = {
    np.ndarray.__setitem__, np.ndarray.fill, np.ndarray.sort, np.ndarray.put, np.ndarray.partition,
    np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis,
}  # fmt: skip


@dataclass
class Recording:
    """The state of one recording (see the module docstring)."""

    name: str
    slots: list[Slot] = field(default_factory=list)
    instrs: list[Instr] = field(default_factory=list)
    closed: bool = False
    broken: str | None = None  # why this call cannot be replayed (it then finishes eagerly)
    adopted: list[tuple[Any, np.ndarray]] = field(default_factory=list)  # (tensor, its own array)
    # id(tensor) -> (requires_grad, its hooks' keys) as the call found them: a replay computes .grad
    # for the same tensors, and runs the hooks the recording ran (their effect on δ is recorded)
    adopted_flags: dict[int, tuple[bool, tuple[int, ...]]] = field(default_factory=dict)
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)  # slot index -> value before the call
    leaves: dict[int, Any] = field(default_factory=dict)  # leaves whose .grad this call set
    grad_events: list[tuple[Any, int, bool]] = field(default_factory=list)  # (leaf, at instr, cleared to None)
    grad_guards: dict[int, tuple[Any, Any]] = field(default_factory=dict)  # id(leaf) -> (leaf, .grad at start)
    arg_leaves: dict[int, int] = field(default_factory=dict)  # id(tensor argument) -> its place among the leaves
    guards: list[tuple[str, Any, Any]] = field(default_factory=list)  # (what, read(), value at recording)
    state_stores: list[tuple[dict[str, Any], str, Slot]] = field(default_factory=list)
    _by_id: dict[int, Slot] = field(default_factory=dict)
    _owners: dict[int, Slot] = field(default_factory=dict)  # id(memory root) -> the slot owning it
    _traced: dict[int, Traced] = field(default_factory=dict)
    _stepped: set[Any] = field(default_factory=set)
    _shared_numbers: dict[Any, Any] = field(default_factory=dict)  # share key -> numbers computed once
    errstate: dict[str, str] = field(default_factory=np.geterr)  # numpy's error handling as the call began

    # ------------------------------------------------------------------ slots
    def new_slot(self, kind: str, value: Any, what: str = "") -> Slot:
        slot = Slot(len(self.slots), kind, value, what)
        self.slots.append(slot)
        if isinstance(value, np.ndarray):
            self._by_id[id(value)] = slot
            root = _root(value)
            owner = self._owners.get(id(root))
            if owner is None:
                self._owners[id(root)] = slot
            else:
                slot.view_of = owner  # the same memory as an array already known: a view of it
        return slot

    def traced(self, slot: Slot) -> Traced:
        """The one traced array standing for ``slot``."""
        array = self._traced.get(slot.index)
        if array is None:
            array = slot.value.view(Traced)
            array._rec = self
            array._slot = slot
            self._traced[slot.index] = array
        return array

    def argument(self, value: np.ndarray, what: str) -> Traced:
        return self.traced(self.new_slot("arg", value, what))

    def adopt(self, tensor: Any) -> None:
        """A tensor made before the call: watch its array from now on (and put it back at the end)."""
        array = tensor.data
        if type(array) is not np.ndarray:
            return
        slot = self._by_id.get(id(array))
        if slot is None:
            slot = self.new_slot("external", array, f"a tensor of shape {array.shape}")
            self.snapshots[slot.index] = array.copy()
        self.adopted.append((tensor, array))
        self.adopted_flags.setdefault(id(tensor), (bool(tensor.requires_grad), hook_keys(tensor)))
        tensor.data = self.traced(slot)

    def made(self, array: np.ndarray) -> Traced:
        """A new array the call made from constants (``autograd_nn.tensor(data)``): a replay
        makes it afresh if anything writes into it, else reads the constant."""
        const = self.new_slot("const", array)
        slot = self.new_slot("result", array.copy())
        slot.producer = len(self.instrs)
        self._add(Instr(np.copy, (const,), {}, slot, [const], [], self.line(), kind="made"), [slot])
        return self.traced(slot)

    def external_array(self, array: np.ndarray, what: str) -> Traced:
        """A plain array that outlives the call (optimizer state): by reference, guarded by the caller."""
        if isinstance(array, Traced):
            return array
        slot = self._by_id.get(id(array))
        if slot is None:
            slot = self.new_slot("external", array, what)
            self.snapshots[slot.index] = array.copy()
        return self.traced(slot)

    def base_of(self, array: Traced) -> Any:
        slot = array._slot
        return None if slot.view_of is None else self.traced(slot.view_of)

    # ------------------------------------------------------------------ calls
    def call(self, fn: Any, args: Any, kwargs: Any) -> Any:
        """Run ``fn`` on the plain arrays and write the call down."""
        reads: list[Slot] = []
        template_args = tree_map(lambda x: self._template(x, reads), tuple(args))
        template_kwargs = tree_map(lambda x: self._template(x, reads), dict(kwargs))
        writes = [s for s in leaves(template_kwargs.get("out", ())) if isinstance(s, Slot)]
        if (fn in _WRITES_FIRST or getattr(fn, "__name__", "") == "at") and template_args:
            first = template_args[0]
            if isinstance(first, Slot):
                writes.append(first)
        for slot in writes:
            self._check_writable(slot, fn)
        if self.closed:  # refused just now: the call goes on eagerly, unwatched
            return _unwatched(fn, args, kwargs)
        result = fn(*tree_map(_value, template_args), **tree_map(_value, template_kwargs))
        instr = Instr(fn, template_args, template_kwargs, None, reads, writes, self.line())
        errors = np.geterr()
        if errors != self.errstate:  # an op's own np.errstate (0 · ∞ it handles itself): the replay keeps it
            instr.errstate = errors
        return self._add(instr, self._result(result, instr, reads))

    def _template(self, x: Any, reads: list[Slot]) -> Any:
        if isinstance(x, Traced):
            if x._rec is not self and x._rec.closed:  # made by an earlier call, and kept
                self.refuse(
                    "an array an earlier call made and the code kept (in a dict, a global, an attribute)",
                    "pass such state in as an argument and return it instead",
                )
            if x._rec is not self:
                self.refuse("an array watched by another recording", "compile one function at a time")
            if x._slot is None:
                self.refuse("an array numpy made from a watched one behind the recording's back", "")
            reads.append(x._slot)
            return x._slot
        if isinstance(x, (GuardedFloat, GuardedInt)):
            slot = x.source
            reads.append(slot)
            return slot
        if isinstance(x, np.ndarray):
            slot = self._by_id.get(id(x))
            if slot is None:
                owner = self._owners.get(id(_root(x)))
                if owner is not None and owner.kind != "const":
                    slot = self._rebuilt_view(x, owner)  # np.asarray(traced): the same memory, unwatched
                else:
                    slot = self.new_slot("const", x, f"a constant array of shape {x.shape}")
            reads.append(slot)
            return slot
        if getattr(type(x), "__autograd_tensor__", None) is not None:
            self.refuse("a Tensor passed to a numpy function inside an op", "pass its .data")
        return x

    def _rebuilt_view(self, x: np.ndarray, owner: Slot) -> Slot:
        """A plain view of a watched array's memory, which a replay rebuilds on the same memory."""
        base = owner.value
        offset = x.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        if offset < 0 or not (base.flags.c_contiguous or base.flags.f_contiguous):
            self.refuse(f"a plain view (shape {x.shape}) of a watched array", "keep the array watched")
        args = (owner, offset, x.shape, x.strides, x.dtype)
        slot = self.new_slot("result", x)
        slot.producer = len(self.instrs)
        self._add(Instr(view_at, args, {}, slot, [owner], [], self.line()), None)
        return slot

    def _check_writable(self, slot: Slot, fn: Any) -> None:
        if slot.kind == "const":
            self.refuse(
                f"{_name(fn)} writing into a plain array (shape {slot.value.shape}) the recording did not see "
                "being made (np.zeros(...), np.empty(...)): a replay would keep what the previous call left in it",
                "make it from a traced array (np.zeros_like(x), np.empty_like(x, shape=...)) or keep it in a Tensor",
            )
        slot.written = True
        if slot.view_of is not None:
            slot.view_of.written = True

    def _result(self, result: Any, instr: Instr, reads: list[Slot]) -> Any:
        """Slots for what ``fn`` returned; returns what the caller sees (traced arrays)."""
        inputs = {id(s.value): s for s in reads if isinstance(s.value, np.ndarray)}

        def wrap(value: Any) -> Any:
            if isinstance(value, np.generic):
                value = np.asarray(value)
            if not isinstance(value, np.ndarray):
                raise _NotArray
            same = inputs.get(id(value))
            if same is not None:
                return same  # the call handed an input back (out=, astype(copy=False))
            slot = self.new_slot("result", value)
            slot.producer = len(self.instrs)
            return slot

        try:
            if isinstance(result, (tuple, list)) and result and not isinstance(result, np.ndarray):
                instr.result = type(result)(wrap(v) for v in result)
                return type(result)(self.traced(s) for s in instr.result)
            if result is None:
                return None
            instr.result = wrap(result)
            return self.traced(instr.result)
        except _NotArray:
            if not isinstance(result, (bool, int, float, str, tuple, np.dtype, type(None))):
                self.refuse(f"{_name(instr.fn)} returning a {type(result).__name__}", "")
            instr.result = ("check", result)  # a Python value: the replay checks it is the same
            return result

    def _add(self, instr: Instr, result: Any) -> Any:
        self.instrs.append(instr)
        return result

    # --------------------------------------------------------------- numbers
    def item(self, array: Traced, args: tuple[Any, ...]) -> Any:
        value = plain(array).item(*args)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return self.call(np.ndarray.item, (array, *args), {})  # a bool: checked like bool(x)
        slot = self.new_slot("number", value, "a value read with .item()")
        slot.producer = len(self.instrs)
        self._add(Instr(np.ndarray.item, (array._slot, *args), {}, slot, [array._slot], [], self.line()), None)
        return guarded_number(value, slot, f"a value read with .item() ({self.line()})", self)

    def numbers(self, host: Any, where: str, key: Any, share: Any = None) -> dict[str, Any]:
        """Python numbers ``host()`` computes from Python state only (an optimizer's step size):
        run now, and again at the start of every replay; a True/False among them is a guard.
        Calls with one ``share`` key compute the same numbers (a group's, for every parameter
        in it): the replay computes them once."""
        if key in self._stepped:
            self.refuse(f"{where} twice in one call", "compile a function that takes one step")
            return host()
        self._stepped.add(key)
        if share is not None and share in self._shared_numbers:
            return self._shared_numbers[share]
        values = host()
        slot = self.new_slot("number", values, where)
        slot.producer = len(self.instrs)
        self._add(Instr(host, (), {}, slot, [], [], self.line(), kind="number"), None)
        result = _Numbers()
        result.slot = slot
        for name, value in values.items():
            entry = self.new_slot("number", value, f"{where}: {name}")
            entry.producer = len(self.instrs)
            self._add(Instr(_getitem, (slot, name), {}, entry, [slot], [], "", kind="entry"), None)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                result[name] = value  # decides a branch: a replay checks it before anything runs
            else:
                result[name] = guarded_number(value, entry, f"{name!r} of {where}", self)
        if share is not None:
            self._shared_numbers[share] = result
        return result

    def effect(self, fn: Any, numbers: Any) -> None:
        """``fn(numbers)`` changes Python state (step += 1): now, and in every replay, in order."""
        fn({k: exact(v) if isinstance(v, (GuardedFloat, GuardedInt)) else v for k, v in numbers.items()})
        slot = numbers.slot
        self._add(Instr(fn, (slot,), {}, None, [slot], [], self.line(), kind="effect"), None)

    def draw(self, sample: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Traced:
        """``sample(*args, **kwargs)``: drawn afresh, from the same generator, by every replay."""
        value = np.asarray(sample(*args, **kwargs))
        slot = self.new_slot("result", value)
        slot.producer = len(self.instrs)
        self._add(Instr(sample, args, dict(kwargs), slot, [], [], self.line(), kind="random"), None)
        return self.traced(slot)

    # ------------------------------------------------------------- leaves, guards
    def note_grad(self, leaf: Any, cleared: bool = False) -> None:
        """``leaf.grad`` is set (``cleared``: to None) by this call: the replay sets it too."""
        self.leaves[id(leaf)] = leaf
        self.grad_events.append((leaf, len(self.instrs), cleared))

    def note_grad_read(self, leaf: Any) -> None:
        """The call's result depends on ``leaf.grad`` as the call found it."""
        if id(leaf) not in self.leaves and id(leaf) not in self.grad_guards:
            self.grad_guards[id(leaf)] = (leaf, leaf.grad)

    def guard(self, what: str, read: Any) -> None:
        """Replay only while ``read()`` returns what it returns at the end of this call."""
        if all(r is not read for _, r, _ in self.guards):
            self.guards.append((what, read, None))

    def settle_guards(self) -> None:
        """The guards' values as the call leaves them (what the next call must find)."""
        self.guards = [(what, read, read()) for what, read, _ in self.guards]

    def store(self, state: dict[str, Any], key: str, value: Any) -> None:
        """``state[key] = value`` where ``value`` is traced: the array outlives the call."""
        self.state_stores.append((state, key, value._slot))

    def check_unseen_writes(self, known: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Refuse if an array in ``known`` (copied as the call began) held other values when
        the recording first saw it: numpy wrote into it unwatched, which a replay would not do."""
        for array, as_it_began in known:
            slot = self._by_id.get(id(array))
            seen = None if slot is None or slot.kind != "external" else self.snapshots.get(slot.index)
            if seen is not None and not np.array_equal(seen, as_it_began, equal_nan=seen.dtype.kind in "fc"):
                self.refuse(
                    f"numpy wrote into a tensor's array (shape {array.shape}) before the step used the tensor "
                    "(w.data[...] = ..., np.copyto(w.grad.data, 0)), which a replay would not do",
                    "write through the tensor (with no_grad(): w.mul_(0.5); w.grad.zero_()) or before the call",
                )
                return

    def used_tensors(self) -> list[Any]:
        """The tensors the call used (each once): those it watched, and the leaves whose ``.grad``
        it set or read."""
        used = {id(t): t for t, _ in self.adopted}
        used.update((id(leaf), leaf) for leaf in self.leaves.values())
        used.update((id(leaf), leaf) for leaf, _ in self.grad_guards.values())
        return list(used.values())

    def release(self) -> None:
        """After the call, however it ended: the arrays it left in leaves' ``.grad`` and in an
        optimizer's state become plain again (a watched array left there would make every later
        recording over them refuse), and the recording lets go of its watched arrays (which point
        back at it: a cycle that kept the tensors it used alive until a full collection)."""
        for leaf in self.leaves.values():
            grad = leaf.grad
            if grad is not None and isinstance(grad.data, Traced) and grad.data._rec is self:
                grad.data = plain(grad.data)
        for state, key, _ in self.state_stores:
            value = state.get(key)
            if isinstance(value, Traced) and value._rec is self:
                state[key] = plain(value)
        self._traced.clear()

    # ------------------------------------------------------------------ errors
    def refuse(self, what: str, instead: str) -> None:
        """This call cannot be replayed: say why, and let the rest of it run eagerly, unwatched."""
        if self.broken is None:
            self.broken = f"compile: {self.name} cannot be replayed: {what} at {self.line()}" + (
                f"; {instead}" if instead else ""
            )
        self.closed = True

    @staticmethod
    def line() -> str:
        """The caller's line: the innermost frame outside autograd_nn and numpy."""
        frame = sys._getframe(1)
        while frame is not None:
            filename = frame.f_code.co_filename
            if not (filename.startswith(_PACKAGE) or filename.startswith(_NUMPY) or filename.startswith("<")):
                return f"{filename}:{frame.f_lineno}"
            frame = frame.f_back
        return "<unknown>"


class _NotArray(Exception):
    pass


class _Numbers(dict):  # type: ignore[type-arg]
    """A step's numbers, and the slot a replay computes them into."""

    slot: Slot


def _value(x: Any) -> Any:
    if isinstance(x, Slot):
        return x.value
    if isinstance(x, (GuardedFloat, GuardedInt)):
        return exact(x)
    return x


def view_at(owner: np.ndarray, offset: int, shape: tuple[int, ...], strides: tuple[int, ...], dtype: Any) -> Any:
    """A view of ``owner``'s memory (``np.asarray`` of a traced array, rebuilt on a buffer)."""
    return np.ndarray(shape, dtype, buffer=owner, offset=offset, strides=strides)


def _getitem(values: dict[str, Any], key: str) -> Any:
    return values[key]


def hook_keys(tensor: Any) -> tuple[int, ...]:
    """Which hooks a tensor has (each registration has its own key; a removed one is gone)."""
    return tuple(getattr(tensor, "_hooks", None) or ())


def _root(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _name(fn: Any) -> str:
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    return f"numpy's {name}"
