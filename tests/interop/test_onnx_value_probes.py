"""No silent wrong result from ``export``: a constant the model computed from its input's
values outside the recorded graph is never written into the ONNX file.

The example inputs here are degenerate on purpose: a single element, rows that all sort
alike, values inside a threshold. Rolling their rows (the one other recording export
used to make) changes nothing, so the traced mask or index used to be baked in, and ONNX
Runtime gave other results than autograd_nn for other inputs. Each case is held to the
contract: either ONNX Runtime agrees with eager autograd_nn on inputs unlike the example,
or export refuses, naming the op. Then each value probe is shown to be needed (the
message names the first one that found the constant), and models whose constants come
from shapes alone still export and agree."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from ort_session import run

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.onnx import ExportError, export
from autograd_nn.registry import OP_REGISTRY, register_op

F = ag.functional
_RAMP = np.linspace(-4.0, 4.0, 12, dtype=np.float32).reshape(3, 4)  # every row in the same order
_NORMAL = np.random.default_rng(7).normal(size=(3, 4)).astype(np.float32) * 3


def _eager(fn: Any, inputs: tuple[np.ndarray, ...]) -> list[np.ndarray]:
    with ag.no_grad():
        out = fn(*[ag.tensor(x) for x in inputs])
    out = out if isinstance(out, (tuple, list)) else (out,)
    return [np.asarray(o.numpy() if hasattr(o, "numpy") else o) for o in out]


def _agrees_or_is_refused(fn: Any, example: tuple[np.ndarray, ...], others: list[tuple[np.ndarray, ...]]) -> str:
    """The contract: the export agrees with eager on every one of ``others``, or export
    refuses; returns the refusal's message ("" when it exported)."""
    try:
        proto = export(fn, example)
    except ExportError as error:
        return str(error)
    for inputs in others:
        for got, want in zip(run(proto, *inputs), _eager(fn, inputs)):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"exported on {example}, run on {inputs}")
    return ""


_WHERE = "the condition of the Where is a constant that depends on the input's values"

# (what, the model, the degenerate example, inputs unlike it, the refusal's message)
CASES = [
    ("prelu on [2.0] (the reviewer's case)", nn.PReLU(), (np.float32([2.0]),),
     [(np.float32([-2.0]),), (np.float32([0.0]),)], _WHERE),
    ("per-channel prelu on positive rows", lambda x: F.prelu(x, ag.tensor(np.float32([0.1, 0.2, 0.3]))),
     (np.ones((2, 3), np.float32),), [(_NORMAL[:, :3],)], _WHERE),
    ("topk of rows that sort alike (the reviewer's case)", lambda x: x.topk(2).values, (_RAMP,),
     [(-_RAMP,), (_NORMAL,)], "the index of the GetItem is a constant that depends on the input's values"),
    ("leaky_relu, prelu's recorded twin: it exports", lambda x: F.leaky_relu(x, 0.25), (np.float32([2.0]),),
     [(np.float32([-2.0]),), (np.float32([0.0]),)], ""),
    ("hardtanh inside its bounds", F.hardtanh, (np.float32([[0.5, -0.5]]),), [(np.float32([[3.0, -3.0]]),)], _WHERE),
    ("relu6 of one value", F.relu6, (np.float32([2.0]),), [(np.float32([7.0]),), (np.float32([-1.0]),)], _WHERE),
    ("kl_div of a target without zeros", lambda p, y: F.kl_div(p, y, reduction="sum"),
     (np.log(np.float32([[0.3, 0.7]])), np.float32([[0.5, 0.5]])),
     [(np.log(np.float32([[0.3, 0.7]])), np.float32([[0.0, 1.0]]))], _WHERE),
    ("norm(ord=0) of an input without zeros", lambda x: x.norm(ord=0, axis=-1), (_RAMP + 10,),
     [(np.float32([[0, 1, 0, 0], [0, 0, 0, 0], [1, 2, 3, 4]]),)],
     "input 1 of the Add is a constant that depends on the input's values"),
]  # fmt: skip


@pytest.mark.parametrize("what, model, example, others, refusal", CASES, ids=[c[0] for c in CASES])
def test_a_degenerate_example_never_exports_a_wrong_model(what, model, example, others, refusal):
    message = _agrees_or_is_refused(model, example, others)
    assert refusal in message and bool(message) == bool(refusal), message


def test_topk_indices_as_an_output_are_refused():
    """A plain array returned by the model is a constant output: computed from .data here."""
    with pytest.raises(ExportError, match="an output is a constant that depends on the input's values"):
        export(lambda x: (x * 1.0, x.topk(2).indices), (_RAMP,))


# Each probe finds what the ones before it do not (the message names the first that did).
PROBED = [
    ("negated", lambda x: ag.where(x.data > -1, x, 0.5 * x), (np.float32([2.0, 3.0]),)),
    ("set to zero", lambda x: x + ag.tensor(np.float32(np.count_nonzero(x.data))), (np.float32([2.0, 3.0]),)),
    ("scaled by 10", lambda x: ag.where(np.abs(x.data) < 1, x, 0.5 * x), (np.float32([0.5, -0.5]),)),
    ("replaced by random values", lambda x: x[np.argsort(np.abs(x.data), kind="stable")], (np.float32([1, 2, 3]),)),
]  # fmt: skip


@pytest.mark.parametrize("probe, model, example", PROBED, ids=[p[0] for p in PROBED])
def test_each_value_probe_finds_a_constant_the_others_miss(probe, model, example):
    with pytest.raises(ExportError, match="is a constant that depends on the input's values") as caught:
        export(model, example)
    assert f"the example inputs {probe}" in str(caught.value)


def test_integer_inputs_are_shuffled_so_a_constant_read_from_them_is_found():
    """Both rows alike, so rolling them changes nothing; zeros sort as the example does: only
    a shuffle finds it."""
    ids = np.array([[0, 1], [0, 1]], dtype=np.int64)
    with pytest.raises(ExportError, match=r"input 1 of the Mul is a constant .*integer and boolean ones shuffled"):
        export(lambda x, i: x * ag.tensor(np.argsort(i, axis=-1).astype(np.float32)), (np.ones((2, 2), np.float32), ids))


def test_integer_inputs_that_are_graph_inputs_still_export(rng):
    """An embedding lookup by an id input: shuffled ids are the same input, not a changed constant."""
    table = nn.Embedding(6, 3, dtype="float32")
    proto = export(table, (np.array([[1, 1, 4]], dtype=np.int64),))
    other = np.array([[5, 0, 2]], dtype=np.int64)
    np.testing.assert_allclose(run(proto, other)[0], table.weight.numpy()[other], rtol=1e-6)


def test_constants_built_from_shapes_still_export(rng):
    """A causal mask and a scale from the input's shape are the same for every probe."""

    def causal(x):
        n = x.shape[-1]
        return ag.where(np.tril(np.ones((n, n), dtype=bool)), x, x * 0.0) * (1.0 / n)

    x = np.ones((4, 4), np.float32)
    other = rng.normal(size=(4, 4)).astype(np.float32)
    np.testing.assert_allclose(run(export(causal, (x,)), other)[0], np.tril(other) / 4, rtol=1e-6)


def test_a_shape_computed_from_the_values_is_refused():
    with pytest.raises(ExportError, match=r"the GetItem in the model makes .* its shape depends on the input's values"):
        export(lambda x: x[x.data > 0], (np.float32([1.0, 2.0, -3.0]),))


def test_a_tensor_made_in_forward_from_the_values_is_refused():
    with pytest.raises(ExportError, match="a tensor made in the forward pass is a constant that depends on the input"):
        export(lambda x: x * ag.tensor(x.data.mean(), requires_grad=True), (np.float32([2.0]),))


def _unit_interval_only(x):
    """A model that rejects inputs outside (0, 1], as a loss on probabilities does."""
    if np.any(x.data <= 0) or np.any(x.data > 1):
        raise ValueError("the inputs must lie in (0, 1]")
    return x.log()


def test_a_model_that_rejects_most_probes_is_checked_within_its_range(rng):
    masked = lambda x: ag.where(x.data < 0.75, _unit_interval_only(x), x)  # noqa: E731
    example = (np.float32([[0.6, 0.9, 0.7, 0.8]]),)
    with pytest.raises(ExportError, match="replaced by random values within the range of their own"):
        export(masked, example)
    proto = export(_unit_interval_only, example)  # nothing computed outside the graph: it exports
    other = rng.uniform(0.01, 1.0, (1, 4)).astype(np.float32)
    np.testing.assert_allclose(run(proto, other)[0], np.log(other), rtol=1e-6)


@pytest.mark.parametrize(
    "example, rejected",
    [(np.float32([0.5]), "negated (integer and boolean ones shuffled): only the example"),
     # zeros negated, zeroed and scaled are the example itself, which proves nothing: not a check
     (np.float32([0.0, 0.0]), "replaced by random values (seeded; integer and boolean ones shuffled): only the")],
    ids=["one value", "zeros"],
)  # fmt: skip
def test_a_model_that_rejects_every_probe_is_not_exported(example, rejected):
    def only_the_example(x):
        if not np.array_equal(x.data, example):
            raise ValueError("only the example")
        return ag.where(x.data >= 0, x, x * 2.0)  # a mask from .data, which no accepted probe could check

    with pytest.raises(ExportError, match="the model rejects the example inputs with any other values") as caught:
        export(only_the_example, (example,))  # (its rows rolled are itself)
    assert rejected in str(caught.value)


class _LeakyHalf(ag.Function):
    """z = x if x > 0 else x / 2;  δx = δz · (1 if x > 0 else 1/2)  (fused; exported by its decomposition)"""

    @staticmethod
    def forward(ctx, x):
        ctx.mask = x > 0
        return np.where(ctx.mask, x, 0.5 * x)

    @staticmethod
    def backward(ctx, grad):
        return grad * np.where(ctx.mask, 1.0, 0.5)


@pytest.fixture
def leaky_half_with_a_decomposition_that_reads_data():
    def decomposition(x):
        return ag.where(x.data > 0, x, 0.5 * x)  # the mask from .data: the decomposition is at fault

    register_op(reference=lambda x: np.where(x > 0, x, 0.5 * x), decomposition=decomposition)(_LeakyHalf)
    yield _LeakyHalf
    del OP_REGISTRY[f"{_LeakyHalf.__module__}.{_LeakyHalf.__qualname__}"]


def test_a_decomposition_is_probed_too(leaky_half_with_a_decomposition_that_reads_data):
    op = leaky_half_with_a_decomposition_that_reads_data
    with pytest.raises(ExportError, match=_WHERE):
        export(lambda x: op.apply(x), (np.float32([2.0]),))
