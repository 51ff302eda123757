"""``Sequential``: modules applied in order, with the post's per-layer δ on request."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._tree import refuse_cycle
from .module import Module


class Sequential(Module):
    """Apply modules one after another: ``Sequential(m0, m1, ...)(x) = ...m1(m0(x))``.

    Sub-modules are named ``'0'``, ``'1'``, ... (or by the keys of a dict passed as the
    only argument), so ``state_dict()`` keys are ``'0.weight'``, ``'0.bias'``, ... exactly
    as in ``torch.nn.Sequential``. Supports ``len``, iteration, indexing (``model[-1]``),
    slicing (``model[:2]`` is a new Sequential sharing the modules, keeping their names),
    ``append``, ``extend``, ``insert`` and ``del model[i]`` (which renumbers, as PyTorch).

    **Per-layer δ.** ``retain_deltas()`` makes each forward keep, for every layer l, its
    weighted input z^l, its activation a^l and, after ``loss.backward()``, its error
    δ^l = ∂C/∂z^l, readable with ``weighted_inputs()``, ``activations()`` and ``deltas()``.
    A *layer* starts at each module that has parameters (its output is z^l) and takes
    in the parameter-free modules after it (the last one's output is a^l; a layer with
    no activation has a^l = z^l). a^0 is the network's input. Cost: one gradient hook
    per layer in backward, and the last forward's z^l, a^l and δ^l stay alive until the
    next forward — a few arrays of (batch × width) per layer. Off by default; turn it
    off with ``retain_deltas(False)``.

    >>> import numpy as np
    >>> from autograd_nn import nn, functional as F
    >>> model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 1)).retain_deltas()
    >>> x, y = np.ones((5, 3)), np.zeros((5, 1))
    >>> F.mse_loss(model(x), y).backward()
    >>> {l: d.shape for l, d in model.deltas().items()}
    {1: (5, 4), 2: (5, 1)}
    >>> sorted(model.activations())
    [0, 1, 2]
    """

    def __init__(self, *modules: Module | Mapping[str, Module]):
        super().__init__()
        self._tracking = False
        self._record: tuple[Any, list[list[Any]]] | None = None
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(name, _checked(module, name))
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), _checked(module, index))

    def forward(self, input: Any) -> Any:
        if self._tracking:
            return self._forward_tracked(input)
        for module in self._modules.values():
            input = module(input)
        return input

    # --------------------------------------------------------------- list API
    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def _key(self, index: int) -> str:
        if isinstance(index, (bool, np.bool_)) or not hasattr(index, "__index__"):
            raise TypeError(f"Sequential indices must be int or slice, got {type(index).__name__}")
        index = operator.index(index)  # numpy integers too, as PyTorch
        size = len(self)
        if not -size <= index < size:
            raise IndexError(f"Sequential index {index} is out of range for {size} modules")
        return list(self._modules)[index % size]

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(dict(list(self._modules.items())[index]))
        return self._modules[self._key(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        key = self._key(index)
        refuse_cycle(self, key, _checked(module, index))
        self._modules[key] = module

    def __delitem__(self, index: int | slice) -> None:
        keys = list(self._modules)[index] if isinstance(index, slice) else [self._key(index)]
        for key in keys:
            del self._modules[key]
        modules = list(self._modules.values())
        self._modules.clear()
        self._modules.update((str(i), m) for i, m in enumerate(modules))

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end (named ``str(len(self))``); returns self."""
        self.add_module(str(len(self)), _checked(module, len(self)))
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Append every module of ``modules``, in order."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Insert ``module`` before position ``index``; later modules are renumbered."""
        modules = list(self._modules.values())
        size = len(modules)
        if not -size <= index <= size:
            raise IndexError(f"Sequential.insert: index {index} is out of range for {size} modules")
        refuse_cycle(self, str(index), _checked(module, index))
        modules.insert(index, module)
        self._modules.clear()
        self._modules.update((str(i), m) for i, m in enumerate(modules))
        return self

    # ------------------------------------------------------------ per-layer δ
    def retain_deltas(self, mode: bool = True) -> Sequential:
        """Keep z^l, a^l and δ^l of every layer from now on (``False`` turns it off)."""
        self._tracking = bool(mode)
        self._record = None
        return self

    def _forward_tracked(self, input: Any) -> Any:
        input_activation = input
        layers: list[list[Any]] = []  # [z^l, a^l] per layer
        for module in self._modules.values():
            input = module(input)
            if next(module.parameters(), None) is not None:
                if isinstance(input, Tensor) and input.requires_grad:
                    input.retain_grad()
                layers.append([input, input])
            elif layers:
                layers[-1][1] = input
            else:
                input_activation = input
        self._record = (input_activation, layers)
        return input

    def _layers(self, op_name: str) -> tuple[Any, list[list[Any]]]:
        if not self._tracking:
            raise RuntimeError(f"{op_name}: per-layer values are off; call model.retain_deltas() before the forward")
        if self._record is None:
            raise RuntimeError(f"{op_name}: no forward has run since retain_deltas() was turned on")
        if not self._record[1]:
            raise RuntimeError(f"{op_name}: this Sequential has no module with parameters, so it has no layers")
        return self._record

    def weighted_inputs(self) -> dict[int, Tensor]:
        """{l: z^l} for l = 1..L, from the last forward (detached)."""
        _, layers = self._layers("weighted_inputs")
        return {layer: _detached(z) for layer, (z, _) in enumerate(layers, start=1)}

    def activations(self) -> dict[int, Tensor]:
        """{l: a^l} for l = 0..L, from the last forward (a^0 is the input; detached)."""
        first, layers = self._layers("activations")
        return {0: _detached(first)} | {layer: _detached(a) for layer, (_, a) in enumerate(layers, start=1)}

    def deltas(self) -> dict[int, Tensor]:
        """{l: δ^l = ∂C/∂z^l} for l = 1..L, after ``backward()`` of a loss C computed from
        the last forward; ``∂C/∂W^l = (δ^l)ᵀ a^(l−1)`` for batch rows."""
        _, layers = self._layers("deltas")
        result = {}
        for layer, (z, _) in enumerate(layers, start=1):
            if not isinstance(z, Tensor) or z.grad_fn is None:
                raise RuntimeError(
                    f"deltas: layer {layer}'s z was not recorded (the forward ran under no_grad, "
                    "or no parameter requires grad)"
                )
            if z.grad is None:
                raise RuntimeError("deltas: no δ yet; call backward() on a loss computed from the last forward")
            result[layer] = z.grad
        return result


def _checked(module: Any, index: Any) -> Module:
    if not isinstance(module, Module):
        raise TypeError(
            f"Sequential: item {index!r} is a {type(module).__name__}, not an nn.Module "
            "(for a function such as F.relu, use its module, e.g. nn.ReLU())"
        )
    return module


def _detached(value: Any) -> Any:
    return value.detach() if isinstance(value, Tensor) else Tensor(value)
