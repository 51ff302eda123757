"""``Registered``: a layer's class names a parameter that each of its instances registers.

``layer.weight`` lives in the module's ``_parameters``, where ``Module.__getattr__`` finds it;
but Python calls ``__getattr__`` only once the ordinary lookup has failed, and before 3.12 that
failure builds an ``AttributeError`` first, which costs more than the rest of a small layer's
``forward``. Declared on the class, the name is found by the ordinary lookup, which then asks
the same registries. Nothing else changes: without a ``__set__`` the declaration yields to
an instance attribute of the same name (a tensor set after ``del layer.weight``), and a
subclass's own attribute of that name (a property) comes first, as before.
"""

from __future__ import annotations

from typing import Any


class Registered:
    """``weight = Registered()`` in a Module subclass: ``self.weight`` reads ``_parameters``
    (or ``_buffers``, ``_modules``) without a failed lookup before it."""

    __slots__ = ("name",)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, module: Any, owner: type | None = None) -> Any:
        if module is None:  # read on the class
            return self
        name = self.name
        parameters = module.__dict__.get("_parameters", ())  # (none before Module.__init__)
        return parameters[name] if name in parameters else module.__getattr__(name)  # (buffers, sub-modules, errors)
