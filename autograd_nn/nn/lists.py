"""``ModuleList`` and ``ParameterList``: sub-modules or parameters held in a list, registered
under the names ``'0'``, ``'1'``, ... so that ``parameters()`` and ``state_dict()`` see them
with PyTorch's keys (``'layers.0.weight'``, ``'weights.1'``)."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._tree import refuse_cycle
from .module import Module
from .parameter import Parameter


def _position(owner: str, index: Any, size: int) -> int:
    """``index`` (an int, negative from the end) as a position in ``range(size)``."""
    if isinstance(index, (bool, np.bool_)) or not hasattr(index, "__index__"):
        raise TypeError(f"{owner} indices must be integers or slices, got {type(index).__name__}")
    index = operator.index(index)  # numpy integers too
    if not -size <= index < size:
        raise IndexError(f"{owner} index {index} is out of range for {size} entries")
    return index % size


def _iterable(owner: str, method: str, values: Any) -> Iterable[Any]:
    # a Tensor is iterable (over its rows) but is never meant to be unpacked here
    if isinstance(values, Tensor) or not isinstance(values, Iterable):
        raise TypeError(f"{owner}.{method} should be called with an iterable, but got {type(values).__name__}")
    return values


class ModuleList(Module):
    """Sub-modules in a list: ``ModuleList([nn.Linear(4, 4) for _ in range(3)])``.

    A list whose modules are registered, so their parameters train and save with the
    model; it has no ``forward`` of its own (loop over it in yours). Indexing, slicing
    (a new ModuleList sharing the modules), ``len``, iteration, ``append``, ``extend``,
    ``insert``, ``pop``, ``del``, ``+`` and ``+=`` work as for a list; removing or
    inserting renumbers the names, as PyTorch does.

    >>> from autograd_nn import nn
    >>> blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    >>> blocks.append(nn.Tanh())
    ModuleList(
      (0): Linear(in_features=2, out_features=2, bias=True)
      (1): Linear(in_features=2, out_features=2, bias=True)
      (2): Tanh()
    )
    >>> list(blocks.state_dict())
    ['0.weight', '0.bias', '1.weight', '1.bias']
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleList has no forward(): it only holds modules; call them in your own module's forward, "
            "e.g. `for layer in self.layers: x = layer(x)` (or use nn.Sequential)"
        )

    def _checked(self, module: Any, where: Any) -> Module:
        if not isinstance(module, Module):
            raise TypeError(
                f"ModuleList: item {where!r} is a {type(module).__name__}, not an nn.Module "
                "(for a function such as F.relu, use its module, e.g. nn.ReLU())"
            )
        return module

    def _renumber(self, modules: list[Module]) -> None:
        self._modules.clear()
        self._modules.update((str(i), m) for i, m in enumerate(modules))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return type(self)(list(self._modules.values())[index])
        return self._modules[str(_position("ModuleList", index, len(self)))]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(str(_position("ModuleList", index, len(self))), self._checked(module, index))

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[_position("ModuleList", index, len(self))]
        self._renumber(modules)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        combined = type(self)(self)
        return combined.extend(other)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end (named ``str(len(self))``); returns self."""
        self.add_module(str(len(self)), self._checked(module, len(self)))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append every module of ``modules``, in order; returns self."""
        for module in list(_iterable("ModuleList", "extend", modules)):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index`` (as ``list.insert``); later modules are renumbered."""
        index = operator.index(index)
        modules = list(self._modules.values())
        refuse_cycle(self, str(index), self._checked(module, index))
        modules.insert(index, module)
        self._renumber(modules)

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at ``index`` (the last by default); the rest are renumbered."""
        module = self[index]
        del self[index]
        return module


class ParameterList(Module):
    """Parameters in a list: ``ParameterList([nn.Parameter(np.zeros(3)) for _ in range(2)])``.

    Each entry is registered as a parameter named ``'0'``, ``'1'``, ...; a plain Tensor
    put in becomes a Parameter sharing its data (as in PyTorch). Indexing, slicing,
    ``len``, iteration, ``append``, ``extend`` and ``+=`` work as for a list.

    >>> import numpy as np
    >>> from autograd_nn import nn
    >>> weights = nn.ParameterList([nn.Parameter(np.ones(2)), nn.Parameter(np.zeros((2, 3)))])
    >>> [(name, p.shape) for name, p in weights.named_parameters()]
    [('0', (2,)), ('1', (2, 3))]
    """

    def __init__(self, values: Iterable[Any] | None = None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ParameterList has no forward(): it only holds parameters; use them in yours")

    @staticmethod
    def _parameter(value: Any, where: Any) -> Parameter:
        if isinstance(value, Parameter):
            return value
        if isinstance(value, Tensor):
            return Parameter(value)  # shares value's data, as torch's ParameterList does
        raise TypeError(f"ParameterList: item {where!r} is a {type(value).__name__}, not an nn.Parameter or Tensor")

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(list(self._parameters.values()))  # type: ignore[arg-type]

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return type(self)(list(self._parameters.values())[index])
        return self._parameters[str(_position("ParameterList", index, len(self)))]

    def __setitem__(self, index: int, value: Any) -> None:
        position = _position("ParameterList", index, len(self))
        self.register_parameter(str(position), self._parameter(value, index))

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def append(self, value: Any) -> ParameterList:
        """Add ``value`` (a Parameter, or a Tensor made one) at the end; returns self."""
        self.register_parameter(str(len(self)), self._parameter(value, len(self)))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Append every entry of ``values``, in order; returns self."""
        for value in list(_iterable("ParameterList", "extend", values)):
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(
            f"({i}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]" for i, p in enumerate(self)
        )
