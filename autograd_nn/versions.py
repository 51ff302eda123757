"""Version counters: which blocks of memory were written in place, and when.

PyTorch keeps a version counter per storage, shared by a tensor and its views, and a
node remembers the version of each tensor it saved. Here the counter belongs to the
block of memory itself: an array and every numpy view of it (a reshape, a transpose, a
basic index, a broadcast) lead, through ``.base``, to one root array, and every in-place
write made through autograd_nn (the in-place ops, the optimizers, ``load_state_dict``,
``increment_version``) is logged against that root with a stamp from the clock that also
numbers the nodes. So a node needs to remember nothing at forward time: a saved array was
written after the node was made exactly when its root has a write stamped later than the
node's ``seq``. Nothing is logged, and nothing checked, until the first in-place write.

The same roots say which memory is shared: ``mark_shared`` notes a root that an op has
taken a view of, so a recorded in-place write into it can be refused.
"""

from __future__ import annotations

import itertools
import weakref
from bisect import bisect_left
from typing import Any

import numpy as np

# The one clock: node creation numbers (``Node.seq``) and write stamps come from it.
_clock = itertools.count()
tick = _clock.__next__


def now() -> int:
    """The stamp ``tick()`` gives next, without taking it."""
    return int(repr(_clock)[6:-1])  # repr is "count(N)"


latest = -1  # the stamp of the latest in-place write anywhere (-1: none yet)

_ndarray = np.ndarray  # (numpy's module __getattr__ makes every np.ndarray read a slow look-up)

_KEEP = 4096  # stamps remembered per block; older ones are only counted


class _Log:
    """The writes into one block of memory: their stamps, oldest first."""

    __slots__ = ("ref", "stamps", "forgotten", "shared")

    def __init__(self, root: np.ndarray, key: int):
        self.ref = weakref.ref(root, lambda _: _LOGS.pop(key, None))
        self.stamps: list[int] = []
        self.forgotten = 0
        self.shared = False


_LOGS: dict[int, _Log] = {}


# numpy's own .base: a subclass may answer .base otherwise (a compiled step's watched arrays say
# None for a parameter's, which is a view of the parameter's array; its writes belong to that array)
_numpy_base = np.ndarray.base.__get__


def root_of(array: Any) -> Any:
    """The array that owns the memory ``array`` views (``array`` itself if it owns it)."""
    if type(array) is _ndarray and array.base is None:  # the common case: it owns its memory
        return array
    while True:
        base = _numpy_base(array) if isinstance(array, np.ndarray) else getattr(array, "base", None)
        if not isinstance(base, np.ndarray):
            inner = getattr(base, "base", None)  # numpy's stride-tricks wrapper of a view
            if not isinstance(inner, np.ndarray):
                return array
            base = inner
        array = base


def _log_of(array: Any, create: bool) -> _Log | None:
    root = root_of(array)
    key = id(root)
    log = _LOGS.get(key)
    if log is not None and log.ref() is not root:  # the id of a dead array, reused
        log = None
    if log is None and create:
        log = _LOGS[key] = _Log(root, key)
    return log


def note_write(array: Any) -> None:
    """Count one in-place write into ``array``'s memory, now."""
    note_writes(array)


def note_writes(*arrays: Any) -> None:
    """Count one in-place write into each array's memory, made together now (one stamp):
    an optimizer's step over all its parameters, as a replay ends it."""
    global latest
    latest = stamp = tick()
    for array in arrays:
        # _log_of(array, create=True), written out: this runs for every parameter of every step
        root = array if type(array) is _ndarray and array.base is None else root_of(array)
        log = _LOGS.get(id(root))
        if log is None or log.ref() is not root:  # none yet, or the log of a dead array whose id was reused
            log = _log_of(root, create=True)
            assert log is not None
        stamps = log.stamps
        stamps.append(stamp)
        if len(stamps) > _KEEP:
            del stamps[: _KEEP // 2]
            log.forgotten += _KEEP // 2


def version_of(array: Any) -> int:
    """How many in-place writes ``array``'s memory has had (PyTorch's ``tensor._version``)."""
    log = _log_of(array, create=False)
    return 0 if log is None else log.forgotten + len(log.stamps)


def written_since(array: Any, seq: int) -> tuple[int, int] | None:
    """``(version then, version now)`` if ``array``'s memory was written after ``seq``, else None."""
    log = _log_of(array, create=False)
    if log is None or not log.stamps or log.stamps[-1] <= seq:
        return None
    return log.forgotten + bisect_left(log.stamps, seq), log.forgotten + len(log.stamps)


def mark_shared(array: Any) -> None:
    """Note that a view of ``array``'s memory exists (two tensors now share it)."""
    log = _log_of(array, create=True)
    assert log is not None
    log.shared = True


def is_shared(array: Any) -> bool:
    """True if ``array`` is a view, or an op has taken a view of its memory."""
    if getattr(array, "base", None) is not None:
        return True
    log = _log_of(array, create=False)
    return log is not None and log.shared
