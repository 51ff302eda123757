"""The registry drives the public surface: every declared name exists and leads to its op,
nothing public is listed by hand, and a declaration cannot claim another op's name."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn import _xp
from autograd_nn._surface import tensor_namespace
from autograd_nn.registry import OP_REGISTRY, builtin_specs, register_composite, register_op

SPECS = builtin_specs()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_declared_name_exists_where_it_should(spec):
    s = spec.surface
    for name in s.methods + s.operators + s.inplace + s.properties:
        assert name in vars(ag.Tensor), f"Tensor.{name} of {spec.name} is missing"
    for name in s.functions:
        assert getattr(ag, name) is not None and getattr(F, name) is not None
        assert name in ag.__all__ and name in F.__all__
    for name in s.functional:
        assert name in F.__all__ and name not in ag.__all__
    for ufunc in s.ufuncs:
        assert ufunc in ag.Tensor._ufunc_table


def test_the_public_lists_are_the_registry_plus_the_core():
    declared = {n for spec in SPECS for n in spec.surface.functions}
    functional_only = {n for spec in SPECS for n in spec.surface.functional}
    core = {"Tensor", "Function", "grad", "no_grad", "tensor", "as_tensor", "save", "load", "detect_anomaly"}
    assert declared <= set(ag.__all__) and core <= set(ag.__all__)
    assert set(F.__all__) >= declared | functional_only | {"mse_loss", "cross_entropy", "dropout"}
    assert not functional_only & set(ag.__all__)
    for name in ag.__all__:
        assert getattr(ag, name) is not None


def test_generated_functions_carry_the_ops_formula_and_signature():
    assert ag.sigmoid.__doc__.startswith("a = σ(z);  δz = δa · a · (1 − a)")
    assert list(inspect.signature(ag.sum).parameters) == ["x", "axis", "keepdims"]
    assert list(inspect.signature(ag.Tensor.reshape).parameters)[0] == "x"
    assert ag.Tensor.exp.__qualname__ == "Tensor.exp" and F.exp.__module__ == "autograd_nn.functional"


def test_pytorch_keyword_spellings_are_accepted_and_conflicts_refused():
    x = ag.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.sum(dim=1, keepdim=True).data, [[3.0], [12.0]])
    np.testing.assert_array_equal(ag.mean(x, dim=0).data, [1.5, 2.5, 3.5])
    with pytest.raises(TypeError, match=r"sum: unexpected argument 'dim'"):
        x.sum(axis=0, dim=1)
    with pytest.raises(TypeError, match=r"sum: unexpected argument 'axes'"):
        x.sum(axes=0)


def test_a_name_belongs_to_one_op():
    """Two of our own ops claiming one name fail at import (simulated: a class of ours)."""
    forward = staticmethod(lambda ctx, x: np.exp(x))
    AnotherExp = type("AnotherExp", (ag.Function,), {"forward": forward, "__module__": "autograd_nn.ops.fake"})
    with pytest.raises(ValueError, match=r"methods \['exp'\] already belong to Exp"):
        register_op(reference=np.exp, methods="exp")(AnotherExp)
    with pytest.raises(ValueError, match=r"ufunc exp already belongs to Exp"):
        register_op(reference=np.exp, methods="exp_again", ufuncs=np.exp)(AnotherExp)
    assert not [k for k in OP_REGISTRY if "AnotherExp" in k]


def test_a_role_is_one_of_the_declared_roles():
    """``role=`` says what an op is in a network (read by viz); a misspelt role fails at import."""
    forward = staticmethod(lambda ctx, z: np.tanh(z))
    Squash = type("Squash", (ag.Function,), {"forward": forward, "__module__": "tests.fake"})
    with pytest.raises(ValueError, match=r"register_op on Squash: role must be one of \['activation', 'layer', 'loss'\]"):
        register_op(reference=np.tanh, role="activaton")(Squash)
    assert not [k for k in OP_REGISTRY if "Squash" in k]
    roles = {spec.name: spec.role for spec in OP_REGISTRY.values()}
    declared = {
        "Sigmoid": "activation", "Relu": "activation", "Tanh": "activation", "LeakyRelu": "activation",
        "Softplus": "activation", "Linear": "layer", "MseLoss": "loss", "BinaryCrossEntropy": "loss",
        "Exp": None, "Matmul": None, "Softmax": None,
    }  # fmt: skip
    assert {name: roles[name] for name in declared} == declared


def test_a_users_op_takes_no_public_names():
    with pytest.raises(TypeError, match=r"public names \(twice\) are generated for autograd_nn's own ops only"):

        @register_composite(reference=lambda x: 2 * x, methods="twice")
        def twice(x):
            return x * 2

    assert "twice" not in vars(ag.Tensor)


def test_derivative_namespaces_are_views_of_the_registry():
    assert _xp.numpy_namespace.exp is np.exp and _xp.numpy_namespace.matmul is np.matmul
    x = ag.tensor([0.5, 2.0], requires_grad=True)
    y = tensor_namespace.exp(x)
    assert y.grad_fn.name == "Exp"
    assert isinstance(tensor_namespace.exp(np.array([0.0])), np.ndarray)  # constants stay arrays
    with pytest.raises(AttributeError, match=r"ctx.xp \(ndarrays\) has no 'cosine'.*exp"):
        _xp.numpy_namespace.cosine  # noqa: B018 - the look-up is what is tested


def test_numpy_ufuncs_dispatch_to_their_ops_and_others_say_so_in_one_line():
    x = ag.tensor([0.5, 2.0], requires_grad=True)
    y = np.exp(x) + np.array([1.0, 1.0])
    z = np.array([2.0, 3.0]) * x  # ndarray ⊕ Tensor reaches the Tensor's op
    assert isinstance(y, ag.Tensor) and y.grad_fn.name == "Add" and z.grad_fn.name == "Mul"
    (y.sum() + z.sum()).backward()
    np.testing.assert_allclose(x.grad.data, np.exp(x.data) + [2.0, 3.0])
    with pytest.raises(TypeError, match=r"^numpy's bitwise_xor has no autograd_nn op") as caught:
        np.bitwise_xor(ag.tensor([1]), ag.tensor([3]))
    assert "\n" not in str(caught.value)
    with pytest.raises(TypeError, match=r"numpy's add.reduce has no autograd_nn op"):
        np.add.reduce(x)
    with pytest.raises(TypeError, match=r"numpy's exp with out= has no autograd_nn op"):
        np.exp(x, out=np.empty(2))


def test_comparisons_and_arg_extrema_are_plain_arrays():
    x = ag.tensor([3.0, 1.0, 2.0], requires_grad=True)
    assert isinstance(x > 1.5, np.ndarray) and (x > 1.5).tolist() == [True, False, True]
    assert (2.0 <= x).tolist() == [True, False, True] and np.less(x, 2.5).tolist() == [False, True, True]
    assert x.argmax() == 0 and x.argmin() == 1 and ag.argmin(x) == 1
    assert ag.argmax(ag.tensor([[1.0, 5.0], [7.0, 0.0]]), axis=1, keepdims=True).tolist() == [[1], [0]]
