"""``SequentialLR``: run schedules one after another, switching at milestones, PyTorch's rules."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from typing import Any

from ... import _tracing
from ..optimizer import Optimizer
from ._base import MAKE_OUTSIDE, STEP_OUTSIDE, LRScheduler
from ._plateau import ReduceLROnPlateau


class SequentialLR(LRScheduler):
    """Use ``schedulers[0]`` until epoch ``milestones[0]``, then ``schedulers[1]``, and so on.

    At each milestone the next schedule starts from its own epoch 0 (from its closed form,
    e.g. base_lr for ``ExponentialLR``), as in PyTorch. The schedulers must share
    ``optimizer``; build them first, then this (which undoes their construction steps).

    >>> import numpy as np
    >>> from autograd_nn import nn, optim
    >>> opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    >>> warmup = optim.lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> decay = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    >>> schedule = optim.lr_scheduler.SequentialLR(opt, [warmup, decay], milestones=[3])
    >>> rates = schedule.get_last_lr()
    >>> for epoch in range(5):
    ...     opt.step()
    ...     schedule.step()
    ...     rates += schedule.get_last_lr()
    >>> rates
    [0.25, 0.5, 0.75, 1.0, 0.5, 0.25]
    """

    def __init__(
        self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int], last_epoch: int = -1
    ):
        name = "SequentialLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an Optimizer, got {type(optimizer).__name__}")
        _tracing.refuse(f"making {name}", MAKE_OUTSIDE)
        schedulers, milestones = list(schedulers), list(milestones)
        if not schedulers:
            raise ValueError(f"{name}: expects at least one scheduler, got none")
        for i, scheduler in enumerate(schedulers):
            if not isinstance(scheduler, LRScheduler):
                raise TypeError(f"{name}: schedulers[{i}] is a {type(scheduler).__name__}, not a learning-rate scheduler")
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(
                    f"{name}: schedulers[{i}] is a ReduceLROnPlateau, whose step() needs the metric; it cannot be "
                    "sequenced (step it yourself after the others)"
                )
            if scheduler.optimizer is not optimizer:
                raise ValueError(
                    f"{name}: schedulers[{i}] ({type(scheduler).__name__}) belongs to another optimizer; all must "
                    "share the optimizer given to SequentialLR"
                )
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"{name}: expects one milestone fewer than schedulers, got {len(schedulers)} scheduler(s) and "
                f"{len(milestones)} milestone(s)"
            )
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:  # back to the initial rates ...
            group["lr"] = group["initial_lr"]
        self._undo_construction_steps()  # ... and epochs, then step 0 of the first schedule only
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def _undo_construction_steps(self) -> None:
        """One epoch back on every schedule, those inside nested SequentialLRs too (as PyTorch)."""
        stack: list[Any] = list(self._schedulers)
        while stack:
            scheduler = stack.pop()
            if isinstance(scheduler, SequentialLR):
                stack.extend(scheduler._schedulers)
            else:
                scheduler.last_epoch -= 1

    def step(self) -> None:
        """Advance one epoch on the schedule in charge (starting it afresh at its milestone)."""
        _tracing.refuse("SequentialLR.step()", STEP_OUTSIDE)
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._jump_to(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def _jump_to(self, epoch: int) -> None:
        raise NotImplementedError(
            "SequentialLR: a SequentialLR inside another can only be its first schedule (PyTorch cannot restart one "
            "at a milestone either); list its schedules in the outer SequentialLR instead"
        )

    def get_lr(self) -> list[float]:
        """The rates of the schedule in charge."""
        return self._schedulers[bisect_right(self._milestones, self.last_epoch)].get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        """Its own position and, under ``'_schedulers'``, each schedule's ``state_dict()``."""
        state = {key: value for key, value in vars(self).items() if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore its position and every schedule's."""
        saved = list(state_dict.get("_schedulers", ()))
        if len(saved) != len(self._schedulers):
            raise ValueError(
                f"SequentialLR.load_state_dict: the state has {len(saved)} schedules, this SequentialLR "
                f"{len(self._schedulers)}"
            )
        self._restore(state_dict, skip=frozenset({"_schedulers"}))
        for scheduler, state in zip(self._schedulers, saved):
            scheduler.load_state_dict(state)
