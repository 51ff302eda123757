"""A compiled step follows the optimizer's settings as an eager step does: a changed
hyperparameter or a replaced state records again, a changed learning rate (which the replay
recomputes every call) does not, and each parameter steps with its own numbers. Each
scenario runs twice from the same start, compiled and eagerly (the reference), and the
losses, parameters and optimizer states must be equal exactly."""

from __future__ import annotations

import numpy as np

import autograd_nn as ag
from autograd_nn import nn, optim

F = ag.functional


def _momentum(first, second):
    return optim.SGD([*first.parameters(), *second.parameters()], lr=0.1, momentum=0.5)


def _two_layers(compiled: bool, make_optimizer, calls: int, before=None, at_call=None):
    """A 3 → 4 → 1 tanh network stepped ``calls`` times (compiled or eagerly); ``before(first,
    opt, rng)`` runs first, ``at_call(k, opt)`` before call k."""
    nn.init.manual_seed(0)
    first, second = nn.Linear(3, 4), nn.Linear(4, 1)
    opt = make_optimizer(first, second)
    rng = np.random.default_rng(5)
    if before is not None:
        before(first, opt, rng)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(second(first(x).tanh()), y)
        loss.backward()
        opt.step()
        return loss

    fn = ag.compile(step) if compiled else step
    losses = []
    for k in range(calls):
        if at_call is not None:
            at_call(k, opt)
        losses.append(fn(ag.tensor(rng.normal(size=(5, 3))), ag.tensor(rng.normal(size=(5, 1)))).item())
    params = [p.data.copy() for p in [*first.parameters(), *second.parameters()]]
    return losses, params, opt.state_dict()["state"], fn


def _compiled_equals_eager(**scenario):
    losses, params, state, fast = _two_layers(True, **scenario)
    eager_losses, eager_params, eager_state, _ = _two_layers(False, **scenario)
    assert losses == eager_losses
    for p, q in zip(params, eager_params):
        np.testing.assert_array_equal(p, q)
    assert state.keys() == eager_state.keys()
    for i in eager_state:
        for key, value in eager_state[i].items():
            np.testing.assert_array_equal(np.asarray(state[i][key]), np.asarray(value))
    return fast


def _at_call_5(change):
    return lambda k, opt: change(opt) if k == 5 else None


def test_a_changed_momentum_is_followed_without_recording_again():
    def change(opt):
        opt.param_groups[0]["momentum"] = 0.9  # (recomputed by every replay, as the rate is: OneCycleLR cycles it)

    run = _compiled_equals_eager(make_optimizer=_momentum, calls=9, at_call=_at_call_5(change))
    assert run.replays == 6 and len(run.programs()) == 1, run.history


def test_a_momentum_set_to_zero_records_again():
    def change(opt):
        opt.param_groups[0]["momentum"] = 0.0  # no momentum: other calls (whether there is one is a guard)

    run = _compiled_equals_eager(make_optimizer=_momentum, calls=9, at_call=_at_call_5(change))
    assert run.replays >= 3, run.history  # replays ran before the change (and after it, where they may)
    assert len(run.programs()) == 2


def test_a_changed_learning_rate_is_followed_without_recording_again():
    def change(opt):
        opt.param_groups[0]["lr"] = 0.02

    run = _compiled_equals_eager(make_optimizer=_momentum, calls=9, at_call=_at_call_5(change))
    assert run.replays >= 3, run.history
    assert len(run.programs()) == 1


def test_a_loaded_optimizer_state_records_again():
    def change(opt):
        saved = opt.state_dict()
        for entry in saved["state"].values():
            entry["momentum_buffer"] = entry["momentum_buffer"] * 0.5
        opt.load_state_dict(saved)

    run = _compiled_equals_eager(make_optimizer=_momentum, calls=9, at_call=_at_call_5(change))
    assert run.replays >= 3, run.history
    assert len(run.programs()) == 2


def test_plain_sgd_computes_each_groups_numbers_once_and_follows_each_groups_rate():
    """Two groups with their own learning rates, changed between calls: the replay computes
    each group's numbers once (not once per parameter) and steps each group with its own."""

    def groups(first, second):
        return optim.SGD([{"params": first.parameters(), "lr": 0.1}, {"params": second.parameters(), "lr": 0.01}])

    def faster(k, opt):
        if k == 4:
            opt.param_groups[1]["lr"] = 0.2

    fast = _compiled_equals_eager(make_optimizer=groups, calls=8, at_call=faster)
    assert fast.replays >= 4 and len(fast.programs()) == 1, fast.history
    assert fast.source().count("_numbers") == 2  # one per group, for four parameters


def test_parameters_at_different_step_counts_keep_their_own_numbers():
    """Adam's bias correction reads each parameter's own step count: one parameter that
    stepped once before the others (its only gradient then) keeps its own numbers in a replay."""

    def adam(first, second):
        return optim.Adam([*first.parameters(), *second.parameters()], lr=0.01)

    def first_layer_steps_alone(first, opt, rng):
        F.mse_loss(first(ag.tensor(rng.normal(size=(5, 3)))), ag.tensor(rng.normal(size=(5, 4)))).backward()
        opt.step()  # only the first layer has a gradient: its step count runs one ahead

    fast = _compiled_equals_eager(make_optimizer=adam, calls=7, before=first_layer_steps_alone)
    assert fast.replays >= 3, fast.history
