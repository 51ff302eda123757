"""The layer table: which autograd_nn module is which ``torch.nn`` module, and how to build one
from the other. One ``register_layer`` line per layer type; weights need no code, since both
libraries name and shape them alike (``weight`` is (out, in) in both), so a converted
module's ``state_dict`` loads into the other strictly.

A layer opts in with its constructor arguments, read by attribute name from a module of
either library (the attributes have PyTorch's names on both sides)::

    register_layer(nn.Conv2d, "Conv2d", lambda m: {"in_channels": m.in_channels, ...})

Containers are built from their named entries instead: the converted sub-modules
(``Sequential``, ``ModuleList``, ``ModuleDict``), or, for ``ParameterList`` and
``ParameterDict``, fresh parameters of the same shapes and dtypes, which the weights then
fill like any others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    ``holds_parameters``: built from its own parameters (``ParameterList``), in order;
    ``build(cls, entries)`` makes such a container of class ``cls`` from its entries by
    name (an ``OrderedDict``): ``cls(entries)`` unless given (the lists take
    ``cls(entries.values())``).
    ``whole``: builds its own sub-modules from its arguments (``MultiheadAttention``'s
    ``out_proj``, a ``TransformerEncoderLayer``'s linears and norms), so they come with it
    and are not converted one by one (their weights are copied all the same).
    """

    ours: type
    theirs: str
    arguments: Callable[[Any], dict[str, Any]]
    refuse: Callable[[Any], str | None]
    container: bool = False
    holds_parameters: bool = False
    build: Callable[[type, Mapping[str, Any]], Any] | None = None
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
    holds_parameters: bool = False,
    build: Callable[[type, Mapping[str, Any]], Any] | None = None,
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
    if container and holds_parameters:
        raise ValueError(f"register_layer: {ours.__name__} is built from sub-modules or from parameters, not both")
    bridge = LayerBridge(ours, theirs, arguments, refuse, container, holds_parameters, build, whole)
    LAYERS.append(bridge)
    return bridge


def _inplace(module: Any) -> dict[str, Any]:
    return {"inplace": bool(module.inplace)}


def _listed(cls: type, entries: Mapping[str, Any]) -> Any:
    return cls(entries.values())  # a list is built from its entries alone; their names are '0', '1', ...


def _only_parameters(module: Any) -> str | None:
    """torch's ParameterList/Dict may hold other objects too; autograd_nn's hold parameters only."""
    if len(list(module.parameters(recurse=False))) != len(module):
        return "entries that are not parameters (autograd_nn's holds nn.Parameter entries only)"
    return None


register_layer(nn.Sequential, "Sequential", container=True)
register_layer(nn.ModuleList, "ModuleList", container=True, build=_listed)
register_layer(nn.ModuleDict, "ModuleDict", container=True)
register_layer(nn.ParameterList, "ParameterList", refuse=_only_parameters, holds_parameters=True, build=_listed)
register_layer(nn.ParameterDict, "ParameterDict", refuse=_only_parameters, holds_parameters=True)
register_layer(nn.Flatten, "Flatten", lambda m: {"start_dim": m.start_dim, "end_dim": m.end_dim})
register_layer(nn.Unflatten, "Unflatten", lambda m: {"dim": m.dim, "unflattened_size": tuple(m.unflattened_size)})
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
