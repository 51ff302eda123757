"""The hooks a recording (``autograd_nn.compile``) needs from the core, and nothing more.

While a compiled function records a call, the thread's mode carries bit ``TRACE`` and
``recording()`` is the recording. The core calls these hooks where arrays enter the
watched world (an op's inputs, the target of an in-place op, a tensor made from data, a
leaf's gradient, a random draw, an optimizer's state and per-step numbers); when nothing
records, each hook costs the core one bit test at most. The core knows the recording
only through these few methods, never the compiler's classes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar, Token
from typing import Any

import numpy as np

from . import grad_mode

TRACE = grad_mode.TRACE

_RECORDING: ContextVar[Any] = ContextVar("autograd_nn.recording", default=None)


def recording() -> Any:
    """The recording this thread is making, or None."""
    return _RECORDING.get() if grad_mode.current() & TRACE else None


def start(rec: Any) -> tuple[Token[Any], Token[int]]:
    """Make ``rec`` this thread's recording; undo with ``stop``."""
    return _RECORDING.set(rec), grad_mode.switch(grad_mode.current() | TRACE)


def stop(tokens: tuple[Token[Any], Token[int]]) -> None:
    grad_mode.restore(tokens[1])
    _RECORDING.reset(tokens[0])


def adopt(inputs: Iterable[Any]) -> None:
    """Watch the arrays of the tensors among ``inputs`` (tensors made before the call)."""
    rec = _RECORDING.get()
    for x in inputs:
        if getattr(type(x), "__autograd_tensor__", None) is not None and type(x.data) is np.ndarray:
            rec.adopt(x)


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """``np.asarray(data, dtype)``, except that a recording's watched arrays stay watched."""
    if type(data) is not np.ndarray and isinstance(data, np.ndarray) and recording() is not None:
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    return np.asarray(data, dtype=dtype)


def made(array: np.ndarray) -> np.ndarray:
    """A fresh copy of constants (``autograd_nn.tensor(data)``), as the recording sees it."""
    rec = recording()
    return array if rec is None else rec.made(array)


def draw(sample: Callable[..., np.ndarray], *args: Any, **kwargs: Any) -> np.ndarray:
    """``sample(*args, **kwargs)``, a generator's bound method (``rng.random``,
    ``rng.standard_normal``), which a replay calls afresh: new draws from the same generator."""
    rec = recording()
    return sample(*args, **kwargs) if rec is None else rec.draw(sample, args, kwargs)


def note_grad(leaf: Any, read: bool, cleared: bool = False) -> None:
    """``leaf.grad`` is being set (``cleared``: to None; if ``read``, first read) by the call being recorded."""
    rec = recording()
    if rec is not None:
        if read:
            rec.note_grad_read(leaf)
        rec.note_grad(leaf, cleared)


def numbers(host: Callable[[], dict[str, Any]], where: str, key: Any, share: Any = None) -> dict[str, Any]:
    """``host()``: the Python numbers of a step (a step size), which a replay recomputes on
    every call. ``host`` only reads; ``key`` names what it steps (one step per call);
    calls with one ``share`` key are known to compute the same numbers (replayed once)."""
    rec = recording()
    return host() if rec is None else rec.numbers(host, where, key, share)


def effect(fn: Callable[[dict[str, Any]], None], numbers: dict[str, Any]) -> None:
    """``fn(numbers)``: a change of Python state (step += 1) that every replay makes too."""
    rec = recording()
    if rec is None:
        fn(numbers)
    else:
        rec.effect(fn, numbers)


def store(state: dict[str, Any], key: str, value: Any) -> None:
    """``state[key] = value``, for an array that outlives the call (new optimizer state)."""
    rec = recording()
    if rec is not None and type(value) is not np.ndarray and isinstance(value, np.ndarray):
        rec.store(state, key, value)
    state[key] = value


def state_array(array: Any, what: str) -> Any:
    """An array kept between calls (optimizer state), as the recording sees it."""
    rec = recording()
    return array if rec is None or not isinstance(array, np.ndarray) else rec.external_array(array, what)


def refuse(what: str, instead: str) -> None:
    """The call being recorded cannot be replayed (it goes on eagerly; compile then says why)."""
    rec = recording()
    if rec is not None:
        rec.refuse(what, instead)


def guard(what: str, read: Callable[[], Any]) -> None:
    """A replay is valid only while ``read()`` returns what it returns now."""
    rec = recording()
    if rec is not None:
        rec.guard(what, read)
