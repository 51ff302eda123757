"""``Adamax``: Adam with the infinity norm, PyTorch's update rule, in place."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check, _check_betas, _gradient, _lerp_, lerp_numbers


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, §7), step for step as ``torch.optim.Adamax``.

    With g = ∇θ (negated if ``maximize``) and t the step count (from 1)::

        g ← g + λ θ                      if λ = weight_decay ≠ 0
        m ← β₁ m + (1 − β₁) g
        u ← max(β₂ u, |g| + ε)
        θ ← θ − (lr / (1 − β₁ᵗ)) · m / u

    State per parameter: ``step``, ``exp_avg`` (m) and ``exp_inf`` (u).
    """

    _per_step = frozenset({"lr", "betas"})  # followed by a replay, not guarded (see Optimizer)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ):
        _check("Adamax", lr=lr, eps=eps, weight_decay=weight_decay)
        defaults = dict(
            lr=lr, betas=_check_betas("Adamax", betas), eps=eps, weight_decay=weight_decay, maximize=maximize
        )
        super().__init__(params, defaults)

    def _init_state(self, param: np.ndarray, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = 0
        state["exp_avg"] = np.zeros_like(param)
        state["exp_inf"] = np.zeros_like(param)

    def _numbers(self, group: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        step = state["step"] + 1
        weight = 1 - group["betas"][0]
        return {
            "step": step, "step_size": group["lr"] / (1 - group["betas"][0] ** step), **self._followed(group),
            **lerp_numbers(weight),
        }  # fmt: skip

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any], numbers: dict[str, Any]
    ) -> None:
        grad = _gradient(param, grad, group, numbers)

        m, u = state["exp_avg"], state["exp_inf"]
        _lerp_(m, grad, numbers["one_minus_beta1"], numbers)
        u *= numbers["beta2"]
        bound = np.abs(grad)
        bound += group["eps"]
        np.maximum(u, bound, out=u)
        np.divide(m, u, out=bound)
        bound *= numbers["step_size"]
        param -= bound
