"""What a replay must notice about the tensors and arguments of a call, beyond their shapes:
a parameter frozen or unfrozen, a hook added or removed, an argument's memory layout, the
sign of a zero, and a result that is not a tensor's value. Each test runs the same calls
on a second, identical set of objects without ``compile`` (the ordinary engine, the
reference) and compares bit for bit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim


def _linear_training():
    nn.init.manual_seed(0)
    model = nn.Linear(3, 1).to(np.float64)
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    return model, step


def _batch(i: int) -> tuple[ag.Tensor, ag.Tensor]:
    rng = np.random.default_rng(i)
    return ag.tensor(rng.standard_normal((4, 3))), ag.tensor(rng.standard_normal((4, 1)))


def _run(change, compiled: bool, calls: int = 9, at: int = 4):
    """``calls`` steps; ``change(model, handles)`` before step ``at``. Also returns how many
    calls replayed before the change and after it."""
    model, step = _linear_training()
    fn = ag.compile(step) if compiled else step
    handles: list = []
    losses = []
    before = 0
    for i in range(calls):
        if i == at:
            change(model, handles)
            before = getattr(fn, "replays", 0)
        losses.append(fn(*_batch(i)).item())
    grads = {name: None if p.grad is None else p.grad.numpy() for name, p in model.named_parameters()}
    replays = (before, getattr(fn, "replays", 0) - before)
    return losses, {k: v.numpy() for k, v in model.state_dict().items()}, grads, replays


def _freeze(model, handles):
    model.bias.requires_grad_(False)


def _freeze_weight(model, handles):
    model.weight.requires_grad_(False)


def _add_hook(model, handles):
    handles.append(model.weight.register_hook(lambda g: g * 10))


CHANGES = {
    "bias frozen": _freeze,
    "weight frozen": _freeze_weight,
    "hook added": _add_hook,
}


@pytest.mark.parametrize("name", CHANGES)
def test_a_change_to_a_parameter_between_calls_is_followed(name):
    """A frozen parameter keeps its value and has no .grad; a hook added scales its δ: as eager."""
    eager_losses, eager_state, eager_grads, _ = _run(CHANGES[name], compiled=False)
    losses, state, grads, (before, after) = _run(CHANGES[name], compiled=True)
    assert before >= 1 and after >= 1  # replays before the change and after it
    assert losses == eager_losses
    assert all(np.array_equal(state[k], eager_state[k]) for k in eager_state)
    assert all((grads[k] is None) == (eager_grads[k] is None) for k in eager_grads)
    assert all(grads[k] is None or np.array_equal(grads[k], eager_grads[k]) for k in eager_grads)


def test_a_hook_removed_between_calls_stops_scaling_the_replays():
    runs = []
    for compiled in (False, True):
        model, step = _linear_training()
        fn = ag.compile(step) if compiled else step
        handle = model.weight.register_hook(lambda g: g * 10)
        for i in range(9):
            if i == 4:
                handle.remove()
            fn(*_batch(i))
        runs.append((model.weight.numpy(), fn))
    (eager_weight, _), (weight, fast) = runs
    assert fast.replays >= 2
    assert np.array_equal(weight, eager_weight)


def test_an_argument_in_another_memory_layout_records_again():
    """Recorded on C-ordered batches, called with Fortran-ordered ones: numpy sums in
    memory order, so only a program of that layout equals the eager call bit for bit."""
    rng = np.random.default_rng(5)
    data = rng.standard_normal((64, 24)).astype(np.float32)
    runs = []
    for compiled in (False, True):
        nn.init.manual_seed(1)
        model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 1)).to(np.float32)
        opt = optim.SGD(model.parameters(), lr=0.05)

        def step(x, model=model, opt=opt):
            opt.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        fn = ag.compile(step) if compiled else step
        batches = [np.ascontiguousarray(data[:6, i : i + 16].T) for i in range(4)] + [data[:6, i : i + 16].T for i in range(4)]
        losses = [fn(ag.tensor(b)).item() for b in batches]
        runs.append((losses, {k: v.numpy() for k, v in model.state_dict().items()}, fn))
    (eager_losses, eager_state, _), (losses, state, fast) = runs
    assert "strides" in fast.programs()[0].source
    assert fast.replays >= 2
    assert losses == eager_losses
    assert all(np.array_equal(state[k], eager_state[k]) for k in eager_state)


def test_minus_zero_is_another_argument_than_zero():
    fast = ag.compile(lambda x, scale: 1 / (x * scale))
    x = ag.tensor(np.array([1.0, 2.0]))
    with np.errstate(divide="ignore"):
        for _ in range(3):
            assert fast(x, 0.0).tolist() == [np.inf, np.inf]
        assert fast.replays >= 1
        assert fast(x, -0.0).tolist() == [-np.inf, -np.inf]


def test_a_zero_dimensional_result_of_a_numpy_scalar_function_stays_an_array():
    """np.linalg.norm returns a numpy scalar; the recording holds it as a 0-d array, and so
    must a replay (clip_grad_norm_'s norm: .data[...] = 0 works on every call)."""
    w = ag.tensor(np.array([3.0, 4.0]), requires_grad=True)

    def step(x):
        (w * x).sum().backward()
        norm = nn.utils.clip_grad_norm_([w], 1.0)
        w.grad = None
        return norm

    fast = ag.compile(step)
    norms = [fast(ag.tensor(np.array([3.0, 4.0]))) for _ in range(5)]
    assert fast.replays >= 2
    assert all(type(n.data) is np.ndarray and n.data.shape == () and n.item() == 5.0 for n in norms)


def test_a_result_holding_a_python_number_runs_eagerly_and_says_why():
    """An optimizer's step count returned from the step: a replay could only repeat the
    recording's count, so the function runs eagerly and every call returns the true one."""
    w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = optim.Adam([w], lr=0.1)

    def step(x):
        opt.zero_grad()
        (w * x).sum().backward()
        opt.step()
        return opt.state[w]["step"]

    fast = ag.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        counts = [fast(ag.tensor(np.array([1.0, 1.0]))) for _ in range(5)]
    assert counts == [1, 2, 3, 4, 5]
    assert fast.replays == 0 and "a number that is not a tensor's value" in fast.eager_because
    assert any(issubclass(c.category, ag.CompileWarning) for c in caught)


def test_a_zero_dimensional_argument_of_another_dtype_records_again():
    """A 0-d array has no strides to tell float32 from float64: its dtype decides the result's."""
    fast = ag.compile(lambda x, scale: x * scale)
    x = ag.tensor(np.array([1.5, 2.5], dtype=np.float32))
    for _ in range(3):
        assert fast(x, np.array(2, dtype=np.float32)).dtype == np.float32
    assert fast.replays >= 1
    wide = fast(x, np.array(0.1, dtype=np.float64))
    eager = x.numpy() * np.array(0.1, dtype=np.float64)
    assert wide.dtype == eager.dtype == np.float64 and np.array_equal(wide.numpy(), eager)


UNSEEN_WRITES = {
    "w.data *= 0.5": lambda w: w.data.__imul__(0.5),
    "w.data[0] = 3": lambda w: w.data.__setitem__(0, 3.0),
    "np.copyto(w.grad.data, 0)": lambda w: w.grad is not None and np.copyto(w.grad.data, 0),
    "w.grad.data.fill(0)": lambda w: w.grad is not None and w.grad.data.fill(0),
}


@pytest.mark.parametrize("name", UNSEEN_WRITES)
def test_numpy_writing_a_tensors_array_before_the_step_uses_it_runs_eagerly(name):
    """The recording watches a parameter's array from the first op on it: numpy writing into
    it before that is unseen, and a replay would leave the write out (gradients that add up
    across calls, a weight that is never halved). Such a step runs eagerly, and says why."""
    write = UNSEEN_WRITES[name]
    runs = []
    for compiled in (False, True):
        w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
        opt = optim.SGD([w], lr=0.1)

        def step(x, w=w, opt=opt):
            write(w)
            loss = (w * x).sum()
            loss.backward()
            opt.step()
            return loss

        fn = ag.compile(step) if compiled else step
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            losses = [fn(ag.tensor(np.array([1.0, 1.0]))).item() for _ in range(6)]
        runs.append((losses, w.numpy(), w.grad.numpy(), fn, caught))
    (eager_losses, eager_w, eager_grad, _, _), (losses, w, grad, fast, caught) = runs
    assert losses == eager_losses
    assert np.array_equal(w, eager_w) and np.array_equal(grad, eager_grad)
    assert fast.replays == 0 and "numpy wrote into a tensor's array" in fast.eager_because
    assert any(issubclass(c.category, ag.CompileWarning) for c in caught)


def test_a_write_through_the_tensor_before_the_step_uses_it_still_replays():
    """The same writes made with the tensor's own in-place methods are recorded: no refusal."""
    w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)

    def step(x):
        if w.grad is not None:
            w.grad.zero_()
        with ag.no_grad():
            w.mul_(0.5)
        (w * x).sum().backward()
        return w.grad

    fast = ag.compile(step)
    grads = [fast(ag.tensor(np.array([1.0, 3.0]))).numpy() for _ in range(5)]
    assert fast.replays >= 2 and fast.eager_because is None
    assert all(np.array_equal(g, [1.0, 3.0]) for g in grads)


def test_a_tensor_the_step_reads_replaced_by_a_new_one_records_again():
    """A global rebound to a new tensor (a notebook cell run again), the old one freed: the
    program's arrays belong to no one now, and replaying them returned the old values."""
    scope = {"w": ag.tensor(np.array([1.0, 2.0]))}
    fast = ag.compile(lambda x: x * scope["w"])
    x = ag.tensor(np.array([1.0, 1.0]))
    assert [fast(x).tolist() for _ in range(3)] == [[1.0, 2.0]] * 3 and fast.replays >= 1
    scope["w"] = ag.tensor(np.array([5.0, 7.0]))  # the old tensor's last reference goes (no gc.collect())
    assert [fast(x).tolist() for _ in range(3)] == [[5.0, 7.0]] * 3


def test_one_array_passed_as_two_arguments_and_written_runs_eagerly_naming_the_cause():
    def step(x, y):
        x += 1.0  # in place, through the first argument: the second sees it
        return ag.tensor(y) * 2.0

    fast = ag.compile(step)
    a, b = np.zeros(3), np.zeros(3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = [fast(a, a).tolist() for _ in range(3)]
    assert [step(b, b).tolist() for _ in range(3)] == results == [[2.0] * 3, [4.0] * 3, [6.0] * 3]
    assert fast.replays == 0 and "two of its arguments share memory" in fast.eager_because
    assert any(issubclass(c.category, ag.CompileWarning) for c in caught)


def test_a_new_input_that_requires_grad_each_call_replays_with_its_own_gradient():
    """x = tensor(batch, requires_grad=True) made afresh every call (an input-gradient step):
    the .grad a replay must find is the new argument's, by its place, so this replays, and
    each call's δx is that call's."""
    runs = []
    for compiled in (False, True):
        w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)

        def step(x, w=w):
            (w * x * x).sum().backward()
            w.grad = None
            return x.grad

        fn = ag.compile(step) if compiled else step
        grads = [fn(ag.tensor(np.array([1.0, float(i)]), requires_grad=True)).numpy() for i in range(7)]
        runs.append((grads, fn))
    (eager_grads, _), (grads, fast) = runs
    assert fast.replays >= 4
    assert all(np.array_equal(g, e) for g, e in zip(grads, eager_grads))


def test_numpys_error_handling_of_the_caller_is_a_guard():
    """Recorded under over="ignore", called under over="raise": σ sets its own errstate and
    raises nothing eagerly, and the replay must not raise either (nor stay silent where
    eager raises, as logsumexp of inf does)."""
    sigmoid = ag.compile(lambda x: ag.sigmoid(x) * 1.0)
    x = ag.tensor(np.array([-1000.0, 0.0, 3.0]))
    with np.errstate(over="ignore"):
        for _ in range(3):
            sigmoid(x)
    assert sigmoid.replays >= 1
    with np.errstate(over="raise"):
        assert sigmoid(x).tolist() == ag.sigmoid(x).tolist()
    logsumexp = ag.compile(lambda x: ag.logsumexp(x) * 1.0)
    y = ag.tensor(np.array([np.inf, 1000.0]))
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(3):
            logsumexp(y)
    assert logsumexp.replays >= 1
    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError):
            ag.logsumexp(y)
        with pytest.raises(FloatingPointError):
            logsumexp(y)


def test_the_grad_of_an_intermediate_kept_with_retain_grad_is_each_calls():
    """h.retain_grad(); ... return h.grad: the kept gradient is copied by a call the recording
    sees, so every replay returns its own call's δh (before: the recording's, every call)."""
    runs = []
    for compiled in (False, True):
        w = ag.tensor(np.array([[1.0, -1.0], [0.5, 2.0]]), requires_grad=True)

        def step(x, w=w):
            h = x @ w
            h.retain_grad()
            ((h * h).sum()).backward()
            w.grad = None
            return h.grad

        fn = ag.compile(step) if compiled else step
        grads = [fn(ag.tensor(np.array([[1.0, float(i)], [2.0, -1.0]]))).numpy() for i in range(6)]
        runs.append((grads, fn))
    (eager_grads, _), (grads, fast) = runs
    assert fast.replays >= 3
    assert all(np.array_equal(g, e) for g, e in zip(grads, eager_grads))


def test_a_result_holding_an_array_numpy_copied_out_of_sight_runs_eagerly():
    """np.array(loss.data) copies through the buffer protocol, which a recording cannot
    watch: a replay would return the recording's value every call, so the step runs eagerly
    and says why (loss.numpy(), np.copy(loss.data) are recorded and replay)."""
    w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)

    def step(x, copy):
        loss = (w * x).sum()
        loss.backward()
        w.grad = None
        return copy(loss.data)

    plain = ag.compile(lambda x: step(x, np.array))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = [float(plain(ag.tensor(np.array([1.0, float(i)])))) for i in range(4)]
    assert values == [1.0, 3.0, 5.0, 7.0]
    assert plain.replays == 0 and "an array the recording did not see made" in plain.eager_because
    assert any(issubclass(c.category, ag.CompileWarning) for c in caught)
    copied = ag.compile(lambda x: step(x, np.copy))
    assert [float(copied(ag.tensor(np.array([1.0, float(i)])))) for i in range(5)] == [1.0, 3.0, 5.0, 7.0, 9.0]
    assert copied.replays >= 2


def test_a_recording_that_raises_leaves_no_watched_array_in_the_optimizer_or_grads():
    """A step that raises on its first call, after backward and the optimizer's update: the
    momentum buffers and .grad it made must be plain arrays afterwards, or every later
    compiled step over that optimizer refuses (blaming the user's backward line)."""
    nn.init.manual_seed(0)
    model = nn.Linear(3, 1).to(np.float64)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def bad(x):
        opt.zero_grad()
        (model(x) ** 2).sum().backward()
        opt.step()
        raise KeyError("after the update")

    with pytest.raises(KeyError):
        ag.compile(bad)(ag.tensor(np.ones((2, 3))))
    assert all(type(s["momentum_buffer"]) is np.ndarray for s in opt.state.values())
    assert all(type(p.grad.data) is np.ndarray for p in model.parameters())

    def good(x):
        opt.zero_grad()
        loss = (model(x) ** 2).sum()
        loss.backward()
        opt.step()
        return loss

    fast = ag.compile(good)
    for _ in range(5):
        fast(ag.tensor(np.ones((2, 3))))
    assert fast.replays >= 2 and fast.eager_because is None


def test_a_parameter_the_step_reads_rebound_to_a_new_one_records_again():
    """The same with a tensor whose .grad the step sets: the program holds it (for its .grad
    and guards) only weakly, so it can go, and the step then trains the new one."""
    scope = {"w": ag.tensor(np.array([1.0, 2.0]), requires_grad=True)}

    def step(x):
        w = scope["w"]
        (w * x).sum().backward()
        with ag.no_grad():
            w -= 0.1 * w.grad
        w.grad = None
        return w * 1.0

    fast = ag.compile(step)
    x = ag.tensor(np.array([1.0, 1.0]))
    for _ in range(3):
        fast(x)
    assert fast.replays >= 1
    scope["w"] = ag.tensor(np.array([5.0, 7.0]), requires_grad=True)
    assert [fast(x).tolist() for _ in range(3)] == [[4.9, 6.9], [4.800000000000001, 6.800000000000001],
                                                    [4.700000000000001, 6.700000000000001]]  # fmt: skip
    assert np.array_equal(scope["w"].numpy(), [4.700000000000001, 6.700000000000001])


def test_a_gradient_tensor_the_step_reads_is_watched_like_an_op_input():
    """out.backward(gradient=G) with G a tensor made before the call: a replay reads G's
    array as it is then (written in place between calls), and records again for a new one."""
    scope = {"G": ag.tensor(np.ones((3, 2)))}
    runs = []
    for compiled in (False, True):
        nn.init.manual_seed(0)
        layer = nn.Linear(4, 2).to(np.float64)

        def step(x, layer=layer):
            layer.zero_grad()
            layer(x).backward(gradient=scope["G"])
            return layer.weight.grad * 1.0, layer.bias.grad * 1.0

        fn = ag.compile(step) if compiled else step
        scope["G"] = ag.tensor(np.ones((3, 2)))
        results = []
        for i in range(8):
            if i == 3:
                scope["G"].data *= 10.0  # in place, through numpy, between calls
            if i == 6:
                scope["G"] = ag.tensor(np.full((3, 2), -2.0))
            results.append([r.numpy() for r in fn(ag.tensor(np.arange(12.0).reshape(3, 4)))])
        runs.append((results, fn))
    (eager, _), (results, fast) = runs
    assert fast.replays >= 2
    assert all(np.array_equal(a, b) for got, want in zip(results, eager) for a, b in zip(got, want))


def test_a_step_that_leaves_grad_mode_off_runs_eagerly_and_leaves_it_off():
    w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)

    def step(x):
        loss = (w * x).sum()
        loss.backward()
        w.grad = None
        ag.set_grad_enabled(False)  # not in a with block: the call leaves grad mode off
        return loss

    fast = ag.compile(step)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(3):
                ag.set_grad_enabled(True)
                fast(ag.tensor(np.array([1.0, 1.0])))
                assert not ag.is_grad_enabled()  # as eagerly
        assert fast.replays == 0 and "leaves the grad mode changed" in fast.eager_because
        assert any(issubclass(c.category, ag.CompileWarning) for c in caught)
    finally:
        ag.set_grad_enabled(True)
