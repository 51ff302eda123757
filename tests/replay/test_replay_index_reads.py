"""Values the library computes from a step's labels, indices or fresh constants must be
computed again by every replay, never frozen into the program.

A recording watches the arrays that flow through the library; numpy work it cannot see (a
plain array indexed by a watched label array, ``np.asarray`` of a watched array, a tensor
made from a fresh ``np.zeros``) becomes a constant of the program, or a tensor the next
call cannot match. Two recordings that saw the same labels cannot tell, and every later
replay silently reuses the first labels' values. Each test below therefore runs the same
sequence of calls eagerly and compiled, with labels (or indices) that change, the first
three calls (two recordings and the first replay) seeing the same ones, and compares the
results and the trained parameters bit for bit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim

F = ag.functional

CLASSES = 5
CLASS_WEIGHTS = np.array([1.0, 2.0, 0.5, 1.0, 3.0])
# the first three calls see the same labels: two recordings that agree, then a replay
LABELS = [np.array(y) for y in ([0, 1, 2, 3, 4, 0],) * 3 + ([0, 0, 1, 4, 2, 3], [1, 4, 3, 4, 0, 2],
                                                            [4, 1, 2, 2, 3, 2], [3, 3, 3, 3, 3, 3])]  # fmt: skip
INPUTS = [np.random.default_rng(i).normal(size=(6, 4)) for i in range(len(LABELS))]


def _run_both(make, calls):
    """Run ``calls`` through ``make()``'s step eagerly and through a compiled twin; return
    (eager results, compiled results, eager modules, compiled modules, the Compiled)."""
    eager_step, eager_modules = make()
    step, modules = make()
    fast = ag.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ag.CompileWarning)  # giving up on replaying is a failure here
        got = [_arrays(fast(*args)) for args in calls]
    expected = [_arrays(eager_step(*args)) for args in calls]
    return expected, got, eager_modules, modules, fast


def _arrays(result):
    if isinstance(result, tuple):
        return tuple(_arrays(r) for r in result)
    return None if result is None else np.array(result.data if isinstance(result, ag.Tensor) else result)


def _assert_same(expected, got, eager_modules, modules, what):
    for i, (e, g) in enumerate(zip(expected, got)):
        e, g = (e, g) if isinstance(e, tuple) else ((e,), (g,))
        for u, v in zip(e, g):
            assert u.shape == v.shape and u.dtype == v.dtype, f"{what}: call {i} gave {v.dtype}{v.shape}, eager {u.dtype}{u.shape}"
            assert np.array_equal(u, v), f"{what}: call {i} compiled gave {v}, eager {u}"
    for e_module, module in zip(eager_modules, modules):
        for (name, p), (_, q) in zip(e_module.state_dict().items(), module.state_dict().items()):
            assert np.array_equal(p.data, q.data), f"{what}: {name} after the calls differs from eager training"


# --------------------------------------------------------------- class weights
def _losses():
    cross_entropy_loss = nn.CrossEntropyLoss(weight=CLASS_WEIGHTS)  # modules made outside the step
    nll = nn.NLLLoss(weight=CLASS_WEIGHTS)
    weight_tensor = ag.tensor(CLASS_WEIGHTS)
    return {
        "cross_entropy": lambda z, y: F.cross_entropy(z, y, weight=CLASS_WEIGHTS),
        "cross_entropy sum": lambda z, y: F.cross_entropy(z, y, weight=CLASS_WEIGHTS, reduction="sum"),
        "cross_entropy none": lambda z, y: F.cross_entropy(z, y, weight=CLASS_WEIGHTS, reduction="none").sum(),
        "cross_entropy tensor weight": lambda z, y: F.cross_entropy(z, y, weight=weight_tensor),
        "cross_entropy weight made in the step": lambda z, y: F.cross_entropy(z, y, weight=weight_tensor * 2.0),
        "cross_entropy ignore_index": lambda z, y: F.cross_entropy(z, y, weight=CLASS_WEIGHTS, ignore_index=4),
        "cross_entropy label_smoothing": lambda z, y: F.cross_entropy(z, y, weight=CLASS_WEIGHTS, label_smoothing=0.1),
        "cross_entropy ignore_index sum": lambda z, y: F.cross_entropy(z, y, weight=CLASS_WEIGHTS, ignore_index=3,
                                                                    reduction="sum"),
        "cross_entropy ignore_index unweighted": lambda z, y: F.cross_entropy(z, y, ignore_index=3, reduction="sum"),
        "nll_loss": lambda z, y: F.nll_loss(z.log_softmax(axis=1), y, weight=CLASS_WEIGHTS),
        "nll_loss ignore_index": lambda z, y: F.nll_loss(z.log_softmax(axis=1), y, weight=CLASS_WEIGHTS, ignore_index=3,
                                                         reduction="sum"),
        "nn.CrossEntropyLoss": cross_entropy_loss,
        "nn.NLLLoss": lambda z, y: nll(z.log_softmax(axis=1), y),
    }


@pytest.mark.parametrize("name", list(_losses()))
@pytest.mark.parametrize("labels_as", ["ndarray", "tensor"])
def test_class_weighted_losses_replay_the_weights_of_each_calls_labels(name, labels_as):
    def make():
        nn.init.manual_seed(0)
        model = nn.Linear(4, CLASSES)
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        loss_of = _losses()[name]

        def step(x, y):
            optimizer.zero_grad()
            loss = loss_of(model(x), y)
            loss.backward()
            optimizer.step()
            return loss

        return step, [model]

    wrap = ag.tensor if labels_as == "tensor" else np.array
    calls = [(ag.tensor(x), wrap(y)) for x, y in zip(INPUTS, LABELS)]
    expected, got, eager_modules, modules, fast = _run_both(make, calls)
    _assert_same(expected, got, eager_modules, modules, f"{name} with class weights")
    assert fast.replays >= len(calls) - 3, f"{name}: expected every call after the recordings to replay, {fast.history}"


# ------------------------------------------------------------ unravel_index, one_hot
FLAT = [np.array(f) for f in ([0, 1, 6],) * 3 + ([18, 19, 2], [7, 3, 3], [5, 5, 5], [0, 19, 10])]


@pytest.mark.parametrize("flat_as", ["ndarray", "tensor"])
def test_unravel_index_of_an_argument_is_computed_by_every_replay(flat_as):
    def make():
        w = ag.tensor(np.arange(20.0).reshape(5, 4) / 7, requires_grad=True)

        def step(flat):
            loss = (w[ag.unravel_index(flat, (5, 4))] ** 2).sum()
            loss.backward()
            grad = w.grad
            w.grad = None
            return loss, grad

        return step, []

    wrap = ag.tensor if flat_as == "tensor" else np.array
    calls = [(wrap(f),) for f in FLAT]
    expected, got, _, _, fast = _run_both(make, calls)
    _assert_same(expected, got, [], [], "w[unravel_index(flat, (5, 4))]")
    assert fast.replays >= len(calls) - 3, f"unravel_index: expected the calls after the recordings to replay, {fast.history}"


@pytest.mark.parametrize("labels_as", ["ndarray", "tensor"])
def test_one_hot_of_an_argument_replays_and_follows_the_labels(labels_as):
    def make():
        nn.init.manual_seed(0)
        model = nn.Linear(4, CLASSES)
        optimizer = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            optimizer.zero_grad()
            target = ag.one_hot(y, CLASSES)
            loss = ((model(x).softmax(axis=1) - target) ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss, target

        return step, [model]

    wrap = ag.tensor if labels_as == "tensor" else np.array
    calls = [(ag.tensor(x), wrap(y)) for x, y in zip(INPUTS, LABELS)]
    expected, got, eager_modules, modules, fast = _run_both(make, calls)
    _assert_same(expected, got, eager_modules, modules, "one_hot(labels, 5) as a target")
    assert fast.replays >= len(calls) - 3, f"one_hot: expected the calls after the recordings to replay, {fast.history}"


def test_one_hot_without_num_classes_runs_eagerly_and_says_why():
    # The result's width is the largest label + 1, a value of the labels: no program can
    # compute it, so compile must refuse (and the calls give the eager one-hot), never
    # replay the recording's width or values.
    fast = ag.compile(lambda y: ag.one_hot(y))
    calls = [np.array(y) for y in ([0, 2, 1],) * 3 + ([0, 4, 1], [3, 3, 0], [1, 0, 0])]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = [fast(y) for y in calls]
    for y, result in zip(calls, got):
        expected = ag.one_hot(y)
        assert result.shape == expected.shape and np.array_equal(result.data, expected.data), f"one_hot({y})"
    assert fast.replays == 0
    assert [str(w.message) for w in caught if issubclass(w.category, ag.CompileWarning)] == [
        f"{fast.eager_because}. {fast.__name__} runs eagerly from now on"
    ]
    assert "one_hot without num_classes" in fast.eager_because and "pass num_classes" in fast.eager_because


def test_one_hot_still_refuses_a_label_out_of_range_in_a_replay():
    fast = ag.compile(lambda y: ag.one_hot(y, 3))
    for _ in range(3):
        fast(np.array([0, 2]))
    assert fast.replays == 1
    with pytest.raises(ValueError, match="one_hot: label 3 is out of range for num_classes=3"):
        fast(np.array([0, 3]))


# ------------------------------------------------------------ tensors made in the step
CREATED = {
    "zeros": lambda: ag.zeros((6, 2)),
    "zeros (torch shape)": lambda: ag.zeros(6, 2),
    "ones": lambda: ag.ones(6, 2),
    "empty": lambda: ag.empty((6, 2)),
    "full": lambda: ag.full((6, 2), 0.5),
    "arange": lambda: ag.arange(12.0).reshape(6, 2),
    "linspace": lambda: ag.linspace(0.0, 1.0, 12).reshape(6, 2),
    "eye": lambda: ag.eye(6, 2),
    "tensor": lambda: ag.tensor(np.full((6, 2), 0.25)),
    "ones written in place": lambda: ag.ones(6, 2).mul_(3.0),
}


@pytest.mark.parametrize("name", list(CREATED))
def test_a_step_that_creates_tensors_replays(name):
    def make():
        nn.init.manual_seed(0)
        model = nn.Linear(4, 2)
        optimizer = optim.SGD(model.parameters(), lr=0.05)

        def step(x):
            optimizer.zero_grad()
            loss = ((model(x) * CREATED[name]() + 1.0) ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss

        return step, [model]

    calls = [(ag.tensor(x),) for x in INPUTS]
    expected, got, eager_modules, modules, fast = _run_both(make, calls)
    _assert_same(expected, got, eager_modules, modules, f"a step using {name}")
    assert fast.replays >= len(calls) - 3, f"{name}: expected the calls after the recordings to replay, {fast.history}"


# ------------------------------------------------------------ Embedding(max_norm=...)
# the number of distinct indices changes from call to call (3, 3, 3, 2, 1, 3, 2)
INDICES = [np.array(i) for i in ([0, 1, 2], [0, 1, 2], [0, 1, 2], [1, 1, 2], [4, 4, 4], [5, 3, 0], [2, 2, 5])]


@pytest.mark.parametrize("norm_type", [2.0, 1.0])
@pytest.mark.parametrize("indices_as", ["ndarray", "tensor"])
def test_embedding_max_norm_renormalises_the_rows_of_each_calls_indices(norm_type, indices_as):
    def make():
        nn.init.manual_seed(0)
        emb = nn.Embedding(6, 3, max_norm=1.0, norm_type=norm_type)
        optimizer = optim.SGD(emb.parameters(), lr=0.5)  # large steps: rows grow past max_norm again

        def step(idx):
            optimizer.zero_grad()
            loss = (emb(idx) * np.array([3.0, -2.0, 1.0])).sum()
            loss.backward()
            optimizer.step()
            return loss

        return step, [emb]

    wrap = ag.tensor if indices_as == "tensor" else np.array
    calls = [(wrap(i),) for i in INDICES]
    expected, got, eager_modules, modules, fast = _run_both(make, calls)
    _assert_same(expected, got, eager_modules, modules, f"Embedding(max_norm=1.0, norm_type={norm_type})")
    assert fast.replays >= len(calls) - 3, f"Embedding max_norm: expected the calls after the recordings to replay, {fast.history}"


# --------------------------------------------------------------- repeat with counts
@pytest.mark.parametrize("as_tensor", [False, True], ids=["ndarray", "tensor"])
def test_repeat_with_counts_of_an_argument_follows_each_calls_counts(as_tensor):
    """np.repeat dispatches on its first argument only: the counts must reach a call the
    recording sees, or the first counts' index is a constant of the program."""
    counts = [[1, 1, 1]] * 3 + [[2, 0, 1], [0, 0, 3], [1, 2, 0], [3, 0, 0]]

    def make():
        w = ag.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)

        def step(c):
            out = ag.repeat(w * 1.0, ag.tensor(c) if as_tensor else c)
            (out * out).sum().backward()
            grad = w.grad
            w.grad = None
            return out, grad

        return step, []

    calls = [(np.array(c),) for c in counts]
    expected, got, eager_modules, modules, fast = _run_both(make, calls)
    _assert_same(expected, got, eager_modules, modules, "repeat")
    assert fast.replays >= 2


# --------------------------------------------------------------- setitem at an argument index
def test_setitem_at_an_argument_index_replays_and_still_refuses_duplicates():
    """y[idx] = v with idx an argument: the duplicate check counts through an array made from
    the watched one, so the step replays, each call's index is checked, and [1, 1] is refused
    as eagerly (before: the step was refused, blamed on the user's line)."""
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = ag.tensor([10.0, 20.0], requires_grad=True)

    def step(idx):
        y = x * 1.0
        y[idx] = v
        (y * y).sum().backward()
        grads = x.grad, v.grad
        x.grad = v.grad = None
        return y, *grads

    fast = ag.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ag.CompileWarning)
        for idx in ([0, 1], [0, 1], [0, 1], [0, 2], [2, 1], [0, 2]):
            index = ag.tensor(np.array(idx))
            got, expected = fast(index), step(index)
            assert all(np.array_equal(g.numpy(), e.numpy()) for g, e in zip(got, expected))
        assert fast.replays >= 2
        with pytest.raises(ValueError, match="more than once"):
            fast(ag.tensor(np.array([1, 1])))
