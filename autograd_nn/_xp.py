"""The array namespaces a derivative formula is written against (``ctx.xp``).

A formula such as ``grad * ctx.xp.exp(y)`` must run in two worlds: in a plain backward
on ndarrays (fast), and under ``create_graph=True`` on Tensors, so that it is recorded
and can be differentiated again. Both namespaces are views of the op registry: every op
declared with a numpy twin (``derivative=np.exp``) appears in both, under its function
name. ``numpy_namespace`` hands out the twins; the Tensor namespace (built by
``autograd_nn._surface``) hands out the ops themselves. Nothing is listed by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .opspec import OpSpec
from .registry import OP_REGISTRY


class DerivativeNamespace:
    """Functions for derivative formulas, looked up in the registry on first use."""

    def __init__(self, side: str, resolve: Callable[[OpSpec], Callable[..., Any]]):
        self._side = side
        self._resolve = resolve

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        for spec in OP_REGISTRY.values():
            if spec.surface.derivative_name == name:
                function = self._resolve(spec)
                setattr(self, name, function)  # cached: later look-ups are plain attributes
                return function
        known = sorted(s.surface.derivative_name for s in OP_REGISTRY.values() if s.surface.derivative_name)
        raise AttributeError(
            f"ctx.xp ({self._side}) has no {name!r}: derivative formulas may call the ops declared with a "
            f"numpy twin (derivative=...): {', '.join(known)}"
        )

    def __repr__(self) -> str:
        return f"<derivative namespace over {self._side}>"


numpy_namespace = DerivativeNamespace("ndarrays", lambda spec: spec.surface.derivative)
