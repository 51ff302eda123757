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
