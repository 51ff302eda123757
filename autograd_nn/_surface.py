"""The public surface, generated from the op registry: nothing here names a concrete op.

For every declared op this module makes the Tensor methods, operators, in-place forms
and properties (``with_registered_members``, which ``tensor.py`` applies to its class),
the functions of ``autograd_nn`` and ``autograd_nn.functional`` (``public_functions``),
the ufunc table, and the Tensor side of the derivative namespace (``tensor_namespace``).
Every entry ends in the one recorder (``_record``); the in-place forms in ``_inplace``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _inplace, _record
from ._xp import DerivativeNamespace
from .opspec import OpSpec
from .registry import builtin_specs

# PyTorch spellings accepted wherever numpy's are (the docs list them).
KEYWORD_ALIASES = {"dim": "axis", "keepdim": "keepdims"}
_REQUIRED = inspect.Parameter.empty


def with_registered_members(cls: type) -> type:
    """Class decorator: give ``cls`` (the Tensor) every registered method, operator,
    in-place method and property, the ufunc table its ``__array_ufunc__`` reads and the
    numpy-function table its ``__array_function__`` reads (``np.sum(t)`` is ``ag.sum(t)``:
    a function is numpy's when numpy has a function of the declared name)."""
    ufuncs: dict[Any, Callable[..., Any]] = {}
    functions: dict[Any, Callable[..., Any]] = {}
    for spec in builtin_specs():
        surface = spec.surface
        call = _call(spec)
        for name in surface.functions:
            twin = numpy_function(name)
            if twin is not None:
                functions[twin] = _entry(spec, call, name, cls)
        for name in surface.methods:
            setattr(cls, name, _named(_entry(spec, call, name), name, spec, method=True))
        for name in surface.operators:
            setattr(cls, name, _named(_operator(spec, call, name), name, spec, method=True))
        for name in surface.inplace:
            setattr(cls, name, _named(_inplace_entry(spec, name), name, spec, method=True))
        for name in surface.properties:
            entry = _entry(spec, call, name)
            setattr(cls, name, property(_named(lambda self, entry=entry: entry(self), name, spec, method=True)))
        for ufunc in surface.ufuncs:
            ufuncs[ufunc] = _entry(spec, call, ufunc.__name__)
    cls._ufunc_table = ufuncs  # type: ignore[attr-defined]
    cls._function_table = functions  # type: ignore[attr-defined]
    return cls


def numpy_function(name: str) -> Any:
    """numpy's function called ``name`` (in ``numpy`` or ``numpy.linalg``), or None: the
    one ``__array_function__`` hands to the op declaring that name. Ufuncs are left to
    the ufunc table."""
    for namespace in (np, np.linalg):
        candidate = getattr(namespace, name, None)
        if callable(candidate) and not isinstance(candidate, (np.ufunc, type)):
            return candidate
    return None


def public_functions(as_tensor: Callable[[Any], Any]) -> tuple[dict[str, Callable[..., Any]], dict[str, Callable[..., Any]]]:
    """``(top_level, functional_only)``: name -> function for every declared function.

    A function converts its first array input with ``as_tensor`` (so ``ag.exp(ndarray)``
    gives a Tensor), then takes the op's entry, like the method.
    """
    top: dict[str, Callable[..., Any]] = {}
    only_functional: dict[str, Callable[..., Any]] = {}
    for spec in builtin_specs():
        call = _call(spec)
        for names, into in ((spec.surface.functions, top), (spec.surface.functional, only_functional)):
            for name in names:
                into[name] = _named(_entry(spec, call, name, as_tensor), name, spec, method=False)
    return top, only_functional


def _tensor_side(spec: OpSpec) -> Callable[..., Any]:
    """The op itself for derivative formulas under create_graph: recorded when an input is
    a Tensor, plain arrays (constants) when none is."""
    call, parse = _call(spec), parser(spec, spec.surface.derivative_name or spec.name)
    return lambda *args, **kwargs: call(*parse(*args, **kwargs))


# The derivative namespace under create_graph: the ops themselves, recorded.
tensor_namespace = DerivativeNamespace("Tensors", _tensor_side)


# ---------------------------------------------------------------------- entries
def _call(spec: OpSpec) -> Callable[[tuple[Any, ...], dict[str, Any]], Any]:
    """How an op of this kind runs once its inputs and parameters are known."""
    if spec.kind == "primitive":
        return _record.recorder(spec.function, None, spec.surface.view)  # run(inputs, params)
    target = spec.apply
    if spec.kind == "composite":
        return lambda inputs, params: target(*inputs, **params)
    return lambda inputs, params: target(*[_record.array_of(x) for x in inputs], **params)  # "array"


def _entry(spec: OpSpec, call: Callable[..., Any], name: str, as_tensor: Callable[[Any], Any] | None = None) -> Any:
    """The public callable ``name(*args, **kwargs)`` of ``spec``."""
    parse = parser(spec, name)
    fast = _fast_path(spec, parse, as_tensor)
    if fast is not None:
        return fast
    # A primitive of two inputs without parameters, and an optional third (F.linear(a, W) and
    # F.linear(a, W, b)), runs on the recorder unrolled for that many, as operators do on the
    # one for two. (One-input ops such as reshape keep the plain entry below.)
    unrolled = None
    if spec.kind == "primitive" and not spec.params and spec.arity in (2, 3):
        two, three = (_record.recorder(spec.function, n, spec.surface.view) for n in (2, 3))
        unrolled = {2: two, 3: three}
    if as_tensor is not None or unrolled is not None:

        def entry(*args: Any, **kwargs: Any) -> Any:
            inputs, params = parse(*args, **kwargs)
            if as_tensor is not None and inputs and not _record.is_tensor(inputs[0]):
                inputs = (as_tensor(inputs[0]), *inputs[1:])
            if not params and unrolled is not None:
                run = unrolled.get(len(inputs))
                if run is not None:
                    return run(*inputs)
            return call(inputs, params)

    else:

        def entry(*args: Any, **kwargs: Any) -> Any:
            return call(*parse(*args, **kwargs))

    entry.__signature__ = _signature_of(spec, parse)  # type: ignore[attr-defined]
    return entry


def _fast_path(spec: OpSpec, parse: Any, as_tensor: Callable[[Any], Any] | None) -> Callable[..., Any] | None:
    """A primitive with one or two inputs and no parameters goes straight to the recorder."""
    if spec.kind != "primitive" or getattr(parse, "custom", True) or parse.names:
        return None
    if spec.arity not in (1, 2):
        return None
    run = _record.recorder(spec.function, spec.arity, spec.surface.view)  # x.exp is this function
    if as_tensor is None:
        return run
    is_tensor = _record.is_tensor
    if spec.arity == 1:
        return lambda x: run(x if is_tensor(x) else as_tensor(x))
    return lambda x, y: run(x if is_tensor(x) or is_tensor(y) else as_tensor(x), y)


def _operator(spec: OpSpec, call: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``__add__`` runs the op on (self, other); a reflected ``__radd__`` on (other, self)."""
    reflected = name.startswith("__r") and name[3:-2] and spec.surface.operators.count(f"__{name[3:]}") > 0
    if spec.kind == "primitive" and spec.arity in (1, 2) and not spec.params and spec.surface.parse is None:
        run = _record.recorder(spec.function, spec.arity, spec.surface.view)  # x * y calls the recorder
        return (lambda self, other: run(other, self)) if reflected else run
    entry = _entry(spec, call, name)
    if reflected:
        return lambda self, other: entry(other, self)
    return entry


def _inplace_entry(spec: OpSpec, name: str) -> Callable[..., Any]:
    """``x.add_(y)``: the op computed into ``x``'s own memory (see ``_inplace``)."""
    parse = parser(spec, name)

    def inplace(self: Any, *args: Any, **kwargs: Any) -> Any:
        inputs, params = parse(self, *args, **kwargs)
        return _inplace.apply_inplace(spec, name, self, inputs, params)

    inplace.__signature__ = _signature_of(spec, parse)  # type: ignore[attr-defined]
    return inplace


def _named(function: Any, name: str, spec: OpSpec, *, method: bool) -> Any:
    function.__name__ = name
    function.__qualname__ = f"Tensor.{name}" if method else name
    function.__module__ = "autograd_nn.functional" if not method else "autograd_nn.tensor"
    target = spec.function if spec.function is not None else spec.apply
    if not getattr(target, "__module__", "").startswith("autograd_nn"):  # a numpy function (comparisons)
        doc = f"``numpy.{target.__name__}`` of the inputs' arrays, as a plain ndarray (not differentiable)."
    else:
        doc = inspect.cleandoc(target.__doc__ or "") or f"The {spec.name} op."
    own = spec.surface.parse.get(name) if isinstance(spec.surface.parse, dict) else None
    if getattr(own, "__doc__", None):  # a name with its own signature (x.to(...)) says what it takes
        doc += "\n\n" + inspect.cleandoc(own.__doc__)
    function.__doc__ = doc
    return function


# ------------------------------------------------------------------ signatures
class _DefaultParser:
    """The public signature read from the op itself: ``arity`` array inputs, then its
    keyword parameters (positional or keyword, with their defaults)."""

    custom = False

    def __init__(self, spec: OpSpec, public_name: str):
        self.public_name = public_name
        self.arity = spec.arity
        target = spec.function.forward if spec.function is not None else spec.apply
        if isinstance(target, np.ufunc):  # a numpy ufunc: its array inputs only
            parameters = [inspect.Parameter(f"x{i + 1}", inspect.Parameter.POSITIONAL_ONLY) for i in range(target.nin)]
        else:
            parameters = list(inspect.signature(target).parameters.values())
        if spec.function is not None:
            parameters = parameters[1:]  # ctx
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        inputs = [p for p in parameters if p.kind in positional][: spec.arity or 0]
        self.input_names = [p.name for p in inputs]
        rest = [p for p in parameters if p not in inputs and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        self.names = tuple(p.name for p in rest)
        self.defaults = {p.name: p.default for p in rest if p.default is not _REQUIRED}
        self.aliases = {alias: real for alias, real in KEYWORD_ALIASES.items() if real in self.names}
        self.parameters = inputs + rest
        self.complete = len(self.defaults) == len(self.names)  # no parameter is required

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        arity = self.arity
        if not kwargs and len(args) == arity and self.complete:  # x.sum(): the inputs, all defaults
            return args, self.defaults  # (shared, and never changed: forward gets its own copy)
        if arity is None:  # variadic ops take their inputs as one sequence
            if not args:
                raise TypeError(f"{self.public_name}: missing the sequence of arrays to join")
            inputs, rest = tuple(args[0]), args[1:]
            if not inputs:
                raise TypeError(f"{self.public_name}: need at least one array")
        else:
            inputs, rest = args[:arity], args[arity:]
            for name in self.input_names[len(inputs) :]:
                if name not in kwargs:
                    raise TypeError(f"{self.public_name}: missing input {name!r}")
                inputs += (kwargs.pop(name),)
        if len(rest) > len(self.names):
            raise TypeError(
                f"{self.public_name}: takes {arity} array input(s) and parameters {self.names}, got "
                f"{len(args)} positional arguments"
            )
        params = dict(self.defaults)
        params.update(zip(self.names, rest))
        for key, value in kwargs.items():
            real = self.aliases.get(key, key)
            if real not in self.names or (real != key and real in kwargs):
                raise TypeError(f"{self.public_name}: unexpected argument {key!r}; its parameters are {self.names}")
            params[real] = value
        missing = [n for n in self.names if n not in params]
        if missing:
            raise TypeError(f"{self.public_name}: missing parameter(s) {missing}")
        return inputs, params


def parser(spec: OpSpec, name: str) -> Any:
    """The callable that turns the public arguments of ``name`` into (inputs, params)."""
    custom = spec.surface.parse
    if isinstance(custom, dict):
        custom = custom.get(name, custom.get(None))
    if custom is not None:
        return custom
    return _DefaultParser(spec, name)


def _signature_of(spec: OpSpec, parse: Any) -> inspect.Signature:
    if isinstance(parse, _DefaultParser):
        params = [p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in parse.parameters]
        return inspect.Signature(params)
    return inspect.signature(parse)
