"""Schedules that multiply the rate by factors: ``StepLR``, ``MultiStepLR``, ``ExponentialLR``,
``LinearLR`` and ``LambdaLR``, with PyTorch's rules (each rate computed from the current one,
so they compose with changes made to ``group['lr']``)."""

from __future__ import annotations

import numbers
import types
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..optimizer import Optimizer
from ._base import LRScheduler, positive_int


def _current(scheduler: LRScheduler) -> list[float]:
    return [group["lr"] for group in scheduler.optimizer.param_groups]


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs:
    lr = base_lr · gamma^⌊epoch / step_size⌋."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        self.step_size = positive_int("StepLR", "step_size", step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """Multiply the rates by ``gamma`` every ``step_size`` epochs: lr₀ · gamma^⌊epoch / step_size⌋."""
        lrs = _current(self)
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return lrs
        return [lr * self.gamma for lr in lrs]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each epoch in ``milestones``:
    lr = base_lr · gamma^(number of milestones ≤ epoch). A milestone listed twice decays twice."""

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1):
        milestones = list(milestones)
        if not all(isinstance(m, numbers.Integral) and not isinstance(m, bool) for m in milestones):
            raise ValueError(f"MultiStepLR: milestones must be epochs (ints), got {milestones!r}")
        self.milestones = Counter(int(m) for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """The current rates, times ``gamma`` (per time listed) when this epoch is a milestone."""
        if self.last_epoch not in self.milestones:
            return _current(self)
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in _current(self)]

    def _get_closed_form_lr(self) -> list[float]:
        # counts from items(): a state_dict read back from a checkpoint holds a plain dict
        milestones = sorted(m for m, count in self.milestones.items() for _ in range(count))
        return [base * self.gamma ** bisect_right(milestones, self.last_epoch) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch: lr = base_lr · gamma^epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """The current rates times ``gamma`` (unchanged at construction)."""
        if self._is_initial:
            return _current(self)
        return [lr * self.gamma for lr in _current(self)]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the learning rate by a factor going linearly from ``start_factor`` to ``end_factor``
    over ``total_iters`` epochs, then keep it: lr = base_lr · (s + (e − s) · min(epoch, T) / T).

    A warm-up: ``LinearLR(opt, start_factor=0.1, total_iters=5)`` starts at a tenth of the rate.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ):
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor!r}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor!r}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = positive_int("LinearLR", "total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """The current rates times the ratio of this epoch's factor to the last one's."""
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in _current(self)]
        if self._is_initial or self.last_epoch > self.total_iters:
            return _current(self)
        change = self.end_factor - self.start_factor
        ratio = 1.0 + change / (self.total_iters * self.start_factor + (self.last_epoch - 1) * change)
        return [lr * ratio for lr in _current(self)]

    def _get_closed_form_lr(self) -> list[float]:
        progress = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * (self.start_factor + (self.end_factor - self.start_factor) * progress) for base in self.base_lrs]


class LambdaLR(LRScheduler):
    """lr = base_lr · lr_lambda(epoch), with one function for all groups or one per group.

    ``state_dict()`` cannot hold functions: as in PyTorch it keeps ``None`` for a function
    or lambda and the attributes (``__dict__``) of a callable object, which
    ``load_state_dict`` puts back into this scheduler's objects.

    >>> import numpy as np
    >>> from autograd_nn import nn, optim
    >>> opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    >>> warmup = optim.lr_scheduler.LambdaLR(opt, lambda epoch: min(1.0, (epoch + 1) / 4))
    >>> rates = warmup.get_last_lr()
    >>> for epoch in range(4):
    ...     opt.step()
    ...     warmup.step()
    ...     rates += warmup.get_last_lr()
    >>> rates
    [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ):
        self.optimizer = optimizer  # read by the checks below, before the base class sets it
        groups = len(getattr(optimizer, "param_groups", ()))
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(f"LambdaLR: expected {groups} lr_lambdas (one per parameter group), got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"LambdaLR: lr_lambda must be a function of the epoch, got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """Each group's ``initial_lr`` times its function of ``last_epoch``."""
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state; functions are saved as ``None``, callable objects as their ``__dict__``."""
        state = {key: value for key, value in vars(self).items() if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else dict(vars(fn)) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore the position, and the attributes of callable-object ``lr_lambdas``."""
        saved = state_dict.get("lr_lambdas", [None] * len(self.lr_lambdas))
        if len(saved) != len(self.lr_lambdas):
            raise ValueError(
                f"LambdaLR.load_state_dict: {len(saved)} lr_lambdas saved, this scheduler has {len(self.lr_lambdas)}"
            )
        self._restore(state_dict, skip=frozenset({"lr_lambdas"}))
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                vars(fn).update(attributes)
