"""Neural-network building blocks with PyTorch's names: ``Module``, ``Parameter``,
``Sequential``, ``Linear``, activations, ``Dropout``, losses and ``nn.init``.

Built on the Tensor API only; see ``docs/models.md``.
"""

from __future__ import annotations

from . import init
from .activation import Dropout, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .container import Sequential
from .linear import Identity, Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import IncompatibleKeys, Module
from .parameter import Parameter

__all__ = [
    "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "Identity", "IncompatibleKeys",
    "LeakyReLU", "Linear", "MSELoss", "Module", "Parameter", "ReLU", "Sequential", "Sigmoid",
    "Softmax", "Tanh", "init",
]  # fmt: skip
