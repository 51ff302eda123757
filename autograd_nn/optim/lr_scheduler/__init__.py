"""Learning-rate schedules with PyTorch's names and rules (``torch.optim.lr_scheduler``).

Call ``scheduler.step()`` once per epoch, after ``optimizer.step()`` (``OneCycleLR``: once
per batch; ``ReduceLROnPlateau``: ``step(metric)``). Constructing a scheduler records each
group's ``initial_lr`` and counts as step 0. Every scheduler has ``get_last_lr()``,
``state_dict()`` and ``load_state_dict()``.
"""

from __future__ import annotations

from ._annealing import CosineAnnealingLR, OneCycleLR
from ._base import LRScheduler
from ._decay import ExponentialLR, LambdaLR, LinearLR, MultiStepLR, StepLR
from ._plateau import ReduceLROnPlateau
from ._sequential import SequentialLR

__all__ = [
    "CosineAnnealingLR", "ExponentialLR", "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR", "OneCycleLR",
    "ReduceLROnPlateau", "SequentialLR", "StepLR",
]  # fmt: skip
