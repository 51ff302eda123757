"""Neural-network building blocks with PyTorch's names: ``Module``, ``Parameter``,
``Sequential``, ``Linear``, activations, ``Dropout``, losses, normalisation
(``BatchNorm1d/2d``, ``LayerNorm``, ``GroupNorm``, ``RMSNorm``), ``Embedding``, recurrent
layers (``RNN``, ``LSTM``, ``GRU``), ``MultiheadAttention``, ``TransformerEncoderLayer``
and ``nn.init``.

Built on the Tensor API only; see ``docs/models.md``.
"""

from __future__ import annotations

from . import init
from .activation import Dropout, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiheadAttention
from .container import Sequential
from .embedding import Embedding
from .linear import Identity, Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import IncompatibleKeys, Module
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, RMSNorm
from .parameter import Parameter
from .rnn import GRU, LSTM, RNN, RNNBase
from .transformer import TransformerEncoderLayer

__all__ = [
    "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "CrossEntropyLoss", "Dropout", "Embedding", "GRU",
    "GroupNorm", "Identity", "IncompatibleKeys", "LSTM", "LayerNorm", "LeakyReLU", "Linear", "MSELoss", "Module",
    "MultiheadAttention", "Parameter", "RMSNorm", "RNN", "RNNBase", "ReLU", "Sequential", "Sigmoid", "Softmax",
    "Tanh", "TransformerEncoderLayer", "init",
]  # fmt: skip
