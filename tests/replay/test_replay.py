"""autograd_nn.compile: replays equal eager execution bit for bit, and record again when they must.

Every test runs the same step twice, from identical starting points: once through
``compile`` and once eagerly (the independent reference: the ordinary engine), and
compares losses, parameters and optimizer state exactly.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim

F = ag.functional

OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3, nesterov=True),
    "adam": lambda p: optim.Adam(p, lr=0.01, weight_decay=1e-2, amsgrad=True),
    "adamw": lambda p: optim.AdamW(p, lr=0.01),
    "nadam": lambda p: optim.NAdam(p, lr=0.01, decoupled_weight_decay=True, weight_decay=0.1),
    "radam": lambda p: optim.RAdam(p, lr=0.01),
    "rmsprop": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.01, lr_decay=0.01),
    "adamax": lambda p: optim.Adamax(p, lr=0.01),
}


def _training(opt_name: str, dtype: type = np.float64, dropout: bool = False):
    nn.init.manual_seed(0)
    layers = [nn.Linear(4, 16, dtype=dtype), nn.Sigmoid()]
    if dropout:
        layers.append(nn.Dropout(0.3))
    model = nn.Sequential(*layers, nn.Linear(16, 1, dtype=dtype))
    opt = OPTIMIZERS[opt_name](model.parameters())
    schedule = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, opt, schedule, step


def _batches(n, batch=8, dtype=np.float64, seed=1):
    rng = np.random.default_rng(seed)
    return [
        (ag.tensor(rng.normal(size=(batch, 4)).astype(dtype)), ag.tensor(rng.normal(size=(batch, 1)).astype(dtype)))
        for _ in range(n)
    ]


def _same_state(a: optim.Optimizer, b: optim.Optimizer) -> bool:
    sa, sb = a.state_dict()["state"], b.state_dict()["state"]
    return sa.keys() == sb.keys() and all(
        sa[i].keys() == sb[i].keys() and all(np.array_equal(np.asarray(sa[i][k]), np.asarray(sb[i][k])) for k in sb[i])
        for i in sb
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
def test_a_compiled_training_step_equals_the_eager_one_bit_for_bit(opt_name, dtype):
    model, opt, schedule, step = _training(opt_name, dtype)
    twin, twin_opt, twin_schedule, twin_step = _training(opt_name, dtype)
    fast = ag.compile(step)
    for x, y in _batches(12, dtype=dtype):
        loss, expected = fast(x, y), twin_step(x, y)
        schedule.step()
        twin_schedule.step()  # the learning rate changes every 3 steps: a replay follows it
        assert loss.item() == expected.item()
        for p, q in zip(model.parameters(), twin.parameters()):
            np.testing.assert_array_equal(p.data, q.data)
            np.testing.assert_array_equal(p.grad.data, q.grad.data)
    assert _same_state(opt, twin_opt)
    assert fast.replays >= 7, fast.history  # most calls were replays, not recordings
    assert fast.eager_because is None


def test_a_replay_creates_no_tensor_or_node_per_op_and_allocates_no_buffer():
    model, opt, _, step = _training("sgd")
    fast = ag.compile(step)
    batches = _batches(4)
    for x, y in batches[:3]:
        fast(x, y)
    source = fast.source()
    assert "wrap(" in source and source.count("wrap(") == 1  # only the returned loss becomes a Tensor
    assert "Node" not in source and "Tensor" not in source
    into_buffers = [line for line in source.splitlines() if re.fullmatch(r"\w+\(.*\)", line.strip())]
    assert len(into_buffers) > 10  # kernels called for their effect: writing into preallocated buffers


def test_a_new_batch_size_records_again_and_both_programs_stay_right():
    model, opt, _, step = _training("adam")
    twin, _, _, twin_step = _training("adam")
    fast = ag.compile(step)
    for k, (x, y) in enumerate(_batches(4, batch=8) + _batches(4, batch=5, seed=2) + _batches(3, batch=8, seed=3)):
        assert fast(x, y).item() == twin_step(x, y).item(), k
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert len(fast.programs()) == 2


def test_eval_mode_and_a_replaced_layer_record_again():
    def scenario(compiled: bool) -> list[float]:
        model, _, _, step = _training("sgd", dropout=True)
        run = ag.compile(step) if compiled else step
        nn.init.manual_seed(3)  # the dropout masks: the same stream for both runs
        batches = _batches(10)
        losses = [run(x, y).item() for x, y in batches[:4]]
        model.eval()  # dropout off: the recorded program must not be used
        losses += [run(x, y).item() for x, y in batches[4:7]]
        nn.init.manual_seed(5)
        model[0] = nn.Linear(4, 16)  # a new layer (not in the optimizer): the model must use it
        losses += [run(x, y).item() for x, y in batches[7:]]
        if compiled:
            assert len(run.programs()) >= 2 and run.replays >= 2, run.history
        return losses

    assert scenario(compiled=True) == scenario(compiled=False)


def test_dropout_draws_afresh_from_a_seeded_generator_on_every_replay():
    model, _, _, step = _training("sgd", dropout=True)
    twin, _, _, twin_step = _training("sgd", dropout=True)
    fast = ag.compile(step)
    nn.init.manual_seed(7)
    losses = [fast(x, y).item() for x, y in _batches(6)]
    nn.init.manual_seed(7)
    expected = [twin_step(x, y).item() for x, y in _batches(6)]
    assert losses == expected
    assert fast.replays >= 3
    assert len(set(losses)) == len(losses)  # a different mask each step (and a different batch)


def test_gradients_accumulate_across_replays_as_they_do_eagerly():
    w = ag.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    v = ag.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)

    def accumulate(x, p):
        (x * p).sin().sum().backward()  # no zero_grad: .grad grows call after call

    fast = ag.compile(lambda x: accumulate(x, w))
    rng = np.random.default_rng(0)
    for _ in range(6):
        x = ag.tensor(rng.normal(size=3))
        fast(x)
        accumulate(x, v)
        np.testing.assert_array_equal(w.grad.data, v.grad.data)
    assert fast.replays >= 2


def test_a_branch_on_a_value_is_checked_and_the_other_branch_records_again():
    w = ag.tensor(np.array([0.5, -0.5]), requires_grad=True)

    def f(x):
        y = (x * w).sum()
        return y * 2 if y > 0 else y * -3  # bool(y): a check in the program

    fast = ag.compile(f)
    values = [np.array(v) for v in ([1.0, 0.0], [2.0, 1.0], [3.0, 0.0], [0.0, 1.0], [0.0, 2.0], [1.0, 0.0])]
    got = [fast(ag.tensor(v)).item() for v in values]
    want = [f(ag.tensor(v)).item() for v in values]
    assert got == want


def test_a_value_read_with_item_may_be_returned_and_is_refreshed():
    w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    fast = ag.compile(lambda x: ((x * w).sum() ** 2).item())
    for k in range(5):
        x = ag.tensor(np.array([1.0, k]))
        assert fast(x) == (1.0 + 2.0 * k) ** 2
    assert fast.replays == 3


def test_what_a_replay_cannot_see_runs_eagerly_with_a_warning_naming_the_line():
    w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)

    def logs(x):
        loss = (x * w).sum()
        print_me = float(loss)  # a Python number: a replay could not hand it back
        return loss, print_me

    fast = ag.compile(logs)
    with pytest.warns(ag.CompileWarning, match=r"float\(\) of a tensor's value at .*test_replay.py:\d+"):
        loss, number = fast(ag.tensor(np.array([1.0, 1.0])))
    assert number == 3.0 and loss.item() == 3.0  # the call itself ran eagerly, correctly
    loss, number = fast(ag.tensor(np.array([2.0, 1.0])))
    assert number == 4.0 and fast.replays == 0 and fast.eager_because is not None


def test_fullgraph_raises_instead_and_keeps_the_result():
    w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    fast = ag.compile(lambda x: (x * w).sum().item() + 1.0, fullgraph=True)  # arithmetic on a read value
    with pytest.raises(
        ag.CompileError, match=r"Python arithmetic or a comparison on a value read with \.item\(\)"
    ) as e:
        fast(ag.tensor(np.array([1.0, 1.0])))
    assert e.value.result == 4.0


def test_a_value_that_changes_behind_the_recording_is_caught_before_any_replay():
    w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    scale = {"now": 1.0}

    def f(x):
        return (x * w * np.array(scale["now"])).sum()  # a fresh array of a Python value: frozen by a replay

    fast = ag.compile(f, fullgraph=True)
    fast(ag.tensor(np.ones(2)))
    scale["now"] = 3.0
    with pytest.raises(ag.CompileError, match="used a value that changed from one call to the next"):
        fast(ag.tensor(np.ones(2)))


def test_writing_into_an_array_the_recording_did_not_see_made_is_refused():
    w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)

    def f(x):
        total = np.zeros(2)  # made outside any watched call
        np.add(total, (x * w).data, out=total)
        return ag.tensor(total).sum()

    fast = ag.compile(f, fullgraph=True)
    with pytest.raises(ag.CompileError, match="writing into a plain array .* the recording did not see being made"):
        fast(ag.tensor(np.ones(2)))


def test_under_anomaly_mode_a_compiled_function_runs_eagerly():
    w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    fast = ag.compile(lambda x: (x * w).sum())
    with ag.detect_anomaly():
        for _ in range(4):
            fast(ag.tensor(np.ones(2)))
    assert fast.recordings == 0 and fast.replays == 0


def test_a_chain_of_ops_replays_to_the_eager_gradient():
    x = np.linspace(-1, 1, 4)
    leaf, twin = ag.tensor(x, requires_grad=True), ag.tensor(x, requires_grad=True)

    def chain(p):
        y = p
        for _ in range(20):
            y = (y * 0.9 + 0.1).tanh()
        y.backward(np.ones(4))
        g = p.grad
        p.grad = None
        return g.data

    fast = ag.compile(lambda: chain(leaf))
    for _ in range(4):
        np.testing.assert_array_equal(fast(), chain(twin))
    assert fast.replays == 2


def test_reseeding_after_the_program_is_made_reseeds_the_replays_draws():
    def losses(compiled: bool) -> list[float]:
        model, _, _, step = _training("sgd", dropout=True)
        run = ag.compile(step) if compiled else step
        nn.init.manual_seed(11)
        batches = _batches(8)
        out = [run(x, y).item() for x, y in batches[:4]]
        nn.init.manual_seed(11)  # the same masks again, from a program made before the re-seed
        out += [run(x, y).item() for x, y in batches[:4]]
        if compiled:
            assert run.replays >= 5, run.history
        return out

    compiled, eager = losses(True), losses(False)
    assert compiled == eager


def test_functional_dropout_seeded_per_call_replays_the_seeds_mask_as_eagerly():
    w = ag.tensor(np.linspace(-1.0, 1.0, 6), requires_grad=True)

    def step(x):
        loss = F.dropout(x * w, 0.5, rng=3).sum()  # a fresh generator from seed 3 on every call
        loss.backward()
        w.grad = None
        return loss

    fast = ag.compile(step, fullgraph=True)
    x = ag.tensor(np.arange(1.0, 7.0))
    results = [fast(x).item() for _ in range(5)]
    assert results == [step(x).item()] * 5  # every call the same mask, as eagerly
    assert fast.replays >= 2 and fast.eager_because is None  # a replay makes default_rng(3) afresh too


def test_recordings_that_became_no_program_are_let_go():
    model, _, _, step = _training("adam")  # the first call makes Adam's state: it records differently
    fast = ag.compile(step)
    for x, y in _batches(5):
        fast(x, y)
    assert fast.recordings == 3 and len(fast.programs()) == 1
    assert not any(fast._candidates.values())  # no recording is kept once its spec has a program


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("pos_weight", [None, (3.0, 0.5)], ids=["plain", "pos_weight"])
def test_bce_with_logits_replays_bit_for_bit_when_the_logits_change_sign(dtype, pos_weight):
    """binary_cross_entropy_with_logits folds each logit by its sign (−|z| = z·(1 − 2 relu(sign z))):
    a replay computes the fold of each new batch, whose logits flip sign and go far out."""
    q = None if pos_weight is None else np.array(pos_weight, dtype)

    def made():
        nn.init.manual_seed(5)
        model = nn.Linear(3, 2, dtype=dtype)
        opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(model(x), y, pos_weight=q)
            loss.backward()
            opt.step()
            return loss

        return model, step

    (model, step), (twin, twin_step) = made(), made()
    fast = ag.compile(step)
    rng = np.random.default_rng(4)
    for k in range(8):
        scale = (-1.0) ** k * (1.0 if k < 4 else 40.0)  # every logit flips sign; then |z| ≫ 20
        x = ag.tensor((rng.normal(size=(6, 3)) + 2.0).astype(dtype) * scale)
        y = ag.tensor((rng.random((6, 2)) < 0.5).astype(dtype))
        assert fast(x, y).item() == twin_step(x, y).item(), k
        for p, r in zip(model.parameters(), twin.parameters()):
            np.testing.assert_array_equal(p.data, r.data)
            np.testing.assert_array_equal(p.grad.data, r.grad.data)
    assert fast.replays >= 5, fast.history
