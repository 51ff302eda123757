"""``LRScheduler``, the base of every schedule: it sets ``group['lr']`` for each parameter group.

Constructing a scheduler records each group's ``initial_lr`` and counts as step 0 (it may
already change the rate, e.g. ``LinearLR``). Call ``scheduler.step()`` once per epoch (or
per batch, for ``OneCycleLR``), after ``optimizer.step()``, and outside a compiled step
(``autograd_nn.compile``): a replay re-reads the learning rate on every call, but it would
not step a scheduler, so a recording that steps (or makes) one is not replayed.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from ... import _tracing
from ..optimizer import Optimizer

# What torch's schedulers keep for their own bookkeeping: present in a torch state_dict,
# meaningless here, so a torch scheduler's state loads without them.
_TORCH_BOOKKEEPING = frozenset({"_get_lr_called_within_step", "_is_initial", "verbose"})

# Why a compiled step that steps or makes a scheduler runs eagerly (autograd_nn.compile): a replay
# runs the recorded numpy calls and recomputes the optimizer's numbers from the current rate, but
# it would not run the scheduler's Python, so the schedule would silently stop advancing.
STEP_OUTSIDE = (
    "a replay would not run it, and the learning rate would stop following the schedule; call scheduler.step() "
    "outside the compiled step, between calls (a replay re-reads the learning rate on every call)"
)
MAKE_OUTSIDE = (
    "a replay would not run it (making a scheduler sets the learning rate); make the scheduler, and call "
    "scheduler.step(), outside the compiled step"
)


class LRScheduler:
    """Base class: ``step()`` advances ``last_epoch`` and writes ``get_lr()`` into the groups.

    A subclass defines ``get_lr()`` (the rates for epoch ``last_epoch``, often from the
    current ones); it may define ``_get_closed_form_lr()`` (from ``base_lrs`` alone), which
    ``SequentialLR`` uses when it hands over to the schedule at a milestone.
    """

    _is_initial = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        _tracing.refuse(f"making {type(self).__name__}", MAKE_OUTSIDE)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr'; resuming with "
                        "last_epoch ≥ 0 needs the optimizer's state loaded first"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Step 0: what construction does (and ``SequentialLR`` when it starts a schedule)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            del self._is_initial  # back to the class's False, and out of state_dict()

    def get_lr(self) -> list[float]:
        """The learning rate of each parameter group for the current epoch."""
        raise NotImplementedError(f"{type(self).__name__}: a scheduler subclass must define get_lr()")

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` set, one per group."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one epoch and write the new learning rates into the optimizer."""
        self._step_count += 1
        self.last_epoch += 1
        self._set_lrs(self.get_lr())

    def _jump_to(self, epoch: int) -> None:
        """Set ``last_epoch`` to ``epoch`` and its rates, from the closed form if there is one
        (PyTorch's ``_update_lr(epoch)``, which ``SequentialLR`` calls at a milestone)."""
        self.last_epoch = epoch
        closed_form = getattr(self, "_get_closed_form_lr", None)
        self._set_lrs(closed_form() if closed_form is not None else self.get_lr())

    def _set_lrs(self, lrs: list[float]) -> None:
        # (every schedule's rates pass here, a subclass's own step() too: one refusal for all of them)
        _tracing.refuse(f"{type(self).__name__}.step() (setting the learning rate)", STEP_OUTSIDE)
        groups = self.optimizer.param_groups
        if len(lrs) != len(groups):
            raise RuntimeError(
                f"{type(self).__name__}: {len(lrs)} learning rate(s) for {len(groups)} parameter group(s); was a "
                "group added to the optimizer after the scheduler was made?"
            )
        for group, lr in zip(groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer: counters, base and last learning rates, settings."""
        return {key: value for key, value in vars(self).items() if key != "optimizer"}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore the scheduler's position from ``state_dict()`` (ours, or torch's for the same schedule)."""
        self._restore(state_dict)

    def _restore(self, state_dict: Mapping[str, Any], skip: frozenset[str] = frozenset()) -> None:
        """Set the attributes saved in ``state_dict``, but those in ``skip`` (which the caller restores)."""
        state = {key: value for key, value in state_dict.items() if key not in _TORCH_BOOKKEEPING | skip}
        expected = set(self.state_dict()) - skip
        unknown = sorted(set(state) - expected)
        if unknown:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: unexpected key {unknown[0]!r} "
                f"(is this the state of another scheduler? expected keys: {sorted(expected)})"
            )
        self.__dict__.update({key: list(v) if isinstance(v, tuple) else v for key, v in state.items()})


def positive_int(owner: str, name: str, value: Any) -> int:
    """``value`` if it is an int > 0, else a ValueError naming ``owner`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


def per_group(owner: str, name: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """One ``value`` per parameter group: a list or tuple of that length, or one value for all."""
    groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(f"{owner}: expected {groups} values for {name} (one per parameter group), got {len(value)}")
        return list(value)
    return [value] * groups
