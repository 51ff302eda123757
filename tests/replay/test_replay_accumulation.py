"""Gradient accumulation: a compiled step that only runs backward, the optimizer stepped and
the gradients cleared outside it every few calls (``zero_grad()`` sets ``.grad`` to None, as
PyTorch's does). Two kinds of call alternate: the first after a clear, which makes each
``.grad``, and the others, which add to it. Each is checked against the same loop run
eagerly, bit for bit, and by how many calls replayed."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim

F = ag.functional


def _accumulating(every: int):
    nn.init.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def micro_step(x, y):
        loss = F.mse_loss(model(x), y) / every
        loss.backward()
        return loss

    return model, opt, micro_step


@pytest.mark.parametrize("every", [2, 4])
def test_accumulating_gradients_over_calls_replays_both_kinds_of_call_as_eagerly(every):
    model, opt, step = _accumulating(every)
    twin, twin_opt, twin_step = _accumulating(every)
    fast = ag.compile(step)
    rng = np.random.default_rng(1)
    cycles = 8
    for i in range(every * cycles):
        x, y = ag.tensor(rng.normal(size=(8, 4))), ag.tensor(rng.normal(size=(8, 1)))
        assert fast(x, y).item() == twin_step(x, y).item()
        for p, q in zip(model.parameters(), twin.parameters()):
            np.testing.assert_array_equal(p.grad.data, q.grad.data)
        if i % every == every - 1:
            for o in (opt, twin_opt):
                o.step()
                o.zero_grad()
            for p, q in zip(model.parameters(), twin.parameters()):
                np.testing.assert_array_equal(p.data, q.data)
                assert p.grad is None and q.grad is None
    # from the fourth cycle on every call replays: the first call after a clear is a program too
    assert fast.recordings <= 3 * every, fast.history
    assert fast.replays == every * cycles - fast.recordings
