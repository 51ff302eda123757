"""Module trees: cycles are refused where they would be made, and every walk (modules,
parameters, state_dict, repr) is bounded, also at depths far past Python's recursion limit."""

from __future__ import annotations

import sys

import pytest

from autograd_nn import nn


def test_a_module_cannot_contain_itself():
    model = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="cannot register sub-module 'me': it is itself.*loop forever"):
        model.me = model
    with pytest.raises(ValueError, match="it is itself"):
        model.add_module("again", model)
    with pytest.raises(ValueError, match="it is itself"):
        model.register_module("again", model)
    with pytest.raises(ValueError, match="it is itself"):
        model.append(model)
    with pytest.raises(ValueError, match="it is itself"):
        model[0] = model
    with pytest.raises(ValueError, match="it is itself"):
        model.insert(0, model)
    assert list(model._modules) == ["0"] and isinstance(model[0], nn.Linear)  # nothing changed
    assert list(model.state_dict()) == ["0.weight", "0.bias"]


def test_a_module_cannot_contain_an_ancestor():
    outer, middle, inner = nn.Sequential(), nn.Sequential(), nn.Sequential(nn.Linear(1, 1))
    outer.append(middle)
    middle.append(inner)
    with pytest.raises(ValueError, match="'x': it is a Sequential that already contains it"):
        inner.x = outer
    with pytest.raises(ValueError, match="already contains it"):
        inner.append(middle)
    assert len(inner) == 1 and not hasattr(inner, "x")


def test_sharing_a_module_is_not_a_cycle():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.Sigmoid(), shared)
    assert len(list(model.parameters())) == 2  # each once, as PyTorch
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # each name, as PyTorch
    twice = nn.Sequential(model, model)
    assert len(list(twice.modules())) == 4  # twice, model, shared, Sigmoid


def test_a_cycle_made_behind_the_modules_back_is_reported_not_followed():
    model = nn.Sequential(nn.Linear(2, 2))
    model._modules["loop"] = model  # bypasses every check
    for walk in (model.state_dict, lambda: list(model.modules()), lambda: list(model.parameters())):
        with pytest.raises(RuntimeError, match="'loop' is a Sequential that contains itself"):
            walk()
    assert "(loop): <cycle: this Sequential contains itself>" in repr(model)


def test_deep_nesting_walks_without_recursion():
    depth = 5 * sys.getrecursionlimit()
    root = current = nn.Sequential()
    for _ in range(depth):
        child = nn.Sequential()
        current.append(child)
        current = child
    current.append(nn.Linear(1, 1))
    assert len(list(root.modules())) == depth + 2
    (key,) = [k for k in root.state_dict() if k.endswith("weight")]
    assert key == "0." * (depth + 1) + "weight"
    text = repr(root)
    assert text.count("\n") < 300  # below 64 levels: summarised
    assert "(0): Sequential(...)" in text
    root.train(False)
    assert not current.training


def test_wrapping_20000_deep_builds_and_a_cycle_in_it_is_still_refused():
    """Wrapping (``Sequential(m)`` again and again) once walked the whole tree below at every
    level: 8,000 levels took 26 s, 20,000 did not finish in two minutes."""
    innermost = nn.Linear(1, 1)
    model = innermost
    levels = []
    for _ in range(20_000):
        model = nn.Sequential(model)
        levels.append(model)
    assert len(list(model.modules())) == 20_001 and model[0] is levels[-2]
    for owner in (innermost, levels[0], levels[10_000], levels[-2]):
        with pytest.raises(ValueError, match="'loop': it is a Sequential that already contains it"):
            owner.add_module("loop", model)
    with pytest.raises(ValueError, match="it is itself"):
        model.append(model)
    assert len(levels[0]) == 1 and len(model) == 1 and not innermost._modules  # nothing changed


def test_a_module_put_in_behind_the_back_still_counts_for_the_cycle_check():
    outer, inner = nn.Sequential(nn.Tanh()), nn.Sequential()
    outer._modules["hidden"] = inner  # no check here, but inner is now inside outer
    with pytest.raises(ValueError, match="already contains it"):
        inner.add_module("up", outer)
    outer._modules.update(more=nn.Sequential())
    with pytest.raises(ValueError, match="already contains it"):
        outer._modules["more"].append(outer)
    outer._modules.setdefault("last", nn.Sequential())
    with pytest.raises(ValueError, match="already contains it"):
        outer._modules["last"].append(outer)
