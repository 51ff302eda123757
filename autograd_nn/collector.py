"""Pacing CPython's cyclic garbage collector while a large graph is alive.

Every recorded op leaves three objects the cyclic collector tracks: its ``Node``, its
``Context`` and the tuple of its edges. A *full* collection (CPython's oldest generation)
rescans every tracked object, and CPython runs one each time the long-lived objects have
grown by a quarter, so while one graph grows, its nodes are rescanned again and again: on
a chain of 10⁶ ops that more than doubled the cost of recording an op (``docs/performance.md``,
B4). The rescans find nothing. A live graph is not garbage, and a dropped one is freed by
reference counting, node by node.

So while a large graph is alive and still growing, full collections wait. Young
collections run as usual (they catch the cycles that die young), an explicit
``gc.collect()`` collects everything, and CPython's own schedule comes back as soon as the
graph is dropped or recording stops.

How it is told: a ``gc`` callback, run at the start of each collection (every ~700
allocations, ~2000 from CPython 3.13; nothing is added to the recorder's path), reads the recorder's clock and
keeps weak references to a few *probe* nodes, one every ``STRIDE`` recorded ops. When the
probes span ``LARGE`` recorded ops and all are alive, a large graph is alive: the oldest
generation's threshold is raised out of reach. It is put back (unless someone else has
changed it meanwhile; young thresholds set meanwhile are kept) when a probe dies, when no
op was recorded for ``IDLE`` young collections in a row (a write stamp, as an optimizer's
or a compiled replay's update takes, records none), or, for one full collection, each time
the live graph has grown ``GROWTH``-fold since the last one. With a ratio r between full
collections, a growing graph has each node rescanned about 1/ln r times on average;
CPython's 1.25 gives 4.5, 64 gives 0.24, and keeps the wait bounded.

What a weak reference cannot tell: a graph dropped in a cycle (an op's ``ctx`` that keeps its
output tensor, a hook that refers to its own tensor) stays alive until a full collection
frees it. Graphs dropped so, one after another while recording goes on, look like one graph
growing, and wait for the let-through: up to ``GROWTH`` × ``LARGE`` recorded ops (~2.6·10⁵)
of them, where CPython's schedule would have freed them as they went. (A training step
through the library's own layers, optimizers and ``retain_grad`` leaves no cycles; a user's
``Function`` or hook can.)

``disable()`` turns the pacing off and ``enable()`` on again. After ``gc.disable()``, or
with a threshold of 0, it never acts.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

from . import _interrupts, versions
from .graph import Node

LARGE = 1 << 12  # recorded ops a live graph spans before full collections wait
STRIDE = LARGE // 4  # recorded ops between two probes
IDLE = 64  # young collections in a row without a recorded op: recording has stopped
GROWTH = 64  # a full collection is let through each time the live graph has grown this much
_KEPT = 8  # newest probes kept besides the oldest (the oldest says whether the graph lives)
_OUT_OF_REACH = 1 << 30  # an oldest-generation threshold no run reaches


class _Pacer:
    """The callback's state: the probes, and the oldest threshold it replaced (if it has)."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        """Back to the start: no probes, nothing replaced, nothing owed."""
        self.probes: list[tuple[int, Any]] = []  # (the node's seq, a weak reference to it), oldest first
        self.replaced: int | None = None  # the oldest generation's threshold before it was raised
        self.last_clock = -1
        self.idle = 0
        self.owed = False  # a full collection was let through and has not run yet
        self.span_at_full = 0  # the graph's span (recorded ops) at the last full collection

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "start":
            return
        clock = versions.now()
        if info["generation"] == 2:  # a full collection (CPython's or gc.collect()) is starting
            self.owed = False
            self.span_at_full = self.span()
            return
        recorded = clock != self.last_clock
        self.last_clock = clock
        if not all(probe() is not None for _, probe in self.probes):
            self.probes = []  # the graph the probes were in has (partly) gone: start over
            self.span_at_full = 0
        if not self.probes or clock - self.probes[-1][0] >= STRIDE:
            # No node among the young objects: nothing recorded that lives. The clock moves for write
            # stamps too (an optimizer's update, a compiled replay's), and those grow no graph.
            recorded = self._probe() and recorded
        self.idle = 0 if recorded else self.idle + 1
        span = self.span()
        if self.replaced is not None:
            if span < LARGE or self.idle >= IDLE:  # the probes started over: no large graph is known alive
                self.release()
            elif span >= GROWTH * max(self.span_at_full, LARGE):
                self.release()  # one full collection now and then: the deferral stays bounded
                self.owed = True
        if self.replaced is None and not self.owed and span >= LARGE and self.idle == 0:
            self._defer()

    def span(self) -> int:
        """The recorded ops the probes cover: from the oldest to the newest (all alive when asked)."""
        return self.probes[-1][0] - self.probes[0][0] if self.probes else 0

    def _probe(self) -> bool:
        """Take the newest recorded node as a probe; False if there is none among the young objects."""
        for obj in reversed(gc.get_objects(generation=0)):  # the newest objects: a node just recorded
            seq = getattr(obj, "seq", None) if type(obj) is Node else None  # (None: still being filled in)
            if seq is not None:
                if self.probes and seq - self.probes[-1][0] > 2 * STRIDE:
                    self.probes = []  # a stretch no probe saw: what the probes span must all be alive
                    self.span_at_full = 0  # and what they spanned at the last full collection is another graph
                self.probes.append((seq, weakref.ref(obj)))
                if len(self.probes) > _KEPT + 1:
                    del self.probes[1]
                return True
        return False

    def _defer(self) -> None:
        first, second, oldest = gc.get_threshold()
        if first == 0 or not gc.isenabled():
            return
        self.replaced = oldest
        gc.set_threshold(first, second, _OUT_OF_REACH)

    def release(self) -> None:
        """Give CPython its own schedule back: the oldest threshold, unless it was changed meanwhile
        (the young ones stay as they are: ``gc.set_threshold(5000)`` meanwhile is kept)."""
        replaced = self.replaced  # read once: disable() may run meanwhile, in another thread
        self.replaced = None
        if replaced is not None:
            first, second, oldest = gc.get_threshold()
            if oldest == _OUT_OF_REACH:  # still raised
                gc.set_threshold(first, second, replaced)

    @property
    def deferring(self) -> bool:
        return self.replaced is not None


_PACER = _Pacer()


def enable() -> None:
    """Let full collections wait while a large graph is alive and growing (the default)."""
    _interrupts.install()  # a Ctrl-C that lands in the callback is not lost (see _interrupts)
    if _PACER not in gc.callbacks:
        gc.callbacks.append(_PACER)


def disable() -> None:
    """CPython's own schedule always; thresholds raised by the pacing are put back."""
    while _PACER in gc.callbacks:
        gc.callbacks.remove(_PACER)
    _PACER.release()
    _PACER.forget()


def is_enabled() -> bool:
    """Whether the pacing is on."""
    return _PACER in gc.callbacks


def is_deferring() -> bool:
    """Whether full collections are waiting now (a large graph is alive and growing)."""
    return _PACER.deferring


enable()
