"""What a recording is written in: a ``Slot`` for each array (or number) it knows, and an
``Instr`` for each numpy call, with slots where the arrays were (``_recording`` makes them,
``_plan`` lays them out in buffers, ``_codegen`` writes them as lines)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Slot:
    """One array (or number) the recording knows: where it comes from and what it is."""

    __slots__ = ("index", "kind", "value", "view_of", "producer", "persistent", "what", "written")

    def __init__(self, index: int, kind: str, value: Any, what: str = ""):
        self.index = index
        self.kind = kind  # "arg", "external", "const", "made", "result", "number"
        self.value = value  # the plain array during the recording (a constant: the array itself)
        self.view_of: Slot | None = None  # the slot whose memory this one views
        self.producer: int | None = None  # the instruction that made it
        self.persistent = False  # outlives the call (a gradient, optimizer state, a returned value)
        self.what = what
        self.written = False

    def __repr__(self) -> str:
        return f"<slot {self.index} {self.kind} {getattr(self.value, 'shape', '')}>"


@dataclass
class Instr:
    """One numpy call: ``fn(*args, **kwargs)`` with slots where arrays were."""

    fn: Any
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    result: Any  # a Slot, a tuple/list of Slots, None, or ("check", value) for a Python value
    reads: list[Slot]
    writes: list[Slot]
    line: str
    kind: str = "call"  # "call", "random", "number", "made"
    errstate: dict[str, str] | None = None  # numpy's error handling the call ran under, if an op set its own
