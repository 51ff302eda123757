"""``RAdam``: Adam with a rectified adaptive learning rate, PyTorch's update rule, in place."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check, _check_betas, _gradient, _lerp_, lerp_numbers


class RAdam(Optimizer):
    """RAdam (Liu et al.), step for step as ``torch.optim.RAdam``.

    With g = ∇θ (negated if ``maximize``) and t the step count (from 1)::

        θ ← θ (1 − lr · λ)                   if decoupled_weight_decay (RAdamW)
        g ← g + λ θ                          else, if λ = weight_decay ≠ 0
        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,   m̂ = m / (1 − β₁ᵗ)
        ρ∞ = 2 / (1 − β₂) − 1,   ρₜ = ρ∞ − 2 t β₂ᵗ / (1 − β₂ᵗ)
        if ρₜ > 5:  r = √((ρₜ − 4)(ρₜ − 2) ρ∞ / ((ρ∞ − 4)(ρ∞ − 2) ρₜ))
                    θ ← θ − lr · m̂ · √(1 − β₂ᵗ) / (√v + ε) · r
        else:       θ ← θ − lr · m̂               (early steps: the variance is not yet trusted)

    State per parameter: ``step``, ``exp_avg`` (m) and ``exp_avg_sq`` (v).
    """

    _per_step = frozenset({"lr", "betas"})  # followed by a replay, not guarded (see Optimizer)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ):
        _check("RAdam", lr=lr, eps=eps, weight_decay=weight_decay)
        defaults = dict(
            lr=lr, betas=_check_betas("RAdam", betas), eps=eps, weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
        )  # fmt: skip
        super().__init__(params, defaults)

    def _init_state(self, param: np.ndarray, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = 0
        state["exp_avg"] = np.zeros_like(param)
        state["exp_avg_sq"] = np.zeros_like(param)

    def _numbers(self, group: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        step, lr = state["step"] + 1, group["lr"]
        beta1, beta2 = group["betas"]
        bias_correction2 = 1 - beta2**step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        rectified = rho_t > 5.0
        rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) if rectified else 0.0
        return {
            "step": step, "lr": lr, "decay": 1 - lr * group["weight_decay"], "bias_correction1": 1 - beta1**step,
            "bias_correction2_sqrt": math.sqrt(bias_correction2), "rectified": rectified, "rect": rect,
            **self._followed(group), **lerp_numbers(1 - beta1),
        }  # fmt: skip

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any], numbers: dict[str, Any]
    ) -> None:
        grad = _gradient(param, grad, group, numbers)

        m, v = state["exp_avg"], state["exp_avg_sq"]
        _lerp_(m, grad, numbers["one_minus_beta1"], numbers)
        v *= numbers["beta2"]
        v += numbers["one_minus_beta2"] * (grad * grad)
        update = m / numbers["bias_correction1"]
        update *= numbers["lr"]
        if numbers["rectified"]:  # ρₜ > 5: the variance estimate is trusted
            adaptive = np.sqrt(v)
            adaptive += group["eps"]
            np.divide(numbers["bias_correction2_sqrt"], adaptive, out=adaptive)
            update *= adaptive
            update *= numbers["rect"]
        param -= update
