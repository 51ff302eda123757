"""autograd_nn.compile's safety checks: what must make it record again, refuse a program, or
leave the same traces as an eager call. Each test compares with the same function run
eagerly (the ordinary engine: the independent reference), or with what eager PyTorch-style
semantics demand (a version error, a gradient that starts afresh)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import optim


def _ones(n: int = 3, dtype: type = np.float64) -> ag.Tensor:
    return ag.tensor(np.ones(n, dtype=dtype))


@pytest.mark.parametrize("step", [1.0, 2.0**-40], ids=["by-one", "in-the-last-bits"])
def test_a_program_that_disagrees_with_the_eager_call_is_refused_before_it_is_used(step):
    """The recording cannot see a ufunc's hidden Python state: the program, checked on the
    recorded inputs, gives other values than the eager call did (by 1, or by 2⁻⁴⁰: bit for
    bit means bit for bit), so it must not be used."""
    calls = [0]

    def counted(a):
        calls[0] += 1
        return a + calls[0] * step  # a different value every time it runs

    bump = np.frompyfunc(counted, 1, 1)
    fast = ag.compile(lambda x: bump(x).astype(np.float64), fullgraph=True)
    fast(np.zeros(2))
    with pytest.raises(ag.CompileError, match="differently from the eager call; it is not used"):
        fast(np.zeros(2))
    assert fast.replays == 0 and fast.programs() == []


def test_two_recordings_that_took_different_paths_make_no_program():
    """A Python branch the recording cannot see (a global toggle): a multiply, then an add on
    the same shapes. The second recording disagrees with the first, so nothing replays."""
    w = ag.tensor(np.array([2.0, 3.0]))
    flip = [False]

    def f(x):
        flip[0] = not flip[0]
        return x * w if flip[0] else x + w

    fast = ag.compile(f)
    x = ag.tensor(np.array([1.0, 4.0]))
    assert fast(x).tolist() == [2.0, 12.0]
    assert fast(x).tolist() == [3.0, 7.0]
    assert fast.programs() == [] and fast.replays == 0
    assert fast(x).tolist() == [2.0, 12.0]  # agrees with the first: now a program


def _compiled_product():
    w = ag.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)

    def f(x):
        y = (x * w).sum()
        y.backward()
        return y

    fast = ag.compile(f)
    for _ in range(3):
        fast(_ones())
        w.grad = None
    assert fast.replays == 1
    return w, f, fast


def test_an_argument_of_another_dtype_records_again():
    fast = ag.compile(lambda x: x * 3.0)
    for _ in range(3):
        fast(_ones())
    assert fast.replays == 1
    y = fast(_ones(dtype=np.float32))
    assert y.dtype == np.float32 and y.tolist() == [3.0, 3.0, 3.0]
    assert fast.replays == 1 and fast.recordings == 3


def test_an_argument_that_now_requires_grad_gets_its_gradient():
    w, _, fast = _compiled_product()
    x = ag.tensor(np.array([5.0, 6.0, 7.0]), requires_grad=True)
    assert fast(x).item() == 38.0
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0, 3.0])  # ∂(x·w)/∂x = w
    np.testing.assert_array_equal(w.grad.data, [5.0, 6.0, 7.0])


def test_under_no_grad_a_compiled_step_behaves_as_the_eager_one():
    """Eagerly, backward under no_grad has nothing to differentiate: so must the compiled call."""
    w, f, fast = _compiled_product()
    with ag.no_grad():
        with pytest.raises(RuntimeError) as eager:
            f(_ones())
        with pytest.raises(RuntimeError) as compiled:
            fast(_ones())
    assert str(compiled.value) == str(eager.value)
    assert fast.replays == 1 and w.grad is None


def test_a_parameter_given_a_new_array_is_read_and_written_there():
    """``w.data = new`` between calls: the replay must use the new array, not the recorded one."""
    w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = optim.SGD([w], lr=0.5)

    def step(x):
        opt.zero_grad()
        loss = (x * w).sum()
        loss.backward()
        opt.step()
        return loss

    fast = ag.compile(step)
    x = ag.tensor(np.array([1.0, 1.0]))
    for _ in range(4):
        fast(x)
    assert fast.replays >= 1
    old = w.data
    w.data = np.array([10.0, 20.0])
    assert fast(x).item() == 30.0
    np.testing.assert_array_equal(w.data, [9.5, 19.5])  # w − 0.5·x
    np.testing.assert_array_equal(old, [-1.0, 0.0])  # untouched since: 1, 2 less four steps of 0.5


def test_a_gradient_reset_by_hand_starts_afresh():
    """Accumulating calls (no zero_grad) replay ``.grad += δ``; once the user sets ``.grad =
    None``, the next call's gradient is δ alone, as it is eagerly."""
    w = ag.tensor(np.array([1.0, -2.0]), requires_grad=True)
    fast = ag.compile(lambda x: (x * w).sum().backward())
    x = ag.tensor(np.array([3.0, 4.0]))
    for _ in range(4):
        fast(x)
    np.testing.assert_array_equal(w.grad.data, [12.0, 16.0])
    w.grad = None
    fast(x)
    np.testing.assert_array_equal(w.grad.data, [3.0, 4.0])
    fast(x)
    np.testing.assert_array_equal(w.grad.data, [6.0, 8.0])


def test_a_replay_that_writes_a_parameter_bumps_its_version():
    """A graph recorded eagerly before the step saved ``w``; the replayed optimizer step
    writes ``w`` in place, so that graph must refuse to backpropagate, as it would eagerly."""
    w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def step(x):
        opt.zero_grad()
        (x * w).sum().backward()
        opt.step()

    fast = ag.compile(step)
    x = ag.tensor(np.array([1.0, 1.0]))
    for _ in range(4):
        fast(x)
    replays, before = fast.replays, w._version
    assert replays >= 1
    stale = (w * w).sum()  # saves w
    fast(x)
    assert fast.replays == replays + 1 and w._version == before + 1
    with pytest.raises(
        RuntimeError,
        match=rf"modified by an in-place operation: it is at version {before + 1}; expected version {before}\b",
    ):
        stale.backward()


def test_returned_tensors_are_not_overwritten_by_later_replays():
    w = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    fast = ag.compile(lambda x: x * w)
    xs = [ag.tensor(np.array([k, 1.0])) for k in range(6)]
    results = [fast(x) for x in xs]
    assert fast.replays == 4
    assert [r.tolist() for r in results] == [[float(k), 2.0] for k in range(6)]


def test_a_view_keeps_the_buffer_it_views_alive():
    """``t = a.T`` is the last direct use of ``a``; ``t`` is read after ``b`` is made. Were
    ``a``'s buffer handed to ``b``, ``t`` would read ``b``'s values."""
    w = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)

    def f(x):
        a = x * w
        t = a.T
        b = x + 1.0
        return (t * b.T).sum()

    fast = ag.compile(f, fullgraph=True)
    xs = [ag.tensor(np.full((2, 3), float(k))) for k in range(1, 5)]
    assert [fast(x).item() for x in xs] == [f(x).item() for x in xs]
    assert fast.replays == 2


def test_an_arguments_gradient_is_its_own_after_later_replays():
    """The same tensor passed on every call, its ``.grad`` taken and reset between calls:
    each gradient taken must keep its values (a replay must not hand out its buffer)."""
    w = ag.tensor(np.array([1.0, 2.0]))
    fast = ag.compile(lambda x: (x * x * w).sum().backward())
    x = ag.tensor(np.array([0.0, 1.0]), requires_grad=True)
    grads = []
    for k in range(5):
        x.data[0] = k
        fast(x)
        grads.append(x.grad)
        x.grad = None
    assert fast.replays >= 2
    assert [g.tolist() for g in grads] == [[2.0 * k, 4.0] for k in range(5)]  # ∂/∂x = 2·x·w


def _plain_and_compiled(f, n=4):
    fast = ag.compile(f, fullgraph=True)
    xs = [np.full(3, float(k)) for k in range(1, n + 1)]
    got = [fast(x.copy()) for x in xs]
    want = [f(x.copy()) for x in xs]
    assert fast.replays >= 1
    for g, e in zip(got, want):
        np.testing.assert_array_equal(g, e)
    return fast


def test_a_buffer_written_through_out_stays_its_own_until_that_write():
    """``a``'s last read comes before ``c`` is made, but ``a`` is written after it (``out=a``):
    ``a`` and ``c`` must not share a buffer, or the write lands in ``c``."""

    def f(x):
        a = x * 2.0
        b = a + 1.0
        c = x * 3.0
        np.multiply(x, 4.0, out=a)
        return b + c

    _plain_and_compiled(f)


def test_an_elementwise_chain_computes_in_place_in_one_buffer():
    """z = exp((x·2 + 1)·3): each temporary dies in the next elementwise call, which may write
    over it (as ``a *= 3`` would): one buffer for the chain, values as eager."""
    fast = _plain_and_compiled(lambda x: np.exp((x * 2.0 + 1.0) * 3.0))
    assert fast.programs()[-1].buffers == 1


def test_an_operand_read_again_later_keeps_its_buffer():
    """``a`` feeds ``b`` and is read again after it: ``b`` may not be written over ``a``."""

    def f(x):
        a = x * 2.0
        b = a + 1.0
        return b * a

    fast = _plain_and_compiled(f)
    assert fast.programs()[-1].buffers == 2


def test_a_copy_of_a_buffer_written_afterwards_is_a_copy():
    """``b = a.copy()`` then ``a += 1``: ``b`` must keep the old values (the copy cannot be elided)."""

    def f(x):
        a = x * 2.0
        b = a.copy()
        np.add(a, 1.0, out=a)
        return a * b

    _plain_and_compiled(f)


def test_a_free_buffer_goes_only_to_a_result_of_its_own_dtype():
    """A float64 temporary dies where an int64 result of the same shape and strides is made."""

    def f(x):
        a = x * 2.0
        k = a.astype(np.int64)
        return np.floor_divide(k, 3) * 5

    _plain_and_compiled(f)


def test_a_python_number_among_the_arguments_is_part_of_what_a_program_is_for():
    w = ag.tensor(np.array([1.0, 2.0]))
    fast = ag.compile(lambda x, scale: x * w * scale)
    x = ag.tensor(np.array([3.0, 4.0]))
    scales = [2.0, 2.0, 2.0, 0.5, 0.5, 0.5, 2.0]
    assert [fast(x, s).tolist() for s in scales] == [[3.0 * s, 8.0 * s] for s in scales]
    assert fast.replays >= 3 and len(fast.programs()) == 2


def test_a_replay_keeps_the_error_handling_an_op_set_for_its_own_calls():
    """cross_entropy on class probabilities multiplies 0 · (−∞) for a masked-out class under
    np.errstate(invalid="ignore"), then counts it for nothing: a replay makes the same call under the
    same setting, so it warns no more than the eager step (warnings are errors here) and gives its values."""
    W = ag.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    mask = np.array([0.0, -np.inf, 0.0])

    def step(x, target):
        loss = ag.functional.cross_entropy(x @ W.T + mask, target)
        loss.backward()
        grad, W.grad = W.grad, None
        return loss, grad

    fast = ag.compile(step)
    rng = np.random.default_rng(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(5):
            x, target = ag.tensor(rng.standard_normal((4, 4))), np.eye(3)[rng.choice([0, 2], 4)]  # 0 on the masked class
            (loss, grad), (eager_loss, eager_grad) = fast(x, target), step(x, target)
            assert float(loss.data) == float(eager_loss.data) and np.array_equal(grad.data, eager_grad.data)
    assert fast.replays >= 2 and np.isfinite(float(loss.data))
    assert "errstate" in fast.source()


def test_a_recording_stamps_its_in_place_writes_on_the_parameters_own_memory():
    """A graph built before the call saved the weight; the step's optimizer updates it in
    place. Eagerly, and on every call of the compiled step (those that record as well as
    those that replay), backpropagating through the kept graph is refused: the weight it
    saved was overwritten. (A recording stamped the write on its watched view's log, so the
    weight's own version did not move.)"""
    from autograd_nn import nn

    nn.init.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.05)

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    fast = ag.compile(step)
    x, y = ag.tensor(np.ones((4, 3))), ag.tensor(np.zeros((4, 1)))
    for _ in range(4):
        kept = (model(ag.tensor(np.full((2, 3), 2.0))) ** 2).sum()
        fast(x, y)
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            kept.backward()
    assert fast.replays >= 1
