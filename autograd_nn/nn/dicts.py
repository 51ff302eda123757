"""``ModuleDict`` and ``ParameterDict``: sub-modules or parameters held by name, in insertion
order, registered under their keys so that ``state_dict()`` has PyTorch's keys
(``'heads.left.weight'``, ``'scales.a'``)."""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from typing import Any

from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


def _pairs(owner: str, values: Any) -> list[tuple[Any, Any]]:
    """``values`` (a mapping, or an iterable of key/value pairs) as a list of pairs, in order."""
    if isinstance(values, (Mapping, ModuleDict, ParameterDict)):
        return list(values.items())
    if isinstance(values, Tensor) or not isinstance(values, Iterable):
        raise TypeError(f"{owner}.update should be called with an iterable of key/value pairs, but got {type(values).__name__}")
    pairs = []
    for j, pair in enumerate(values):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Iterable):
            raise TypeError(f"{owner}.update: sequence element #{j} should be a (key, value) pair; is {type(pair).__name__}")
        pair = tuple(pair)
        if len(pair) != 2:
            raise ValueError(f"{owner}.update: sequence element #{j} has length {len(pair)}; 2 is required")
        pairs.append(pair)
    return pairs


def _missing(owner: str, key: Any, keys: Iterable[str]) -> KeyError:
    return KeyError(f"{owner}: no entry {key!r}; the keys are {list(keys)}")


class ModuleDict(Module):
    """Sub-modules by name: ``ModuleDict({'encoder': nn.Linear(4, 2), 'decoder': nn.Linear(2, 4)})``.

    A dict whose modules are registered, so their parameters train and save with the
    model; it has no ``forward`` of its own. Keys are strings (no ``'.'``), kept in
    insertion order; ``d[key]``, ``d[key] = m``, ``del d[key]``, ``in``, ``len``,
    iteration (over keys), ``keys``, ``values``, ``items``, ``update``, ``pop`` and
    ``clear`` work as for a dict.

    >>> from autograd_nn import nn
    >>> heads = nn.ModuleDict({"left": nn.Linear(3, 1), "right": nn.Linear(3, 2)})
    >>> list(heads.state_dict())
    ['left.weight', 'left.bias', 'right.weight', 'right.bias']
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward(): it only holds modules; call them in your own forward")

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise _missing("ModuleDict", key, self._modules)
        return self._modules[key]  # type: ignore[return-value]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: entry {key!r} is a {type(module).__name__}, not an nn.Module")
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        if key not in self._modules:
            raise _missing("ModuleDict", key, self._modules)
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> KeysView[str]:
        """The names, in insertion order."""
        return self._modules.keys()

    def values(self) -> ValuesView[Module]:
        """The modules, in insertion order."""
        return self._modules.values()  # type: ignore[return-value]

    def items(self) -> ItemsView[str, Module]:
        """``(name, module)`` pairs, in insertion order."""
        return self._modules.items()  # type: ignore[return-value]

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add (or replace) entries from a mapping or an iterable of ``(name, module)`` pairs, in their order."""
        for key, module in _pairs("ModuleDict", modules):
            self[key] = module

    def pop(self, key: str) -> Module:
        """Remove the entry ``key`` and return its module."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        """Remove every entry."""
        self._modules.clear()


class ParameterDict(Module):
    """Parameters by name: ``ParameterDict({'scale': nn.Parameter(np.ones(3))})``.

    Each entry is registered as a parameter under its key; a plain Tensor put in becomes
    a Parameter sharing its data (as in PyTorch). The dict operations of ``ModuleDict``
    work here too, plus ``get``.

    >>> import numpy as np
    >>> from autograd_nn import nn
    >>> scales = nn.ParameterDict({"a": nn.Parameter(np.ones(2))})
    >>> scales["b"] = nn.Parameter(np.zeros(3))
    >>> list(scales.state_dict()), len(scales)
    (['a', 'b'], 2)
    """

    def __init__(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ParameterDict has no forward(): it only holds parameters; use them in yours")

    def __getitem__(self, key: str) -> Parameter:
        if key not in self._parameters:
            raise _missing("ParameterDict", key, self._parameters)
        return self._parameters[key]  # type: ignore[return-value]

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)  # shares its data, as torch's ParameterDict does
        if not isinstance(value, Parameter):
            raise TypeError(f"ParameterDict: entry {key!r} is a {type(value).__name__}, not an nn.Parameter or Tensor")
        self.register_parameter(key, value)

    def __delitem__(self, key: str) -> None:
        if key not in self._parameters:
            raise _missing("ParameterDict", key, self._parameters)
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._parameters))

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def keys(self) -> KeysView[str]:
        """The names, in insertion order."""
        return self._parameters.keys()

    def values(self) -> ValuesView[Parameter]:
        """The parameters, in insertion order."""
        return self._parameters.values()  # type: ignore[return-value]

    def items(self) -> ItemsView[str, Parameter]:
        """``(name, parameter)`` pairs, in insertion order."""
        return self._parameters.items()  # type: ignore[return-value]

    def get(self, key: str, default: Any = None) -> Any:
        """The parameter under ``key``, or ``default`` when there is none."""
        return self._parameters.get(key, default)

    def update(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add (or replace) entries from a mapping or an iterable of ``(name, parameter)`` pairs."""
        for key, value in _pairs("ParameterDict", parameters):
            self[key] = value

    def pop(self, key: str) -> Parameter:
        """Remove the entry ``key`` and return its parameter."""
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        """Remove every entry."""
        self._parameters.clear()

    def extra_repr(self) -> str:
        return "\n".join(
            f"({k}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]" for k, p in self.items()
        )
