"""Optimizers and learning-rate schedules with PyTorch's names and update rules.

Built on the Tensor API only: an optimizer reads ``param.grad`` and updates
``param.data`` in place. See ``docs/models.md``.
"""

from __future__ import annotations

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "SGD", "Adagrad", "Adam", "AdamW", "Adamax", "CosineAnnealingLR", "ExponentialLR", "LRScheduler", "LambdaLR",
    "LinearLR", "MultiStepLR", "NAdam", "OneCycleLR", "Optimizer", "RAdam", "RMSprop", "ReduceLROnPlateau",
    "SequentialLR", "StepLR", "lr_scheduler",
]  # fmt: skip
