"""Copies of the caller's arrays (indices, labels, masks) that an op's derivative reads again.

An op that keeps such an array on ``ctx`` keeps a copy made at the forward: the caller may
change its array in place before the backward (a data loader reusing its buffer, an
in-place op on an integer tensor, whose arrays kept on ``ctx`` no version check watches),
and the gradient must be the forward's. Nothing is copied when nothing is recorded (the
null context's ``needs_input_grad`` is empty).

Under ``compile``: an array the recording watches (an argument, or made from one) is
copied by ``.copy()``, which keeps its class, so the copy is one more call a replay
repeats. A plain array there is a constant a replay reads by reference, in the forward
and the backward alike (a buffer the caller refills between calls): it is kept as it is,
since a copy of it would be frozen into the replay while the forward reads the buffer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _tracing

_ndarray = np.ndarray


def _copy(array: np.ndarray) -> np.ndarray:
    if type(array) is _ndarray and _tracing.recording() is not None:
        return array  # a recording's constant, read by reference (see above)
    return array.copy()


def kept(ctx: Any, array: Any) -> Any:
    """``array`` copied if ``ctx`` records (an ndarray; anything else as it is)."""
    return _copy(array) if ctx.needs_input_grad and isinstance(array, _ndarray) else array


def kept_index(ctx: Any, index: Any) -> Any:
    """An index with its arrays copied if ``ctx`` records (slices, integers, None, ``...`` as they are)."""
    if not ctx.needs_input_grad:
        return index
    if isinstance(index, _ndarray):
        return _copy(index)
    if type(index) is tuple:
        for item in index:
            if isinstance(item, _ndarray):
                return tuple(_copy(part) if isinstance(part, _ndarray) else part for part in index)
    return index
