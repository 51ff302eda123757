"""The ops, grouped by kind, each declared once where it is defined.

Importing this package imports every module in it, so a new file of ops needs no line
anywhere else; the primitives' classes are then also importable from here by name
(``from autograd_nn.ops import Matmul``).
"""

from __future__ import annotations

import importlib
import pkgutil

from ..registry import builtin_specs

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

PRIMITIVES = {spec.function.__name__: spec.function for spec in builtin_specs("primitive")}
globals().update(PRIMITIVES)
__all__ = sorted(PRIMITIVES)
