"""Every learning-rate scheduler against torch.optim.lr_scheduler, step for step: two parameter
groups with their own rates, the rates (and OneCycleLR's momentum/betas) after every step,
state_dict round trips that resume exactly, and torch's scheduler state loading into ours."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_nn import nn, optim

torch = pytest.importorskip("torch")

STEPS = 24


def _sgd(lib, params):
    return lib.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.03}], lr=0.1, momentum=0.9)


def _adam(lib, params):
    return lib.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.003}], lr=0.01, betas=(0.9, 0.99))


def _sequential(lib, opt, parts, milestones):
    return lib.SequentialLR(opt, [part(lib, opt) for part in parts], milestones=milestones)


S = lambda lib: lib  # noqa: E731 - the scheduler namespace a case's lambda receives
# name, optimizer, make(scheduler namespace, optimizer), metrics for ReduceLROnPlateau (None: step())
CASES = [
    ("step", _sgd, lambda s, o: s.StepLR(o, step_size=3, gamma=0.5)),
    ("cosine", _sgd, lambda s, o: s.CosineAnnealingLR(o, T_max=7, eta_min=0.001)),
    ("exponential", _sgd, lambda s, o: s.ExponentialLR(o, gamma=0.9)),
    ("multistep", _sgd, lambda s, o: s.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.5)),
    ("multistep_at_zero", _sgd, lambda s, o: s.MultiStepLR(o, milestones=[0, 3], gamma=0.1)),
    ("lambda", _sgd, lambda s, o: s.LambdaLR(o, lambda epoch: 0.95**epoch)),
    ("lambda_per_group", _sgd, lambda s, o: s.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: min(1.0, (e + 1) / 5)])),
    ("linear", _sgd, lambda s, o: s.LinearLR(o)),
    ("linear_warmup_decay", _sgd, lambda s, o: s.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=4)),
    ("linear_down", _sgd, lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=10)),
    ("one_cycle_sgd", _sgd, lambda s, o: s.OneCycleLR(o, max_lr=[0.1, 0.05], total_steps=STEPS)),
    ("one_cycle_adam_linear", _adam, lambda s, o: s.OneCycleLR(
        o, max_lr=0.02, epochs=4, steps_per_epoch=6, anneal_strategy="linear", pct_start=0.25,
        base_momentum=[0.8, 0.85], max_momentum=0.9)),
    ("one_cycle_three_phase", _sgd, lambda s, o: s.OneCycleLR(
        o, max_lr=0.5, total_steps=STEPS + 1, three_phase=True, div_factor=10.0, final_div_factor=100.0)),
    ("one_cycle_no_momentum", _adam, lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=STEPS, cycle_momentum=False)),
    ("sequential_warmup_then_decay", _sgd, lambda s, o: _sequential(
        s, o, [lambda s, o: s.LinearLR(o, start_factor=0.1, total_iters=4), lambda s, o: s.ExponentialLR(o, 0.8)], [4])),
    ("sequential_three", _sgd, lambda s, o: _sequential(s, o, [
        lambda s, o: s.ExponentialLR(o, gamma=0.7), lambda s, o: s.StepLR(o, step_size=2, gamma=0.5),
        lambda s, o: s.CosineAnnealingLR(o, T_max=5)], [3, 9])),
    ("sequential_multistep_lambda", _adam, lambda s, o: _sequential(s, o, [
        lambda s, o: s.LambdaLR(o, lambda e: 0.5 + 0.1 * e), lambda s, o: s.MultiStepLR(o, [2, 4], gamma=0.3)], [5])),
]  # fmt: skip
PLATEAU_CASES = [
    ("plateau_min_rel", dict(factor=0.5, patience=2)),
    ("plateau_max_abs_cooldown", dict(mode="max", threshold=0.05, threshold_mode="abs", patience=1, cooldown=2)),
    ("plateau_min_lr_per_group", dict(factor=0.1, patience=0, min_lr=[0.001, 0.0005], eps=1e-12)),
    ("plateau_min_abs", dict(threshold_mode="abs", threshold=0.1, patience=1, factor=0.3)),
]
METRICS = [5.0, 4.0, 4.0, 3.99, 4.1, 4.2, 3.0, 3.0, 3.0, 3.0, 2.9, 2.95, 3.5, 3.5, 3.5, 1.0, 1.0, 1.0, 1.0, 1.0]


def _optimizers(make_opt):
    ours = make_opt(optim, [nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))])
    theirs = make_opt(torch.optim, [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(3))])
    return ours, theirs


def _assert_same_groups(ours_opt, theirs_opt, where):
    for g, (ours, theirs) in enumerate(zip(ours_opt.param_groups, theirs_opt.param_groups)):
        for key in ("lr", "momentum", "betas", "initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
            if key in theirs:
                got, want = np.asarray(ours[key], dtype=float), np.asarray(theirs[key], dtype=float)
                np.testing.assert_allclose(got, want, rtol=1e-14, atol=0, err_msg=f"{where}: group {g} {key}")


def _drive(ours, theirs, ours_opt, theirs_opt, steps, metrics=None):
    for t in range(steps):
        ours_opt.step()
        theirs_opt.step()
        if metrics is None:
            ours.step()
            theirs.step()
        else:
            ours.step(metrics[t])
            theirs.step(metrics[t])
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-14, atol=0, err_msg=f"step {t + 1}")
        _assert_same_groups(ours_opt, theirs_opt, f"step {t + 1}")


@pytest.mark.parametrize("name, make_opt, make", CASES, ids=[c[0] for c in CASES])
def test_scheduler_matches_torch_step_for_step(name, make_opt, make):
    ours_opt, theirs_opt = _optimizers(make_opt)
    ours, theirs = make(optim.lr_scheduler, ours_opt), make(torch.optim.lr_scheduler, theirs_opt)
    np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-14, atol=0)  # step 0
    _assert_same_groups(ours_opt, theirs_opt, "construction")
    _drive(ours, theirs, ours_opt, theirs_opt, STEPS)
    assert ours.last_epoch == theirs.last_epoch


@pytest.mark.parametrize("name, options", PLATEAU_CASES, ids=[c[0] for c in PLATEAU_CASES])
def test_reduce_lr_on_plateau_matches_torch(name, options):
    ours_opt, theirs_opt = _optimizers(_sgd)
    ours = optim.lr_scheduler.ReduceLROnPlateau(ours_opt, **options)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **options)
    metrics = [-m for m in METRICS] if options.get("mode") == "max" else METRICS
    metrics = [m if i % 3 else torch.tensor(m) for i, m in enumerate(metrics)]  # a 0-d torch tensor is a metric too
    _drive(ours, theirs, ours_opt, theirs_opt, len(METRICS), metrics)
    assert ours.get_last_lr() != [0.1, 0.03]  # it did reduce
    for key in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch"):
        assert getattr(ours, key) == getattr(theirs, key), key


def _round_trip(make_opt, make, metrics=None):
    """Run straight through; and run half, save both states, rebuild, load, run the rest."""
    straight_opt = make_opt(optim, [nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))])
    straight = make(optim.lr_scheduler, straight_opt)
    resumed_opt = make_opt(optim, [nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))])
    resumed = make(optim.lr_scheduler, resumed_opt)

    def advance(scheduler, opt, t):
        opt.step()
        scheduler.step() if metrics is None else scheduler.step(metrics[t])

    for t in range(STEPS // 2):
        advance(straight, straight_opt, t)
        advance(resumed, resumed_opt, t)
    saved_opt, saved = resumed_opt.state_dict(), resumed.state_dict()
    fresh_opt = make_opt(optim, [nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))])
    fresh = make(optim.lr_scheduler, fresh_opt)  # constructed before the optimizer's state is loaded, as PyTorch asks
    fresh_opt.load_state_dict(saved_opt)
    fresh.load_state_dict(saved)
    rates = len(metrics) if metrics is not None else STEPS
    for t in range(STEPS // 2, rates):
        advance(straight, straight_opt, t)
        advance(fresh, fresh_opt, t)
        assert fresh.get_last_lr() == straight.get_last_lr(), f"step {t + 1}"
        assert [g["lr"] for g in fresh_opt.param_groups] == [g["lr"] for g in straight_opt.param_groups]


@pytest.mark.parametrize("name, make_opt, make", CASES, ids=[c[0] for c in CASES])
def test_state_dict_resumes_exactly(name, make_opt, make):
    _round_trip(make_opt, make)


def test_reduce_lr_on_plateau_state_dict_resumes_exactly():
    _round_trip(_sgd, lambda s, o: s.ReduceLROnPlateau(o, factor=0.5, patience=1, cooldown=1), METRICS)


@pytest.mark.parametrize(
    "make",
    [lambda s, o: s.ExponentialLR(o, 0.9), lambda s, o: s.MultiStepLR(o, [3, 7]),
     lambda s, o: s.LinearLR(o, 0.25, total_iters=8), lambda s, o: s.OneCycleLR(o, 0.2, total_steps=STEPS),
     lambda s, o: s.ReduceLROnPlateau(o, patience=1)],
    ids=["exponential", "multistep", "linear", "one_cycle", "plateau"],
)  # fmt: skip
def test_torchs_scheduler_state_loads_into_ours(make):
    ours_opt, theirs_opt = _optimizers(_sgd)
    ours, theirs = make(optim.lr_scheduler, ours_opt), make(torch.optim.lr_scheduler, theirs_opt)
    plateau = isinstance(ours, optim.ReduceLROnPlateau)
    for t in range(5):
        theirs_opt.step()
        theirs.step(METRICS[t]) if plateau else theirs.step()
    ours_opt.load_state_dict({"state": {}, "param_groups": theirs_opt.state_dict()["param_groups"]})
    ours.load_state_dict(theirs.state_dict())
    _drive(ours, theirs, ours_opt, theirs_opt, 10, METRICS[5:] if plateau else None)


def test_lambda_lr_saves_callable_objects_but_not_functions():
    class Warmup:
        def __init__(self):
            self.length = 4

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.length)

    opt = _sgd(optim, [nn.Parameter(np.ones(1)), nn.Parameter(np.ones(1))])
    schedule = optim.lr_scheduler.LambdaLR(opt, [Warmup(), lambda epoch: 1.0])
    schedule.lr_lambdas[0].length = 10
    saved = schedule.state_dict()
    assert saved["lr_lambdas"] == [{"length": 10}, None]
    other = optim.lr_scheduler.LambdaLR(_sgd(optim, [nn.Parameter(np.ones(1)), nn.Parameter(np.ones(1))]),
                                        [Warmup(), lambda epoch: 1.0])  # fmt: skip
    other.load_state_dict(saved)
    assert other.lr_lambdas[0].length == 10 and other.last_epoch == schedule.last_epoch


def test_scheduler_errors_name_the_problem():
    opt = _sgd(optim, [nn.Parameter(np.ones(1)), nn.Parameter(np.ones(1))])
    s = optim.lr_scheduler
    with pytest.raises(ValueError, match=r"LinearLR: start_factor must be in \(0, 1\], got 0"):
        s.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="LinearLR: end_factor must be in"):
        s.LinearLR(opt, end_factor=1.5)
    with pytest.raises(ValueError, match="MultiStepLR: milestones must be epochs"):
        s.MultiStepLR(opt, [1.5])
    with pytest.raises(ValueError, match="LambdaLR: expected 2 lr_lambdas"):
        s.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(TypeError, match="LambdaLR: lr_lambda must be a function of the epoch, got float"):
        s.LambdaLR(opt, 0.5)
    with pytest.raises(ValueError, match="OneCycleLR: give total_steps, or both epochs and steps_per_epoch"):
        s.OneCycleLR(opt, max_lr=0.1, epochs=3)
    with pytest.raises(ValueError, match="expected 2 values for max_lr"):
        s.OneCycleLR(opt, max_lr=[0.1], total_steps=10)
    with pytest.raises(ValueError, match="anneal_strategy must be 'cos' or 'linear'"):
        s.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="cycle_momentum=True needs an optimizer with momentum or betas"):
        s.OneCycleLR(optim.Adagrad([nn.Parameter(np.ones(1))]), max_lr=0.1, total_steps=10)
    with pytest.raises(ValueError, match="phase 0 of the schedule, which has no steps"):
        s.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=0.1)  # the rise ends at step 0
    cycle = s.OneCycleLR(opt, max_lr=0.1, total_steps=2)
    cycle.step()
    cycle.step()
    with pytest.raises(ValueError, match="tried to step 3 times; the schedule has total_steps=2"):
        cycle.step()
    with pytest.raises(ValueError, match="ReduceLROnPlateau: factor must be < 1.0"):
        s.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'low'"):
        s.ReduceLROnPlateau(opt, mode="low")
    with pytest.raises(ValueError, match="threshold_mode must be 'rel' or 'abs'"):
        s.ReduceLROnPlateau(opt, threshold_mode="pct")
    first, second = s.ExponentialLR(opt, 0.9), s.ExponentialLR(opt, 0.8)
    with pytest.raises(ValueError, match="expects one milestone fewer than schedulers"):
        s.SequentialLR(opt, [first, second], milestones=[2, 4])
    with pytest.raises(ValueError, match=r"schedulers\[0\] is a ReduceLROnPlateau"):
        s.SequentialLR(opt, [s.ReduceLROnPlateau(opt), second], milestones=[2])
    other = _sgd(optim, [nn.Parameter(np.ones(1)), nn.Parameter(np.ones(1))])
    with pytest.raises(ValueError, match=r"schedulers\[1\] \(ExponentialLR\) belongs to another optimizer"):
        s.SequentialLR(opt, [first, s.ExponentialLR(other, 0.5)], milestones=[2])
    with pytest.raises(ValueError, match="expects at least one scheduler"):
        s.SequentialLR(opt, [], milestones=[])


def test_closed_forms_by_hand():
    """The schedules' documented formulas, independent of torch."""
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=2.0)
    schedule = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    rates = [schedule.get_last_lr()[0]]
    for _ in range(4):
        schedule.step()
        rates.append(schedule.get_last_lr()[0])
    assert rates == [2.0, 1.0, 0.5, 0.25, 0.125]

    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
    schedule = optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4, 4], gamma=0.1)
    rates = [schedule.get_last_lr()[0]]
    for _ in range(5):
        schedule.step()
        rates.append(schedule.get_last_lr()[0])
    np.testing.assert_allclose(rates, [1, 1, 0.1, 0.1, 1e-3, 1e-3], rtol=1e-12)

    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
    schedule = optim.lr_scheduler.LinearLR(opt, start_factor=0.5, end_factor=1.0, total_iters=4)
    rates = [schedule.get_last_lr()[0]]
    for _ in range(6):
        schedule.step()
        rates.append(schedule.get_last_lr()[0])
    np.testing.assert_allclose(rates, [0.5, 0.625, 0.75, 0.875, 1.0, 1.0, 1.0], rtol=1e-12)

    # OneCycleLR: cos from max_lr/25 up to max_lr at step pct_start·T − 1, then down to max_lr/25/1e4
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0, momentum=0.9)
    schedule = optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=11, pct_start=0.5)
    rates, momenta = [schedule.get_last_lr()[0]], [opt.param_groups[0]["momentum"]]
    for _ in range(10):
        schedule.step()
        rates.append(schedule.get_last_lr()[0])
        momenta.append(opt.param_groups[0]["momentum"])
    rise_end = 0.5 * 11 - 1
    assert rates[0] == pytest.approx(1 / 25) and momenta[0] == pytest.approx(0.95)
    t = 3
    cos_up = 1.0 + (1 / 25 - 1.0) / 2 * (math.cos(math.pi * t / rise_end) + 1)
    assert rates[t] == pytest.approx(cos_up, rel=1e-12)
    assert rates[-1] == pytest.approx(1 / 25 / 1e4, rel=1e-12) and momenta[-1] == pytest.approx(0.95)
    low, pct = 1 / 25 / 1e4, (5 - rise_end) / (10 - rise_end)  # step 5: the fall from max_lr has begun
    assert rates[5] == pytest.approx(low + (1.0 - low) / 2 * (math.cos(math.pi * pct) + 1), rel=1e-12)
    assert momenta[5] == pytest.approx(0.95 + (0.85 - 0.95) / 2 * (math.cos(math.pi * pct) + 1), rel=1e-12)
