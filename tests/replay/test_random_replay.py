"""Random tensors made inside a compiled step (``ag.randn`` noise, ``ag.rand`` masks, …) draw
afresh on every replay, from the same generator, so a compiled run equals an eager run
with the same seed, bit for bit; ``manual_seed`` between replays reaches the replay too."""

from __future__ import annotations

import warnings

import numpy as np

import autograd_nn as ag
from autograd_nn import nn, optim

F = ag.functional


def _noisy_training(generator=None):
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        noise = ag.randn(*x.shape, generator=generator) * 0.1  # input noise, fresh every step
        scale = ag.uniform(0.5, 1.5, size=(x.shape[0], 1), generator=generator)
        keep = ag.rand(x.shape[0], 1, generator=generator) > 0.2
        jitter = ag.normal(0.0, 0.01, size=(1, 3), generator=generator)
        pick = ag.randint(0, 3, (1,), generator=generator)  # an integer draw feeds the loss too
        order = ag.randperm(x.shape[0], generator=generator)
        out = model((x + noise + jitter) * scale)
        loss = F.mse_loss(out * keep, y[order.numpy()] * keep) + 0.0 * out[pick.numpy()].sum()
        loss.backward()
        opt.step()
        return loss

    return model, step


def _batches(n):
    rng = np.random.default_rng(4)
    return [(ag.tensor(rng.normal(size=(6, 3))), ag.tensor(rng.normal(size=(6, 1)))) for _ in range(n)]


def test_a_compiled_step_that_draws_replays_the_eager_draws_of_the_same_seed():
    model, step = _noisy_training()
    twin, twin_step = _noisy_training()
    fast = ag.compile(step)
    ag.manual_seed(11)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to eager: every draw is replayable
        losses = [fast(x, y).item() for x, y in _batches(7)]
    ag.manual_seed(11)
    expected = [twin_step(x, y).item() for x, y in _batches(7)]
    assert losses == expected
    assert fast.replays >= 4, fast.history
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_replays_draw_fresh_numbers_each_call():
    ag.manual_seed(2)
    fast = ag.compile(lambda x: x + ag.randn(4))
    zero = ag.tensor(np.zeros(4))
    draws = [fast(zero).numpy().copy() for _ in range(6)]
    ag.manual_seed(2)
    np.testing.assert_array_equal(np.stack(draws), np.stack([ag.randn(4).numpy() for _ in range(6)]))
    assert fast.replays >= 3
    assert len({d.tobytes() for d in draws}) == 6


def test_manual_seed_between_replays_reseeds_what_the_replay_draws_from():
    fast = ag.compile(lambda x: x * ag.rand(3))
    one = ag.tensor(np.ones(3))
    ag.manual_seed(5)
    for _ in range(4):
        fast(one)  # recorded, confirmed and replayed under the first seed
    assert fast.replays >= 1
    ag.manual_seed(9)
    replayed = [fast(one).numpy().copy() for _ in range(3)]
    ag.manual_seed(9)
    np.testing.assert_array_equal(np.stack(replayed), np.stack([ag.rand(3).numpy() for _ in range(3)]))
    assert fast.replays >= 4


def test_an_explicit_generator_is_drawn_from_by_the_replay():
    model, step = _noisy_training(generator=np.random.default_rng(21))
    twin, twin_step = _noisy_training(generator=np.random.default_rng(21))
    fast = ag.compile(step)
    assert [fast(x, y).item() for x, y in _batches(6)] == [twin_step(x, y).item() for x, y in _batches(6)]
    assert fast.replays >= 3


def test_manual_seed_reseeds_the_default_generator_in_place():
    before = ag.random.default_generator()
    assert ag.manual_seed(3) is before
    np.testing.assert_array_equal(before.random(5), np.random.default_rng(3).random(5))
