"""Neural-network building blocks with PyTorch's names: ``Module``, ``Parameter``,
``Sequential``, ``ModuleList``/``ModuleDict``/``ParameterList``/``ParameterDict``, ``Linear``,
``Flatten``/``Unflatten``, convolutions, pooling, resampling (``Upsample``, ``PixelShuffle``), activations,
``Dropout``/``Dropout2d``, losses, normalisation (``BatchNorm1d/2d``, ``LayerNorm``, ``GroupNorm``, ``RMSNorm``),
``Embedding``, recurrent layers (``RNN``, ``LSTM``, ``GRU``), ``MultiheadAttention``,
``TransformerEncoderLayer``/``TransformerEncoder``,
``nn.init`` and ``nn.utils`` (gradient clipping).

Built on the Tensor API only; see ``docs/models.md`` and ``docs/sequence_layers.md``.
"""

from __future__ import annotations

from . import init, utils
from .activation import Dropout, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiheadAttention
from .container import Sequential
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .dicts import ModuleDict, ParameterDict
from .dropout import Dropout2d
from .embedding import Embedding
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .lists import ModuleList, ParameterList
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import IncompatibleKeys, Module
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, RMSNorm
from .parameter import Parameter
from .pooling import AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .resample import PixelShuffle, PixelUnshuffle, Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from .rnn import GRU, LSTM, RNN, RNNBase
from .transformer import TransformerEncoder, TransformerEncoderLayer

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool1d", "AvgPool2d", "BCEWithLogitsLoss",
    "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "CrossEntropyLoss",
    "Dropout", "Dropout2d", "Embedding", "Flatten", "GRU", "GroupNorm", "Identity", "IncompatibleKeys", "LSTM",
    "LayerNorm", "LeakyReLU", "Linear", "MSELoss", "MaxPool1d", "MaxPool2d", "Module", "ModuleDict", "ModuleList",
    "MultiheadAttention", "Parameter", "ParameterDict", "ParameterList", "PixelShuffle", "PixelUnshuffle", "RMSNorm",
    "RNN", "RNNBase", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "TransformerEncoder",
    "TransformerEncoderLayer", "Unflatten", "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d", "init", "utils",
]  # fmt: skip
