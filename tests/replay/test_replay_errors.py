"""A replay that raises part-way leaves each ``.grad`` as the eager call leaves it.

Every test runs one step twice, from identical starting points, through ``compile`` and
eagerly (the reference), until a batch makes numpy raise (``np.seterr(all="raise")``: the
log of a negative number), and compares the error and every ``.grad`` after it.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim

F = ag.functional
GOOD = np.full((4, 3), 0.5)
BAD = np.full((4, 3), -100.0)  # log(x + 10) of it raises


def _model():
    nn.init.manual_seed(0)
    model = nn.Linear(3, 1)
    return model, optim.SGD(model.parameters(), lr=0.05)


def _steps(where: str):
    """The same step with the raising op placed before the .grad are cleared, between the clear and
    backward, or after backward has set them."""
    model, opt = _model()

    def step(x):
        if where == "before clear":
            (x + 10).log()
        opt.zero_grad()
        loss = F.mse_loss(model(x), ag.zeros(4, 1))
        if where == "after clear":
            loss = loss + (x + 10).log().sum() * 0
        loss.backward()
        if where == "after backward":
            (x + 10).log()
        opt.step()
        return loss

    return model, step


@pytest.mark.parametrize("where", ["before clear", "after clear", "after backward"])
def test_an_error_part_way_through_a_replay_leaves_grad_as_the_eager_call_does(where):
    with np.errstate(all="raise"):
        model, step = _steps(where)
        twin, eager = _steps(where)
        fast = ag.compile(step)
        for i in range(4):
            x = ag.tensor(GOOD * (i + 1))
            assert fast(x).item() == eager(x).item()
        recordings = fast.recordings
        assert fast.replays >= 1, fast.history
        for f in (fast, eager):
            with pytest.raises(FloatingPointError, match="invalid value encountered in log"):
                f(ag.tensor(BAD))
    assert fast.recordings == recordings  # (the failing call was a replay)
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
        if where == "after clear":
            assert p.grad is None and q.grad is None  # zero_grad ran, backward did not
        else:  # the last call's δ (before clear) or this call's (after backward): equal bit for bit
            np.testing.assert_array_equal(p.grad.data, q.grad.data)
