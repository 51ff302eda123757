"""Grad mode and anomaly mode, per thread, as in PyTorch.

Both are bits of one ``ContextVar``, so the recorder reads a single value per op: bit
``GRAD`` says whether operations on tensors that require grad are recorded, bit
``ANOMALY`` whether the recorder keeps each op's source line and the reverse sweep
checks every derivative for nan and inf. Bit ``TRACE`` says a compiled function is
recording (``autograd_nn.compile``), bit ``KEEP_INPUTS`` that each node keeps the values
its forward received, constants included (``Node.inputs``), for exporters
(``autograd_nn.onnx``). A ``ContextVar`` starts at its default in every new thread, so
``no_grad`` in one thread never changes what another records, and the engine's own
switch during backward (``create_graph``) is per thread too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any, TypeVar

GRAD = 1
ANOMALY = 2
TRACE = 4  # a compiled function is recording (see ``autograd_nn._tracing``)
KEEP_INPUTS = 8  # each node keeps what its forward received (``Node.inputs``), for exporters

_MODE: ContextVar[int] = ContextVar("autograd_nn.mode", default=GRAD)

F = TypeVar("F", bound=Callable[..., Any])


def current() -> int:
    """The current thread's mode bits (``GRAD | ANOMALY``)."""
    return _MODE.get()


def switch(bits: int) -> Token[int]:
    """Set this thread's mode bits; undo with ``restore(token)``."""
    return _MODE.set(bits)


def restore(token: Token[int]) -> None:
    """Undo a ``switch``."""
    _MODE.reset(token)


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad are recorded (in this thread)."""
    return bool(_MODE.get() & GRAD)


def is_anomaly_enabled() -> bool:
    """True when anomaly detection is on (in this thread)."""
    return bool(_MODE.get() & ANOMALY)


def _with_bit(bit: int, on: bool) -> int:
    mode = _MODE.get()
    return mode | bit if on else mode & ~bit


class _ModeBit:
    """A context manager and decorator that sets one mode bit for the current thread."""

    _bit = GRAD
    _on = True

    def __init__(self) -> None:
        self._tokens: list[Token[int]] = []

    def __enter__(self) -> None:
        self._tokens.append(_MODE.set(_with_bit(self._bit, self._on)))

    def __exit__(self, *exc: object) -> None:
        _MODE.reset(self._tokens.pop())

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def _fresh(self) -> _ModeBit:
        return type(self)()


class _BareDecorator(_ModeBit):
    """``@no_grad`` works as well as ``@no_grad()``."""

    def __new__(cls, func: Any = None) -> Any:
        instance = super().__new__(cls)
        if func is None:
            return instance
        instance.__init__()
        return instance(func)

    def __init__(self, func: Any = None) -> None:
        super().__init__()


class no_grad(_BareDecorator):
    """Context manager and decorator: nothing inside is recorded into a graph (this thread only).

    >>> import autograd_nn as ag
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> with ag.no_grad():
    ...     y = x * 2
    >>> y.requires_grad, y.grad_fn is None
    (False, True)
    """

    _bit, _on = GRAD, False


class enable_grad(_BareDecorator):
    """Context manager and decorator: record operations, even inside ``no_grad``."""

    _bit, _on = GRAD, True


class _SetModeBit(_ModeBit):
    """Set one mode bit at once when called; a context manager's exit undoes it, and as a
    decorator it changes nothing until the decorated function runs (as PyTorch's)."""

    def __init__(self, mode: bool) -> None:
        super().__init__()
        if not isinstance(mode, bool):
            raise TypeError(f"{type(self).__name__}: mode must be True or False, got {mode!r}")
        self._on = mode
        self._tokens.append(_MODE.set(_with_bit(self._bit, mode)))

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        if self._tokens:
            _MODE.reset(self._tokens.pop())

    def __call__(self, func: F) -> F:
        self.__exit__()
        return super().__call__(func)

    def _fresh(self) -> _ModeBit:
        return _ModeBitScope(self._bit, self._on)


class set_grad_enabled(_SetModeBit):
    """Turn recording on or off for this thread: at once when called, undone when used
    as a context manager exits (PyTorch's ``torch.set_grad_enabled``)."""

    _bit = GRAD


class detect_anomaly(_ModeBit):
    """Context manager and decorator: find where a nan or inf in backward comes from.

    While it is on, every recorded op remembers the line of your code that created it,
    and the reverse sweep checks what each op's derivative returns. The first nan or inf
    raises ``AnomalyError`` naming the op and that line (file, number and text). It also
    catches a write into a saved array's ``.data`` behind the version counter's back.
    It costs time only while it is on.

    >>> import numpy as np, autograd_nn as ag
    >>> x = ag.tensor([0.0, 1.0], requires_grad=True)
    >>> with ag.detect_anomaly(), np.errstate(divide="ignore"):
    ...     y = x.sqrt().sum()
    ...     y.backward()  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    AnomalyError: the derivative of Sqrt returned inf ...
    """

    _bit, _on = ANOMALY, True

    def __init__(self, check_nan: bool = True) -> None:
        super().__init__()
        self._on = bool(check_nan)

    def _fresh(self) -> _ModeBit:
        return _ModeBitScope(ANOMALY, self._on)


class set_detect_anomaly(_SetModeBit):
    """Turn anomaly detection on or off for this thread: at once when called, undone when
    used as a context manager exits (PyTorch's ``torch.autograd.set_detect_anomaly``)."""

    _bit = ANOMALY


class _ModeBitScope(_ModeBit):
    """One decorated call of ``set_grad_enabled``/``detect_anomaly``: the bit set on enter."""

    def __init__(self, bit: int, on: bool) -> None:
        super().__init__()
        self._bit, self._on = bit, on
