"""Neural-network building blocks with PyTorch's names: ``Module``, ``Parameter``,
``Sequential``, ``ModuleList``/``ModuleDict``/``ParameterList``/``ParameterDict``, ``Linear``,
``Flatten``/``Unflatten``, activations, ``Dropout``, losses, normalisation
(``BatchNorm1d/2d``, ``LayerNorm``, ``GroupNorm``, ``RMSNorm``), ``Embedding``, recurrent
layers (``RNN``, ``LSTM``, ``GRU``), ``MultiheadAttention``, ``TransformerEncoderLayer``/``TransformerEncoder``,
``nn.init`` and ``nn.utils`` (gradient clipping).

Built on the Tensor API only; see ``docs/models.md`` and ``docs/sequence_layers.md``.
"""

from __future__ import annotations

from . import init, utils
from .activation import Dropout, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiheadAttention
from .container import Sequential
from .dicts import ModuleDict, ParameterDict
from .embedding import Embedding
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .lists import ModuleList, ParameterList
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import IncompatibleKeys, Module
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, RMSNorm
from .parameter import Parameter
from .rnn import GRU, LSTM, RNN, RNNBase
from .transformer import TransformerEncoder, TransformerEncoderLayer

__all__ = [
    "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "CrossEntropyLoss", "Dropout", "Embedding", "Flatten", "GRU",
    "GroupNorm", "Identity", "IncompatibleKeys", "LSTM", "LayerNorm", "LeakyReLU", "Linear", "MSELoss", "Module",
    "ModuleDict", "ModuleList", "MultiheadAttention", "Parameter", "ParameterDict", "ParameterList", "RMSNorm", "RNN",
    "RNNBase", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "TransformerEncoder", "TransformerEncoderLayer", "Unflatten", "init",
    "utils",
]  # fmt: skip
