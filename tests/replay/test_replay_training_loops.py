"""Training-loop idioms a replay must keep replaying: clearing ``.grad`` by assignment,
clipping the gradients' norm, calling ``model.train()`` in every step. Each once made every
call record again (or run eagerly); each is checked against the same loop run eagerly, bit
for bit, and by how many calls replayed."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim

F = ag.functional


def _mlp():
    nn.init.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.Sigmoid(), nn.Linear(16, 1))
    return model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def _batches(n, seed=1):
    rng = np.random.default_rng(seed)
    return [(ag.tensor(rng.normal(size=(8, 4))), ag.tensor(rng.normal(size=(8, 1)))) for _ in range(n)]


def test_gradients_cleared_by_assignment_in_the_step_replay_like_zero_grad():
    def training():
        rng = np.random.default_rng(3)
        W = ag.tensor(rng.normal(size=(3, 4)), requires_grad=True)
        b = ag.tensor(np.zeros(3), requires_grad=True)

        def step(x):  # SGD by hand: the .grad of the last call cleared first, as zero_grad would
            W.grad = None
            b.grad = None
            loss = F.linear(x, W, b).tanh().square().mean()
            loss.backward()
            for p in (W, b):
                p.data -= 0.1 * p.grad.data
            return loss

        return step, W, b

    step, W, b = training()
    twin, W2, b2 = training()
    fast = ag.compile(step)
    rng = np.random.default_rng(4)
    for _ in range(8):
        x = ag.tensor(rng.normal(size=(5, 4)))
        assert fast(x).item() == twin(x).item()
        for p, q in ((W, W2), (b, b2)):
            np.testing.assert_array_equal(p.data, q.data)
            np.testing.assert_array_equal(p.grad.data, q.grad.data)
    assert fast.replays >= 6, fast.history  # the old .grad is not a guard: the step clears it


@pytest.mark.parametrize("norm_type", [2.0, float("inf")])
def test_a_step_that_clips_its_gradients_replays_with_each_calls_norm(norm_type):
    def training():
        nn.init.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = model(x).square().sum()
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5, norm_type=norm_type)
            opt.step()
            return loss, norm

        return model, step

    model, step = training()
    twin, twin_step = training()
    fast = ag.compile(step)
    rng = np.random.default_rng(5)
    norms = set()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ag.CompileWarning)  # the norm stays a recorded value, not a frozen number
        for _ in range(6):
            x = ag.tensor(rng.normal(size=(3, 4)) * 3)
            (loss, norm), (twin_loss, twin_norm) = fast(x), twin_step(x)
            assert loss.item() == twin_loss.item() and norm.item() == twin_norm.item()
            norms.add(norm.item())
            for p, q in zip(model.parameters(), twin.parameters()):
                np.testing.assert_array_equal(p.data, q.data)
    assert len(norms) == 6 and min(norms) > 0.5  # every call clipped, each by its own norm
    assert fast.replays >= 3, fast.history


def _loop(loss_of, before=lambda model: None):
    """A model and its training step: ``before(model)``, zero_grad, ``loss_of(model, x, y)``, backward, step."""
    model, opt = _mlp()

    def step(x, y):
        before(model)
        opt.zero_grad()
        loss = loss_of(model, x, y)
        loss.backward()
        opt.step()
        return loss

    return model, step


def _compiled_like_eager(training, calls=8):
    """Two loops from ``training()``, one compiled, on the same batches: the same losses, and
    the same parameters and .grad after them, bit for bit. Returns the compiled loop's model and step."""
    model, step = training()
    twin, twin_step = training()
    fast = ag.compile(step)
    for x, y in _batches(calls):
        assert fast(x, y).item() == twin_step(x, y).item()
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
        np.testing.assert_array_equal(p.grad.data, q.grad.data)
    return model, fast


def test_a_step_that_sets_training_mode_on_every_call_replays():
    def training():  # model.train() as many loops call it at the top of each step: no attribute changes
        return _loop(lambda model, x, y: F.mse_loss(model(x), y), before=lambda model: model.train())

    model, fast = _compiled_like_eager(training)
    assert fast.replays >= 5, fast.history
    model.eval()  # a real change still records again
    x, y = _batches(1, seed=9)[0]
    recordings = fast.recordings
    fast(x, y)
    assert fast.recordings == recordings + 1


def test_a_step_that_sets_an_attribute_to_the_value_it_has_replays():
    def training():  # an attribute the step sets on every call, to what it holds already: no change
        return _loop(lambda model, x, y: F.mse_loss(model(x), y), before=lambda model: setattr(model, "scale", 1.0))

    model, fast = _compiled_like_eager(training)
    assert fast.replays >= 5, fast.history


def _run_compiled(fn, calls):
    fast = ag.compile(fn)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = [fast(*args) for args in calls]
    return fast, results, [str(w.message) for w in caught if issubclass(w.category, ag.CompileWarning)]


def test_a_module_made_inside_the_step_runs_it_eagerly_and_the_warning_says_why():
    def training():
        return _loop(lambda model, x, y: nn.MSELoss()(model(x), y))  # a new module on every call

    model, step = training()
    twin, twin_step = training()
    batches = _batches(12)
    fast, losses, warned = _run_compiled(step, batches)
    assert [loss.item() for loss in losses] == [twin_step(x, y).item() for x, y in batches]  # eager: still right
    assert fast.replays == 0 and len(warned) == 1
    assert "different ways" in warned[0] and "the attributes of nn modules" in warned[0]


def test_state_kept_in_python_between_calls_runs_eagerly_and_the_warning_says_why():
    w = ag.tensor(np.array([0.5, -0.25]), requires_grad=True)
    state = {"h": ag.zeros(2)}

    def step(x):
        h = (x * w + state["h"]).tanh()
        h.sum().backward()
        state["h"] = h.detach()  # a new tensor each call, read by the next: pass it in and return it instead
        g, w.grad = w.grad, None
        return g

    rng = np.random.default_rng(6)
    fast, _, warned = _run_compiled(step, [(ag.tensor(rng.normal(size=2)),) for _ in range(12)])
    assert fast.replays == 0 and len(warned) == 1
    assert "an array an earlier call made and the code kept" in warned[0] and "pass such state in" in warned[0]


@pytest.mark.parametrize("clear", ["module", "optimizer"])
def test_gradients_zeroed_in_place_replay_as_they_run_eagerly(clear):
    def training():
        model, opt = _mlp()
        owner = model if clear == "module" else opt

        def step(x, y):
            owner.zero_grad(set_to_none=False)  # zeros written into the .grad of the last call
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return model, step

    _, fast = _compiled_like_eager(training)
    assert fast.replays >= 4, fast.history


def _mse_step(model, opt, train: bool = False):
    """zero_grad, an MSE forward, backward, the optimizer's step (``model.train()`` first if ``train``)."""

    def step(x, y):
        if train:
            model.train()
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def test_evaluating_between_epochs_keeps_at_most_eight_programs_and_the_results_eager():
    """model.eval() then model.train() around an evaluation each epoch changes the modules:
    the step records again, and the program before can never apply again. Programs are
    bounded (each holds its buffers), the least recently replayed dropped first."""
    runs = []
    for compiled in (False, True):
        model, opt = _mlp()
        step = _mse_step(model, opt, train=True)
        fn = ag.compile(step) if compiled else step
        rng = np.random.default_rng(2)
        losses = []
        for _ in range(12):  # epochs
            for _ in range(4):
                losses.append(fn(ag.tensor(rng.standard_normal((8, 4))), ag.tensor(rng.standard_normal((8, 1)))).item())
            model.eval()
            with ag.no_grad():
                model(ag.tensor(rng.standard_normal((8, 4))))
        runs.append((losses, [p.numpy() for p in model.parameters()], fn))
    (eager_losses, eager_params, _), (losses, params, fast) = runs
    assert losses == eager_losses and all(np.array_equal(p, q) for p, q in zip(params, eager_params))
    assert fast.replays >= 12 and fast.eager_because is None
    assert len(fast.programs()) <= 8


def test_the_programs_replayed_most_recently_are_the_ones_kept():
    """Two batch sizes in turn, each program replayed, while eight more are made and dropped
    (a new shape each): the two in use are never the ones dropped."""
    fast = ag.compile(_mse_step(*_mlp()))
    rng = np.random.default_rng(3)

    def call(n):
        return fast(ag.tensor(rng.standard_normal((n, 4))), ag.tensor(rng.standard_normal((n, 1))))

    for n in (8, 8, 8, 5, 5, 5):
        call(n)
    for extra in range(10, 18):  # eight more shapes, each its own program
        call(extra), call(extra), call(8), call(5)
    before = fast.replays
    call(8), call(5)
    assert fast.replays == before + 2
    assert len(fast.programs()) <= 8


def test_two_batch_sizes_in_turn_each_get_a_program():
    """16, 8, 16, 8, ...: recordings of different shapes are not compared with each other
    (their 1/n differ), so neither is taken for a value that changed and compile keeps going."""
    runs = []
    for compiled in (False, True):
        model, opt = _mlp()
        step = _mse_step(model, opt)
        fn = ag.compile(step) if compiled else step
        rng = np.random.default_rng(4)
        sizes = [16 if i % 2 == 0 else 8 for i in range(14)]
        losses = [fn(ag.tensor(rng.standard_normal((n, 4))), ag.tensor(rng.standard_normal((n, 1)))).item() for n in sizes]
        runs.append((losses, [p.numpy() for p in model.parameters()], fn))
    (eager_losses, eager_params, _), (losses, params, fast) = runs
    assert fast.eager_because is None and fast.replays >= 6
    assert losses == eager_losses and all(np.array_equal(p, q) for p, q in zip(params, eager_params))


def _feature_and_head():
    """A feature extractor compiled on its own, and a head trained on its (detached) output."""
    w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    v = ag.tensor(np.array([0.5, -1.0]), requires_grad=True)
    features = ag.compile(lambda x: x * w)

    def step(x):
        loss = (features(x) * v).sum()
        loss.backward()
        with ag.no_grad():
            for p in (w, v):
                if p.grad is not None:  # (w's never is: what features returns is detached)
                    p.sub_(0.1 * p.grad)
        w.grad = v.grad = None
        return loss

    return step, w, v


def test_a_compiled_function_inside_a_compiled_step_returns_detached_tensors_as_eagerly():
    step, w, v = _feature_and_head()
    twin, w2, v2 = _feature_and_head()
    fast = ag.compile(step)
    rng = np.random.default_rng(5)
    for _ in range(5):
        x = ag.tensor(rng.normal(size=2))
        assert fast(x).item() == twin(x).item()
        np.testing.assert_array_equal(v.data, v2.data)
    np.testing.assert_array_equal(w.data, [1.0, 2.0])  # untouched, as eagerly: no δ reaches w
    np.testing.assert_array_equal(w2.data, [1.0, 2.0])
    assert fast.replays >= 3, fast.history


def test_a_compiled_function_that_runs_eagerly_returns_detached_tensors_still():
    w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)

    def scaled(x):
        z = x * w
        return z * float(z.sum())  # a Python number read from a tensor: compile gives up

    fast = ag.compile(scaled)
    with pytest.warns(ag.CompileWarning):
        first = fast(ag.tensor(np.array([1.0, 1.0])))
    later = fast(ag.tensor(np.array([1.0, 1.0])))
    with ag.detect_anomaly():
        anomalous = fast(ag.tensor(np.array([1.0, 1.0])))
    for out in (first, later, anomalous):
        np.testing.assert_array_equal(out.data, [3.0, 6.0])
        assert not out.requires_grad and out.grad_fn is None


def _epochs(compiled: bool, epochs: int = 5):
    """Train with Dropout and BatchNorm, then evaluate in eval mode, every epoch (the mode
    switched outside the steps, as loops do). Returns the losses, the final parameters and
    running statistics, and the compiled steps (None eagerly)."""
    nn.init.manual_seed(0)  # the weights and then the dropout masks: one stream, drawn alike in both runs
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 1))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def evaluate(x, y):
        with ag.no_grad():
            return F.mse_loss(model(x), y)

    train, test = (ag.compile(step), ag.compile(evaluate)) if compiled else (step, evaluate)
    losses = []
    batches = _batches(4)
    for _ in range(epochs):
        model.train()
        losses += [train(x, y).item() for x, y in batches]
        model.eval()
        losses += [test(x, y).item() for x, y in batches[:2]]
    return losses, model.state_dict(), (train, test) if compiled else None


def test_switching_to_eval_and_back_every_epoch_replays_both_steps_as_eagerly():
    losses, state, (train, test) = _epochs(compiled=True)
    twin_losses, twin_state, _ = _epochs(compiled=False)
    assert losses == twin_losses
    assert state.keys() == twin_state.keys()
    for key in state:
        np.testing.assert_array_equal(state[key].numpy(), twin_state[key].numpy(), err_msg=key)
    # a program for each mode from the first epoch on: eval() and train() are no change
    assert (train.recordings, test.recordings) == (3, 2), (train.history, test.history)
    assert (train.replays, test.replays) == (17, 8)


def test_a_step_that_reads_the_training_mode_follows_it_in_both_modes():
    def training():
        def loss_of(model, x, y):
            loss = F.mse_loss(model(x), y)
            if model.training:  # a Python branch on the mode: the flag is a guard of the replay
                loss = loss + 0.1 * model[0].weight.square().sum()
            return loss

        return _loop(loss_of)

    model, step = training()
    twin, twin_step = training()
    fast = ag.compile(step)
    for i, (x, y) in enumerate(_batches(12)):
        mode = i % 4 < 2  # two calls in training mode, two in eval mode, ...
        model.train(mode)
        twin.train(mode)
        assert fast(x, y).item() == twin_step(x, y).item()
        for p, q in zip(model.parameters(), twin.parameters()):
            np.testing.assert_array_equal(p.data, q.data)
    assert fast.replays >= 6, fast.history
