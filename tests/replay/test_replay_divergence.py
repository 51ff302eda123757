"""A replay that finds another value where the recording branched (a ``.item()`` test, a
boolean mask with another count) records the call again, eagerly, from the start: what the
replay had already changed must be put back first, or the eager rerun applies it twice.
Each test runs the same calls on a second, identical set of objects without ``compile``:
the ordinary engine is the reference, compared bit for bit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim

# x values whose sums are positive, positive, positive, then negative: the fourth call takes the other branch.
_BRANCHING = ([1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [-5.0, 1.0], [3.0, 1.0], [-2.0, 1.0])


def _branching_step(dropout: bool):
    """A step that writes a running sum in place (as BatchNorm does), may draw a dropout mask,
    and then branches on a value: the write and the draw come before the check."""
    total = ag.tensor([0.0, 0.0])
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    drop = nn.Dropout(0.5) if dropout else nn.Identity()

    def step(x):
        with ag.no_grad():
            total.add_(x)
        y = drop(w * x)
        loss = y.sum() if (x.sum() > 0).item() else (y * y).sum()
        loss.backward()
        grad = w.grad
        w.grad = None
        return loss, grad

    return total, step


@pytest.mark.parametrize("dropout", [False, True], ids=["in-place-write", "write-and-draw"])
def test_a_replay_that_takes_the_other_branch_leaves_state_and_generator_as_eager_does(dropout):
    runs = []
    for compiled in (False, True):
        nn.init.manual_seed(3)
        total, step = _branching_step(dropout)
        fn = ag.compile(step) if compiled else step
        results = [fn(ag.tensor(x)) for x in _BRANCHING]
        after = nn.Dropout(0.5)(ag.tensor(np.ones(8))).numpy() if dropout else None  # the generator's next draw
        runs.append((total.numpy(), [(loss.item(), grad.numpy()) for loss, grad in results], after, fn))
    (eager_total, eager_results, eager_after, _), (total, results, after, fast) = runs
    assert fast.replays >= 2 and any("branches on changed" in h for h in fast.history)
    assert np.array_equal(total, eager_total), (total, eager_total)  # not the fourth x twice
    for (loss, grad), (eager_loss, eager_grad) in zip(results, eager_results):
        assert loss == eager_loss and np.array_equal(grad, eager_grad)
    if dropout:
        assert np.array_equal(after, eager_after)  # the generator drew each call's mask once


def test_the_program_puts_back_what_it_wrote_before_it_raises():
    """The source says it: the running sum is copied before its write, restored on the other branch."""
    _, step = _branching_step(dropout=False)
    fast = ag.compile(step)
    for x in _BRANCHING[:3]:
        fast(ag.tensor(x))
    source = fast.source()
    assert source.index(".copy()") < source.index("add(") < source.index("raise Diverged")
    assert "copyto(" in source.split("raise Diverged")[0].rsplit("if ", 1)[1]


def _masked_mean_step():
    w = ag.tensor(np.array([1.0, 2.0, 3.0, 4.0]), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = (x * w)[x > 0].mean()
        loss.backward()
        opt.step()
        return loss

    return w, step


def _masked_mean_runs(xs):
    """(w, losses, fn) after training on ``xs`` eagerly, then compiled."""
    runs = []
    for compiled in (False, True):
        w, step = _masked_mean_step()
        fn = ag.compile(step) if compiled else step
        losses = [fn(ag.tensor(x)).item() for x in xs]
        runs.append((w.numpy(), losses, fn))
    return runs


def test_a_boolean_mask_that_selects_another_count_records_again():
    """y[x > 0] has as many elements as the mask has Trues: a replay recorded at one count
    must not broadcast into buffers of that count (δ 3× too large before the check)."""
    xs = [[1.0, -1, -1, -1], [-1, 2.0, -1, -1], [-1, -1, 3.0, -1], [1.0, 1, 1, -1], [2.0, 1, 1, -1],
          [1.0, 2, 1, -1], [3.0, 1, 2, -1], [-1, -1, -1, 4.0]]  # fmt: skip
    (eager_w, eager_losses, _), (w, losses, fast) = _masked_mean_runs(xs)
    assert fast.replays >= 2
    assert losses == eager_losses
    assert np.array_equal(w, eager_w), (w, eager_w)


def test_a_check_after_an_optimizers_step_count_advanced_is_refused():
    """Adam's step count is Python state a replay cannot put back: a branch after opt.step()
    makes no program; the calls run eagerly, and say why."""
    runs = []
    for compiled in (False, True):
        w = ag.tensor(np.array([1.0, -2.0]), requires_grad=True)
        opt = optim.Adam([w], lr=0.1)

        def step(x, w=w, opt=opt):
            opt.zero_grad()
            loss = (w * x).sum()
            loss.backward()
            opt.step()
            return loss * 2 if (w.sum() > 0).item() else loss

        fn = ag.compile(step) if compiled else step
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            losses = [fn(ag.tensor(np.array([1.0, 1.0]))).item() for _ in range(4)]
        runs.append((w.numpy(), losses, fn, caught))
    (eager_w, eager_losses, _, _), (w, losses, fast, caught) = runs
    assert fast.replays == 0 and "advances an optimizer's state" in fast.eager_because
    assert any(issubclass(c.category, ag.CompileWarning) for c in caught)
    assert losses == eager_losses and np.array_equal(w, eager_w)


def test_a_slice_bound_read_with_item_is_checked_like_a_mask_count():
    """k = n.max().item(); x[:k]: a replay recomputes k, so the slice's length follows the
    value; its buffers do not, so the length is checked (2.0 broadcast to 6.0 before)."""
    def step(x, n):
        k = n.max().item()
        return (x[:k] * 2.0).sum()

    fast = ag.compile(step)
    x = ag.tensor(np.array([1.0, 10.0, 100.0, 1000.0]))
    for k in (3, 3, 3, 1, 2, 4, 1, 1):
        n = ag.tensor(np.array([k, 0]))
        assert fast(x, n).item() == step(x, n).item()
    assert fast.replays >= 2


def _flat_parameters():
    """Two parameters whose arrays are slices of one flat array (a flattened parameter buffer)."""
    flat = np.array([0.1, 0.2, 0.3, 0.4])
    a, w = nn.Parameter(ag.tensor([0.0, 0.0])), nn.Parameter(ag.tensor([0.0, 0.0]))
    a.data, w.data = flat[0:2], flat[2:4]
    return flat, a, w, optim.SGD([a, w], lr=0.1)


def test_a_diverging_replay_restores_each_slice_of_a_shared_array_it_wrote():
    """The step updates both slices, then branches: the undo puts back the memory each write
    named (both slices), not only the first slice seen of the shared array."""
    runs = []
    for compiled in (False, True):
        flat, a, w, opt = _flat_parameters()

        def step(x, s, a=a, w=w, opt=opt):
            opt.zero_grad()
            loss = (a * 2.0 + x * w).sum()
            loss.backward()
            opt.step()
            return loss * 2 if (s.sum() > 0).item() else loss

        fn = ag.compile(step) if compiled else step
        losses = [fn(ag.tensor([1.0, 1.0]), ag.tensor([float(s)])).item() for s in (-1, -1, -1, -1, -1, 1, -1, -1)]
        runs.append((losses, flat.copy(), fn))
    (eager_losses, eager_flat, _), (losses, flat, fast) = runs
    assert fast.replays >= 2 and any("branches on changed" in h for h in fast.history)
    assert losses == eager_losses and np.array_equal(flat, eager_flat)


def test_a_view_of_a_parameter_sliced_from_a_shared_array_runs_eagerly_not_raises():
    """w.T of a parameter that is a slice of one flat array (beside another parameter): the
    program's view would not be rebuilt on the same memory, so the step runs eagerly, with a
    warning, instead of raising from inside compile."""
    runs = []
    for compiled in (False, True):
        flat = np.arange(8, dtype=float) / 10
        a, w = nn.Parameter(ag.tensor([0.0])), nn.Parameter(ag.tensor([0.0]))
        a.data, w.data = flat[0:2], flat[2:6].reshape(2, 2)
        opt = optim.SGD([a, w], lr=0.1)

        def step(x, a=a, w=w, opt=opt):
            opt.zero_grad()
            loss = ((a * 2.0 + x @ w.T) ** 2).sum()
            loss.backward()
            opt.step()
            return loss

        fn = ag.compile(step) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ag.CompileWarning)
            losses = [fn(ag.tensor(np.ones((3, 2)) * 0.1)).item() for _ in range(5)]
        runs.append((losses, flat.copy(), fn))
    (eager_losses, eager_flat, _), (losses, flat, fast) = runs
    assert losses == eager_losses and np.array_equal(flat, eager_flat)
    assert fast.eager_because is not None and "not a view of the same memory" in fast.eager_because


def test_a_value_read_with_item_used_where_a_recording_cannot_follow_is_checked():
    """math.isfinite(loss.item()) to skip a bad batch reads the float's value in C: the
    recording cannot see the branch, so the value is checked, and the NaN batch is skipped
    as eagerly (before: the replay applied it, and the weights became nan)."""
    import math

    runs = []
    for compiled in (False, True):
        nn.init.manual_seed(0)
        model = nn.Linear(3, 1).to(np.float64)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y, model=model, opt=opt):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            if not math.isfinite(loss.item()):
                return loss  # skip the batch
            loss.backward()
            opt.step()
            return loss

        fn = ag.compile(step) if compiled else step
        rng = np.random.default_rng(0)
        for i in range(7):
            x = rng.standard_normal((4, 3))
            if i == 5:
                x[0, 0] = np.nan
            fn(ag.tensor(x), ag.tensor(np.ones((4, 1))))
        runs.append((model.weight.numpy(), fn))
    (eager_weight, _), (weight, _) = runs
    assert np.isfinite(weight).all() and np.array_equal(weight, eager_weight)


def test_a_number_read_with_item_that_indexes_a_python_list_is_checked():
    heads = [ag.tensor([1.0]), ag.tensor([2.0]), ag.tensor([3.0])]

    def step(x, n):
        return heads[n.sum().item()] * x

    fast = ag.compile(step)
    x = ag.tensor(np.array([1.0]))
    for k in (0, 0, 0, 2, 1, 1, 1):
        assert fast(x, ag.tensor(np.array([k]))).item() == step(x, ag.tensor(np.array([k]))).item() == k + 1.0
    assert fast.replays >= 2


def test_three_mask_counts_in_turn_are_three_paths_not_a_changed_constant():
    """Counts 2, 3, 1, 2, 3, 1, ...: recordings of different counts differ in their arrays'
    shapes (and so in 1/n), which is another path, not a constant that changed: compile
    keeps a program per count instead of giving up."""
    xs = [[1.0, 1, -1, -1], [1.0, 1, 1, -1], [1.0, -1, -1, -1]] * 4
    (eager_w, eager_losses, _), (w, losses, fast) = _masked_mean_runs(xs)
    assert fast.eager_because is None and fast.replays >= 3
    assert losses == eager_losses and np.array_equal(w, eager_w)


def test_a_step_with_nothing_to_check_copies_nothing_to_undo():
    """Adam's update reads numbers the replay recomputes (its step size), in calls that write
    into buffers: nothing there is checked, so nothing is saved for an undo (before: a copy
    of every parameter and moment, every replay)."""
    nn.init.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = optim.Adam(model.parameters(), lr=0.01)

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    fast = ag.compile(step)
    rng = np.random.default_rng(0)
    for _ in range(5):
        fast(ag.tensor(rng.standard_normal((6, 4))), ag.tensor(rng.standard_normal((6, 1))))
    assert fast.replays >= 2
    source = fast.source()
    assert not any(line.strip().startswith("u") and ".copy()" in line for line in source.splitlines())
