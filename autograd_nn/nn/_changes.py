"""Counting changes to modules, so a compiled step knows when to record again.

Every attribute set on a module, and every change to its registries of parameters,
buffers and sub-modules, adds one to a single counter. A compiled step
(``autograd_nn.compile``) replays only while the counter is what it was when the step
recorded; ``model.eval()``, a replaced layer or a new dropout rate makes the next call
record again. One counter for all modules keeps the check to one comparison. Setting an
attribute to the value it has (``model.train()`` in every step) is not a change.
"""

from __future__ import annotations

from typing import Any


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


_IMMUTABLE = (bool, int, float, str, type(None))


def unchanged(old: Any, new: Any) -> bool:
    """``new`` is what the attribute holds already: the same object, or an equal number or string."""
    return old is new or (type(old) is type(new) and type(new) in _IMMUTABLE and old == new)
