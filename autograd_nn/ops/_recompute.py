"""When a fused op's derivative may use what its forward cached, and when it must recompute.

A fused op (``Standardize``, the recurrent layers) computes intermediates in its forward
that its derivative needs again: 1/√(σ² + ε), the gates of every time step. A plain
backward reads them from ``ctx`` (arrays, fast). Under ``create_graph`` they would be
constants there, and the second derivative would miss their dependence on the inputs, so
the derivative recomputes them from the saved inputs, which are then recorded Tensors, by
the same code the forward ran: one formula for every order.
"""

from __future__ import annotations

from typing import Any

from .._record import is_tensor


def recorded(ctx: Any, grad: Any) -> bool:
    """True when a derivative runs under ``create_graph``: δ or a saved value is a Tensor."""
    return is_tensor(grad) or any(is_tensor(v) for v in ctx.saved_tensors)
