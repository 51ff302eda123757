"""Moving models to and from PyTorch: ``from_torch(module)`` and ``to_torch(model)``.

Each rebuilds a module tree in the other library from one table of the layer types both
have (``LAYERS``; add one with ``register_layer``) and copies the weights by their
``state_dict`` names, which the two libraries share. PyTorch is imported only when one of
them is called.
"""

from __future__ import annotations

from . import _functions, _zoo  # noqa: F401 - register the activations and losses; conv, norm, recurrent, attention
from ._convert import from_torch, to_torch
from ._layers import LAYERS, LayerBridge, register_layer

__all__ = ["LAYERS", "LayerBridge", "from_torch", "register_layer", "to_torch"]
