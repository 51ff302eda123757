"""Neural-network building blocks with PyTorch's names: ``Module``, ``Parameter``,
``Sequential``, ``ModuleList``/``ModuleDict``/``ParameterList``/``ParameterDict``, ``Linear``,
``Flatten``/``Unflatten``, activations, ``Dropout``, losses (with PyTorch's buffers), ``nn.init``
and ``nn.utils`` (gradient clipping).

Built on the Tensor API only; see ``docs/models.md``.
"""

from __future__ import annotations

from . import init, utils
from .activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Dropout,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
)  # fmt: skip
from .container import Sequential
from .dicts import ModuleDict, ParameterDict
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .lists import ModuleList, ParameterList
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CosineSimilarity,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    NLLLoss,
    PairwiseDistance,
    SmoothL1Loss,
    TripletMarginLoss,
)
from .module import IncompatibleKeys, Module
from .parameter import Parameter

__all__ = [
    "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "Flatten", "Identity", "IncompatibleKeys",
    "LeakyReLU", "Linear", "MSELoss", "Module", "ModuleDict", "ModuleList", "Parameter", "ParameterDict",
    "ParameterList", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "Unflatten", "init", "utils",
    # more activations
    "CELU", "ELU", "GELU", "GLU", "Hardsigmoid", "Hardswish", "Hardtanh", "LogSigmoid", "LogSoftmax", "Mish", "PReLU",
    "ReLU6", "SELU", "SiLU", "Softmin", "Softplus", "Softsign",
    # more losses, similarities and distances
    "BCELoss", "CosineEmbeddingLoss", "CosineSimilarity", "HuberLoss", "KLDivLoss", "L1Loss", "MarginRankingLoss",
    "NLLLoss", "PairwiseDistance", "SmoothL1Loss", "TripletMarginLoss",
]  # fmt: skip
