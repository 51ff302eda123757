"""Counting changes to modules, so a compiled step knows when to record again.

Every attribute set on a module, and every change to its registries of parameters,
buffers and sub-modules, adds one to a single counter. A compiled step
(``autograd_nn.compile``) replays only while the counter is what it was when the step
recorded; ``model.eval()``, a replaced layer or a new dropout rate makes the next call
record again. One counter for all modules keeps the check to one comparison. Setting an
attribute to the value it has (``model.train()`` in every step) is not a change.

The training mode is not counted: ``model.eval()`` and ``model.train()`` between epochs
would make every compiled step record again after each. A compiled step guards instead the
flag of each module whose ``training`` it reads (Dropout's, BatchNorm's, a step's own
``if model.training:``), so it replays in either mode, with one program for each.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from .. import _tracing, grad_mode

_mode = grad_mode._MODE.get
_TRACE = grad_mode.TRACE


class Registry(dict):  # type: ignore[type-arg]
    """A module's parameters, buffers or sub-modules: a dict that counts its changes."""

    def __setitem__(self, key: str, value: Any) -> None:
        changed()
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        changed()
        super().__delitem__(key)

    def pop(self, *args: Any) -> Any:
        changed()
        return super().pop(*args)

    def popitem(self) -> Any:
        changed()
        return super().popitem()

    def clear(self) -> None:
        changed()
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        changed()
        super().update(*args, **kwargs)

    def setdefault(self, key: str, default: Any = None) -> Any:
        changed()
        return super().setdefault(key, default)


# How many times any module attribute or registry changed (see the module docstring).
_changes = 0


def changed() -> None:
    global _changes
    _changes += 1


def changes() -> int:
    """The number of changes to any module's attributes so far (see ``_changes``)."""
    return _changes


class TrainingMode:
    """``module.training``: a flag kept in the module's ``__dict__``; read or set while a
    compiled step records, it becomes one of the step's guards (see the module docstring): a
    step that sets it (``model.train()``) replays only while the flag is what the step left."""

    def __get__(self, module: Any, owner: Any = None) -> Any:
        if module is None:
            return self
        if _mode() & _TRACE:
            _guard(module)
        return module.__dict__.get("training", True)

    def __set__(self, module: Any, value: Any) -> None:
        if _mode() & _TRACE:
            _guard(module)
        module.__dict__["training"] = value


def _guard(module: Any) -> None:
    _tracing.guard(f"the training mode of a {type(module).__name__}", _reader(module))


# One read per module (a guard is known by its read), holding the module weakly: a guard on a
# module that is gone reads None, and fails.
_READERS: weakref.WeakKeyDictionary[Any, Callable[[], Any]] = weakref.WeakKeyDictionary()


def _reader(module: Any) -> Callable[[], Any]:
    try:
        read = _READERS.get(module)
    except TypeError:  # a module class with __eq__ and no __hash__: a read of its own each time
        read = None
    if read is None:
        ref = weakref.ref(module)

        def read() -> Any:
            alive = ref()
            return None if alive is None else alive.__dict__.get("training", True)

        try:
            _READERS[module] = read
        except TypeError:
            pass
    return read


_IMMUTABLE = (bool, int, float, str, type(None))


def unchanged(old: Any, new: Any) -> bool:
    """``new`` is what the attribute holds already: the same object, or an equal number or string."""
    return old is new or (type(old) is type(new) and type(new) in _IMMUTABLE and old == new)
