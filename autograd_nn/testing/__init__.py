"""Tools to test gradients: of our ops and of yours.

``gradcheck`` and ``gradgradcheck`` compare every element of first and second derivatives
with finite differences in float64; they need only numpy. The hypothesis-based parts
(``strategies``, and ``check_op`` / ``op_test`` / ``unregistered_ops`` from
``autograd_nn.testing.contract``) load on first use and need the ``testing`` extra:
``pip install "autograd-nn[testing]"``.
"""

from __future__ import annotations

import importlib
from typing import Any

from .gradcheck import SCHEMES, GradcheckError, GradcheckWarning, gradcheck, gradgradcheck

__all__ = [
    "SCHEMES", "GradcheckError", "GradcheckWarning", "check_op", "gradcheck", "gradgradcheck",
    "op_test", "spec_problems", "strategies", "unregistered_ops",
]  # fmt: skip

_LAZY = {
    "strategies": ("strategies", None),
    "check_op": ("contract", "check_op"),
    "op_test": ("contract", "op_test"),
    "spec_problems": ("contract", "spec_problems"),
    "unregistered_ops": ("contract", "unregistered_ops"),
}


def __getattr__(name: str) -> Any:
    # Imported on demand so that `import autograd_nn.testing` never needs hypothesis.
    if name not in _LAZY:
        raise AttributeError(f"module 'autograd_nn.testing' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    try:
        module = importlib.import_module(f".{module_name}", __name__)
    except ModuleNotFoundError as error:
        if error.name != "hypothesis":
            raise
        raise ModuleNotFoundError(
            f"autograd_nn.testing.{name} needs hypothesis: pip install 'autograd-nn[testing]'", name="hypothesis"
        ) from None
    return module if attribute is None else getattr(module, attribute)
