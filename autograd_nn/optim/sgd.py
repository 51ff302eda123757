"""``SGD`` with momentum, dampening, Nesterov and weight decay: PyTorch's update rule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check, _gradient


class SGD(Optimizer):
    """Stochastic gradient descent, step for step as ``torch.optim.SGD``.

    With g = ∇θ (negated if ``maximize``)::

        g ← g + weight_decay · θ                       (if weight_decay ≠ 0)
        b ← g  at the first step,  else  b ← momentum · b + (1 − dampening) · g
        g ← g + momentum · b  if nesterov,  else  g ← b   (if momentum ≠ 0)
        θ ← θ − lr · g

    The momentum buffer ``b`` lives in ``state[param]['momentum_buffer']``.
    """

    _per_step = frozenset({"lr", "momentum"})  # followed by a replay, not guarded (see Optimizer)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ):
        _check("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires momentum > 0 and dampening = 0")
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
            maximize=maximize,
        )  # fmt: skip
        super().__init__(params, defaults)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any], numbers: dict[str, Any]
    ) -> None:
        lr, momentum = numbers["lr"], numbers["momentum"]
        # `direction` becomes our own array as soon as anything is combined into it, so the
        # in-place steps below never touch param.grad.
        direction = _gradient(param, grad, group, numbers)
        if group["momentum"] != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = direction.astype(param.dtype, copy=True)
            else:
                buffer *= momentum
                buffer += (1 - group["dampening"]) * direction
            if group["nesterov"]:
                direction = direction + momentum * buffer
            else:
                direction = buffer
        param -= lr * direction
