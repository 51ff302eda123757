"""The layer table, continued: the activation modules and the losses of "Op breadth", one
line each (see ``_layers``).

Each is a thin module over one function, so its constructor's arguments are its settings:
read by the constructor's own parameter names from the module's attributes, which have
PyTorch's names in both libraries. A tensor setting (a loss's class ``weight``,
``pos_weight``) is handed over as the other library's tensor; it is a buffer in both, so
``state_dict`` carries it too.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import nn
from ._layers import LayerBridge, register_layer

#: the bridges registered here, in order
FUNCTIONS: list[LayerBridge] = []

_ACTIVATIONS = (
    "CELU", "ELU", "GELU", "GLU", "Hardsigmoid", "Hardswish", "Hardtanh", "LogSigmoid", "LogSoftmax", "Mish",
    "PReLU", "ReLU6", "SELU", "SiLU", "Softmin", "Softplus", "Softsign",
)  # fmt: skip
_LOSSES = (
    "BCELoss", "BCEWithLogitsLoss", "CosineEmbeddingLoss", "CrossEntropyLoss", "CosineSimilarity", "HuberLoss", "KLDivLoss", "L1Loss", "MarginRankingLoss",
    "NLLLoss", "PairwiseDistance", "SmoothL1Loss", "TripletMarginLoss",
)  # fmt: skip


def _handed_over(value: Any) -> Any:
    """A tensor setting as the other library's tensor; anything else as it is."""
    if hasattr(value, "detach") and hasattr(value, "numpy") and not hasattr(value, "__autograd_tensor__"):
        return np.array(value.detach().numpy())  # torch's tensor -> an array for our constructor
    if hasattr(value, "__autograd_tensor__"):
        import torch

        return torch.from_numpy(np.array(value.data))
    return value


# A constructor argument both libraries keep under another attribute name.
_STORED_AS = {("PairwiseDistance", "p"): "norm"}


def _settings(ours: type) -> Callable[[Any], dict[str, Any]]:
    """The keyword arguments of ``ours``: its constructor's parameters, read from a module of either library."""
    names = [
        p.name for p in inspect.signature(ours.__init__).parameters.values()
        if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]  # fmt: skip

    stored = {name: _STORED_AS.get((ours.__name__, name), name) for name in names}

    def arguments(module: Any) -> dict[str, Any]:
        return {name: _handed_over(getattr(module, attr)) for name, attr in stored.items() if hasattr(module, attr)}

    return arguments


for _name in _ACTIVATIONS + _LOSSES:
    _ours = getattr(nn, _name)
    FUNCTIONS.append(register_layer(_ours, _name, _settings(_ours)))
