"""A compiled step follows edits to the optimizer that a replay cannot recompute: a
parameter removed from, added to or moved between ``param_groups``, a hyperparameter held
in a list and changed in place, and a learning-rate scheduler stepped inside the step.
Each scenario runs twice from the same start, compiled and eagerly (the reference: the
same calls, run eagerly), and the losses, parameters, gradients, optimizer state and
learning rates must be equal bit for bit; where replaying is right, replays must happen."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim

F = ag.functional

CALLS = 10
EDIT = 5  # the call before which the optimizer is edited


def _sgd(params):
    return optim.SGD(params, lr=0.1, momentum=0.9)


def _adam(params):
    return optim.Adam(params, lr=0.05)


OPTIMIZERS = {"SGD(momentum)": _sgd, "Adam": _adam}


def _train(compiled: bool, make_optimizer, edit=None, in_step=None, between=None):
    """A 3 → 4 → 1 tanh network stepped CALLS times, compiled or eagerly.

    ``make_optimizer(first, second)`` builds the optimizer (and may return ``(optimizer,
    scheduler)``); ``edit(first, second, opt)`` runs before call EDIT; ``in_step(opt,
    scheduler)`` runs inside the step, after ``opt.step()``, and ``between(opt, scheduler)``
    after each call. Returns everything the two
    runs must agree on, and the compiled function's replay count after each call."""
    nn.init.manual_seed(0)
    first, second = nn.Linear(3, 4), nn.Linear(4, 1)
    made = make_optimizer(first, second)
    opt, scheduler = made if isinstance(made, tuple) else (made, None)
    params = [*first.parameters(), *second.parameters()]
    rng = np.random.default_rng(5)

    def step(x, y):
        opt.zero_grad()
        for p in params:  # parameters an edit took out of the optimizer must not accumulate
            p.grad = None
        loss = F.mse_loss(second(first(x).tanh()), y)
        loss.backward()
        opt.step()
        if in_step is not None:
            in_step(opt, scheduler)
        return loss

    fn = ag.compile(step) if compiled else step
    seen = {"losses": [], "lrs": [], "replays": []}
    for k in range(CALLS):
        if k == EDIT and edit is not None:
            edit(first, second, opt)
        seen["losses"].append(fn(ag.tensor(rng.normal(size=(5, 3))), ag.tensor(rng.normal(size=(5, 1)))).item())
        if between is not None:
            between(opt, scheduler)
        seen["lrs"].append([group["lr"] for group in opt.param_groups])
        seen["replays"].append(getattr(fn, "replays", None))
    seen["params"] = [p.data.copy() for p in params]
    seen["grads"] = [None if p.grad is None else p.grad.data.copy() for p in params]
    seen["state"] = opt.state_dict()["state"]
    seen["groups"] = [{k: v for k, v in group.items() if k != "params"} for group in opt.state_dict()["param_groups"]]
    seen["group_params"] = [group["params"] for group in opt.state_dict()["param_groups"]]
    seen["scheduler"] = None if scheduler is None else scheduler.last_epoch
    return seen, fn


def _same_array(a, b) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def _compiled_equals_eager(make_optimizer, edit=None, in_step=None, between=None):
    """The compiled run and the eager run of the same calls, compared bit for bit."""
    compiled, fast = _train(True, make_optimizer, edit, in_step, between)
    eager, _ = _train(False, make_optimizer, edit, in_step, between)
    assert compiled["losses"] == eager["losses"]
    assert compiled["lrs"] == eager["lrs"]
    assert compiled["scheduler"] == eager["scheduler"]
    assert compiled["groups"] == eager["groups"]
    assert compiled["group_params"] == eager["group_params"]
    assert all(_same_array(p, q) for p, q in zip(compiled["params"], eager["params"]))
    assert [g is None for g in compiled["grads"]] == [g is None for g in eager["grads"]]
    assert all(_same_array(g, h) for g, h in zip(compiled["grads"], eager["grads"]) if g is not None)
    assert compiled["state"].keys() == eager["state"].keys()
    for i, entries in eager["state"].items():
        assert compiled["state"][i].keys() == entries.keys()
        for key, value in entries.items():
            assert _same_array(np.asarray(compiled["state"][i][key]), np.asarray(value)), (i, key)
    if in_step is not None or between is not None:
        assert len({tuple(lrs) for lrs in eager["lrs"]}) > 2  # the schedule did change the rate
    return fast, compiled["replays"]


def _replayed_before_and_after_the_edit(fast, replays):
    assert replays[EDIT - 1] >= 1, fast.history  # replays ran before the edit ...
    assert replays[-1] > replays[EDIT], fast.history  # ... and, recorded anew, after it


# ------------------------------------------------------------------ the parameters of a group


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_parameter_removed_from_a_group_is_no_longer_stepped(name):
    def edit(first, second, opt):  # stop training the second layer's weight
        opt.param_groups[0]["params"] = [p for p in opt.param_groups[0]["params"] if p is not second.weight]

    make = OPTIMIZERS[name]
    fast, replays = _compiled_equals_eager(
        lambda first, second: make([*first.parameters(), *second.parameters()]), edit
    )
    _replayed_before_and_after_the_edit(fast, replays)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_parameter_appended_to_a_group_is_stepped(name):
    def edit(first, second, opt):  # start training the second layer's weight (in place: the same list)
        opt.param_groups[0]["params"].append(second.weight)

    make = OPTIMIZERS[name]
    fast, replays = _compiled_equals_eager(lambda first, second: make([*first.parameters(), second.bias]), edit)
    _replayed_before_and_after_the_edit(fast, replays)


def test_a_parameter_moved_to_another_group_steps_with_that_groups_learning_rate():
    def make(first, second):
        return optim.SGD(
            [{"params": [*first.parameters(), second.weight]}, {"params": [second.bias], "lr": 0.01}], lr=0.1
        )

    def edit(first, second, opt):
        opt.param_groups[0]["params"] = [p for p in opt.param_groups[0]["params"] if p is not second.weight]
        opt.param_groups[1]["params"].append(second.weight)

    fast, replays = _compiled_equals_eager(make, edit)
    _replayed_before_and_after_the_edit(fast, replays)


def test_the_same_parameters_in_a_new_list_still_replay():
    def edit(first, second, opt):  # a new list, the same parameters in the same order: nothing changed
        opt.param_groups[0]["params"] = list(opt.param_groups[0]["params"])

    fast, replays = _compiled_equals_eager(
        lambda first, second: _sgd([*first.parameters(), *second.parameters()]), edit
    )
    assert fast.recordings == 3 and replays[-1] == CALLS - 3, fast.history
    assert len(fast.programs()) == 1


# ------------------------------------------------------------------ hyperparameters in containers


def _adam_with_list_betas(first, second):
    opt = _adam([*first.parameters(), *second.parameters()])
    opt.param_groups[0]["betas"] = [0.9, 0.999]  # as a checkpoint read from JSON gives them
    return opt


def test_betas_held_in_a_list_and_changed_in_place_are_followed():
    def edit(first, second, opt):
        opt.param_groups[0]["betas"][0] = 0.5  # (β₁ is recomputed by every replay, as the rate is)

    fast, replays = _compiled_equals_eager(_adam_with_list_betas, edit)
    assert replays[-1] == CALLS - 3 and len(fast.programs()) == 1, fast.history


def test_an_entry_of_a_group_held_in_a_list_and_changed_in_place_records_again():
    def make(first, second):
        opt = _sgd([*first.parameters(), *second.parameters()])
        opt.param_groups[0]["tags"] = ["warm"]  # an entry of the user's own, which the guard keeps too
        return opt

    def edit(first, second, opt):
        opt.param_groups[0]["tags"][0] = "cold"

    fast, replays = _compiled_equals_eager(make, edit)
    _replayed_before_and_after_the_edit(fast, replays)
    assert len(fast.programs()) == 2


def test_betas_held_in_a_list_and_left_alone_replay():
    fast, replays = _compiled_equals_eager(_adam_with_list_betas)
    assert fast.recordings == 3 and replays[-1] == CALLS - 3, fast.history


# ------------------------------------------------------------------ schedulers


def _with_scheduler(make_scheduler):
    def make(first, second):
        opt = _sgd([*first.parameters(), *second.parameters()])
        return opt, make_scheduler(opt)

    return make


SCHEDULERS = {
    "StepLR": lambda opt: optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
    "ExponentialLR": lambda opt: optim.lr_scheduler.ExponentialLR(opt, gamma=0.9),
    "LambdaLR": lambda opt: optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (1 + epoch)),
    "OneCycleLR": lambda opt: optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=CALLS + 1),
    "SequentialLR": lambda opt: optim.lr_scheduler.SequentialLR(
        opt,
        [optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=3), optim.lr_scheduler.ExponentialLR(opt, 0.9)],
        milestones=[3],
    ),
    "ReduceLROnPlateau": lambda opt: optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5),
    "OneCycleLR(cycle_momentum=False)": lambda opt: optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.2, total_steps=CALLS + 1, cycle_momentum=False
    ),
}


def _step_scheduler(opt, scheduler):
    if isinstance(scheduler, optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(1.0)  # a metric that never improves: the rate halves every other call
    else:
        scheduler.step()


@pytest.mark.parametrize(
    "name", ["StepLR", "ExponentialLR", "LambdaLR", "OneCycleLR", "SequentialLR", "ReduceLROnPlateau"]
)
def test_a_scheduler_stepped_inside_the_step_runs_eagerly_and_says_why(name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fast, replays = _compiled_equals_eager(_with_scheduler(SCHEDULERS[name]), in_step=_step_scheduler)
    assert replays[-1] == 0, fast.history  # a replay would not advance the schedule
    warned = [str(w.message) for w in caught if issubclass(w.category, ag.CompileWarning)]
    assert len(warned) == 1, warned
    assert "step()" in warned[0] and "outside the compiled step" in warned[0], warned[0]
    assert fast.eager_because is not None and name in fast.eager_because, fast.eager_because


def test_a_scheduler_made_inside_the_step_runs_eagerly():
    def in_step(opt, scheduler):  # a new schedule every call sets the rate afresh (LinearLR: start_factor)
        optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=4)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fast, replays = _compiled_equals_eager(lambda first, second: _sgd([*first.parameters()]), in_step=in_step)
    assert replays[-1] == 0, fast.history
    assert sum(issubclass(w.category, ag.CompileWarning) for w in caught) == 1
    assert "LinearLR" in fast.eager_because, fast.eager_because


@pytest.mark.parametrize(
    "name",
    [
        "StepLR", "ExponentialLR", "LambdaLR", "SequentialLR", "ReduceLROnPlateau", "OneCycleLR",
        "OneCycleLR(cycle_momentum=False)",
    ],
)  # fmt: skip
def test_a_scheduler_stepped_between_calls_is_followed_by_replays(name):
    """What docs/compile.md promises: a schedule stepped outside the step changes the learning
    rate (and OneCycleLR SGD's momentum too), which a replay re-reads on every call."""
    fast, replays = _compiled_equals_eager(_with_scheduler(SCHEDULERS[name]), between=_step_scheduler)
    assert fast.recordings == 3 and replays[-1] == CALLS - 3, fast.history


CYCLED = {  # the optimizers whose momentum (or β₁) OneCycleLR cycles, each with what it branches on
    "SGD(nesterov)": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "SGD(dampening)": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1),
    "RMSprop(momentum)": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "Adam": lambda p: optim.Adam(p, lr=0.05, amsgrad=True),
    "AdamW": lambda p: optim.AdamW(p, lr=0.05),
    "NAdam": lambda p: optim.NAdam(p, lr=0.05),
    "RAdam": lambda p: optim.RAdam(p, lr=0.05),
    "Adamax": lambda p: optim.Adamax(p, lr=0.05),
}


@pytest.mark.parametrize("name", sorted(CYCLED))
def test_one_cycle_cycling_the_momentum_or_beta1_is_followed_by_replays(name):
    def make(first, second):
        opt = CYCLED[name]([*first.parameters(), *second.parameters()])
        # (β₁ down to 0.4: NAdam's, RAdam's and Adamax's lerp by 1 − β₁ switch formula at 0.5, which records again)
        return opt, optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=CALLS + 1, base_momentum=0.6)

    fast, replays = _compiled_equals_eager(make, between=_step_scheduler)
    recordings = 5 if name == "RAdam" else 3  # (RAdam's rectification starts at step 6: a program of its own)
    assert fast.recordings == recordings and replays[-1] == CALLS - recordings, fast.history


def test_a_learning_rate_given_as_a_numpy_scalar_says_so_when_it_cannot_replay():
    """Adam's step size from lr=np.float32(0.1) is a numpy scalar that changes every step; a
    replay cannot follow it (a Python float it recomputes), so the step runs eagerly, and the
    reason names the cause and the cure."""
    runs = []
    for compiled in (False, True):
        w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
        opt = optim.Adam([w], lr=np.float32(0.1))

        def step(x, w=w, opt=opt):
            opt.zero_grad()
            (w * x).sum().backward()
            opt.step()

        fn = ag.compile(step) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ag.CompileWarning)
            for _ in range(4):
                fn(ag.tensor(np.array([1.0, 1.0])))
        runs.append((w.numpy(), fn))
    (eager_w, _), (w, fast) = runs
    assert np.array_equal(w, eager_w)
    assert fast.replays == 0 and "give it float(lr)" in fast.eager_because
