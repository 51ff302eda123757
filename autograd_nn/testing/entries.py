"""Every public way to call an op, and the check that each computes what ``apply`` does.

An op declared once surfaces in many places: ``autograd_nn.exp``, ``functional.exp``,
``Tensor.exp``, ``np.exp(t)``, ``x + y`` and ``y.__radd__(x)``, ``x.add_(y)``,
``x.T``. ``entry_points(spec)`` lists them all from the op's ``Surface``;
``check_entries`` calls each one on a drawn example and requires the values, and the
gradients for one random cotangent, to equal those of ``apply`` on the arguments that
entry's signature parses to. The contract test checks ``apply`` against the numpy
reference and finite differences; this makes every other door lead to the same room.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autograd_nn

from .. import functional
from .._surface import parser
from ..autograd import grad
from ..opspec import OpSpec
from ..tensor import Tensor

Call = Callable[[list[Tensor], dict[str, Any]], tuple[Any, tuple[tuple[Any, ...], dict[str, Any]]]]


def entry_points(spec: OpSpec) -> list[tuple[str, Call]]:
    """``(label, call)`` for every public entry of ``spec``; ``call(tensors, params)``
    returns the entry's output and the ``(inputs, params)`` its arguments parse to."""
    surface = spec.surface
    out: list[tuple[str, Call]] = []
    for name in surface.functions:
        out.append((f"autograd_nn.{name}", _function(spec, name, getattr(autograd_nn, name))))
        out.append((f"functional.{name}", _function(spec, name, getattr(functional, name))))
    for name in surface.functional:
        out.append((f"functional.{name}", _function(spec, name, getattr(functional, name))))
    for name in surface.methods:
        out.append((f"Tensor.{name}", _method(spec, name)))
    for name in surface.operators:
        out.append((f"Tensor.{name}", _operator(spec, name)))
    for name in surface.inplace:
        out.append((f"Tensor.{name}", _inplace(spec, name)))
    for name in surface.properties:
        out.append((f"Tensor.{name}", _property(spec, name)))
    for ufunc in surface.ufuncs:
        out.append((f"numpy.{ufunc.__name__}", _ufunc(spec, ufunc)))
    return out


def _arguments(spec: OpSpec, name: str) -> Callable[..., tuple[tuple[Any, ...], dict[str, Any]]]:
    adapter = spec.surface.arguments
    if isinstance(adapter, dict):
        adapter = adapter.get(name, adapter.get(None))
    if adapter is not None:
        return adapter
    if spec.arity is None:
        return lambda inputs, params: ((list(inputs),), dict(params))
    return lambda inputs, params: (tuple(inputs), dict(params))


def _function(spec: OpSpec, name: str, function: Callable[..., Any]) -> Call:
    def call(tensors: list[Tensor], params: dict[str, Any]) -> Any:
        args, kwargs = _arguments(spec, name)(tensors, params)
        return function(*args, **kwargs), parser(spec, name)(*args, **kwargs)

    return call


def _method(spec: OpSpec, name: str) -> Call:
    def call(tensors: list[Tensor], params: dict[str, Any]) -> Any:
        args, kwargs = _arguments(spec, name)(tensors, params)
        return getattr(args[0], name)(*args[1:], **kwargs), parser(spec, name)(*args, **kwargs)

    return call


def _operator(spec: OpSpec, name: str) -> Call:
    reflected = name.startswith("__r") and f"__{name[3:]}" in spec.surface.operators

    def call(tensors: list[Tensor], params: dict[str, Any]) -> Any:
        args, kwargs = _arguments(spec, name)(tensors, params)
        parsed = parser(spec, name)(*args, **kwargs)
        if reflected:  # y.__radd__(x) computes x + y
            return getattr(args[1], name)(args[0]), parsed
        return getattr(args[0], name)(*args[1:], **kwargs), parsed

    return call


def _inplace(spec: OpSpec, name: str) -> Call:
    def parse(tensors: list[Tensor], params: dict[str, Any]) -> Any:
        args, kwargs = _arguments(spec, name)(tensors, params)
        return parser(spec, name)(*args, **kwargs)

    def call(tensors: list[Tensor], params: dict[str, Any]) -> Any:
        args, kwargs = _arguments(spec, name)(tensors, params)
        parsed = parser(spec, name)(*args, **kwargs)
        target = args[0] * 1.0  # a fresh tensor to change; δ reaches the input through it
        getattr(target, name)(*args[1:], **kwargs)
        return target, parsed

    call.parse = parse  # type: ignore[attr-defined]
    return call


def _property(spec: OpSpec, name: str) -> Call:
    def call(tensors: list[Tensor], params: dict[str, Any]) -> Any:
        args, kwargs = _arguments(spec, name)(tensors, params)
        return getattr(args[0], name), parser(spec, name)(*args, **kwargs)

    return call


def _ufunc(spec: OpSpec, ufunc: Any) -> Call:
    def call(tensors: list[Tensor], params: dict[str, Any]) -> Any:
        return ufunc(*tensors), (tuple(tensors), dict(params))

    return call


def check_entries(
    spec: OpSpec,
    inputs: Sequence[np.ndarray],
    params: dict[str, Any],
    requires_grad: Sequence[bool],
    seed: int,
) -> None:
    """Each entry gives ``apply``'s values and gradients on what its arguments parse to.

    An in-place entry whose result would not fit the tensor it changes (another shape or
    a wider dtype) must instead refuse with an error that names it.
    """
    for label, call in entry_points(spec):
        try:
            if label.split(".")[-1] in spec.surface.inplace and not _fits_in_place(spec, call, inputs, params):
                _check_refusal(label, call, inputs, params)
            else:
                _check_one(spec, call, inputs, params, requires_grad, seed)
        except AssertionError as error:
            raise AssertionError(f"entry {label}: {error}") from None


def _fits_in_place(spec: OpSpec, call: Call, inputs: Sequence[np.ndarray], params: dict[str, Any]) -> bool:
    tensors = [Tensor(a.copy()) for a in inputs]
    _, (parsed_inputs, parsed_params) = _parse_only(call, tensors, params)
    out = spec.apply(*parsed_inputs, **parsed_params)
    return out.shape == inputs[0].shape and np.can_cast(out.dtype, inputs[0].dtype, casting="same_kind")


def _parse_only(call: Call, tensors: list[Tensor], params: dict[str, Any]) -> Any:
    try:
        return call(tensors, dict(params))
    except (ValueError, TypeError):
        return None, call.parse(tensors, dict(params))  # type: ignore[attr-defined]


def _check_refusal(label: str, call: Call, inputs: Sequence[np.ndarray], params: dict[str, Any]) -> None:
    name = label.split(".")[-1]
    try:
        call([Tensor(a.copy()) for a in inputs], dict(params))
    except (ValueError, TypeError) as error:
        if not str(error).startswith(f"{name}:"):
            raise AssertionError(f"the refusal does not name {name}: {error}") from None
        return
    raise AssertionError("an in-place op changed the shape or dtype of the tensor it wrote into")


def _check_one(
    spec: OpSpec, call: Call, inputs: Sequence[np.ndarray], params: dict[str, Any], requires_grad: Sequence[bool],
    seed: int,
) -> None:  # fmt: skip
    got, (parsed_inputs, parsed_params) = call([Tensor(a.copy()) for a in inputs], dict(params))
    expected = spec.apply(*parsed_inputs, **parsed_params)
    got_all, expected_all = _outputs(got), _outputs(expected)
    if len(got_all) != len(expected_all):
        raise AssertionError(f"{len(got_all)} outputs; apply gives {len(expected_all)}")
    for one, other in zip(got_all, expected_all):
        _same(one, other, "values")
    if spec.kind == "array":
        return
    leaves = [Tensor(a.copy(), requires_grad=r) for a, r in zip(inputs, requires_grad)]
    got, _ = call(leaves, dict(params))
    twins = [Tensor(a.copy(), requires_grad=r) for a, r in zip(inputs, requires_grad)]
    _, (parsed_inputs, parsed_params) = call(twins, dict(params))  # the same arguments, parsed, on twins
    reference = spec.apply(*parsed_inputs, **parsed_params)
    pairs = [(o, r) for o, r in zip(_outputs(got), _outputs(reference)) if _requires_grad(r)]
    if any(not _requires_grad(o) for o, _ in pairs):
        raise AssertionError("the output does not require grad, though apply's does")
    if not pairs:
        return
    rng = np.random.default_rng(seed)
    cotangents = [rng.standard_normal(o.shape).astype(o.dtype) for o, _ in pairs]
    wanted = [t for t in leaves if t.requires_grad]
    twin_wanted = [t for t in twins if t.requires_grad]
    mine = grad([o for o, _ in pairs], wanted, cotangents, allow_unused=True)
    theirs = grad([r for _, r in pairs], twin_wanted, cotangents, allow_unused=True)
    for g, h in zip(mine, theirs):
        _same(_dense(g, h), _dense(h, g), "gradients", exact=False)


def _outputs(out: Any) -> list[Any]:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _requires_grad(out: Any) -> bool:
    return isinstance(out, Tensor) and out.requires_grad


def _dense(g: Any, other: Any) -> np.ndarray:
    if g is None:
        return np.zeros(np.shape(other.data) if isinstance(other, Tensor) else ())
    return np.asarray(g.data)


def _same(got: Any, expected: Any, what: str, exact: bool = True) -> None:
    a = np.asarray(got.data if isinstance(got, Tensor) else got)
    b = np.asarray(expected.data if isinstance(expected, Tensor) else expected)
    if a.shape != b.shape or a.dtype != b.dtype:
        raise AssertionError(f"{what}: shape {a.shape} and dtype {a.dtype}; apply gives shape {b.shape}, dtype {b.dtype}")
    if exact:
        if not np.array_equal(a, b, equal_nan=True):
            raise AssertionError(f"{what} differ from apply's: {a!r} vs {b!r}")
    else:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"{what} differ from apply's")
