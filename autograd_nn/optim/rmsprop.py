"""``RMSprop``: PyTorch's update rule (with momentum and the centered variant), in place."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check, _gradient, _lerp_


class RMSprop(Optimizer):
    """RMSprop (Hinton), step for step as ``torch.optim.RMSprop``.

    With g = ∇θ (negated if ``maximize``)::

        g ← g + λ θ                              if λ = weight_decay ≠ 0
        v ← α v + (1 − α) g²
        ḡ ← α ḡ + (1 − α) g,  s = √(v − ḡ²)      if centered, else s = √v
        b ← μ b + g / (s + ε),  θ ← θ − lr · b   if μ = momentum > 0
        θ ← θ − lr · g / (s + ε)                 otherwise

    State per parameter: ``step``, ``square_avg`` (v), ``momentum_buffer`` (b, with
    momentum) and ``grad_avg`` (ḡ, when centered), PyTorch's names.
    """

    _per_step = frozenset({"lr", "momentum"})  # followed by a replay, not guarded (see Optimizer)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ):
        _check("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        defaults = dict(
            lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered,
            maximize=maximize,
        )  # fmt: skip
        super().__init__(params, defaults)

    def _init_state(self, param: np.ndarray, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = 0
        state["square_avg"] = np.zeros_like(param)
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(param)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any], numbers: dict[str, Any]
    ) -> None:
        lr, alpha, eps, momentum = numbers["lr"], group["alpha"], group["eps"], numbers["momentum"]
        grad = _gradient(param, grad, group, numbers)

        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * (grad * grad)
        if group["centered"]:
            grad_avg = state.setdefault("grad_avg", np.zeros_like(param))
            _lerp_(grad_avg, grad, 1 - alpha)
            avg = square_avg - grad_avg * grad_avg
            np.sqrt(avg, out=avg)
        else:
            avg = np.sqrt(square_avg)
        avg += eps
        if group["momentum"] > 0:
            buffer = state.setdefault("momentum_buffer", np.zeros_like(param))
            buffer *= momentum
            buffer += grad / avg
            param -= lr * buffer
        else:
            np.divide(grad, avg, out=avg)
            avg *= lr
            param -= avg
