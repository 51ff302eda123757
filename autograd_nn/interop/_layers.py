"""The layer table: which autograd_nn module is which ``torch.nn`` module, and how to build one
from the other. One ``register_layer`` line per layer type; weights need no code, since both
libraries name and shape them alike (``weight`` is (out, in) in both), so a converted
module's ``state_dict`` loads into the other strictly.

A layer opts in with its constructor arguments, read by attribute name from a module of
either library (the attributes have PyTorch's names on both sides)::

    register_layer(nn.Conv2d, "Conv2d", lambda m: {"in_channels": m.in_channels, ...})
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import nn


@dataclass(frozen=True)
class LayerBridge:
    """One layer type both libraries have.

    ``ours`` is the autograd_nn class, ``theirs`` the name of the ``torch.nn`` class (read
    from ``torch.nn`` when torch is imported, never here); ``arguments(module)`` gives the
    constructor's keyword arguments from a module of either library; ``refuse(module)``
    says why a torch module cannot be converted (a setting autograd_nn lacks), or None;
    ``container``: built from its converted children (``Sequential``), in order;
    ``whole``: builds its own sub-modules from its arguments (``MultiheadAttention``'s
    ``out_proj``, a ``TransformerEncoderLayer``'s linears and norms), so they come with it
    and are not converted one by one (their weights are copied all the same).
    """

    ours: type
    theirs: str
    arguments: Callable[[Any], dict[str, Any]]
    refuse: Callable[[Any], str | None]
    container: bool = False
    whole: bool = False


#: every registered layer, in the order registered
LAYERS: list[LayerBridge] = []


def _none(module: Any) -> dict[str, Any]:
    return {}


def _accepts(module: Any) -> str | None:
    return None


def register_layer(
    ours: type,
    theirs: str,
    arguments: Callable[[Any], dict[str, Any]] = _none,
    *,
    refuse: Callable[[Any], str | None] = _accepts,
    container: bool = False,
    whole: bool = False,
) -> LayerBridge:
    """Declare that ``ours`` (an ``nn.Module`` class) is ``torch.nn.<theirs>``; see ``LayerBridge``.

    Parameters (and their dtype and ``requires_grad``), buffers and the training flag are
    carried over by ``from_torch``/``to_torch`` for every layer; ``arguments`` need only
    name what the constructor takes besides ``dtype``.
    """
    if not (isinstance(ours, type) and issubclass(ours, nn.Module)):
        raise TypeError(f"register_layer: ours must be an nn.Module class, got {ours!r}")
    if not (isinstance(theirs, str) and theirs.isidentifier()):
        raise TypeError(
            f"register_layer: theirs must be the name of a torch.nn class, such as 'Linear', got {theirs!r}"
        )
    for bridge in LAYERS:
        if bridge.ours is ours or bridge.theirs == theirs:
            raise ValueError(f"register_layer: {ours.__name__} or torch.nn.{theirs} is registered already")
    bridge = LayerBridge(ours, theirs, arguments, refuse, container, whole)
    LAYERS.append(bridge)
    return bridge


def _inplace(module: Any) -> dict[str, Any]:
    return {"inplace": bool(module.inplace)}


def _plain_loss(*defaults: tuple[str, Any]) -> Callable[[Any], str | None]:
    """A loss autograd_nn has only with these settings at PyTorch's defaults (``weight=None``, ...)."""

    def refuse(module: Any) -> str | None:
        for name, default in defaults:
            value = getattr(module, name, default)
            if not (value is default or (not hasattr(value, "shape") and value == default)):
                return f"{name}={value!r} (autograd_nn's {type(module).__name__} has only {name}={default!r})"
        return None

    return refuse


register_layer(nn.Sequential, "Sequential", container=True)
register_layer(nn.Linear, "Linear", lambda m: {
    "in_features": m.in_features, "out_features": m.out_features, "bias": m.bias is not None,
})  # fmt: skip
register_layer(nn.Identity, "Identity")
register_layer(nn.Sigmoid, "Sigmoid")
register_layer(nn.Tanh, "Tanh")
register_layer(nn.ReLU, "ReLU", _inplace)
register_layer(nn.LeakyReLU, "LeakyReLU", lambda m: {"negative_slope": m.negative_slope, "inplace": bool(m.inplace)})
register_layer(
    nn.Softmax, "Softmax", lambda m: {"dim": m.dim},
    refuse=lambda m: "dim=None (PyTorch's legacy implicit dim); give dim" if m.dim is None else None,
)  # fmt: skip
register_layer(nn.Dropout, "Dropout", lambda m: {"p": m.p, "inplace": bool(m.inplace)})
register_layer(nn.MSELoss, "MSELoss", lambda m: {"reduction": m.reduction})
register_layer(
    nn.CrossEntropyLoss, "CrossEntropyLoss", lambda m: {"reduction": m.reduction},
    refuse=_plain_loss(("weight", None), ("ignore_index", -100), ("label_smoothing", 0.0)),
)  # fmt: skip
register_layer(
    nn.BCEWithLogitsLoss, "BCEWithLogitsLoss", lambda m: {"reduction": m.reduction},
    refuse=_plain_loss(("weight", None), ("pos_weight", None)),
)  # fmt: skip
