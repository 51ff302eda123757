"""Plain ndarray arguments of a compiled function (labels, indices, masks) are inputs of the
replay, not constants: after calls that repeat one array, a new one gives the eager result.

Each op below reads such an argument as an array of integers or booleans. They used to read
it through ``getattr(x, "data", x)``, which for an ndarray is its raw buffer: the recording
then saw an untracked copy, made the first labels a constant of the program, and a replay
returned the loss of the old labels, silently."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag

F = ag.functional
X = np.arange(12.0).reshape(3, 4) / 7


def _uses(name):
    x = ag.tensor(X, requires_grad=True)
    steps = {
        "cross_entropy": lambda labels: F.cross_entropy(x, labels),
        "nll_loss": lambda labels: F.nll_loss(x.log_softmax(axis=1), labels),
        "take": lambda labels: x.take(labels).sum(),
        "index_select": lambda labels: ag.index_select(x, 1, labels).sum(),
        "gather": lambda labels: ag.gather(x, 1, labels.reshape(3, 1)).sum(),
        "take_along_axis": lambda labels: ag.take_along_axis(x, labels.reshape(3, 1), axis=1).sum(),
        "masked_fill": lambda labels: ag.masked_fill(x, labels.reshape(3, 1) == 2, 0.0).sum(),
        "cosine_embedding_loss": lambda labels: F.cosine_embedding_loss(x, x[::-1], 2 * (labels == 2) - 1),
    }
    return x, steps[name]


NAMES = ["cross_entropy", "nll_loss", "take", "index_select", "gather", "take_along_axis", "masked_fill",
         "cosine_embedding_loss"]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_an_array_argument_that_changes_after_repeated_calls_gives_the_eager_result(name):
    x, step = _uses(name)
    fast = ag.compile(lambda labels: step(labels))
    first, second = np.array([0, 1, 2]), np.array([2, 2, 0])
    results = [float(fast(labels).data) for labels in (first, first, first, second, second)]
    expected = [float(step(labels).data) for labels in (first, first, first, second, second)]
    assert expected[0] != expected[3]  # the two label sets give different values
    assert fast.replays >= 1  # the calls after the recordings replayed
    assert results == expected


# The ops that keep a copy of such an array for their derivative (autograd_nn/ops/_kept.py):
# a replay's gradient must follow the array of its own call, whether the array is an
# argument (watched: the copy is a call the replay repeats) or a buffer the step reads from
# its closure and the caller refills (a constant read by reference: not frozen by a copy).
WEIGHTS = ag.tensor(np.arange(1.0, 13.0).reshape(3, 4))  # so that where a value lands changes the loss


def _gradient_steps(x):
    W = ag.tensor(np.arange(15.0).reshape(5, 3) / 11, requires_grad=True)
    return W, {
        "embedding": lambda labels: (F.embedding(labels, W) ** 2).sum(),
        "getitem": lambda labels: (x[labels] ** 2).sum(),
        "where": lambda labels: (ag.where(labels.reshape(3, 1) == 1, x, x * x)).sum(),
        "cross_entropy": lambda labels: F.cross_entropy(x, labels),
        "scatter_add": lambda labels: (ag.scatter_add(x * 0, 1, labels.reshape(3, 1), x[:, :1]) * WEIGHTS).sum(),
        "scatter": lambda labels: (ag.scatter(x, 1, labels.reshape(3, 1), x[:, 1:2] * 3) * WEIGHTS).sum(),
    }


GRADIENT_NAMES = ["embedding", "getitem", "where", "cross_entropy", "scatter_add", "scatter"]


def _gradients_of(loss_of, leaves):
    def step(labels):
        loss_of(labels).backward()
        grads = tuple(leaf.grad for leaf in leaves)
        for leaf in leaves:
            leaf.grad = None
        return grads

    return step


@pytest.mark.parametrize("name", GRADIENT_NAMES)
def test_a_replayed_gradient_follows_an_array_argument(name):
    x = ag.tensor(X, requires_grad=True)
    W, steps = _gradient_steps(x)
    step = _gradients_of(steps[name], (x, W))
    fast = ag.compile(step)
    calls = [np.array(c) for c in ([0, 1, 2], [0, 1, 2], [0, 1, 2], [2, 2, 0], [1, 0, 0])]
    for labels in calls:
        got, expected = fast(labels), step(labels)
        for g, e in zip(got, expected):
            assert (g is None) == (e is None)
            if e is not None:
                assert g.data.tobytes() == e.data.tobytes()
    assert fast.replays >= 2


# (not where: its mask, ``labels == 1``, is computed from the buffer by numpy, so it is a
# constant of the replay, as compile documents; it refuses when the value changes between recordings)
@pytest.mark.parametrize("name", [name for name in GRADIENT_NAMES if name != "where"])
def test_a_replayed_gradient_follows_a_buffer_the_caller_refills(name):
    x = ag.tensor(X, requires_grad=True)
    W, steps = _gradient_steps(x)
    buffer = np.array([0, 1, 2])
    step = _gradients_of(lambda _: steps[name](buffer), (x, W))
    fast = ag.compile(lambda: step(None))
    expected_first = step(None)
    for fill in ([0, 1, 2], [0, 1, 2], [0, 1, 2], [2, 2, 0], [1, 0, 0]):
        buffer[:] = fill
        got, expected = fast(), step(None)
        for g, e in zip(got, expected):
            if e is not None:
                assert g.data.tobytes() == e.data.tobytes()
    assert fast.replays >= 2
    assert any(e is not None and not np.array_equal(e.data, f.data) for e, f in zip(expected, expected_first))
