"""In-place operations: values as numpy computes them in place, gradients against closed
forms and finite differences, and the version error when a saved tensor was changed."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import functional as F
from autograd_nn import nn, optim
from autograd_nn.testing import gradcheck

VERSION_ERROR = r"modified by an in-place operation: it is at version (\d+); expected version (\d+)"

# name, call, what numpy computes in place
INPLACE = [
    ("add_", lambda t, o: t.add_(o), lambda a, o: a + o),
    ("__iadd__", lambda t, o: t.__iadd__(o), lambda a, o: a + o),
    ("sub_", lambda t, o: t.sub_(o), lambda a, o: a - o),
    ("__isub__", lambda t, o: t.__isub__(o), lambda a, o: a - o),
    ("mul_", lambda t, o: t.mul_(o), lambda a, o: a * o),
    ("__imul__", lambda t, o: t.__imul__(o), lambda a, o: a * o),
    ("div_", lambda t, o: t.div_(o), lambda a, o: a / o),
    ("__itruediv__", lambda t, o: t.__itruediv__(o), lambda a, o: a / o),
    ("pow_", lambda t, o: t.pow_(o), lambda a, o: a**o),
    ("__ipow__", lambda t, o: t.__ipow__(o), lambda a, o: a**o),
    ("clamp_", lambda t, o: t.clamp_(0.9, 2.0), lambda a, o: np.clip(a, 0.9, 2.0)),
    ("clip_", lambda t, o: t.clip_(a_max=1.2), lambda a, o: np.minimum(a, 1.2)),
    ("fill_", lambda t, o: t.fill_(2.5), lambda a, o: np.full_like(a, 2.5)),
    ("zero_", lambda t, o: t.zero_(), lambda a, o: np.zeros_like(a)),
    ("copy_", lambda t, o: t.copy_(o), lambda a, o: np.broadcast_to(o, a.shape).copy()),
    ("__setitem__", lambda t, o: t.__setitem__(1, o[0]), lambda a, o: np.concatenate([a[:1], o[:1], a[2:]])),
    ("exp_", lambda t, o: t.exp_(), lambda a, o: np.exp(a)),
    ("log_", lambda t, o: t.log_(), lambda a, o: np.log(a)),
    ("sqrt_", lambda t, o: t.sqrt_(), lambda a, o: np.sqrt(a)),
    ("sigmoid_", lambda t, o: t.sigmoid_(), lambda a, o: 1 / (1 + np.exp(-a))),
    ("tanh_", lambda t, o: t.tanh_(), lambda a, o: np.tanh(a)),
    ("relu_", lambda t, o: t.relu_(), lambda a, o: np.maximum(a, 0)),  # (signs mixed: test_pytorch_surface.py)
    ("neg_", lambda t, o: t.neg_(), lambda a, o: -a),
    ("abs_", lambda t, o: t.abs_(), lambda a, o: np.abs(a)),
    ("cos_", lambda t, o: t.cos_(), lambda a, o: np.cos(a)),
    ("sin_", lambda t, o: t.sin_(), lambda a, o: np.sin(a)),
    ("square_", lambda t, o: t.square_(), lambda a, o: a * a),
    ("erf_", lambda t, o: t.erf_(), lambda a, o: np.array([math.erf(v) for v in a])),
    ("clamp_min_", lambda t, o: t.clamp_min_(1.0), lambda a, o: np.maximum(a, 1.0)),
    ("clamp_max_", lambda t, o: t.clamp_max_(1.0), lambda a, o: np.minimum(a, 1.0)),
    ("masked_fill_", lambda t, o: t.masked_fill_(o > 1.0, -4.0), lambda a, o: np.where(o > 1.0, -4.0, a)),
    ("index_add_", lambda t, o: t.index_add_(0, np.array([2, 0, 2]), o, alpha=-2.0),
     lambda a, o: a + np.array([-2.0 * o[1], 0.0, -2.0 * (o[0] + o[2])])),
]
NAMES = [name for name, _, _ in INPLACE]


def _operands():
    return np.array([0.5, 1.5, 2.0]), np.array([1.25, 0.75, 2.5])


@pytest.mark.parametrize("name, call, expected", INPLACE, ids=NAMES)
def test_value_memory_and_version_of_every_inplace_op(name, call, expected):
    a, o = _operands()
    t = ag.tensor(a)
    memory = t.data
    alias = t.numpy()  # numpy users see the change: the write is into the tensor's own memory
    result = call(t, o)
    np.testing.assert_allclose(t.data, expected(a, o), rtol=1e-15)
    assert t.data is memory and np.shares_memory(alias, t.data)
    np.testing.assert_array_equal(alias, t.data)
    assert t._version == 1
    if name != "__setitem__":
        assert result is t


@pytest.mark.parametrize("name, call, expected", INPLACE, ids=NAMES)
def test_recorded_inplace_op_gives_the_gradient_of_the_out_of_place_op(name, call, expected):
    """h = 3x; h.op_(w); loss = Σ c·h: the gradients equal finite differences of the same
    function written out of place, for both x and the operand w."""
    a, o = _operands()
    c = np.array([0.3, -1.1, 0.7])

    def through_inplace(x, w):
        h = x * 3.0
        call(h, w)
        return (h * c).sum()

    x = ag.tensor(a / 3.0 + 0.1, requires_grad=True)
    w = ag.tensor(o, requires_grad=True)
    loss = through_inplace(x, w)
    expected_value = (expected(x.data * 3.0, o) * c).sum()
    np.testing.assert_allclose(loss.item(), expected_value, rtol=1e-12)
    assert gradcheck(through_inplace, [x, w])


@pytest.mark.parametrize("name, call, expected", INPLACE, ids=NAMES)
def test_changing_a_saved_tensor_in_place_makes_backward_refuse(name, call, expected):
    a, o = _operands()
    w = ag.tensor(a, requires_grad=True)
    h = w * 2.0
    loss = (h * h).sum()  # Mul saved h (twice), at version 0
    with ag.no_grad():
        call(h, o)
    with pytest.raises(RuntimeError, match=VERSION_ERROR) as caught:
        loss.backward()
    message = str(caught.value)
    assert "Mul" in message and "shape (3,)" in message and "dtype float64" in message
    assert "at version 1; expected version 0" in message
    assert w.grad is None  # nothing was accumulated


def test_a_tensor_not_saved_can_change_without_an_error():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    total = (h + 1.0).sum()  # Add saves nothing: h's later values are not used
    with ag.no_grad():
        h.add_(5.0)
    total.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_inplace_on_a_leaf_that_requires_grad_needs_no_grad():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add_: a leaf tensor that requires grad \(shape \(2,\), dtype float64\)"):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match=r"__setitem__: a leaf tensor that requires grad"):
        w[0] = 3.0
    np.testing.assert_array_equal(w.data, [1.0, 2.0])  # the refusal changed nothing
    with ag.no_grad():
        w.add_(1.0)
    np.testing.assert_array_equal(w.data, [2.0, 3.0])
    assert w.is_leaf and w.requires_grad and w._version == 1


def test_a_recorded_write_takes_over_the_tensors_history():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    old_node = h.grad_fn
    h.mul_(x)  # h = 3x · x
    assert h.grad_fn is not old_node and h.grad_fn.name == "Mul"
    h.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data, rtol=1e-14)


def test_overwriting_an_output_its_own_op_saved_is_refused_as_in_pytorch():
    """Exp's derivative needs its output a; after a.mul_(x) that a is gone."""
    x = ag.tensor([0.5, 1.0], requires_grad=True)
    a = x.exp()
    a.mul_(x)
    with pytest.raises(RuntimeError, match=r"Exp saved for its derivative \(its output, shape \(2,\)"):
        a.sum().backward()
    b = x.exp()
    loss = b.sum()
    with ag.no_grad():
        b.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"Exp saved for its derivative \(its output"):
        loss.backward()


def test_setitem_with_advanced_and_boolean_indices_and_duplicates():
    buffer = ag.tensor(np.zeros(5))
    v = ag.tensor([1.0, 2.0], requires_grad=True)
    buffer[np.array([3, 0])] = v * 10
    buffer[buffer.data > 15] = 7.0  # a boolean mask, constant value
    np.testing.assert_array_equal(buffer.data, [7.0, 0.0, 0.0, 10.0, 0.0])
    buffer.backward(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    np.testing.assert_array_equal(v.grad.data, [40.0, 0.0])  # element 0 was overwritten by 7
    with pytest.raises(ValueError, match="selects some elements more than once"):
        ag.tensor(np.zeros(3))[np.array([1, 1])] = v * 1
    plain = ag.tensor(np.zeros(3))
    plain[np.array([1, 1])] = 4.0  # nothing recorded: numpy's semantics (last write wins)
    np.testing.assert_array_equal(plain.data, [0.0, 4.0, 0.0])


def test_a_recorded_write_into_shared_memory_is_refused():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 1.0
    view = h[:2]  # shares h's memory
    with pytest.raises(RuntimeError, match=r"mul_: this tensor \(shape \(2,\)\) shares its memory"):
        view.mul_(x[:2])
    with pytest.raises(RuntimeError, match=r"add_: this tensor \(shape \(3,\)\) shares its memory"):
        h.add_(x)
    np.testing.assert_array_equal(h.data, [1.0, 2.0, 3.0])
    with ag.no_grad():
        view.mul_(10.0)  # not recorded: allowed, and h sees it
    np.testing.assert_array_equal(h.data, [10.0, 20.0, 3.0])
    assert h._version == view._version == 1


def test_a_write_through_a_view_is_seen_by_a_node_that_saved_the_base():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    loss = (h * h).sum()
    with ag.no_grad():
        h.reshape(2, 1).add_(1.0)
    with pytest.raises(RuntimeError, match=VERSION_ERROR):
        loss.backward()


def test_inplace_results_keep_the_tensors_shape_and_dtype():
    t = ag.tensor(np.ones(3, dtype=np.float32))
    t.add_(np.ones(3))  # float64 operand: stored as float32, as numpy's same_kind rule allows
    assert t.dtype == np.float32
    with pytest.raises(ValueError, match=r"add_: the result does not fit in place into a tensor of shape \(3,\)"):
        t.add_(np.ones((2, 3)))
    ints = ag.tensor(np.arange(3))
    with pytest.raises(TypeError, match=r"add_: cannot store the result in a tensor of dtype int64"):
        ints.add_(0.5)
    np.testing.assert_array_equal(ints.data, [0, 1, 2])


def test_optimizer_step_between_forward_and_backward_is_refused():
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 1))
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = ag.tensor(np.ones((5, 3))), ag.tensor(np.zeros((5, 1)))
    loss = F.mse_loss(model(x), y)
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match=VERSION_ERROR) as caught:
        loss.backward()
    assert "Linear" in str(caught.value)


def test_optimizer_step_through_a_view_is_seen_by_graphs_that_saved_the_whole_array():
    # A parameter over part of another tensor's memory (tied or sliced weights): the step's
    # write is counted against the memory's owner, so a graph that saved the owner refuses.
    whole = ag.tensor(np.arange(1.0, 7.0), requires_grad=True)
    loss = (whole * whole).sum()  # saves whole's array
    part = nn.Parameter(np.zeros(3))
    part.data = whole.data[:3]
    part.grad = ag.tensor(np.ones(3))
    optim.SGD([part], lr=0.5).step()
    np.testing.assert_array_equal(whole.data, [0.5, 1.5, 2.5, 4.0, 5.0, 6.0])
    with pytest.raises(RuntimeError, match=VERSION_ERROR):
        loss.backward()


def test_load_state_dict_between_forward_and_backward_is_refused():
    model = nn.Sequential(nn.Linear(3, 2))
    loss = model(ag.tensor(np.ones((4, 3)))).sum()
    model.load_state_dict({k: v.data * 2 for k, v in model.state_dict().items()})
    with pytest.raises(RuntimeError, match=VERSION_ERROR):
        loss.backward()


def test_a_raw_write_into_data_is_outside_the_counter_unless_announced():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    loss = (h * h).sum()
    h.data[0] = 5.0  # a raw numpy write: autograd cannot see it (as in PyTorch)...
    ag.increment_version(h)  # ...unless told
    with pytest.raises(RuntimeError, match=r"at version 1; expected version 0"):
        loss.backward()


def test_anomaly_mode_catches_a_raw_write_the_counter_cannot_see():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with ag.detect_anomaly():
        h = x * 1.0
        loss = (h * h).sum()
        h.data[0] = 5.0
        with pytest.raises(ag.AnomalyError, match=r"saved value 0 of Mul .* changed after the forward pass"):
            loss.backward()


def test_version_counts_every_write_and_is_shared_with_views():
    t = ag.tensor(np.zeros((2, 2)))
    row = t[0]
    assert t._version == row._version == 0
    t.add_(1.0)
    row.mul_(3.0)
    t[1, 1] = 9.0
    assert t._version == row._version == 3
    assert ag.tensor(t.data.copy())._version == 0  # a copy is another block of memory
