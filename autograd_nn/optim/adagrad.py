"""``Adagrad``: PyTorch's update rule (with learning-rate decay), in place."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check, _gradient


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), step for step as ``torch.optim.Adagrad``.

    With g = ∇θ (negated if ``maximize``) and t the step count (from 1)::

        g ← g + λ θ                          if λ = weight_decay ≠ 0
        η ← lr / (1 + (t − 1) · lr_decay)
        G ← G + g²                           (G starts at initial_accumulator_value)
        θ ← θ − η · g / (√G + ε)

    State per parameter: ``step`` and ``sum`` (G). As in PyTorch, the state of the
    parameters given to the constructor exists from the start (``sum`` filled with
    ``initial_accumulator_value``), so ``state_dict()`` has it before the first step.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ):
        _check(
            "Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, eps=eps,
        )  # fmt: skip
        defaults = dict(
            lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, maximize=maximize,
        )  # fmt: skip
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                self._init_state(param.data, group, self.state.setdefault(param, {}))

    def _init_state(self, param: np.ndarray, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = 0
        state["sum"] = np.full_like(param, group["initial_accumulator_value"])

    def _numbers(self, group: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        step = state["step"] + 1
        return {"step": step, "step_size": group["lr"] / (1 + (step - 1) * group["lr_decay"])}

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any], numbers: dict[str, Any]
    ) -> None:
        grad = _gradient(param, grad, group, numbers)

        accumulator = state["sum"]
        accumulator += grad * grad
        scratch = np.sqrt(accumulator)
        scratch += group["eps"]
        np.divide(grad, scratch, out=scratch)
        scratch *= numbers["step_size"]
        param -= scratch
