"""The op registry: one declaration per op, read by everything that needs to know the ops.

``@register_op(...)`` on a ``Function`` subclass (a primitive), ``@register_composite(...)``
on a function of Tensors, and ``register_array_function(np.less, ...)`` for numpy functions
that are not differentiable: each records an ``OpSpec``: the op's test contract and its
``Surface`` (public names). From this registry come the Tensor's methods and operators,
the functions of ``autograd_nn`` and ``autograd_nn.functional``, their ``__all__``, the
ufunc table, the namespaces derivative formulas use, the API reference and the counts
the docs quote (``autograd_nn._surface`` generates them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from .opspec import ROLES, OpSpec, Surface, op_spec

T = TypeVar("T")

# Every enrolled op, keyed by "module.QualName" (so a user's op may share a built-in's name).
OP_REGISTRY: dict[str, OpSpec] = {}

_SURFACE_KEYS = ("methods", "functions", "functional", "operators", "inplace", "properties", "ufuncs")
_OWN_PACKAGE = __name__.rpartition(".")[0] + "."  # "autograd_nn.", or the name another checkout is loaded under


def register_op(**declaration: Any) -> Callable[[type], type]:
    """Class decorator: declare a primitive ``Function`` once, with its contract and names.

    The contract keywords are those of ``autograd_nn.opspec.op_spec``: ``reference`` (the
    numpy reference, required), ``shapes``, ``domain``, ``kinks``, ``distinct``,
    ``distinct_abs`` and ``params``. The surface keywords (``methods``, ``functions``,
    ``functional``, ``operators``, ``inplace``, ``properties``, ``ufuncs``, ``derivative``,
    ``parse``; see ``Surface``) name how autograd_nn's own ops appear; a user's op is called with
    ``apply`` and takes none. ``decomposition`` (fused ops) gives the same computation in
    primitives; ``role`` (``"layer"``, ``"activation"``, ``"loss"``: see ``opspec.ROLES``) says
    what the op is in a network, for ``autograd_nn.viz``. A misspelt or malformed
    declaration fails here, at import, naming the op.
    """

    def enrol(cls: type) -> type:
        _enrol(cls, "primitive", declaration)
        return cls

    return enrol


def register_composite(**declaration: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Function decorator: declare a composite (a function of Tensors built from other ops).

    Takes the keywords of ``register_op``. A composite needs no derivative code: the ops it
    calls record themselves. Its first parameter is a Tensor (the generated entries convert
    it), and it uses only Tensor methods and operators, so it can live beside the primitives.
    """

    def enrol(fn: Callable[..., Any]) -> Callable[..., Any]:
        _enrol(fn, "composite", declaration)
        return fn

    return enrol


def register_array_function(function: Callable[..., Any], *, arity: int | None = None, **declaration: Any) -> None:
    """Declare a numpy function that is not differentiable (comparisons, ``argmax``): its
    entries run it on the inputs' arrays and return a plain ndarray."""
    declaration.setdefault("reference", function)
    if arity is not None:
        declaration["arity"] = arity
    _enrol(function, "array", declaration, key=f"{_OWN_PACKAGE}array.{function.__name__}")


def _enrol(target: Any, kind: str, declaration: dict[str, Any], key: str | None = None) -> None:
    name = getattr(target, "__name__", repr(target))
    surface_args = {k: _names(k, declaration.pop(k)) for k in _SURFACE_KEYS if k in declaration}
    derivative = declaration.pop("derivative", None)
    parse = declaration.pop("parse", None)
    arguments = declaration.pop("arguments", None)
    xp_name = declaration.pop("xp_name", None)
    view = bool(declaration.pop("view", False))
    decomposition = declaration.pop("decomposition", None)
    role = declaration.pop("role", None)
    if role is not None and role not in ROLES:
        raise ValueError(f"register_op on {name}: role must be one of {sorted(ROLES)} or None, got {role!r}")
    key = key or f"{target.__module__}.{target.__qualname__}"
    if "name" in declaration:  # one function enrolled under several contracts (cross_entropy's targets)
        key = f"{key}[{declaration['name']}]"
    try:
        spec = op_spec(target, **declaration)
    except TypeError as error:  # e.g. a misspelt or missing keyword: say which op
        raise TypeError(f"register_op on {name}: {error}") from None
    if derivative is True:  # a composite, or a numpy function, serves ndarrays as they are
        if kind == "primitive":
            raise TypeError(f"register_op on {name}: derivative= must be the op's numpy twin (e.g. np.exp)")
        derivative = target
    surface = Surface(
        **surface_args, derivative=derivative, xp_name=xp_name, parse=parse, view=view, arguments=arguments
    )
    if derivative is not None and surface.derivative_name is None:
        raise TypeError(f"register_op on {name}: derivative= needs a public name or xp_name=")
    if surface.names() and not key.startswith(_OWN_PACKAGE):
        raise TypeError(
            f"register_op on {name}: public names ({', '.join(surface.names())}) are generated for "
            "autograd_nn's own ops only; call your op with apply (or wrap it in a function)"
        )
    _check_unique(name, surface)
    OP_REGISTRY[key] = replace(spec, kind=kind, surface=surface, decomposition=decomposition, role=role)


def _names(key: str, value: Any) -> tuple[Any, ...]:
    items = (value,) if isinstance(value, str) or not isinstance(value, Sequence) else tuple(value)
    if key != "ufuncs" and not all(isinstance(n, str) and n.isidentifier() for n in items):
        raise TypeError(f"register_op: {key} must be names (identifiers), got {value!r}")
    return items


def _check_unique(name: str, surface: Surface) -> None:
    """A public name belongs to one op: two ops claiming it is an error at import."""
    for other in OP_REGISTRY.values():
        for group in ("methods", "functions", "functional", "operators", "inplace", "properties"):
            clash = set(getattr(surface, group)) & set(getattr(other.surface, group))
            if clash and other.name != name:
                raise ValueError(f"register_op on {name}: {group} {sorted(clash)} already belong to {other.name}")
        shared = [u for u in surface.ufuncs if u in other.surface.ufuncs]
        if shared and other.name != name:
            raise ValueError(f"register_op on {name}: ufunc {shared[0].__name__} already belongs to {other.name}")


def builtin_specs(kind: str | None = None) -> list[OpSpec]:
    """The specs of autograd_nn's own ops (of one ``kind`` if given), sorted by name."""
    own = [s for k, s in OP_REGISTRY.items() if k.startswith(_OWN_PACKAGE) and kind in (None, s.kind)]
    return sorted(own, key=lambda spec: spec.name)


def spec_of_function(cls: type) -> OpSpec | None:
    """The registered spec of the Function subclass ``cls``, or None."""
    for spec in OP_REGISTRY.values():
        if spec.function is cls:
            return spec
    return None
