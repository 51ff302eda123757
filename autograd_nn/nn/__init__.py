"""Neural-network building blocks with PyTorch's names: ``Module``, ``Parameter``,
``Sequential``, ``ModuleList``/``ModuleDict``/``ParameterList``/``ParameterDict``, ``Linear``,
``Flatten``/``Unflatten``, activations, ``Dropout``, losses, ``nn.init`` and ``nn.utils``
(gradient clipping).

Built on the Tensor API only; see ``docs/models.md``.
"""

from __future__ import annotations

from . import init, utils
from .activation import Dropout, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .container import Sequential
from .dicts import ModuleDict, ParameterDict
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .lists import ModuleList, ParameterList
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import IncompatibleKeys, Module
from .parameter import Parameter

__all__ = [
    "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "Flatten", "Identity", "IncompatibleKeys",
    "LeakyReLU", "Linear", "MSELoss", "Module", "ModuleDict", "ModuleList", "Parameter", "ParameterDict",
    "ParameterList", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "Unflatten", "init", "utils",
]  # fmt: skip
