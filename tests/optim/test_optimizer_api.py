"""The base classes as users extend them (Optimizer, LRScheduler) and add_param_group."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import optim
from autograd_nn.optim import LRScheduler, Optimizer


def _param(values):
    p = ag.tensor(np.array(values, dtype=float), requires_grad=True)
    p.grad = ag.tensor(np.ones_like(p.data))
    return p


class SignDescent(Optimizer):
    """θ ← θ − lr · sign(g): a user's optimizer needs only ``_update``."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, dict(lr=lr))

    def _update(self, param, grad, group, state):
        state["step"] = state.get("step", 0) + 1
        param -= group["lr"] * np.sign(grad)


def test_a_subclass_of_optimizer_gets_groups_state_and_state_dict():
    a, b = _param([1.0, -2.0]), _param([3.0])
    b.grad = ag.tensor([-5.0])
    opt = SignDescent([a, b], lr=0.5)
    assert isinstance(opt, Optimizer)
    opt.step()
    np.testing.assert_array_equal(a.data, [0.5, -2.5])
    np.testing.assert_array_equal(b.data, [3.5])
    assert opt.state_dict()["state"] == {0: {"step": 1}, 1: {"step": 1}}
    assert opt.state_dict()["param_groups"] == [{"lr": 0.5, "params": [0, 1]}]


def test_the_base_optimizer_has_no_update_rule():
    opt = Optimizer([_param([1.0])], {"lr": 0.1})
    with pytest.raises(NotImplementedError):
        opt.step()


def test_add_param_group_adds_parameters_with_their_own_options():
    first, second = _param([1.0]), _param([1.0, 1.0])
    opt = optim.SGD([first], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": second, "lr": 0.01})  # a single tensor is accepted
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["params"] == [second]
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.9  # defaults fill in
    opt.step()
    np.testing.assert_allclose(first.data, [0.9])  # lr 0.1 × g 1
    np.testing.assert_allclose(second.data, [0.99, 0.99])  # lr 0.01 × g 1
    assert opt.state_dict()["param_groups"][1]["params"] == [1]


def test_add_param_group_refuses_duplicates_and_non_parameters():
    p = _param([1.0])
    opt = optim.Adam([p])
    with pytest.raises(ValueError, match="some parameters appear more than once"):
        opt.add_param_group({"params": [p]})
    with pytest.raises(TypeError, match="a parameter group must be a dict with a 'params' entry"):
        opt.add_param_group([p])
    with pytest.raises(TypeError, match="parameter 0 is a ndarray, not a Tensor"):
        opt.add_param_group({"params": [np.ones(2)]})
    with pytest.raises(ValueError, match=r"parameter 0 \(shape \(1,\)\) must be a leaf tensor with requires_grad=True"):
        opt.add_param_group({"params": [ag.tensor([1.0])]})
    assert len(opt.param_groups) == 1  # nothing was added by the failures


class Halving(LRScheduler):
    """lr = initial · 2^−epoch: a user's schedule needs only ``get_lr``."""

    def get_lr(self):
        return [base * 0.5**self.last_epoch for base in self.base_lrs]


def test_a_subclass_of_lr_scheduler_sets_the_rate_of_every_group():
    opt = optim.SGD([{"params": [_param([1.0])]}, {"params": [_param([1.0])], "lr": 0.4}], lr=0.8)
    schedule = Halving(opt)
    assert isinstance(schedule, LRScheduler)
    assert schedule.get_last_lr() == [0.8, 0.4]  # construction is epoch 0
    schedule.step()
    schedule.step()
    assert schedule.get_last_lr() == [0.2, 0.1]
    assert [g["lr"] for g in opt.param_groups] == [0.2, 0.1]
    with pytest.raises(NotImplementedError):
        LRScheduler(opt)


def test_zero_grad_without_set_to_none_zeroes_the_same_array():
    p = _param([1.0, 2.0])
    p.grad = ag.tensor([3.0, -4.0])
    gradient_array = p.grad.data
    opt = optim.SGD([p], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert p.grad.data is gradient_array  # in place, as PyTorch: views of .grad see the zeros
    np.testing.assert_array_equal(gradient_array, [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_step_returns_what_the_closure_returns_after_running_it_first():
    p = _param([2.0])
    opt = optim.SGD([p], lr=0.5)
    calls = []

    def closure():
        calls.append(p.data.copy())
        return 42.0

    assert opt.step(closure) == 42.0
    np.testing.assert_array_equal(calls[0], [2.0])  # the closure ran before the update
    np.testing.assert_array_equal(p.data, [1.5])
    assert opt.step() is None


def test_a_resumed_cosine_schedule_keeps_the_rate_and_continues_from_it():
    import math

    # torch 2.13 does the same: constructing with last_epoch=3 counts epoch 4 and keeps the
    # optimizer's current rate; the next step applies the recursive cosine factor to it.
    opt = optim.SGD([_param([1.0])], lr=0.5)
    opt.param_groups[0]["initial_lr"] = 1.0  # as a loaded optimizer state has it
    schedule = optim.CosineAnnealingLR(opt, T_max=10, eta_min=0.1, last_epoch=3)
    assert schedule.last_epoch == 4 and opt.param_groups[0]["lr"] == 0.5
    schedule.step()
    ratio = (1 + math.cos(math.pi * 5 / 10)) / (1 + math.cos(math.pi * 4 / 10))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 + ratio * (0.5 - 0.1), rel=1e-12)
    with pytest.raises(KeyError, match="param_groups\\[0\\] has no 'initial_lr'"):
        optim.CosineAnnealingLR(optim.SGD([_param([1.0])], lr=0.5), T_max=10, last_epoch=3)


def test_a_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="StepLR: expected an Optimizer, got list"):
        optim.StepLR([_param([1.0])], step_size=1)


def test_named_parameters_keep_their_names_in_the_groups():
    from autograd_nn import nn

    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    opt = optim.Adam(model.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert opt.param_groups[0]["params"] == list(model.parameters())
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    with pytest.raises(ValueError, match="all parameter groups must be given with names"):
        opt.add_param_group({"params": [_param([1.0])]})
    with pytest.raises(ValueError, match="every parameter of a group with its name, or none"):
        optim.SGD([("a", _param([1.0])), _param([2.0])])


def test_a_set_of_parameters_is_refused():
    with pytest.raises(TypeError, match="ordered collection .* not a set"):
        optim.SGD([{"params": {_param([1.0])}}])


def test_zero_grad_in_place_is_seen_by_a_graph_that_saved_the_grad():
    """``zero_grad(set_to_none=False)`` writes zeros into ``.grad`` in place: a graph that saved
    that gradient must refuse to backpropagate, as after any in-place write."""
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    uses_grad = (w.grad * w).sum()  # saves w.grad = 2w for ∂/∂w
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.data, [0.0, 0.0])
    with pytest.raises(RuntimeError, match=r"it is at version 1; expected version 0"):
        uses_grad.backward()


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1), lambda ps: optim.Adam(ps, lr=0.1)])
def test_a_step_is_seen_by_graphs_that_saved_a_parameter_even_when_a_later_one_fails(make):
    """Each parameter ``step`` writes is one version further on, as ``torch.optim`` leaves it:
    also the ones written before a later parameter's bad ``.grad`` stopped the step."""
    w, v = ag.tensor([1.0, 2.0], requires_grad=True), ag.tensor([3.0, 4.0], requires_grad=True)
    opt = make([w, v])
    saves_w = (w * w).sum()
    w.grad, v.grad = ag.tensor([1.0, 1.0]), ag.tensor([1.0, 1.0, 1.0])  # v's is of the wrong shape
    with pytest.raises(ValueError, match=r"has shape \(2,\) but its .grad has shape \(3,\)"):
        opt.step()
    assert ag.versions.version_of(w.data) == 1 and ag.versions.version_of(v.data) == 0
    np.testing.assert_allclose(w.data, [0.9, 1.9])  # written: lr · sign-like first step for both rules
    with pytest.raises(RuntimeError, match=r"it is at version 1; expected version 0"):
        saves_w.backward()
    v.grad = ag.tensor([1.0, 1.0])
    saves_both = (w * v).sum()
    opt.step()
    assert ag.versions.version_of(w.data) == 2 and ag.versions.version_of(v.data) == 1
    with pytest.raises(RuntimeError, match=r"it is at version (1|2); expected version (0|1)"):
        saves_both.backward()


def test_zero_grad_leaves_a_differentiable_grad_and_its_graph_alone():
    """After ``backward(create_graph=True)`` ``.grad`` is part of a graph; ``zero_grad`` (not to
    None) gives the parameter fresh zeros and leaves that tensor, and its graph, intact."""
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w * w).sum().backward(create_graph=True)
    g = w.grad  # 3w², differentiable
    opt.zero_grad(set_to_none=False)
    assert w.grad is not g and w.grad.grad_fn is None
    np.testing.assert_array_equal(w.grad.data, [0.0, 0.0])
    np.testing.assert_array_equal(g.data, [3.0, 12.0])
    (second,) = ag.grad(g.sum(), [w])
    np.testing.assert_array_equal(second.data, [6.0, 12.0])  # d(3w²)/dw = 6w
