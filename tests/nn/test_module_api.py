"""Module's registration and walking methods, Sequential's list methods, Linear and init
details, each against the behaviour PyTorch documents for the same name."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn


class Block(nn.Module):
    """Two levels of nesting: block.inner.layer, plus a buffer on each level."""

    def __init__(self):
        super().__init__()
        self.add_module("inner", nn.Sequential(nn.Linear(2, 3), nn.Tanh()))
        self.register_buffer("steps", ag.tensor(np.zeros(1)))
        self.inner.register_buffer("mask", ag.tensor(np.ones(3)))

    def forward(self, x):
        return self.inner(x) * self.steps


def test_add_module_and_register_module_register_a_sub_module_by_name():
    model = nn.Module()
    tanh, relu = nn.Tanh(), nn.ReLU()
    model.add_module("first", tanh)
    model.register_module("second", relu)
    model.add_module("empty", None)  # an empty slot, as PyTorch
    assert model.first is tanh and model.second is relu and model.empty is None
    assert list(model.named_children()) == [("first", tanh), ("second", relu)]
    with pytest.raises(TypeError, match=r"add_module: 'third' must be an nn.Module or None, got int"):
        model.add_module("third", 3)
    with pytest.raises(KeyError, match=r"module name must be non-empty and contain no '\.', got 'a\.b'"):
        model.add_module("a.b", nn.Tanh())
    with pytest.raises(KeyError, match=r"attribute 'training' already exists"):
        model.add_module("training", nn.Tanh())
    model.add_module("first", nn.Sigmoid())  # re-adding a name replaces the module, in place
    assert [name for name, _ in model.named_children()] == ["first", "second"]


def test_reassigning_a_name_keeps_its_place_as_in_pytorch():
    # torch 2.x gives exactly these orders for the same steps: a replaced layer or parameter
    # keeps its position, so state_dict keys and optimizer order do not shift.
    model = nn.Module()
    model.add_module("a", nn.Linear(1, 1))
    model.add_module("b", nn.Linear(1, 1))
    model.a = nn.Linear(2, 2)
    assert list(model.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    model.register_parameter("p", nn.Parameter(np.ones(1)))
    model.register_parameter("q", nn.Parameter(np.ones(1)))
    model.p = nn.Parameter(np.zeros(1))
    assert list(model.state_dict()) == ["p", "q", "a.weight", "a.bias", "b.weight", "b.bias"]
    model.register_buffer("r", ag.tensor([1.0]))
    model.register_buffer("s", ag.tensor([2.0]))
    model.register_buffer("r", ag.tensor([3.0]))
    assert [name for name, _ in model.named_buffers()] == ["r", "s"]
    model.a = nn.Parameter(np.ones(1))  # another kind: leaves the modules, joins the parameters
    assert list(model.state_dict()) == ["p", "q", "a", "r", "s", "b.weight", "b.bias"]


def test_register_parameter_adds_a_trainable_leaf_or_an_empty_slot():
    model = nn.Module()
    weight = nn.Parameter(np.ones((2, 2)))
    model.register_parameter("weight", weight)
    model.register_parameter("bias", None)
    assert model.weight is weight and model.bias is None
    assert list(dict(model.named_parameters())) == ["weight"]
    assert list(model.state_dict()) == ["weight"]
    with pytest.raises(TypeError, match=r"register_parameter: 'w2' must be an nn.Parameter or None, got Tensor"):
        model.register_parameter("w2", ag.tensor([1.0]))


def test_children_are_direct_sub_modules_and_modules_are_all_of_them():
    block = Block()
    assert list(block.children()) == [block.inner]
    assert list(block.modules()) == [block, block.inner, block.inner[0], block.inner[1]]
    shared = nn.Linear(1, 1)
    twice = nn.Sequential(shared, shared)
    assert list(twice.children()) == [shared]  # each module once
    assert list(twice.modules()) == [twice, shared]


def test_buffers_walk_the_tree_and_are_not_parameters():
    block = Block()
    assert [b.shape for b in block.buffers()] == [(1,), (3,)]
    assert [b.shape for b in block.buffers(recurse=False)] == [(1,)]
    buffer_ids = {id(b) for b in block.buffers()}
    assert not buffer_ids & {id(p) for p in block.parameters()}
    assert list(block.state_dict()) == ["steps", "inner.mask", "inner.0.weight", "inner.0.bias"]


def test_get_submodule_follows_a_dotted_path():
    block = Block()
    assert block.get_submodule("") is block
    assert block.get_submodule("inner") is block.inner
    assert block.get_submodule("inner.0") is block.inner[0]
    with pytest.raises(AttributeError, match=r"Sequential has no sub-module '5' \(looking up 'inner\.5'\)"):
        block.get_submodule("inner.5")


def test_sequential_extend_appends_in_order_and_numbers_on():
    first = nn.Linear(2, 2)
    model = nn.Sequential(first)
    tanh, second = nn.Tanh(), nn.Linear(2, 1)
    assert model.extend([tanh, second]) is model
    assert list(model) == [first, tanh, second]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    x = np.ones((3, 2))
    np.testing.assert_allclose(model(x).data, second(tanh(first(x))).data)
    model.extend(iter([nn.ReLU()]))  # any iterable
    assert len(model) == 4
    with pytest.raises(TypeError, match="Sequential: item 4 is a function, not an nn.Module"):
        model.extend([ag.relu])


def test_reset_parameters_redraws_from_the_default_bounds_with_a_given_generator():
    layer = nn.Linear(50, 40)
    before = layer.weight.data
    layer.reset_parameters(np.random.default_rng(0))
    assert layer.weight.data is before  # in place: optimizers keep the same arrays
    bound = 1 / math.sqrt(50)
    assert 0.95 * bound < np.abs(layer.weight.data).max() <= bound
    assert 0.8 * bound < np.abs(layer.bias.data).max() <= bound
    first = layer.weight.data.copy()
    layer.reset_parameters(np.random.default_rng(0))
    np.testing.assert_array_equal(layer.weight.data, first)  # the generator decides the draw


def test_incompatible_keys_names_both_lists():
    model = nn.Sequential(nn.Linear(2, 1))
    keys = model.load_state_dict({"0.weight": np.zeros((1, 2)), "9.bias": np.zeros(1)}, strict=False)
    assert keys.missing_keys == ["0.bias"] and keys.unexpected_keys == ["9.bias"]
    assert keys == nn.IncompatibleKeys(missing_keys=["0.bias"], unexpected_keys=["9.bias"])


def test_init_uniform_fills_in_place_within_its_bounds():
    t = nn.Parameter(np.zeros((200, 50)))
    assert nn.init.uniform_(t, -0.5, 2.0, generator=np.random.default_rng(1)) is t
    assert -0.5 <= t.data.min() < -0.49 and 1.99 < t.data.max() < 2.0
    assert abs(t.data.mean() - 0.75) < 0.02  # (a + b) / 2
    assert abs(t.data.var() - 2.5**2 / 12) < 0.02  # (b − a)² / 12
    nn.init.uniform_(t)
    assert 0.0 <= t.data.min() and t.data.max() < 1.0  # U(0, 1) by default


def test_default_generator_is_the_one_manual_seed_installs():
    generator = nn.init.manual_seed(11)
    assert nn.init.default_generator() is generator
    expected = np.random.default_rng(11).uniform(0.0, 1.0, 4)
    t = nn.Parameter(np.zeros(4))
    nn.init.uniform_(t)  # no generator: the default one
    np.testing.assert_array_equal(t.data, expected)


def test_deleting_a_slice_removes_every_module_in_it_and_renumbers():
    layers = [nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)]
    model = nn.Sequential(*layers)
    del model[1:3]
    assert list(model) == [layers[0], layers[3], layers[4]]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # renumbered, as PyTorch
    del model[::2]
    assert list(model) == [layers[3]] and list(model._modules) == ["0"]


def test_reprs_state_the_options_that_differ_from_the_defaults():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    assert repr(nn.CrossEntropyLoss(reduction="none")) == "CrossEntropyLoss(reduction='none')"


def test_cross_entropy_loss_reduces_as_asked():
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    labels = np.array([0, 2])
    shifted = logits - logits.max(axis=1, keepdims=True)
    per_row = -(shifted[[0, 1], labels] - np.log(np.exp(shifted).sum(axis=1)))  # −log softmax at the label
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction="none")(logits, labels).data, per_row, rtol=1e-12)
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction="sum")(logits, labels).item(), per_row.sum(), rtol=1e-12)
    np.testing.assert_allclose(nn.CrossEntropyLoss()(logits, labels).item(), per_row.mean(), rtol=1e-12)


def test_parameters_without_recursion_are_the_modules_own():
    model = nn.Module()
    model.scale = nn.Parameter(np.ones(1))
    model.layer = nn.Linear(2, 2)
    assert [p.shape for p in model.parameters(recurse=False)] == [(1,)]
    assert [p.shape for p in model.parameters()] == [(1,), (2, 2), (2,)]


def test_state_dict_keep_vars_gives_the_parameters_themselves():
    layer = nn.Linear(2, 1)
    kept = layer.state_dict(keep_vars=True)
    assert kept["weight"] is layer.weight and kept["bias"] is layer.bias
    detached = layer.state_dict()
    assert detached["weight"] is not layer.weight and not detached["weight"].requires_grad


def test_negative_indices_count_from_the_end():
    layers = [nn.Linear(1, 1), nn.Tanh(), nn.ReLU(), nn.Sigmoid()]
    model = nn.Sequential(*layers)
    assert [model[i] for i in (-1, -2, -3, -4)] == layers[::-1]
    with pytest.raises(IndexError, match="index -5 is out of range for 4 modules"):
        model[-5]  # noqa: B018


def test_init_normal_draws_around_its_mean_with_its_std():
    t = nn.Parameter(np.zeros((300, 100)))
    assert nn.init.normal_(t, mean=3.0, std=0.5, generator=np.random.default_rng(2)) is t
    assert abs(t.data.mean() - 3.0) < 0.01 and abs(t.data.std() - 0.5) < 0.01
