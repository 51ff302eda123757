"""A layer's declared parameter names (``nn._declared.Registered``): ``layer.weight`` is found
without the failed lookup that reaches ``Module.__getattr__``, and every way PyTorch lets a
user replace, delete or shadow such a name still works as it does in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn

try:  # (optional: the parity checks below also run on torch's layers when it is installed)
    import torch
except ImportError:  # pragma: no cover
    torch = None


def test_reading_linear_parameters_does_not_fall_back_to_getattr(monkeypatch):
    # The ordinary lookup ends at the declaration: Module.__getattr__, which Python calls only
    # after building an AttributeError, is not reached in a layer's forward.
    calls = []
    fallback = nn.Module.__getattr__

    def counting(self, name):
        calls.append(name)
        return fallback(self, name)

    monkeypatch.setattr(nn.Module, "__getattr__", counting)
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 1))
    calls.clear()
    out = model(np.ones((2, 3)))
    assert model[0].weight is model[0]._parameters["weight"] and model[2].bias is model[2]._parameters["bias"]
    assert out.shape == (2, 1)
    assert calls == []


def _layers():
    """A float64 Linear(2, 1) with W = 0, from autograd_nn and (when installed) torch."""
    ours = nn.Linear(2, 1, dtype=np.float64)
    ours.weight.data[...] = 0
    layers = [(ours, ag.tensor)]
    if torch is not None:
        theirs = torch.nn.Linear(2, 1).double()
        theirs.weight.data.zero_()
        layers.append((theirs, torch.tensor))
    return layers


def test_a_plain_tensor_set_after_deleting_the_parameter_is_what_forward_uses():
    for layer, as_tensor in _layers():
        del layer.bias
        layer.bias = as_tensor(np.array([5.0]))  # a plain attribute now, not a parameter
        out = layer(as_tensor(np.ones((1, 2))))
        assert np.asarray(out.detach()).tolist() == [[5.0]]
        assert [name for name, _ in layer.named_parameters()] == ["weight"]


def test_a_deleted_parameter_is_an_attribute_error_naming_it():
    layer = nn.Linear(2, 1)
    del layer.bias
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'bias'"):
        layer.bias  # noqa: B018
    if torch is not None:
        theirs = torch.nn.Linear(2, 1)
        del theirs.bias
        with pytest.raises(AttributeError, match="'Linear' object has no attribute 'bias'"):
            theirs.bias  # noqa: B018


def test_a_buffer_or_sub_module_under_a_declared_name_is_found():
    layer = nn.Linear(2, 1)
    del layer.bias
    layer.register_buffer("bias", ag.tensor(np.array([2.0])))
    assert layer.bias.data.tolist() == [2.0] and "bias" in dict(layer.named_buffers())
    del layer.bias
    inner = nn.Identity()
    layer.bias = inner
    assert layer.bias is inner


def test_a_subclass_property_shadows_the_registered_parameter():
    class Tied(nn.Linear):
        @property
        def bias(self):
            return self._parameters["weight"].sum()

    layer = Tied(2, 1)
    assert np.allclose(layer.bias.data, layer.weight.data.sum())


def test_reading_a_parameter_before_module_init_names_it():
    class Early(nn.Linear):
        def __init__(self):
            self.weight  # noqa: B018 - read before super().__init__()

    with pytest.raises(AttributeError, match="'Early' object has no attribute 'weight'"):
        Early()


def test_forward_uses_a_subclass_property_for_the_weight():
    # Linear.forward reads its registry straight only for Linear itself: a subclass that computes
    # its weight (here a mask, as pruning does) gets z = a (W ⊙ M)ᵀ + b, not the raw W.
    class Masked(nn.Linear):
        @property
        def weight(self):
            return self._parameters["weight"] * ag.tensor(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))

    layer = Masked(2, 3, dtype=np.float64)
    raw = layer._parameters["weight"].data.copy()
    a = np.array([[1.0, 2.0], [-3.0, 0.5]])
    out = layer(a)
    expected = a @ (raw * [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]).T + layer.bias.data
    np.testing.assert_allclose(out.data, expected, rtol=1e-15)
    out.sum().backward()  # δW = (Σ rows a)ᵀ ⊙ M reaches the raw parameter through the mask
    np.testing.assert_allclose(layer._parameters["weight"].grad.data, a.sum(axis=0) * np.array([[1, 0], [0, 1], [1, 1]]))
