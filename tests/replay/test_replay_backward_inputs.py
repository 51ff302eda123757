"""A compiled step calling ``loss.backward(inputs=[...])`` replays it bit for bit: the same
leaves accumulate (the others keep their ``.grad``), a non-leaf input's ``.grad`` is each
call's own, and a choice of inputs passed as an argument records a program per choice."""

from __future__ import annotations

import numpy as np

import autograd_nn as ag


def _twins():
    """One set of tensors per run (eager, compiled), equal at the start; w2 holds a .grad
    that no call may touch."""
    rng = np.random.default_rng(0)
    w1, w2 = rng.standard_normal((3, 4)), rng.standard_normal((4, 1))
    runs = []
    for _ in range(2):
        a, b = ag.tensor(w1, requires_grad=True), ag.tensor(w2, requires_grad=True)
        b.grad = ag.tensor(np.full((4, 1), 5.0))
        runs.append((a, b))
    return runs


def _batch(i: int) -> ag.Tensor:
    return ag.tensor(np.random.default_rng(10 + i).standard_normal((2, 3)), requires_grad=True)


def _same(a, b) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))


def test_backward_with_a_leaf_and_a_non_leaf_input_replays_bit_for_bit():
    results = []
    for compiled, (w1, w2) in zip((False, True), _twins()):

        def step(x, w1=w1, w2=w2):
            h = x @ w1
            loss = (h.tanh() @ w2).sum()
            loss.backward(inputs=[w1, h, x])
            return loss, h.grad, x.grad

        fn = ag.compile(step) if compiled else step
        calls = []
        for i in range(7):
            loss, dh, dx = fn(_batch(i))
            calls.append((loss.numpy(), dh.numpy(), dx.numpy(), w1.grad.numpy().copy(), w2.grad.numpy().copy()))
        results.append((calls, fn, w2))
    (eager, _, _), (fast_calls, fast, w2) = results
    assert fast.replays >= 4
    assert all(all(np.array_equal(a, b) for a, b in zip(e, c)) for e, c in zip(eager, fast_calls))
    assert np.array_equal(w2.grad.numpy(), np.full((4, 1), 5.0))  # not an input: untouched by every replay


def test_inputs_chosen_by_an_argument_replay_each_choice():
    """step(x, which): which of w1, w2 (and the non-leaf h) accumulates changes between calls;
    a number argument is guarded by its value, so each choice replays its own program."""
    results = []
    for compiled, (w1, w2) in zip((False, True), _twins()):

        def step(x, which, w1=w1, w2=w2):
            h = x @ w1
            loss = (h.tanh() @ w2).sum()
            loss.backward(inputs=[w1, h] if which == 0 else [w2])
            return h.grad

        fn = ag.compile(step) if compiled else step
        calls = []
        for i in range(10):
            dh = fn(_batch(i), i % 2)
            calls.append([None if t is None else t.numpy().copy() for t in (dh, w1.grad, w2.grad)])
        results.append((calls, fn))
    (eager, _), (fast_calls, fast) = results
    assert fast.replays >= 4
    assert all(all(_same(a, b) for a, b in zip(e, c)) for e, c in zip(eager, fast_calls))
