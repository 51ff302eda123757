"""Undoing a replay that diverges, and the checks that can make one diverge.

A replay that finds another value where the recording branched (a ``.item()`` test, a
boolean mask with another count) raises ``Diverged``, and the call is recorded again,
eagerly, from the start. So before the last check, what the program is about to change
outside itself is saved (an array it writes in place: a copy; a generator it draws from:
its state), and a failing check puts it back. What cannot be put back (Python state an
optimizer's step advances, a buffer that a tensor or an optimizer already holds) must come
after the last check, or no program is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._errors import CompileError
from ._plan import STATIC_VALUES
from ._slots import Instr, Slot

if TYPE_CHECKING:
    from ._codegen import Writer

# Calls whose result's shape depends on the values they read (not only on their inputs'
# shapes): a replay checks the shape it got, as it checks a branch.
_VALUE_SHAPED = frozenset({
    np.unique, np.nonzero, np.flatnonzero, np.argwhere, np.extract, np.compress, np.bincount, np.repeat,
    np.trim_zeros, np.setdiff1d, np.intersect1d, np.union1d, np.setxor1d, np.ndarray.nonzero, np.ndarray.compress,
    np.ndarray.repeat,
})  # fmt: skip


def is_check(instr: Instr) -> bool:
    """A Python value the call branched on (``bool(x)``), which a replay checks."""
    result = instr.result
    return isinstance(result, tuple) and len(result) == 2 and result[0] == "check" and instr.fn not in STATIC_VALUES


def save_for_undo(w: Writer, instr: Instr, verify: bool) -> None:
    """Before a call that a later check may have to undo: save what it is about to change."""
    if instr.kind == "effect":
        w.irreversible = w.irreversible or instr
        return
    if instr.kind == "random":
        generator = getattr(instr.fn, "__self__", None)
        if not isinstance(generator, np.random.Generator):
            w.irreversible = w.irreversible or instr
        elif not verify and ("generator", id(generator)) not in w.saved:  # (a check replays the recording's draws)
            w.saved.add(("generator", id(generator)))
            name, saved = w.bind("c", generator), f"u{len(w.saved)}"
            w.lines.append(f"{saved} = {name}.bit_generator.state")
            w.undo.append(f"{name}.bit_generator.state = {saved}")
        return
    for slot in instr.writes:
        root = slot.view_of or slot
        if root.kind not in ("external", "arg"):  # the program's own memory; unless something outside holds it
            if root.persistent:
                w.irreversible = w.irreversible or instr
            continue
        # The memory written, as the call names it (a view, or a slice of a larger array whose other
        # slices are other tensors): restored last-saved first, so where two overlap, the older copy wins.
        if ("memory", slot.index) not in w.saved:
            w.saved.add(("memory", slot.index))
            saved = f"u{len(w.saved)}"
            w.lines.append(f"{saved} = {w.slot(slot)}.copy()")
            w.undo.append(f"copyto({w.slot(slot)}, {saved})")


def diverge_if(w: Writer, i: int, instr: Instr, condition: str, what: str) -> None:
    """``if condition: raise Diverged(i)``, after putting back what the replay changed so far."""
    effect = w.irreversible
    if effect is not None:
        kind = "advances an optimizer's state" if effect.kind == "effect" else "changes state it cannot restore"
        raise CompileError(
            f"compile: {w.rec.name} {what} at {instr.line} after it {kind} at {effect.line}: a replay that "
            "found another value there could not undo that and record the call again. Compute the value "
            "before that, or pass it in"
        )
    if not w.undo:
        w.lines.append(f"if {condition}: raise Diverged({i})")
        return
    w.lines.append(f"if {condition}:  # another branch: put back what this replay changed, then record")
    w.lines.extend(f"    {line}" for line in reversed(w.undo))
    w.lines.append(f"    raise Diverged({i})")


def check_shapes(w: Writer, i: int, instr: Instr, results: list[Slot]) -> None:
    """A result whose shape depends on values (a boolean mask's count, ``np.unique``): the
    replay checks it got the recording's shape, else it takes the call for another branch.
    (Only a result the call makes: one it writes into a buffer has the buffer's shape.)"""
    for slot in results:
        if isinstance(slot, Slot) and isinstance(slot.value, np.ndarray):
            condition = f"{w.slot(slot)}.shape != {slot.value.shape!r}"
            diverge_if(w, i, instr, condition, "makes an array whose shape depends on values")


def value_shaped(instr: Instr) -> bool:
    if any(slot.kind == "number" for slot in instr.reads):  # x[:k], x.reshape(k, -1), arange(k): k read with .item()
        return True
    fn = getattr(instr.fn, "__func__", instr.fn)
    if fn in _VALUE_SHAPED or (fn is np.where and len(instr.args) == 1 and not instr.kwargs):
        return True
    if fn is np.ndarray.__getitem__ and len(instr.args) > 1:  # x[mask]: as many elements as the mask's Trues
        index = instr.args[1]
        parts = index if isinstance(index, tuple) else (index,)
        for part in parts:
            value = part.value if isinstance(part, Slot) else part
            if isinstance(value, np.ndarray) and value.dtype == bool and value.ndim > 0:
                return True
            if isinstance(value, (list, tuple)) and any(isinstance(v, (bool, np.bool_)) for v in value):
                return True
    return False


# ------------------------------------------------------------- a replay that raises
# An error part-way through a replay (a FloatingPointError under np.seterr(all="raise"), an
# index out of range) leaves what the calls before it wrote, as the eager call would have. Not
# so a .grad the step set to None (zero_grad): a replay sets .grad in its epilogue, and the
# leaf would keep the last call's gradient, in a buffer this call may have half overwritten.
# So the replay notes how far it got past each place the step set or cleared a .grad, and an
# error clears each .grad the eager call had cleared by then.
def grad_marks(w: Writer) -> list[int]:
    """Where the recording set or cleared a ``.grad`` (before which instruction), if it cleared one."""
    events = w.rec.grad_events
    return sorted({at for _, at, _ in events}) if any(cleared for *_, cleared in events) else []


def mark_reached(w: Writer, i: int, marks: list[int]) -> None:
    """``reached = at``: the replay is past the last place in ``marks`` at or before instruction ``i``."""
    at = marks.pop(0)
    while marks and marks[0] <= i:
        at = marks.pop(0)
    w.lines.append(f"reached = {at}")


def catch_failure(w: Writer, start: int) -> None:
    """Wrap the body (the lines from ``start``) so that an error puts each ``.grad`` as eagerly."""
    if not grad_marks(w):
        return
    from ._guards import held_weakly

    per_leaf: dict[int, tuple[str, list[tuple[int, bool]]]] = {}
    for leaf, at, cleared in w.rec.grad_events:
        per_leaf.setdefault(id(leaf), (held_weakly(w, leaf), []))[1].append((at, cleared))
    refs = [(w.globals[name], events) for name, events in per_leaf.values()]

    def grads_as_eagerly(reached: int) -> None:
        for ref, events in refs:
            cleared = [c for at, c in events if at <= reached]
            leaf = ref()
            if cleared and cleared[-1] and leaf is not None:
                leaf.grad = None

    w.lines[start:] = ["reached = -1", "try:", *("    " + line for line in w.lines[start:])] + [
        "except Diverged:",  # (recorded again from the start: the undo has put things back)
        "    raise",
        "except BaseException:",
        f"    {w.bind('f', grads_as_eagerly)}(reached)",
        "    raise",
    ]
