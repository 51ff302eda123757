"""Every op of the registry exports, and ONNX Runtime computes what autograd_nn computes:
each primitive and composite on the inputs its own contract draws (the shared property
test's ``draw_case``), in float32. A new op is covered the moment it is declared: this
test fails until it has a converter or a decomposition."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ort_session import RuntimeFailure, run

import autograd_nn as ag
from autograd_nn.onnx import CONVERTERS, ExportError, export
from autograd_nn.registry import builtin_specs
from autograd_nn.testing.contract import draw_case, output_arrays

DIFFERENTIABLE = [s for s in builtin_specs() if s.kind != "array"]
PRIMITIVES = [s for s in DIFFERENTIABLE if s.kind == "primitive"]


@dataclass(frozen=True)
class Gap:
    """Why an op does not export, and a call of it that shows so: the op applied with
    ``params`` to ``inputs`` meets ``refusal`` (a regex of the error's message), raised by
    the exporter (``ExportError``) or, when ``at_runtime``, by ONNX Runtime running the export.
    ``when`` (of a call's params) limits the gap to some calls: the others must agree."""

    reason: str
    inputs: tuple[np.ndarray, ...]
    refusal: str
    params: dict[str, Any] = field(default_factory=dict)
    at_runtime: bool = False
    when: Callable[[dict[str, Any]], bool] | None = None


_RAMP = np.linspace(-4.0, 4.0, 12, dtype=np.float32).reshape(3, 4)  # both sides of every kink, rows unlike
_TARGET = np.linspace(3.0, -2.0, 12, dtype=np.float32).reshape(3, 4)  # |ramp - target| both sides of 1
_PROBABILITIES = np.float32([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1]])  # no zeros
_TRACED_WHERE = "the condition of the Where is a constant that depends on the input's values"
_FROM_DATA = "condition from .data (outside the recorded graph)"

# Composites of issue 12 (op breadth) that do not export yet, and why. A known gap, listed
# so that it is visible and shrinks: test_the_onnx_gaps_are_real_and_named checks that each
# entry's call still meets its refusal, so a fixed one must leave this list (and then
# test_onnx_runtime_agrees_with_every_op covers it).
ONNX_GAPS = {
    # a Where whose condition is computed from .data (outside the recorded graph): export refuses
    "hardtanh": Gap(_FROM_DATA, (_RAMP,), _TRACED_WHERE),
    "hardsigmoid": Gap(_FROM_DATA, (_RAMP,), _TRACED_WHERE),
    "hardswish": Gap(_FROM_DATA, (_RAMP,), _TRACED_WHERE),
    "relu6": Gap(_FROM_DATA, (_RAMP,), _TRACED_WHERE),
    "prelu": Gap(_FROM_DATA, (_RAMP, np.float32([0.1, 0.2, 0.3, 0.4])), _TRACED_WHERE),
    "celu": Gap(
        _FROM_DATA + " when alpha != 1 (alpha = 1 is one Elu and exports)", (_RAMP,), _TRACED_WHERE, {"alpha": 0.5},
        when=lambda params: params.get("alpha", 1.0) != 1,
    ),
    "huber_loss": Gap(_FROM_DATA, (_RAMP, _TARGET), _TRACED_WHERE),
    "smooth_l1_loss": Gap(_FROM_DATA, (_RAMP, _TARGET), _TRACED_WHERE),
    # y ln y is 0 where y = 0: a Where on target.data > 0 (log_target=True exports); a target
    # without zeros used to export, and gave nan in ONNX Runtime for one with zeros
    "kl_div": Gap(
        _FROM_DATA + " when log_target=False", (np.log(_PROBABILITIES), _PROBABILITIES), _TRACED_WHERE,
        {"reduction": "sum"}, when=lambda params: not params.get("log_target", False),
    ),
    # ord=0 counts the nonzero elements with np.count_nonzero of .data; the count of an input
    # without zeros used to export as a constant
    "norm": Gap(
        "the count of ord=0 from .data (outside the recorded graph)", (_RAMP,),
        "input 1 of the Add is a constant that depends on the input's values", {"ord": 0, "axis": -1},
        when=lambda params: params.get("ord") == 0,
    ),
    # the indices are an argsort of .data (outside the recorded graph): export refuses
    "topk": Gap(
        "indices from .data (outside the recorded graph)",
        (np.float32([3, 1, 2, 0]),),
        "the index of the GetItem is a constant that depends on the input's values",
        {"k": 2},
    ),
    # exports, but ONNX Runtime's graph optimiser drops the Expand to a 0-long axis (an int
    # repeats of 0), so the Reshape after it fails
    "repeat": Gap(
        "Reshape rejected by ONNX Runtime for repeats=0",
        (_RAMP,),
        "Reshape",
        {"repeats": 0, "axis": 1},
        at_runtime=True,
    ),
}
AGREEING = [s for s in DIFFERENTIABLE if s.name not in ONNX_GAPS or ONNX_GAPS[s.name].when is not None]


def _in_a_gap(name: str, params: dict[str, Any]) -> bool:
    gap = ONNX_GAPS.get(name)
    return gap is not None and (gap.when is None or gap.when(params))


def test_every_primitive_has_a_converter_or_a_decomposition():
    missing = [s.name for s in PRIMITIVES if s.function not in CONVERTERS and s.decomposition is None]
    assert missing == [], f"give these ops an ONNX converter (autograd_nn/onnx/) or a decomposition: {missing}"


def test_the_fused_ops_map_directly_or_through_their_decomposition():
    by_name = {s.name: s for s in PRIMITIVES}
    assert by_name["Linear"].function in CONVERTERS  # straight to Gemm
    assert by_name["MseLoss"].function not in CONVERTERS and by_name["MseLoss"].decomposition is not None


@pytest.mark.parametrize("spec", AGREEING, ids=lambda s: s.name)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_onnx_runtime_agrees_with_every_op(spec, data):
    case = draw_case(data.draw, spec)
    assume(case.params.get("dtype") in (None, np.float64))  # Cast to longdouble: see the next test
    assume(not _in_a_gap(spec.name, case.params))  # those calls are checked to be refused, below
    inputs = [a.astype(np.float32) for a in case.inputs]

    def op(*tensors):
        return spec.apply(*tensors, **case.params)

    wants = output_arrays(op(*[ag.tensor(x) for x in inputs]))  # several for split, meshgrid, topk, ...
    gots = run(export(op, tuple(inputs)), *inputs)
    assert len(gots) == len(wants), f"{case.describe()}: {len(gots)} ONNX outputs, {len(wants)} from autograd_nn"
    for k, (got, want) in enumerate(zip(gots, wants)):
        assert got.shape == want.shape and got.dtype == want.dtype, (k, got.shape, got.dtype, want.shape, want.dtype)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=f"output {k} of {case.describe()}")


def test_a_cast_onnx_cannot_hold_is_refused_naming_the_op():
    x = np.ones(3)
    with pytest.raises(ExportError, match=r"the Cast .*ONNX has no float128 type"):
        export(lambda t: t.astype(np.longdouble), (x,))


@pytest.mark.parametrize(
    "index",
    [
        (slice(None), 0), (Ellipsis, slice(1, None, 2)), (None, slice(None, None, -1)), -1, (1, None, slice(0, 3)),
        np.array([2, 0, 2]), (slice(None), np.array([[1], [0]])), (np.array([0, 2]), np.array([1, 3])),
        (slice(None), np.array([0, 1]), np.array([2, 3])), np.array([True, False, True]), (0, np.array([3, 1])),
        (np.array([1, 2]), slice(None), 2), (slice(2, 1),),
    ],
    ids=repr,
)  # fmt: skip
def test_indexing_follows_numpy(index, rng):
    x = rng.random((3, 4, 5), dtype=np.float32)
    (got,) = run(export(lambda t: t[index], (x,)), x)
    np.testing.assert_array_equal(got, x[index])


def test_an_integer_input_used_as_an_index_stays_an_input(rng):
    """An embedding lookup: the ids are a graph input (int64), gathered from the table."""
    table = ag.tensor(rng.random((10, 3), dtype=np.float32), requires_grad=True)
    ids = np.array([1, 7, 7], dtype=np.int64)
    proto = export(lambda i: table[i], (ids,), dynamic_axes={"input": [0]})
    other = np.array([9, 0, 3, 3, 2], dtype=np.int64)
    np.testing.assert_array_equal(run(proto, other)[0], table.numpy()[other])


def test_in_place_writes_export_as_scatters(rng):
    def write(x):
        y = x * 1.0
        y[1, ::2] = x[0, :2] * 10
        return y

    x = rng.random((3, 4), dtype=np.float32)
    expected = x.copy()
    expected[1, ::2] = x[0, :2] * 10
    np.testing.assert_allclose(run(export(write, (x,)), x)[0], expected, rtol=1e-6)


def test_the_docs_table_lists_every_converter():
    """docs/interop.md says which ONNX ops each op becomes: it may not fall behind the table."""
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "interop.md").read_text(encoding="utf-8")
    table = page[page.index("| autograd_nn op | ONNX |") :].split("\n\n")[0]
    named = {cell.split()[0].strip("`") for row in table.splitlines()[2:] for cell in row.split("|")[1].split(",")}
    builtin = {cls.__name__ for cls in CONVERTERS if cls.__module__.startswith("autograd_nn.")}
    decomposed = {s.name for s in PRIMITIVES if s.function not in CONVERTERS}
    assert builtin | decomposed == named


@pytest.mark.parametrize("name", sorted(ONNX_GAPS))
def test_the_onnx_gaps_are_real_and_named(name):
    specs = {s.name: s for s in DIFFERENTIABLE}
    assert name in specs, f"{name} is not a registered op: remove it from ONNX_GAPS"
    spec, gap = specs[name], ONNX_GAPS[name]

    def op(*tensors):
        return spec.apply(*tensors, **gap.params)

    op(*[ag.tensor(x) for x in gap.inputs])  # the call itself is valid: only its export is the gap
    assert _in_a_gap(name, gap.params), f"the call shown for {name} is not one that its when= says is a gap"
    if not gap.at_runtime:
        with pytest.raises(ExportError, match=gap.refusal):
            export(op, gap.inputs)
        return
    proto = export(op, gap.inputs)
    with pytest.raises(RuntimeFailure, match=gap.refusal):
        run(proto, *gap.inputs)
