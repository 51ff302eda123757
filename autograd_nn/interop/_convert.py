"""``from_torch`` and ``to_torch``: a module tree rebuilt in the other library, weights included.

Both walk the tree without recursion (children before the container that holds them),
build each module from the layer table (``_layers.LAYERS``), then copy every parameter
and buffer by its ``state_dict`` name — strictly, so a name or shape that differs is an
error, never a silently different model — along with ``requires_grad`` and training mode.
A module used twice stays one shared module.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from typing import Any

import numpy as np

from .. import nn
from ._layers import LAYERS, LayerBridge


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError("from_torch / to_torch need PyTorch: pip install torch") from None
    return torch


def _unknown(module: Any, known: list[str], side: str) -> TypeError:
    return TypeError(
        f"{side}: no converter for {type(module).__module__}.{type(module).__qualname__}; the layers with a "
        f"converter are {', '.join(known)}. Register yours with autograd_nn.interop.register_layer(OurClass, 'TorchName', "
        "arguments) (see the docs page 'Moving to PyTorch and ONNX Runtime')"
    )


def _rebuild(root: Any, bridge_of: Any, make: Any, side: str) -> dict[int, Any]:
    """Every module under ``root`` rebuilt by ``make(bridge, module, children)``, by id."""
    built: dict[int, Any] = {}
    for module in _children_first(root, lambda m: getattr(bridge_of(m), "whole", False)):
        bridge = bridge_of(module)
        if bridge is None:
            raise _unknown(module, [b.theirs for b in LAYERS], side)
        if bridge.whole:
            built[id(module)] = make(bridge, module, OrderedDict())
            continue
        children = list(module.named_children())
        if children and not bridge.container:
            raise TypeError(f"{side}: {type(module).__name__} holds sub-modules, which its converter does not carry")
        built[id(module)] = make(bridge, module, OrderedDict((name, built[id(c)]) for name, c in children))
    return built


def _build(bridge: LayerBridge, cls: type, module: Any, children: OrderedDict, placeholder: Any) -> Any:
    """A container of class ``cls``: from its converted ``children``, or from a placeholder
    (same shape and dtype) for each of ``module``'s own parameters."""
    entries = children
    if bridge.holds_parameters:
        entries = OrderedDict((name, placeholder(p)) for name, p in module.named_parameters(recurse=False))
    return cls(entries) if bridge.build is None else bridge.build(cls, entries)


def _children_first(root: Any, whole: Any) -> list[Any]:
    """Every module under ``root`` once, each after all of its children (a shared module
    before every container that holds it), found with a stack; the children of a module
    that is converted ``whole(module)`` are not visited."""
    order: list[Any] = []
    done: set[int] = set()
    open_: set[int] = set()  # expanded, children not done yet: the path from the root
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        module, expanded = stack.pop()
        if id(module) in done:
            continue
        if expanded:
            done.add(id(module))
            order.append(module)
            continue
        if id(module) in open_:  # only its own descendants are popped while it is open
            raise RuntimeError(f"a {type(module).__name__} contains itself (a module cycle)")
        open_.add(id(module))
        stack.append((module, True))
        if not whole(module):
            stack.extend(
                (child, False) for _, child in reversed(list(module.named_children())) if id(child) not in done
            )
    return order


def _finish(source: Any, target: Any, arrays: dict[str, Any]) -> None:
    """Copy the state strictly, then ``requires_grad`` of each parameter and each module's mode."""
    target.load_state_dict(arrays, strict=True)
    targets = dict(target.named_parameters())
    for name, param in source.named_parameters():
        targets[name].requires_grad_(bool(param.requires_grad))
    modes = dict(target.named_modules())
    for name, module in source.named_modules():
        modes[name].training = bool(module.training)


def _takes_dtype(cls: type) -> bool:
    """Whether ``cls(...)`` takes ``dtype=`` (a ``TransformerEncoder`` takes a built layer instead;
    torch's ``RNN`` takes ``**kwargs``)."""
    parameters = inspect.signature(cls).parameters
    return "dtype" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def to_torch(model: nn.Module) -> Any:
    """The ``torch.nn`` module equivalent to ``model`` (an autograd_nn module), with its
    weights copied (same dtypes), ``requires_grad`` flags and training mode.

    Raises TypeError naming a module type that has no counterpart (see ``register_layer``).
    """
    torch = _torch()
    if not isinstance(model, nn.Module):
        raise TypeError(f"to_torch: expected an autograd_nn nn.Module, got {type(model).__name__}")
    by_class = {b.ours: b for b in LAYERS}

    def placeholder(param: Any) -> Any:  # the weights are loaded into it afterwards
        return torch.nn.Parameter(torch.from_numpy(np.zeros(param.shape, dtype=param.dtype)))

    def make(bridge: LayerBridge, module: Any, children: OrderedDict) -> Any:
        cls = getattr(torch.nn, bridge.theirs)
        if bridge.container or bridge.holds_parameters:
            return _build(bridge, cls, module, children, placeholder)
        kwargs = bridge.arguments(module)
        params = list(module.parameters())
        if params and _takes_dtype(cls):
            kwargs["dtype"] = torch.from_numpy(np.zeros(0, dtype=params[0].dtype)).dtype
        return cls(**kwargs)

    built = _rebuild(model, lambda m: by_class.get(type(m)), make, "to_torch")
    result = built[id(model)]
    state = {k: torch.from_numpy(np.array(v.numpy(), copy=True)) for k, v in model.state_dict().items()}
    _finish(model, result, state)
    return result


def from_torch(module: Any) -> nn.Module:
    """The autograd_nn module equivalent to ``module`` (a ``torch.nn.Module``), with its
    weights copied (same dtypes), ``requires_grad`` flags and training mode.

    Raises TypeError naming a module type that has no counterpart, or a setting autograd_nn
    lacks (e.g. ``Conv2d(padding_mode='reflect')``).
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch: expected a torch.nn.Module, got {type(module).__name__}")
    by_class = {getattr(torch.nn, b.theirs): b for b in LAYERS if hasattr(torch.nn, b.theirs)}

    def placeholder(param: Any) -> nn.Parameter:  # the weights are loaded into it afterwards
        return nn.Parameter(np.zeros(tuple(param.shape), dtype=torch.empty(0, dtype=param.dtype).numpy().dtype))

    def make(bridge: LayerBridge, source: Any, children: OrderedDict) -> Any:
        problem = bridge.refuse(source)
        if problem is not None:
            raise TypeError(f"from_torch: cannot convert {type(source).__name__} with {problem}")
        if bridge.container or bridge.holds_parameters:
            return _build(bridge, bridge.ours, source, children, placeholder)
        kwargs = bridge.arguments(source)
        params = list(source.parameters())
        if params and _takes_dtype(bridge.ours):
            kwargs["dtype"] = torch.empty(0, dtype=params[0].dtype).numpy().dtype
        return bridge.ours(**kwargs)

    built = _rebuild(module, lambda m: by_class.get(type(m)), make, "from_torch")
    result = built[id(module)]
    state = {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}
    _finish(module, result, state)
    return result
