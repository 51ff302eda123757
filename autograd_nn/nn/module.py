"""``Module``: the base class of layers and models, with PyTorch's registration rules.

A module owns three ordered registries, filled by plain attribute assignment:
``_parameters`` (``Parameter`` values), ``_buffers`` (state that is saved but not
trained, via ``register_buffer``) and ``_modules`` (sub-modules). Everything that walks
them (``parameters()``, ``state_dict()``, ``modules()``) visits in insertion order,
depth first, so parameter order, state_dict keys and optimizer state line up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from .. import _tracing, grad_mode
from ..tensor import Tensor, clear_grad
from ._cast import cast_floating, parse_to
from ._changes import Registry as _Registry
from ._changes import TrainingMode, changes
from ._changes import changed as _changed
from ._changes import unchanged as _unchanged
from ._state import IncompatibleKeys, collect_state, join, load_state
from ._tree import SubModules, module_repr, refuse_cycle
from .parameter import Parameter

_mode = grad_mode._MODE.get
_TRACE = grad_mode.TRACE
_ABSENT = object()


class Module:
    """Base class for all layers and models.

    Subclasses call ``super().__init__()`` first, assign parameters and sub-modules as
    attributes, and define ``forward``. Calling the module calls ``forward``.

    >>> import numpy as np
    >>> from autograd_nn import nn
    >>> class Affine(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.W = nn.Parameter(np.ones((2, 2)))
    ...         self.b = nn.Parameter(np.zeros(2))
    ...     def forward(self, a):
    ...         return a @ self.W.T + self.b
    >>> model = Affine()
    >>> [name for name, _ in model.named_parameters()]
    ['W', 'b']
    >>> model(np.array([1.0, 2.0]))
    Tensor([3., 3.], grad_fn=<Add>)
    """

    training = TrainingMode()  # (not counted as a change: guarded where it is read, see _changes)
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers: set[str]
    _modules: dict[str, Module | None]
    _in_a_tree: bool = False  # set once the module is put into a _modules (see _tree)

    def __init__(self) -> None:
        _changed()
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", _Registry())
        object.__setattr__(self, "_buffers", _Registry())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", SubModules())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output; subclasses define it, and calling the module runs it."""
        raise NotImplementedError(f"{type(self).__name__}: a Module subclass must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _mode() & _TRACE:  # a compiled step is recording this call
            _tracing.guard("the attributes of nn modules (training mode, layers, rates, ...)", changes)
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------- registration
    def _registry(self, name: str) -> Any:
        registry = self.__dict__.get(name)
        if registry is None:
            raise AttributeError(
                f"{type(self).__name__}: cannot assign parameters or sub-modules before Module.__init__() "
                "is called; call super().__init__() first in your __init__"
            )
        return registry

    def _forget(self, name: str, keep: str) -> None:
        """Remove ``name`` from the other registries, so it can be registered as another kind.

        The ``keep`` registry is left alone: re-assigning a name of the same kind keeps its
        place, so ``state_dict`` keys and parameter order stay as PyTorch has them.
        """
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                self.__dict__[registry].pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "training":  # not counted as a change: guarded where a compiled step reads or sets it
            object.__setattr__(self, name, value)
            return
        if _unchanged(self.__dict__.get(name, _ABSENT), value):  # the value it has already
            return  # nothing changes, so a compiled step need not record again
        _changed()
        if isinstance(value, Parameter):
            self._registry("_parameters")
            self._forget(name, keep="_parameters")
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._registry("_modules")
            refuse_cycle(self, name, value)
            self._forget(name, keep="_modules")
            self._modules[name] = value
        elif name in self.__dict__.get("_parameters", ()):
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to parameter {name!r} "
                    "(an nn.Parameter or None is expected)"
                )
            self._parameters[name] = None
        elif name in self.__dict__.get("_modules", ()):
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to sub-module {name!r} "
                    "(an nn.Module or None is expected)"
                )
            self._modules[name] = None
        elif name in self.__dict__.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to buffer {name!r} "
                    "(a Tensor or None is expected)"
                )
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: the registries hold the rest.
        state = self.__dict__
        parameters = state.get("_parameters")
        if parameters is not None and name in parameters:  # the usual case: self.weight
            return parameters[name]
        for registry in ("_buffers", "_modules"):
            if name in state.get(registry, ()):
                return state[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        _changed()
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(registry, ()):
                del self.__dict__[registry][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def _check_name(self, name: Any, kind: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: {kind} name must be a str, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{type(self).__name__}: {kind} name must be non-empty and contain no '.', got {name!r}")
        if name in self.__dict__ and name not in self._parameters | self._buffers | self._modules:
            raise KeyError(f"{type(self).__name__}: attribute {name!r} already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or an empty slot, ``None``) under ``name``."""
        self._registry("_parameters")
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"{type(self).__name__}.register_parameter: {name!r} must be an nn.Parameter or None, "
                f"got {type(param).__name__}"
            )
        self._forget(name, keep="_parameters")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add state that is not trained, e.g. running statistics.

        A persistent buffer is part of ``state_dict()``; a non-persistent one is not.
        """
        self._registry("_buffers")
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"{type(self).__name__}.register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}"
            )
        self._forget(name, keep="_buffers")
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a sub-module under ``name`` (what ``self.name = module`` does)."""
        self._registry("_modules")
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"{type(self).__name__}.add_module: {name!r} must be an nn.Module or None, got {type(module).__name__}"
            )
        refuse_cycle(self, name, module)
        self._forget(name, keep="_modules")
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------------ walking
    def named_modules(self, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every sub-module, depth first in registration order.

        A shared sub-module appears once, unless ``remove_duplicate=False``. A cycle (only
        possible by writing into ``_modules`` directly) raises RuntimeError.
        """
        seen: set[int] = set()
        on_path: set[int] = set()  # the modules above the one being visited
        stack: list[tuple[str, Module, bool]] = [(prefix, self, False)]
        while stack:
            name, module, leaving = stack.pop()
            if leaving:  # its sub-tree is done
                on_path.discard(id(module))
                continue
            if id(module) in on_path:
                raise RuntimeError(
                    f"named_modules: {name!r} is a {type(module).__name__} that contains itself (a module "
                    "cycle, made by writing into _modules directly?)"
                )
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            on_path.add(id(module))
            stack.append((name, module, True))
            children = [(join(name, key), child, False) for key, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every sub-module below it, depth first, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules, in registration order (each once)."""
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        """The direct sub-modules, in registration order."""
        for _, child in self.named_children():
            yield child

    def _named_members(
        self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Tensor]]:
        modules = self.named_modules(prefix, remove_duplicate) if recurse else iter([(prefix, self)])
        seen: set[int] = set()
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield join(module_prefix, name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(name, parameter)`` pairs, e.g. ``('0.weight', W¹)``; a shared parameter appears once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)  # type: ignore[misc]

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters (of sub-modules too, if ``recurse``), in registration order."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """``(name, tensor)`` for every buffer, with dotted names as in ``state_dict``."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """The buffers (non-trainable state saved in ``state_dict``)."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target: str) -> Module:
        """The sub-module at a dotted path, e.g. ``model.get_submodule('0')``."""
        module: Module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no sub-module {part!r} (looking up {target!r})")
            module = child
        return module

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module and then on self (children first, as PyTorch)."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    # ------------------------------------------------------------------- modes
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout active) on this module and all sub-modules."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool, got {mode!r}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter (freeze with ``False``)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: ``grad = None`` (default) or zeros in place."""
        for param in self.parameters():
            clear_grad(param, set_to_none)

    # ------------------------------------------------------------------- dtype
    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Cast floating-point parameters and buffers in place: ``to(np.float32)``, ``to(tensor)``.

        PyTorch's forms are accepted: ``to(dtype)``, ``to(tensor)`` (its dtype),
        ``to(device)`` and ``to(device, dtype)``, where the device can only be ``'cpu'``.
        Parameters stay the same objects (an optimizer built before keeps working); their
        ``data`` and ``grad`` become cast copies. Integer buffers are left as they are.
        Returns self.

        >>> import numpy as np
        >>> from autograd_nn import nn
        >>> layer = nn.Linear(2, 1)
        >>> weight = layer.weight
        >>> layer.to(np.float32).weight is weight, weight.dtype
        (True, dtype('float32'))
        """
        dtype = parse_to(args, kwargs)
        if dtype is not None:
            cast_floating(self, dtype)
        return self

    def float(self) -> Module:
        """Cast floating-point parameters and buffers to float32: ``to(np.float32)``."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Cast floating-point parameters and buffers to float64: ``to(np.float64)``."""
        return self.to(np.float64)

    def half(self) -> Module:
        """Cast floating-point parameters and buffers to float16: ``to(np.float16)``."""
        return self.to(np.float16)

    # ------------------------------------------------------------- state dict
    def state_dict(self, *, prefix: str = "", keep_vars: bool = False) -> dict[str, Tensor]:
        """Parameters and persistent buffers by dotted name (``'0.weight'``), in registration order.

        Values share memory with the module (as in PyTorch): ``detach()``-ed Tensors, or
        the Parameters themselves with ``keep_vars=True``. Copy them to keep a snapshot.
        """
        return collect_state(self, prefix, keep_vars)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values into this module's parameters and buffers, in place.

        Values may be Tensors, ndarrays, or anything ``np.asarray`` reads (e.g. CPU torch
        tensors). With ``strict=True`` the keys must match ``state_dict()`` exactly; a shape
        mismatch is always an error. On error nothing is changed, and the message names
        the first missing, unexpected or mis-shaped key.
        """
        return load_state(self, state_dict, strict)

    # ------------------------------------------------------------------ display
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr; override in layers."""
        return ""

    def __repr__(self) -> str:
        return module_repr(self)
