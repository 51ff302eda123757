"""Every scheduler's and new optimizer's state goes through ag.save / ag.load (no pickle) and
resumes exactly: the state_dicts hold only what a checkpoint can store."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim

S = optim.lr_scheduler
MAKERS = {
    "multistep": lambda o: S.MultiStepLR(o, milestones=[2, 4, 4], gamma=0.5),
    "exponential": lambda o: S.ExponentialLR(o, 0.9),
    "linear": lambda o: S.LinearLR(o, 0.2, total_iters=5),
    "lambda": lambda o: S.LambdaLR(o, lambda epoch: 0.9**epoch),
    "one_cycle": lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=20),
    "plateau": lambda o: S.ReduceLROnPlateau(o, patience=1, factor=0.5),
    "sequential": lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.5, total_iters=2), S.MultiStepLR(o, [3])], [3]),
}
OPTIMIZERS = {
    "nadam": lambda ps: optim.NAdam(ps, lr=0.01),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.1),
    "adamax": lambda ps: optim.Adamax(ps),
    "radam": lambda ps: optim.RAdam(ps, decoupled_weight_decay=True, weight_decay=0.1),
}
LOSSES = [3.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5]


def _step(scheduler, opt, t):
    opt.step()
    if isinstance(scheduler, S.ReduceLROnPlateau):
        scheduler.step(LOSSES[t])
    else:
        scheduler.step()


@pytest.mark.parametrize("name", MAKERS)
def test_a_scheduler_state_survives_a_checkpoint(name, tmp_path):
    def build():
        opt = optim.SGD([nn.Parameter(np.ones(2))], lr=0.1, momentum=0.9)
        return opt, MAKERS[name](opt)

    opt, scheduler = build()
    straight_opt, straight = build()
    for t in range(5):
        _step(scheduler, opt, t)
        _step(straight, straight_opt, t)
    path = tmp_path / "state.safetensors"
    ag.save({"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()}, path)
    restored_opt, restored = build()
    checkpoint = ag.load(path)
    restored_opt.load_state_dict(checkpoint["optimizer"])
    restored.load_state_dict(checkpoint["scheduler"])
    for t in range(5, 10):
        _step(restored, restored_opt, t)
        _step(straight, straight_opt, t)
        assert restored.get_last_lr() == straight.get_last_lr(), f"step {t + 1}"
        assert restored_opt.param_groups[0]["momentum"] == straight_opt.param_groups[0]["momentum"]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_an_optimizer_state_survives_a_checkpoint(name, tmp_path):
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(2, 3)) for _ in range(8)]

    def run(opt, param, steps):
        for g in steps:
            param.grad = ag.tensor(g)
            opt.step()

    straight_param = nn.Parameter(np.ones((2, 3)))
    straight = OPTIMIZERS[name]([straight_param])
    run(straight, straight_param, grads)
    param = nn.Parameter(np.ones((2, 3)))
    opt = OPTIMIZERS[name]([param])
    run(opt, param, grads[:4])
    ag.save({"param": param.detach(), "optimizer": opt.state_dict()}, tmp_path / "opt.safetensors")
    checkpoint = ag.load(tmp_path / "opt.safetensors")
    resumed_param = nn.Parameter(checkpoint["param"].numpy().copy())
    resumed = OPTIMIZERS[name]([resumed_param])
    resumed.load_state_dict(checkpoint["optimizer"])
    run(resumed, resumed_param, grads[4:])
    np.testing.assert_array_equal(resumed_param.numpy(), straight_param.numpy())


def test_sequential_lr_hands_over_at_its_milestone():
    """By hand: LinearLR from 0.25 up over 2 epochs, then ExponentialLR from the base rate."""
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
    warmup, decay = optim.LinearLR(opt, start_factor=0.25, total_iters=2), optim.ExponentialLR(opt, gamma=0.5)
    schedule = optim.SequentialLR(opt, [warmup, decay], milestones=[2])
    rates = schedule.get_last_lr()
    for _ in range(4):
        opt.step()
        schedule.step()
        rates += schedule.get_last_lr()
        assert schedule.get_lr() == schedule.get_last_lr()  # the rates of the schedule in charge
    assert rates == [0.25, 0.625, 1.0, 0.5, 0.25]
    saved = schedule.state_dict()
    assert [s["last_epoch"] for s in saved["_schedulers"]] == [1, 2] and saved["last_epoch"] == 4
    other_opt = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
    other = optim.SequentialLR(other_opt, [optim.LinearLR(other_opt, 0.25, total_iters=2), optim.ExponentialLR(other_opt, 0.5)], [2])
    other.load_state_dict(saved)
    other_opt.load_state_dict(opt.state_dict())
    opt.step()
    schedule.step()
    other.step()
    assert other.get_last_lr() == schedule.get_last_lr() == [0.125]
    with pytest.raises(ValueError, match="the state has 1 schedules, this SequentialLR 2"):
        other.load_state_dict({**saved, "_schedulers": saved["_schedulers"][:1]})


def test_reduce_lr_on_plateau_cools_down_after_a_reduction():
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
    plateau = optim.ReduceLROnPlateau(opt, factor=0.5, patience=0, cooldown=2)
    plateau.step(1.0)  # the best so far
    assert not plateau.in_cooldown
    plateau.step(1.0)  # no better: one bad epoch > patience 0, so reduce and cool down
    assert plateau.get_last_lr() == [0.5] and plateau.in_cooldown
    plateau.step(1.0)
    plateau.step(1.0)  # two epochs of cooldown: bad epochs do not count
    assert plateau.get_last_lr() == [0.5] and not plateau.in_cooldown
    plateau.step(1.0)
    assert plateau.get_last_lr() == [0.25]
