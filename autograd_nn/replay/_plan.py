"""From a recording to a flat program: which arrays are buffers, and when each is free.

Every array a recording made is one of:

- a **buffer**, allocated once and written by its call's ``out=`` argument on every
  replay (or by ``copyto`` for a copy, ``fill`` for ``zeros_like``); two buffers whose
  lifetimes do not overlap share memory (liveness: a buffer is free after the last call
  that reads it or any view of it, and never if it outlives the call);
- a **view** of a buffer, an external or a constant, made once, when the program is built;
- a **local**: the result of a call that takes no ``out=`` (or a view of an argument), made
  afresh by every replay;
- an **alias**: a copy whose source dies at the copy is the source itself (so a leaf's
  gradient is written straight into ``.grad``), and a tensor made from constants that
  nothing writes into is the constant.

``Layout`` holds those decisions; ``_codegen`` writes the program from it.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._recording import Recording, view_at
from ._slots import Instr, Slot

NEVER = math.inf

# ndarray methods and numpy functions that take out= (their result can be a buffer).
_OUT_METHODS = {
    getattr(np.ndarray, name)
    for name in (
        "all", "any", "argmax", "argmin", "clip", "cumprod", "cumsum", "dot", "max", "mean", "min", "prod",
        "round", "std", "sum", "take", "var",
    )
}  # fmt: skip
_OUT_FUNCTIONS = {
    np.sum, np.mean, np.max, np.amax, np.min, np.amin, np.prod, np.std, np.var, np.any, np.all, np.cumsum,
    np.cumprod, np.clip, np.round, np.around, np.take, np.dot, np.einsum, np.concatenate, np.argmax, np.argmin,
}  # fmt: skip
_UFUNC_METHODS = {"reduce", "accumulate", "outer", "reduceat"}
# Copies: rewritten as copyto into a buffer, or elided when the source dies here.
_COPIES = {np.copy, np.ndarray.copy, np.ndarray.__copy__, np.ndarray.__deepcopy__}
_FILLS = {np.zeros_like: 0, np.ones_like: 1}
# Python values computed only from shapes and dtypes: the same on every replay the guards allow.
STATIC_VALUES = {np.shape, np.ndim, np.size, np.result_type, np.can_cast, np.iscomplexobj, np.isrealobj}
# Calls that only make views (safe to make once, when the program is built).
_VIEWS = {
    np.ndarray.__getitem__, np.ndarray.reshape, np.ndarray.transpose, np.ndarray.swapaxes, np.ndarray.view,
    np.ndarray.squeeze, np.ndarray.ravel, np.ndarray.diagonal, np.reshape, np.transpose, np.swapaxes,
    np.squeeze, np.ravel, np.expand_dims, np.broadcast_to, np.moveaxis, np.atleast_1d, np.atleast_2d,
    np.diagonal, np.real,
}  # fmt: skip


@dataclass
class Layout:
    """What each slot is in the program (see the module docstring)."""

    role: dict[int, str] = field(default_factory=dict)  # slot index -> arg/fixed/buffer/view/local/alias/number
    alias: dict[int, int] = field(default_factory=dict)  # slot index -> the slot whose array it is
    buffer: dict[int, int] = field(default_factory=dict)  # slot index -> buffer number
    buffers: list[Slot] = field(default_factory=list)  # buffer number -> the slot that shapes it
    dropped: set[int] = field(default_factory=set)  # instructions a replay skips
    how: dict[int, str] = field(default_factory=dict)  # instruction -> "out", "copy", "fill", "where", "call"
    hoisted: list[int] = field(default_factory=list)  # instructions made once (views), in order

    def target(self, slot: Slot) -> int:
        index = slot.index
        while index in self.alias:
            index = self.alias[index]
        return index


def lay_out(rec: Recording, persistent: set[int]) -> Layout:
    """Decide buffers, views, locals and aliases for ``rec`` (``persistent``: slots that outlive the call)."""
    layout = Layout()
    last = _last_uses(rec, persistent)
    fixed_kinds = {"external": "fixed", "const": "fixed", "arg": "arg", "number": "number"}
    for slot in rec.slots:
        if slot.kind in fixed_kinds and slot.producer is None:
            layout.role[slot.index] = fixed_kinds[slot.kind]
    pool = _Pool(layout)
    for i, instr in enumerate(rec.instrs):
        pool.release_before(i)
        for slot in _results(instr, i):
            role = _role_of(layout, instr, slot, i, last)
            layout.role[slot.index] = role
            if role == "buffer":
                dying = _dying_operand(layout, pool, instr, slot, i)
                if dying is None:
                    layout.buffer[slot.index] = pool.take(slot, last[slot.index])
                else:  # computed in place, as `delta *= mask` would be: one buffer fewer to keep in cache
                    layout.buffer[slot.index] = dying
                    pool.extend(dying, last[slot.index], reset=True)
            elif role == "alias" and layout.target(slot) in layout.buffer:
                number = layout.buffer[layout.target(slot)]
                layout.buffer[slot.index] = number
                pool.extend(number, last[slot.index])
    return layout


class _Pool:
    """Buffers by layout (shape, dtype, strides), handed out again once their last use is past."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self.until: list[float] = []  # buffer number -> its last use so far
        self.ends: list[tuple[float, int]] = []  # heap of (last use, buffer number); stale entries skipped
        self.free: dict[tuple[Any, ...], list[int]] = {}

    @staticmethod
    def key(slot: Slot) -> tuple[Any, ...]:
        value = slot.value
        return value.shape, value.dtype.str, value.strides

    def take(self, slot: Slot, until: float) -> int:
        spare = self.free.get(self.key(slot))
        if spare:
            number = spare.pop()
        else:
            number = len(self.layout.buffers)
            self.layout.buffers.append(slot)
            self.until.append(until)
        self.extend(number, until, reset=True)
        return number

    def extend(self, number: int, until: float, reset: bool = False) -> None:
        self.until[number] = until if reset else max(self.until[number], until)
        if self.until[number] < NEVER:
            heapq.heappush(self.ends, (self.until[number], number))

    def release_before(self, i: int) -> None:
        ends = self.ends
        while ends and ends[0][0] < i:
            when, number = heapq.heappop(ends)
            if self.until[number] == when:  # not extended since
                self.until[number] = NEVER
                self.free.setdefault(self.key(self.layout.buffers[number]), []).append(number)


def _last_uses(rec: Recording, persistent: set[int]) -> list[float]:
    last: list[float] = [-1] * len(rec.slots)
    for i, instr in enumerate(rec.instrs):
        for slot in instr.reads:
            last[slot.index] = i
        for slot in instr.writes:
            last[slot.index] = i
    for index in persistent:
        last[index] = NEVER
    for slot in reversed(rec.slots):  # a view keeps its memory's owner alive
        if slot.view_of is not None:
            owner = slot.view_of.index
            last[owner] = max(last[owner], last[slot.index])
    return last


def _results(instr: Instr, i: int) -> list[Slot]:
    """The slots instruction ``i`` makes (not an input it hands back, as ``out=`` does)."""
    result = instr.result
    if isinstance(result, Slot):
        return [result] if result.producer == i else []
    if isinstance(result, (tuple, list)) and result and result[0] != "check":
        return [s for s in result if isinstance(s, Slot) and s.producer == i]
    return []


def _role_of(layout: Layout, instr: Instr, slot: Slot, i: int, last: list[float]) -> str:
    fn = instr.fn
    if instr.kind in ("number", "entry") or slot.kind == "number":
        return "number"
    if instr.kind == "made":
        source = instr.args[0]
        if not slot.written:
            layout.alias[slot.index] = source.index
            layout.dropped.add(i)
            return "alias"
        layout.how[i] = "copy"
        return "buffer"
    if slot.view_of is not None:
        if _fixed_inputs(layout, instr) and (fn in _VIEWS or fn is view_at):
            layout.hoisted.append(i)
            layout.dropped.add(i)
            return "view"
        layout.how[i] = "call"
        return "local"
    single = len(_results(instr, i)) == 1
    if instr.kind == "random":
        layout.how[i] = "out"
        return "buffer"
    if single and _elidable_copy(layout, instr, slot, i, last):
        source = instr.args[0]
        layout.alias[slot.index] = layout.target(source)
        layout.dropped.add(i)
        return "alias"
    if single and "out" not in instr.kwargs:
        if fn in _COPIES or (fn is np.ndarray.astype and _is_plain_astype(instr)):
            layout.how[i] = "copy"
            return "buffer"
        if fn in _FILLS and len(instr.args) == 1 and not instr.kwargs:
            layout.how[i] = "fill"
            return "buffer"
        if _takes_out(fn):
            layout.how[i] = "out"
            return "buffer"
    layout.how[i] = "call"
    return "local"


def _dying_operand(layout: Layout, pool: _Pool, instr: Instr, slot: Slot, i: int) -> int | None:
    """The buffer of an operand an elementwise ufunc call reads for the last time, if its
    result fits that buffer exactly (shape, dtype, strides): numpy computes an elementwise
    ufunc into one of its own inputs correctly, element by element, so the result may take it."""
    if not isinstance(instr.fn, np.ufunc) or instr.fn.nout != 1 or layout.how.get(i) != "out" or instr.kwargs:
        return None
    for operand in instr.args:
        if not isinstance(operand, Slot) or operand.view_of is not None:
            continue
        number = layout.buffer.get(layout.target(operand))  # (until: the last read of all the buffer holds)
        if number is not None and pool.until[number] == i and pool.key(operand) == pool.key(slot):
            return number
    return None


def _takes_out(fn: Any) -> bool:
    if isinstance(fn, np.ufunc):
        return fn.nout == 1
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, np.ufunc):
        return getattr(fn, "__name__", "") in _UFUNC_METHODS
    try:
        return fn in _OUT_METHODS or fn in _OUT_FUNCTIONS
    except TypeError:  # an unhashable callable
        return False


def _is_plain_astype(instr: Instr) -> bool:
    """``x.astype(dtype)`` with nothing but the dtype (a copy with a cast)."""
    return len(instr.args) == 2 and not instr.kwargs


def _fixed_inputs(layout: Layout, instr: Instr) -> bool:
    return all(layout.role.get(layout.target(s)) in ("fixed", "buffer", "view") for s in instr.reads)


def _elidable_copy(layout: Layout, instr: Instr, slot: Slot, i: int, last: list[float]) -> bool:
    """A copy of a buffer that nothing reads after this call: the copy can be the buffer itself."""
    if instr.fn not in _COPIES or len(instr.args) != 1 or instr.kwargs:
        return False
    source = instr.args[0]
    if not isinstance(source, Slot) or source.view_of is not None:
        return False
    target = layout.target(source)
    if layout.role.get(target) != "buffer" or last[source.index] != i or last[target] > i:
        return False
    a, b = source.value, slot.value
    return a.shape == b.shape and a.dtype == b.dtype and a.strides == b.strides
