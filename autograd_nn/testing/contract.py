"""The op contract, enforced: draw valid inputs from an ``OpSpec`` and check the op.

``check_op(op, draw)`` checks one drawn example: the forward pass against the spec's
numpy reference, then ``gradcheck`` and ``gradgradcheck`` in float64. ``op_test(op)``
wraps that in a hypothesis test for pytest to collect. ``spec_problems`` and
``unregistered_ops`` keep a registry honest. Needs hypothesis (the ``testing`` extra).

>>> import numpy as np, autograd_nn as ag
>>> from autograd_nn.testing import op_test
>>> class Swish(ag.Function):
...     '''a = z·σ(z);  δz = δa · (σ + z·σ·(1 − σ))'''
...     @staticmethod
...     def forward(ctx, z):
...         ctx.save_for_backward(z)
...         return z / (1 + np.exp(-z))
...     @staticmethod
...     def backward(ctx, grad):
...         (z,) = ctx.saved
...         s = ctx.xp.sigmoid(z)
...         return grad * (s + z * s * (1 - s))
>>> test_swish = op_test(Swish, reference=lambda z: z * (0.5 + 0.5 * np.tanh(z / 2)))
>>> test_swish()  # 40 drawn examples under the CI profile; raises on the first failure
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ..function import Function
from ..opspec import OpSpec, op_spec
from ..registry import OP_REGISTRY, builtin_specs
from ..tensor import Tensor
from . import strategies as ats
from .entries import check_entries
from .families import ARRAY_KINDS, SHAPE_FAMILIES, ShapeFamily
from .gradcheck import gradcheck, gradgradcheck

__all__ = [
    "ARRAY_KINDS", "SHAPE_FAMILIES", "Case", "OpContractError", "ShapeFamily", "builtin_specs", "check_case",
    "check_op", "draw_case", "op_test", "spec_of", "spec_problems", "unregistered_ops",
]  # fmt: skip

Shape = tuple[int, ...]
Draw = Callable[[st.SearchStrategy[Any]], Any]


class OpContractError(AssertionError):
    """An op broke its contract on a drawn example (the message names the example)."""


# ----------------------------------------------------------------------- one example
@dataclass
class Case:
    """One drawn example: input arrays, parameters, which inputs require grad, a seed."""

    spec: OpSpec
    inputs: list[np.ndarray]
    params: dict[str, Any]
    requires_grad: list[bool]
    seed: int

    def describe(self) -> str:
        shapes = ", ".join(str(a.shape) for a in self.inputs)
        params = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        return f"{self.spec.name} with input shapes [{shapes}], params {{{params}}}, requires_grad {self.requires_grad}"


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray) and value.size > 6:
        return f"array(shape={value.shape}, dtype={value.dtype})"
    return repr(value)


def draw_case(draw: Draw, spec: OpSpec) -> Case:
    """Draw valid inputs and parameters for ``spec`` (see ``OpSpec`` for the vocabulary)."""
    if callable(spec.shapes):
        shapes, params = spec.shapes(draw)
        shapes = list(shapes)
    else:
        shapes, params = _family(spec).draw_shapes(draw, spec)
    for name, choice in spec.params.items():
        params[name] = ARRAY_KINDS[choice](draw, shapes) if isinstance(choice, str) else draw(st.sampled_from(choice))
    kinks = [k for k in spec.kinks if not isinstance(k, str)]
    kinks += [float(params[k]) for k in spec.kinks if isinstance(k, str) and params[k] is not None]
    domains = [spec.domain_of(i) for i in range(len(shapes))]
    if spec.distinct or spec.distinct_abs:
        inputs = draw(ats.distinct_values(shapes, domains, avoid=kinks, absolute=spec.distinct_abs))
    else:
        inputs = [draw(ats.domain_arrays(s, d, avoid=kinks)) for s, d in zip(shapes, domains)]
    # A non-empty subset requires grad (exercising ctx.needs_input_grad); shrinks to input 0.
    requires_grad = draw(st.lists(st.booleans(), min_size=len(shapes), max_size=len(shapes)))
    requires_grad[draw(st.integers(0, len(shapes) - 1))] = True
    seed = draw(st.integers(0, 2**32 - 1))
    return Case(spec, inputs, params, requires_grad, seed)


def check_case(case: Case, *, gradgrad: bool = True) -> None:
    """Forward against the reference; first (and second) derivatives against finite
    differences; and every public entry of the op (function, method, operator, in-place
    form, ufunc) equal to ``apply`` in values and gradients."""
    spec, params = case.spec, case.params
    originals = [a.copy() for a in case.inputs]
    try:
        expected = spec.reference(*[a.copy() for a in case.inputs], **params)
        plain = spec.apply(*[Tensor(a.copy()) for a in case.inputs], **params)
        _compare_outputs(plain, expected)
        if spec.kind != "array":
            _check_gradients(case, plain, gradgrad)
        check_entries(spec, case.inputs, params, case.requires_grad, case.seed)
        if not all(np.array_equal(a, original) for a, original in zip(case.inputs, originals)):
            raise OpContractError("the op modified its input in place")
    except (AssertionError, ValueError, TypeError, IndexError, FloatingPointError) as error:
        raise OpContractError(f"{case.describe()}:\n{error}") from error


def _check_gradients(case: Case, plain: Any, gradgrad: bool) -> None:
    spec, params = case.spec, case.params
    tensors = [Tensor(a.copy(), requires_grad=r) for a, r in zip(case.inputs, case.requires_grad)]
    originals = [t.data.copy() for t in tensors]
    recorded = spec.apply(*tensors, **params)
    pairs = zip(output_arrays(recorded), output_arrays(plain))
    if not all(np.array_equal(a, b, equal_nan=True) for a, b in pairs):
        raise OpContractError("recording the graph changed the forward values")
    first = outputs_of(recorded)[0]
    if spec.kind == "primitive" and np.issubdtype(first.dtype, np.floating) and not first.requires_grad:
        raise OpContractError("the op's output does not require grad though an input does")

    def fn(*xs: Any) -> Any:
        return spec.apply(*xs, **params)

    gradcheck(fn, tensors, seed=case.seed)
    if gradgrad:
        gradgradcheck(fn, tensors, seed=case.seed)
    for t, original in zip(tensors, originals):
        if not np.array_equal(t.data, original):
            raise OpContractError("the op modified its input in place")


def outputs_of(out: Any) -> list[Any]:
    """An op's outputs as a list: one output, or the items of a tuple or list of them
    (``split``, ``meshgrid``, ``topk``'s values and indices)."""
    return list(out) if isinstance(out, (tuple, list)) else [out]


def output_arrays(out: Any) -> list[np.ndarray]:
    """The arrays of an op's outputs (Tensors' data; anything else as an array)."""
    return [np.asarray(o.data if isinstance(o, Tensor) else o) for o in outputs_of(out)]


def _compare_outputs(actual: Any, expected: Any) -> None:
    if isinstance(actual, (tuple, list)) != isinstance(expected, (tuple, list)):
        raise OpContractError(
            f"the op returns a {type(actual).__name__}; the reference returns a {type(expected).__name__}"
        )
    got, wanted = output_arrays(actual), output_arrays(expected)
    if len(got) != len(wanted):
        raise OpContractError(f"the op returns {len(got)} outputs; the reference returns {len(wanted)}")
    for a, b in zip(got, wanted):
        _compare_forward(a, b)


def _compare_forward(actual: np.ndarray, expected: np.ndarray) -> None:
    if actual.shape != expected.shape or actual.dtype != expected.dtype:
        raise OpContractError(
            f"forward gives shape {actual.shape} and dtype {actual.dtype}; the reference gives "
            f"shape {expected.shape} and dtype {expected.dtype}"
        )
    np.testing.assert_allclose(
        actual.astype(np.float64), expected.astype(np.float64), rtol=1e-9, atol=1e-12, err_msg="forward vs reference"
    )


def check_op(op: Any, draw: Draw, *, gradgrad: bool = True, **spec: Any) -> None:
    """Draw one example for ``op`` and check it (raise ``OpContractError`` on failure).

    ``op`` is a registered Function subclass, an ``OpSpec``, or a Function/callable with
    its spec given as keywords (``reference=``, ``domain=``, ...; see ``op_spec``).
    ``draw`` is hypothesis's ``data.draw``.
    """
    check_case(draw_case(draw, _resolve(op, spec)), gradgrad=gradgrad)


def op_test(op: Any, *, gradgrad: bool = True, max_examples: int | None = None, **spec: Any) -> Callable[[], None]:
    """Build a hypothesis test of ``op``'s contract; assign it to a ``test_*`` name.

    Each example draws valid inputs (shapes, parameters, domain, kinks avoided) and runs
    ``check_op``. The number of examples is ``max_examples``, or the active hypothesis
    profile's; there is no deadline (finite differences are slow by design).
    """
    resolved = _resolve(op, spec)
    problems = spec_problems(resolved)
    if problems:
        raise ValueError(f"op_test: the spec of {resolved.name} is incomplete: " + "; ".join(problems))

    def test(data: st.DataObject) -> None:
        check_op(resolved, data.draw, gradgrad=gradgrad)

    test.__name__ = test.__qualname__ = f"test_{resolved.name}_contract"
    limits = {} if max_examples is None else {"max_examples": max_examples}
    return settings(deadline=None, **limits)(given(data=st.data())(test))


# ------------------------------------------------------------------------- registry
def spec_of(cls: type) -> OpSpec:
    """The registered spec of the Function subclass ``cls``."""
    for spec in OP_REGISTRY.values():
        if spec.function is cls:
            return spec
    raise LookupError(
        f"{cls.__name__} is not registered: decorate it with @register_op(reference=..., ...) "
        "or pass its spec as keywords"
    )


def _resolve(op: Any, spec: dict[str, Any]) -> OpSpec:
    if isinstance(op, OpSpec):
        if spec:
            raise TypeError("pass either an OpSpec or spec keywords, not both")
        return op
    if not spec and inspect.isclass(op) and issubclass(op, Function):
        return spec_of(op)
    return op_spec(op, **spec)


def _family(spec: OpSpec) -> ShapeFamily:
    try:
        return SHAPE_FAMILIES[spec.shapes]
    except KeyError:
        raise ValueError(
            f"{spec.name}: unknown shape family {spec.shapes!r}; known: {sorted(SHAPE_FAMILIES)}"
        ) from None


def spec_problems(spec: OpSpec) -> list[str]:
    """What makes ``spec`` incomplete or inconsistent (empty when it is complete).

    Checks the shape family and array kinds exist, the family fits the arity, and every
    parameter the op requires is drawn (by the family or ``params``) and every drawn
    parameter is one the op accepts.
    """
    problems = []
    if not callable(spec.reference):
        problems.append("no callable numpy reference")
    provides: tuple[str, ...] | None = None
    if isinstance(spec.shapes, str):
        family = SHAPE_FAMILIES.get(spec.shapes)
        if family is None:
            problems.append(f"unknown shape family {spec.shapes!r} (known: {', '.join(sorted(SHAPE_FAMILIES))})")
        else:
            provides = family.provides
            if family.arity != "any" and family.arity != spec.arity:
                problems.append(
                    f"shape family {spec.shapes!r} draws {family.arity} input(s), the op takes {spec.arity}"
                )
            if family.arity == "any" and spec.arity is None:
                problems.append(f"shape family {spec.shapes!r} needs a fixed arity")
            for name in set(provides) & set(spec.params):
                problems.append(f"parameter {name!r} is drawn by shape family {spec.shapes!r}; remove it from params")
    for name, choice in spec.params.items():
        if isinstance(choice, str) and choice not in ARRAY_KINDS:
            problems.append(
                f"params[{name!r}]: unknown array kind {choice!r} (known: {', '.join(sorted(ARRAY_KINDS))})"
            )
    target = spec.function.forward if spec.function is not None else spec.apply
    try:
        parameters = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return problems
    if spec.function is not None:
        parameters = parameters[1:]  # ctx
    inputs = 0
    named: list[inspect.Parameter] = []
    for p in parameters:
        positional = p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        if p.kind is p.VAR_POSITIONAL or (positional and spec.arity is not None and inputs < spec.arity):
            inputs += p.kind is not p.VAR_POSITIONAL
            continue
        named.append(p)
    drawn = set(spec.params) | set(provides or ())
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in named)
    accepted = {p.name for p in named if p.kind is not p.VAR_KEYWORD and p.kind is not p.POSITIONAL_ONLY}
    for p in named:
        required = p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        if required and provides is not None and p.name not in drawn:
            problems.append(f"parameter {p.name!r} of {spec.name} is never drawn: add it to params")
    if not accepts_any:
        for name in sorted(drawn - accepted):
            problems.append(f"{spec.name} takes no parameter {name!r}")
    return problems


def unregistered_ops(package: str = "autograd_nn.ops") -> list[str]:
    """Public Function subclasses defined in ``package`` (and its submodules) that are
    not in ``OP_REGISTRY``, as "module.Name". Names starting with "_" are shared bases."""
    root = importlib.import_module(package)
    modules = [root]
    if hasattr(root, "__path__"):
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            modules.append(importlib.import_module(info.name))
    registered = {spec.function for spec in OP_REGISTRY.values()}
    missing = []
    for module in modules:
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, Function)
                and value.__module__ == module.__name__
                and not name.startswith("_")
                and value not in registered
            ):
                missing.append(f"{module.__name__}.{name}")
    return sorted(set(missing))
