"""PyTorch's in-place spellings and ``index_add`` inside a compiled step: each replay equals
the eager step bit for bit (values and gradients), with inputs, masks and indices that change
from call to call, and a compiled step never falls back (a CompileWarning fails the test).

The first three calls see the same mask or index (two recordings that agree, then the first
replay); later calls change them, so a value frozen into the program would show."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_nn as ag

CALLS = 6
INPUTS = [np.random.default_rng(i).normal(size=(4, 3)) for i in range(CALLS)]
WEIGHT = np.random.default_rng(99).normal(size=(3, 5)) / 2
COTANGENT = np.random.default_rng(98).normal(size=(4, 5))
MASKS = [np.array(m, dtype=bool).reshape(4, 1) for m in ([1, 0, 0, 1],) * 3 + ([0, 1, 1, 0], [1, 1, 1, 1], [0, 0, 0, 0])]
INDICES = [np.array(i) for i in ([0, 2, 2],) * 3 + ([1, 1, 1], [3, 0, 2], [2, 3, 0])]


def _run_both(make, calls):
    eager_step, fast_step = make(), make()
    fast = ag.compile(fast_step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ag.CompileWarning)  # giving up on replaying is a failure here
        got = [[np.array(r.data) for r in fast(*args)] for args in calls]
    expected = [[np.array(r.data) for r in eager_step(*args)] for args in calls]
    for i, (e, g) in enumerate(zip(expected, got)):
        for u, v in zip(e, g):
            assert u.dtype == v.dtype and np.array_equal(u, v), f"call {i}: compiled {v}, eager {u}"
    assert fast.replays >= CALLS - 3, f"expected the calls after the recordings to replay: {fast.history}"


def _step_changing_h_in_place(change):
    """h = x @ W; ``change(h, *extra)`` in place on that non-leaf; loss = Σ c ⊙ h; (loss, δW)."""

    def make():
        w = ag.tensor(WEIGHT.copy(), requires_grad=True)

        def step(x, *extra):
            h = x @ w
            change(h, *extra)
            loss = (h * COTANGENT).sum()
            loss.backward()
            grad = w.grad
            w.grad = None
            return loss, h, grad

        return step

    return make


UNARY = ["exp_", "sigmoid_", "tanh_", "relu_", "neg_", "abs_", "cos_", "sin_", "square_", "erf_"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_inplace_forms_replay_as_eager(name):
    _run_both(_step_changing_h_in_place(lambda h: getattr(h, name)()), [(ag.tensor(x),) for x in INPUTS])


@pytest.mark.parametrize("name", ["log_", "sqrt_"])
def test_inplace_forms_of_positive_domains_replay_as_eager(name):
    _run_both(_step_changing_h_in_place(lambda h: getattr(h.abs_().add_(0.5), name)()), [(ag.tensor(x),) for x in INPUTS])


@pytest.mark.parametrize(
    "change",
    [lambda h, m: h.clamp_min_(-0.2), lambda h, m: h.clamp_max_(0.3), lambda h, m: h.masked_fill_(m, -1.5),
     lambda h, m: h.masked_fill_(ag.tensor(m), 2.0)],
    ids=["clamp_min_", "clamp_max_", "masked_fill_", "masked_fill_ of a tensor mask"],
)  # fmt: skip
def test_clamp_and_masked_fill_inplace_forms_replay_with_changing_masks(change):
    _run_both(_step_changing_h_in_place(change), [(ag.tensor(x), m) for x, m in zip(INPUTS, MASKS)])


def test_detach_in_place_replays_as_eager():
    """A state cut from the graph in place (truncated backpropagation): δ stops at it."""

    def make():
        w = ag.tensor(WEIGHT.copy(), requires_grad=True)

        def step(x):
            h = (x @ w).tanh()
            state = h * 1.0
            state.detach_()
            loss = (h * state * COTANGENT).sum()
            loss.backward()
            grad = w.grad
            w.grad = None
            return loss, state, grad

        return step

    _run_both(make, [(ag.tensor(x),) for x in INPUTS])


@pytest.mark.parametrize("index_as", ["ndarray", "tensor"])
@pytest.mark.parametrize("inplace", [False, True], ids=["index_add", "index_add_"])
def test_index_add_replays_with_changing_indices(inplace, index_as):
    def make():
        w = ag.tensor(WEIGHT.copy(), requires_grad=True)
        source = ag.tensor(np.random.default_rng(5).normal(size=(3, 5)), requires_grad=True)

        def step(x, index):
            h = x @ w
            h = h.index_add_(0, index, source * 2.0, alpha=-0.5) if inplace else h.index_add(0, index, source, alpha=3.0)
            loss = (h * COTANGENT).sum()
            loss.backward()
            grads = w.grad, source.grad
            w.grad = source.grad = None
            return (loss, h, *grads)

        return step

    wrap = ag.tensor if index_as == "tensor" else np.array
    _run_both(make, [(ag.tensor(x), wrap(i)) for x, i in zip(INPUTS, INDICES)])


def test_the_other_pytorch_spellings_replay_as_eager():
    """mm, bmm, where (method), amax, amin, mT, contiguous, maximum and minimum in one step."""

    def make():
        w = ag.tensor(WEIGHT.copy(), requires_grad=True)

        def step(x, mask):
            h = x.mm(w)
            h = h.where(mask, 0.1 * h)
            batch = h.reshape(2, 2, 5).bmm(h.reshape(2, 2, 5).mT.contiguous())
            loss = batch.amax(dim=-1).sum() + h.amin() + h.maximum(0.1 * h).sum() + ag.minimum(h, x.sum()).sum()
            loss.backward()
            grad = w.grad
            w.grad = None
            return loss, grad

        return step

    _run_both(make, [(ag.tensor(x), m) for x, m in zip(INPUTS, MASKS)])
