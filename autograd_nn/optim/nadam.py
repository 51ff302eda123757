"""``NAdam``: Adam with Nesterov momentum and momentum decay, PyTorch's update rule, in place."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check, _check_betas, _gradient, _lerp_, lerp_numbers


class NAdam(Optimizer):
    """NAdam (Dozat), step for step as ``torch.optim.NAdam``.

    With g = ∇θ (negated if ``maximize``), t the step count (from 1) and ψ = momentum_decay::

        θ ← θ (1 − lr · λ)                   if decoupled_weight_decay (NAdamW)
        g ← g + λ θ                          else, if λ = weight_decay ≠ 0
        μₜ = β₁ (1 − ½ · 0.96^(t ψ)),  μₜ₊₁ likewise,  Πₜ = μ₁ ⋯ μₜ
        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,   d = √(v / (1 − β₂ᵗ)) + ε
        θ ← θ − lr (1 − μₜ) / (1 − Πₜ) · g / d − lr μₜ₊₁ / (1 − Πₜ μₜ₊₁) · m / d

    State per parameter: ``step``, ``mu_product`` (Πₜ, a float), ``exp_avg`` (m) and
    ``exp_avg_sq`` (v). NOTE: Πₜ is kept in float64 whatever the parameters' dtype
    (PyTorch keeps it in its default dtype, float32 unless changed).
    """

    _scalar_state = frozenset({"step", "mu_product"})

    _per_step = frozenset({"lr", "betas"})  # followed by a replay, not guarded (see Optimizer)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ):
        _check("NAdam", lr=lr, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = dict(
            lr=lr, betas=_check_betas("NAdam", betas), eps=eps, weight_decay=weight_decay,
            momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
        )  # fmt: skip
        super().__init__(params, defaults)

    def _init_state(self, param: np.ndarray, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = 0
        state["mu_product"] = 1.0
        state["exp_avg"] = np.zeros_like(param)
        state["exp_avg_sq"] = np.zeros_like(param)

    def _numbers(self, group: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        step, lr, decay = state["step"] + 1, group["lr"], group["momentum_decay"]
        beta1, beta2 = group["betas"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
        mu_product = state["mu_product"] * mu
        return {
            "step": step, "mu_product": mu_product, "decay": 1 - lr * group["weight_decay"],
            "bias_correction2": 1 - beta2**step, "grad_coefficient": -lr * (1.0 - mu) / (1.0 - mu_product),
            "momentum_coefficient": -lr * mu_next / (1.0 - mu_product * mu_next), **self._followed(group),
            **lerp_numbers(1 - beta1),
        }  # fmt: skip

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any], numbers: dict[str, Any]
    ) -> None:
        grad = _gradient(param, grad, group, numbers)

        m, v = state["exp_avg"], state["exp_avg_sq"]
        _lerp_(m, grad, numbers["one_minus_beta1"], numbers)
        v *= numbers["beta2"]
        v += numbers["one_minus_beta2"] * (grad * grad)
        denom = v / numbers["bias_correction2"]
        np.sqrt(denom, out=denom)
        denom += group["eps"]
        param += numbers["grad_coefficient"] * (grad / denom)
        param += numbers["momentum_coefficient"] * (m / denom)
