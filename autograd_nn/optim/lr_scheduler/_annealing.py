"""Annealing schedules: ``CosineAnnealingLR`` and ``OneCycleLR``, with PyTorch's rules."""

from __future__ import annotations

import math
import numbers
from typing import Any

from ..optimizer import Optimizer
from ._base import LRScheduler, per_group, positive_int


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from base_lr down to ``eta_min`` over ``T_max`` epochs:
    lr = eta_min + (base_lr − eta_min) · (1 + cos(π · epoch / T_max)) / 2.

    Computed recursively from the current lr, as PyTorch does (so it composes with
    changes made to ``group['lr']``); past ``T_max`` it rises again with period 2·T_max.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        self.T_max = positive_int("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """The cosine schedule between ``eta_min`` and each group's initial rate."""
        groups = self.optimizer.param_groups
        epoch, period, low = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and epoch > 0:  # resumed with last_epoch: use the closed form
            return self._get_closed_form_lr()
        if (epoch - 1 - period) % (2 * period) == 0:
            return [
                group["lr"] + (base - low) * (1 - math.cos(math.pi / period)) / 2
                for base, group in zip(self.base_lrs, groups)
            ]
        ratio = (1 + math.cos(math.pi * epoch / period)) / (1 + math.cos(math.pi * (epoch - 1) / period))
        return [ratio * (group["lr"] - low) + low for group in groups]

    def _get_closed_form_lr(self) -> list[float]:
        low = self.eta_min
        return [low + (base - low) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2 for base in self.base_lrs]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin): the rate rises from max_lr / div_factor to ``max_lr``
    over the first ``pct_start`` of ``total_steps``, then falls to
    max_lr / (div_factor · final_div_factor); momentum (or Adam's β₁) moves the opposite way
    between ``max_momentum`` and ``base_momentum``. Step it after every batch.

    ``total_steps`` or both ``epochs`` and ``steps_per_epoch`` give the length;
    ``anneal_strategy`` is ``'cos'`` or ``'linear'``; ``three_phase`` adds a phase back down to
    the initial rate before the final fall. ``max_lr``, ``base_momentum`` and ``max_momentum``
    may be lists, one value per parameter group. Stepping past ``total_steps`` is an error.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ):
        name = "OneCycleLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if total_steps is not None:
            self.total_steps = positive_int(name, "total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = positive_int(name, "epochs", epochs) * positive_int(name, "steps_per_epoch", steps_per_epoch)
        else:
            raise ValueError(f"{name}: give total_steps, or both epochs and steps_per_epoch")
        if isinstance(pct_start, bool) or not isinstance(pct_start, numbers.Real) or not 0 <= pct_start <= 1:
            raise ValueError(f"{name}: pct_start must be a number in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{name}: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy
        self._schedule_phases = self._phases(float(pct_start), three_phase)

        max_lrs = per_group(name, "max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(
                    f"{name}: cycle_momentum=True needs an optimizer with momentum or betas (SGD, Adam, ...), "
                    f"not {type(optimizer).__name__}; pass cycle_momentum=False"
                )
            self.use_beta1 = "betas" in optimizer.defaults
            highs = per_group(name, "max_momentum", optimizer, max_momentum)
            lows = per_group(name, "base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for group, high, low in zip(optimizer.param_groups, highs, lows):
                    self._set_momentum(group, high)
                    group["max_momentum"] = high
                    group["base_momentum"] = low
        super().__init__(optimizer, last_epoch)

    def _phases(self, pct_start: float, three_phase: bool) -> list[dict[str, Any]]:
        """Each phase: the step it ends at, and the group entries it moves between."""
        rise = float(pct_start * self.total_steps) - 1
        if three_phase:
            ends = [rise, float(2 * pct_start * self.total_steps) - 2, self.total_steps - 1]
            moves = [("initial_lr", "max_lr", "max_momentum", "base_momentum"),
                     ("max_lr", "initial_lr", "base_momentum", "max_momentum"),
                     ("initial_lr", "min_lr", "max_momentum", "max_momentum")]  # fmt: skip
        else:
            ends = [rise, self.total_steps - 1]
            moves = [("initial_lr", "max_lr", "max_momentum", "base_momentum"),
                     ("max_lr", "min_lr", "base_momentum", "max_momentum")]  # fmt: skip
        keys = ("start_lr", "end_lr", "start_momentum", "end_momentum")
        return [{"end_step": end, **dict(zip(keys, move))} for end, move in zip(ends, moves)]

    def _set_momentum(self, group: dict[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        """The rate of each group at step ``last_epoch`` (and, with cycle_momentum, its momentum)."""
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times; the schedule has total_steps={self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step <= end_step or i == len(self._schedule_phases) - 1:
                    if end_step == start_step:  # PyTorch divides by zero here: say why instead
                        raise ValueError(
                            f"OneCycleLR: step {step} falls in phase {i} of the schedule, which has no steps "
                            f"(it ends where it starts, at {end_step:g}); choose pct_start and total_steps so that "
                            "every phase has a step"
                        )
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        momentum = self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                        self._set_momentum(group, momentum)
                    break
                start_step = end_step
        return lrs
