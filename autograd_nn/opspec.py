"""The op contract and the op's public names, written down as data.

Every op is declared once, with ``@register_op(...)`` (``autograd_nn.registry``); the
``OpSpec`` it makes says how to draw valid inputs for the op (shapes, parameters,
domain), where its derivative does not exist (kinks, ties), what it must compute (a
numpy reference), and how it surfaces (its ``Surface``: Tensor methods, functions,
operators, in-place forms, the numpy ufuncs it answers to, its name in derivative
formulas). One parametrised test in ``tests/core/test_op_properties.py`` checks every
registered op through every entry point; ``autograd_nn._surface`` generates the entry
points. Users' own ops are described by the same ``OpSpec``, built with ``op_spec``.

This module is pure data and validation: it imports neither hypothesis nor the Tensor.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Interval = tuple[float, float]
Domain = tuple[Interval, ...]  # a union of open intervals

DEFAULT_DOMAIN: Domain = ((-3.0, 3.0),)

KINDS = ("primitive", "composite", "array")

# What an op is in a network, for tools that explain graphs (``autograd_nn.viz``): its
# ``role=``. Declared on ops whose meaning a reader of the graph cannot prove from the
# primitives alone (a fused layer, an activation, a loss); ``None`` for everything else.
ROLES = {
    "layer": "a layer: input 0 is its input aˡ⁻¹, leaf inputs are its parameters (Wˡ, bˡ, …)",
    "activation": "an elementwise nonlinearity a = f(z), so δz = δa ⊙ f'(z)",
    "loss": "a cost C of the prediction ŷ (input 0) against a target y",
}


@dataclass(frozen=True)
class Surface:
    """How an op appears to users; every name here is generated, none is written by hand.

    Attributes
    ----------
    methods
        Tensor method names (``"exp"``); later names are aliases (``"view"`` for reshape).
    functions
        Names in ``autograd_nn`` and ``autograd_nn.functional`` (``"exp"``).
    functional
        Names in ``autograd_nn.functional`` only (losses, ``linear``).
    operators
        Python operators: ``"__add__"``; a reflected one (``"__radd__"``) swaps the operands.
    inplace
        In-place Tensor methods (``"add_"``, ``"__iadd__"``): computed in the tensor's own
        memory, version counter bumped, recorded when a gradient needs it.
    properties
        Read-only Tensor properties (``"T"``).
    ufuncs
        numpy ufuncs that dispatch to the op (``np.exp(t)``, ``ndarray + t``).
    derivative
        The op's numpy twin when derivative formulas may call it as ``ctx.xp.<name>``:
        plain backward runs the twin on ndarrays, ``create_graph`` runs the op itself.
        None: not available to formulas.
    xp_name
        ``<name>`` in ``ctx.xp.<name>``: by default the first function or method name.
    parse
        The public signature, as a callable ``parse(*args, **kwargs) -> (inputs, params)``
        (or a dict of them by public name, ``None`` for the rest); None reads it from
        ``forward``: the array inputs, then its keyword parameters.
    view
        True if the op's output may share its input's memory (a reshape, a transpose, a
        basic index), as PyTorch's schemas declare aliasing: the recorder then notes the
        shared memory (for version counters and refused in-place writes). A user's op,
        whose behaviour is not declared, is always checked.
    arguments
        The inverse of ``parse`` for the shared property test: ``arguments(inputs, params)
        -> (args, kwargs)`` to call a public entry with. None: inputs positional, params
        as keywords (a variadic op's inputs as one sequence).
    """

    methods: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    functional: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    inplace: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()
    ufuncs: tuple[Any, ...] = ()
    derivative: Callable[..., Any] | None = None
    xp_name: str | None = None
    parse: Any = None
    view: bool = False
    arguments: Callable[..., Any] | None = None

    def names(self) -> tuple[str, ...]:
        """Every public name the op takes (methods, functions, operators, ...)."""
        return self.methods + self.functions + self.functional + self.operators + self.inplace + self.properties

    @property
    def derivative_name(self) -> str | None:
        """The op's name in derivative formulas (``ctx.xp.<name>``), if it has one."""
        if self.derivative is None:
            return None
        names = self.functions + self.functional + self.methods
        return self.xp_name or (names[0] if names else None)


@dataclass(frozen=True)
class OpSpec:
    """How to test one op. Build it with ``op_spec`` or ``@register_op``, which validate it.

    Attributes
    ----------
    name
        Readable name (the class name for a primitive).
    apply
        What is called: ``apply(*inputs, **params)`` (``Op.apply`` for a Function).
    reference
        The numpy reference: ``reference(*arrays, **params)`` gives the expected output.
    arity
        Number of array inputs, or None for a variadic op (e.g. ``concatenate``).
    shapes
        How input shapes and shape-like parameters (axis, shape, index, ...) are drawn:
        the name of a shape family of ``autograd_nn.testing.check_op`` (``"elementwise"``,
        ``"same"``, ``"matmul"``, ``"reduction"``, ``"axis"``, ``"reshape"``,
        ``"transpose"``, ``"broadcast_to"``, ``"index"``, ``"index_add"``,
        ``"concatenate"``), or a callable ``shapes(draw) -> (input_shapes, params)``.
    domain
        One union of intervals per input (a single entry applies to every input): input
        elements are drawn inside it.
    kinks
        Points where the derivative does not exist: numbers, or names of parameters
        whose values are such points (``"a_min"`` for clip). Inputs keep away from them.
    distinct
        True if ties between elements are kinks (max, min, maximum): all input elements
        are then drawn pairwise apart.
    distinct_abs
        True if ties between absolute values are kinks (``norm`` with ``ord=inf`` is the
        largest absolute value, so −2.998 beside 2.998 is one): all input elements are then
        drawn with absolute values pairwise apart, which keeps the values apart too (two
        values are at least as far apart as their absolute values), so it implies ``distinct``.
    params
        Parameters that are not shape-like: a tuple of values to choose from, or the
        name of an array kind (``"probabilities"``, ``"mask"``, ``"labels"``).
    function
        The Function subclass, for a primitive; None for a composite.
    kind
        ``"primitive"`` (a Function with its own derivative), ``"composite"`` (a function
        of Tensors: the derivative comes from the ops it calls) or ``"array"`` (not
        differentiable: it returns a plain ndarray, e.g. comparisons and argmax).
    surface
        The op's public names (``Surface``).
    decomposition
        For a fused op: the same computation written with primitives, as a function of
        Tensors. The renderer, ``explain_backward`` and exporters read it to see through
        the fusion.
    role
        What the op is in a network (a key of ``ROLES``: ``"layer"``, ``"activation"``,
        ``"loss"``), or None. ``explain_backward`` and ``draw_model`` name a graph's layers
        from it (never from class names); the formula they print is the docstring's.
    """

    name: str
    apply: Callable[..., Any]
    reference: Callable[..., Any]
    arity: int | None = 1
    shapes: str | Callable[..., Any] = "elementwise"
    domain: tuple[Domain, ...] = (DEFAULT_DOMAIN,)
    kinks: tuple[float | str, ...] = ()
    distinct: bool = False
    distinct_abs: bool = False
    params: Mapping[str, tuple[Any, ...] | str] = field(default_factory=dict)
    function: type | None = None
    kind: str = "primitive"
    surface: Surface = field(default_factory=Surface)
    decomposition: Callable[..., Any] | None = None
    role: str | None = None

    @property
    def formula(self) -> str:
        """The first line of the op's docstring: its formula in the post's notation."""
        doc = (self.function.__doc__ if self.function is not None else getattr(self.apply, "__doc__", None)) or ""
        return doc.strip().splitlines()[0] if doc.strip() else ""

    def domain_of(self, index: int) -> Domain:
        """The domain of input ``index``."""
        return self.domain[min(index, len(self.domain) - 1)]


def op_spec(
    op: Callable[..., Any],
    *,
    reference: Callable[..., Any],
    shapes: str | Callable[..., Any] = "elementwise",
    arity: int | None | str = "infer",
    domain: Any = None,
    kinks: Sequence[float | str] = (),
    distinct: bool = False,
    distinct_abs: bool = False,
    params: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> OpSpec:
    """Validate a description of ``op`` (a Function subclass or any callable) into an OpSpec.

    ``arity`` is read from ``forward`` (or from the callable's required positional
    parameters) unless given. ``domain`` is ``(lo, hi)`` for every input, or a list with
    one entry per input, each ``(lo, hi)`` or a tuple of such intervals (a union).

    >>> import numpy as np
    >>> from autograd_nn import functional as F
    >>> spec = op_spec(F.softplus, reference=lambda z: np.log1p(np.exp(z)), domain=(-5, 5))
    >>> spec.name, spec.arity, spec.domain
    ('softplus', 1, (((-5.0, 5.0),),))
    """
    is_function = inspect.isclass(op) and hasattr(op, "forward") and hasattr(op, "apply")
    name = name or getattr(op, "__name__", None) or repr(op)
    where = f"op spec of {name}"
    if not callable(reference):
        raise TypeError(f"{where}: reference must be a numpy function of the inputs, got {reference!r}")
    if arity == "infer":
        arity = _infer_arity(op.forward if is_function else op, skip=1 if is_function else 0, where=where)
    if arity is not None and (not isinstance(arity, int) or arity < 1):
        raise ValueError(f"{where}: arity must be a positive int or None (variadic), got {arity!r}")
    if not (isinstance(shapes, str) or callable(shapes)):
        raise TypeError(f"{where}: shapes must be a shape-family name or a callable, got {shapes!r}")
    params = dict(params or {})
    for key, value in params.items():
        if isinstance(value, list):
            params[key] = value = tuple(value)
        if not isinstance(value, (tuple, str)) or (isinstance(value, tuple) and not value):
            raise TypeError(
                f"{where}: params[{key!r}] must be a non-empty tuple of values to choose from "
                f"or the name of an array kind, got {value!r}"
            )
    kinks = tuple(kinks)
    for kink in kinks:
        if isinstance(kink, str):
            if kink not in params:
                raise ValueError(f"{where}: kink {kink!r} names no parameter in params {sorted(params)}")
        elif not (isinstance(kink, (int, float)) and math.isfinite(kink)):
            raise TypeError(f"{where}: kinks must be finite numbers or parameter names, got {kink!r}")
    return OpSpec(
        name=name,
        apply=op.apply if is_function else op,
        reference=reference,
        arity=arity,
        shapes=shapes,
        domain=_normalize_domain(domain, arity, where),
        kinks=kinks,
        distinct=bool(distinct),
        distinct_abs=bool(distinct_abs),
        params=params,
        function=op if is_function else None,
        kind="primitive" if is_function else "composite",
    )


def _infer_arity(fn: Callable[..., Any], skip: int, where: str) -> int | None:
    """Required positional parameters of ``fn`` after the first ``skip``; None if ``*args``."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())[skip:]
    except (TypeError, ValueError):
        raise TypeError(f"{where}: cannot read the signature; pass arity=") from None
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in parameters if p.kind in positional and p.default is p.empty)


def _normalize_domain(domain: Any, arity: int | None, where: str) -> tuple[Domain, ...]:
    if domain is None:
        return (DEFAULT_DOMAIN,)
    if isinstance(domain, list):
        if arity is not None and len(domain) != arity:
            raise ValueError(f"{where}: domain lists {len(domain)} entries for {arity} input(s)")
        return tuple(_union(entry, where) for entry in domain)
    return (_union(domain, where),)


def _union(entry: Any, where: str) -> Domain:
    intervals = (entry,) if _is_interval(entry) else tuple(entry)
    for interval in intervals:
        if not _is_interval(interval):
            raise TypeError(f"{where}: a domain is (lo, hi) or a tuple of (lo, hi), got {entry!r}")
        lo, hi = interval
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"{where}: domain interval {interval!r} must be finite with lo < hi")
    return tuple((float(lo), float(hi)) for lo, hi in intervals)


def _is_interval(entry: Any) -> bool:
    return (
        isinstance(entry, tuple)
        and len(entry) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in entry)
    )
