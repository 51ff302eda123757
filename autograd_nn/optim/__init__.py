"""Optimizers and learning-rate schedules with PyTorch's names and update rules.

Built on the Tensor API only: an optimizer reads ``param.grad`` and updates
``param.data`` in place. See ``docs/models.md``.
"""

from __future__ import annotations

from . import lr_scheduler
from .adam import Adam, AdamW
from .lr_scheduler import CosineAnnealingLR, LRScheduler, StepLR
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "CosineAnnealingLR", "LRScheduler", "Optimizer", "StepLR", "lr_scheduler"]
