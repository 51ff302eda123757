"""A program's guards: what must hold for it to apply to a call, or it raises ``Miss``.

They are the first lines of every replay (see ``_codegen``): the grad mode and numpy's error
handling; each argument's shape, dtype, strides, requires_grad and hooks; each tensor the
step uses, alive and with the same array, requires_grad and hooks; each leaf's ``.grad``
as the recording found it; and the values Python state gave (a module's attributes, an
optimizer's settings). Tensors are held weakly: a program must not keep alive a tensor the
step may no longer read.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import Miss
from ._slots import Slot

if TYPE_CHECKING:
    from ._codegen import Writer


@dataclass
class CallShape:
    """The arguments' arrays as the recording saw them: (is a tensor, shape, dtype, requires_grad,
    strides) per leaf. The strides too: numpy computes an elementwise result in its inputs'
    memory order, and the program's buffers keep the recording's, so another layout would
    sum in another order (the same values to a few ulps, not bit for bit)."""

    leaves: list[tuple[bool, tuple[int, ...], np.dtype, bool, tuple[int, ...]]]
    arg_slots: list[Slot | None]  # the slot each leaf's array had (None: unused)


def write_guards(w: Writer, call: CallShape, guards: list[tuple[Any, ...]], mode: int) -> None:
    w.globals["Miss"] = Miss
    w.lines.append(f"if mode() != {mode}: raise Miss")
    # The ops' own np.errstate is recorded over the caller's as the call began (and not at all where
    # it is the same): replayed under another (over="raise" where it was "ignore"), a program would
    # raise, or not, unlike the eager call. 0.6 µs a replay.
    errors = w.bind("c", w.rec.errstate)
    w.lines.append(f"if {w.bind('f', np.geterr)}() != {errors}: raise Miss  # numpy's error handling")
    for i, (is_tensor, shape, dtype, requires_grad, strides) in enumerate(call.leaves):
        array = f"l{i}.data" if is_tensor else f"l{i}"
        d = w.bind("c", dtype)
        test = f"{array}.shape != {shape!r} or {array}.dtype != {d} or {array}.strides != {strides!r}"
        if is_tensor:
            test += f" or l{i}.requires_grad is not {requires_grad} or {_hooks_differ(f'l{i}', ())}"
        w.lines.append(f"if {test}: raise Miss")
        slot = call.arg_slots[i]
        if slot is not None:
            w.lines.append(f"{w.slot(slot)} = {array}")
    for guard in guards:
        kind = guard[0]
        if kind == "external":  # a tensor the step uses: the same array, requires_grad and hooks
            ref, array, requires_grad, hooks = held_weakly(w, guard[1]), w.bind("c", guard[2]), guard[3], guard[4]
            test = f"o.data is not {array} or o.requires_grad is not {requires_grad} or {_hooks_differ('o', hooks)}"
            w.lines.append(f"o = {ref}()  # a tensor the step uses: alive, the same array, requires_grad, hooks")
            w.lines.append(f"if o is None or {test}: raise Miss")  # (gone: the step now reads another one)
        elif kind == "grad":  # (an argument's by its place: each call may pass a new tensor)
            grad = w.bind("c", guard[2])
            if guard[3] is not None:
                w.lines.append(f"if l{guard[3]}.grad is not {grad}: raise Miss  # .grad as found")
            else:
                w.lines.append(f"o = {held_weakly(w, guard[1])}()")
                w.lines.append(f"if o is None or o.grad is not {grad}: raise Miss  # .grad as found")
        else:  # ("read", what, read, value)
            what = " ".join(str(guard[1]).split())
            w.lines.append(f"if {w.bind('c', guard[2])}() != {w.bind('c', guard[3])}: raise Miss  # {what}")


def held_weakly(w: Writer, tensor: Any) -> str:
    """A name for a weak reference to ``tensor``: a program must not keep alive a tensor the
    step may no longer read (a global rebound), or its guards could not see it gone."""
    name = w.weak.get(id(tensor))
    if name is None:
        name = w.weak[id(tensor)] = w.bind("c", weakref.ref(tensor))
    return name


def _hooks_differ(tensor: str, keys: tuple[int, ...]) -> str:
    """A test that ``tensor`` has other hooks than ``keys`` (a hook added or removed)."""
    return f"{tensor}._hooks" if not keys else f"tuple({tensor}._hooks or ()) != {keys!r}"
