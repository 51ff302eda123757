"""``Adam`` and ``AdamW``: PyTorch's update rules, in place on the parameter arrays."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check, _check_betas, _gradient


class Adam(Optimizer):
    """Adam, step for step as ``torch.optim.Adam``.

    With g = ∇θ (negated if ``maximize``) and t the step count (from 1)::

        θ ← θ (1 − lr · λ)                  if decoupled_weight_decay (AdamW)
        g ← g + λ θ                         else, if λ = weight_decay ≠ 0
        m ← β₁ m + (1 − β₁) g
        v ← β₂ v + (1 − β₂) g²
        v̂ ← max(v̂, v) if amsgrad, else v
        θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v̂ / √(1 − β₂ᵗ) + ε)

    State per parameter: ``step`` (int), ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with
    amsgrad, ``max_exp_avg_sq`` (v̂).
    """

    _per_step = frozenset({"lr", "betas"})  # followed by a replay, not guarded (see Optimizer)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ):
        name = type(self).__name__
        _check(name, lr=lr, eps=eps, weight_decay=weight_decay)
        defaults = dict(
            lr=lr, betas=_check_betas(name, betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )  # fmt: skip
        super().__init__(params, defaults)

    def _init_state(self, param: np.ndarray, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = 0
        state["exp_avg"] = np.zeros_like(param)
        state["exp_avg_sq"] = np.zeros_like(param)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(param)

    def _numbers(self, group: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        step, lr = state["step"] + 1, group["lr"]
        beta1, beta2 = group["betas"]
        return {
            "step": step, "decay": 1 - lr * group["weight_decay"], "step_size": lr / (1 - beta1**step),
            "bias_correction2_sqrt": math.sqrt(1 - beta2**step), **self._followed(group),
        }  # fmt: skip

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any], numbers: dict[str, Any]
    ) -> None:
        eps = group["eps"]
        grad = _gradient(param, grad, group, numbers)

        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= numbers["beta1"]
        m += numbers["one_minus_beta1"] * grad
        v *= numbers["beta2"]
        v += numbers["one_minus_beta2"] * (grad * grad)
        if group["amsgrad"]:
            second = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        else:
            second = v

        # denom = √v̂ / √(1 − β₂ᵗ) + ε, then m / denom, reusing one scratch array.
        scratch = np.sqrt(second)
        scratch /= numbers["bias_correction2_sqrt"]
        scratch += eps
        np.divide(m, scratch, out=scratch)
        scratch *= numbers["step_size"]
        param -= scratch


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``:
    θ ← θ (1 − lr · weight_decay) before the Adam step; ``weight_decay`` defaults to 0.01."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True)
