"""Activations (functional and modules) against PyTorch: values and input gradients in
float64 and float32, float32 kept float32, and PReLU's parameter as PyTorch names,
shapes and initialises it."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn import nn

torch = pytest.importorskip("torch")

# (our module, torch's class name, constructor arguments)
MODULES = [
    (nn.GELU(), "GELU", {}), (nn.GELU("tanh"), "GELU", {"approximate": "tanh"}), (nn.SiLU(), "SiLU", {}),
    (nn.ELU(), "ELU", {}), (nn.ELU(alpha=0.5), "ELU", {"alpha": 0.5}), (nn.SELU(), "SELU", {}),
    (nn.CELU(), "CELU", {}), (nn.CELU(alpha=2.0), "CELU", {"alpha": 2.0}), (nn.Softplus(), "Softplus", {}),
    (nn.Softplus(beta=2.0, threshold=5.0), "Softplus", {"beta": 2.0, "threshold": 5.0}), (nn.Mish(), "Mish", {}),
    (nn.Hardswish(), "Hardswish", {}), (nn.Hardsigmoid(), "Hardsigmoid", {}), (nn.ReLU6(), "ReLU6", {}),
    (nn.Hardtanh(), "Hardtanh", {}), (nn.Hardtanh(-2.0, 0.5), "Hardtanh", {"min_val": -2.0, "max_val": 0.5}),
    (nn.LogSigmoid(), "LogSigmoid", {}), (nn.Softsign(), "Softsign", {}), (nn.Softmin(dim=1), "Softmin", {"dim": 1}),
    (nn.LogSoftmax(dim=0), "LogSoftmax", {"dim": 0}), (nn.GLU(dim=1), "GLU", {"dim": 1}),
    (nn.GLU(), "GLU", {}),
]  # fmt: skip


def _inputs(dtype):
    rng = np.random.default_rng(3)
    x = rng.uniform(-7, 7, (5, 8))
    x[0, :6] = [-1e3, -30.0, -3.0, 3.0, 30.0, 1e3]  # tails, and the hard variants' corners' neighbourhood
    x[1, :3] = [-2.999, 2.999, 5.999]
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize(("ours", "name", "kwargs"), MODULES, ids=lambda v: str(v) if isinstance(v, nn.Module) else "")
def test_activation_modules_match_pytorch(ours, name, kwargs, dtype):
    data = _inputs(dtype)
    theirs = getattr(torch.nn, name)(**kwargs)
    x = ag.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    out, out_t = ours(x), theirs(xt)
    assert out.dtype == dtype and out.shape == tuple(out_t.shape)
    tolerance = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 2e-5, "atol": 2e-6}
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), **tolerance)
    if name == "Hardsigmoid" and dtype == np.float64:
        tolerance = {"rtol": 1e-7}  # PyTorch's float64 backward uses 1/6 rounded to float32 (ours: 1/6 in float64)
    cotangent = np.random.default_rng(4).standard_normal(out.shape).astype(dtype)
    out.backward(cotangent)
    out_t.backward(torch.from_numpy(cotangent))
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), **tolerance)


@pytest.mark.parametrize("num_parameters", [1, 3])
def test_prelu_matches_pytorch_with_its_parameter(num_parameters):
    ours, theirs = nn.PReLU(num_parameters), torch.nn.PReLU(num_parameters).double()
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    np.testing.assert_array_equal(ours.weight.data, theirs.weight.detach().numpy())  # init 0.25
    assert ours.weight.shape == tuple(theirs.weight.shape) == (num_parameters,)
    theirs.weight.data = torch.tensor(np.linspace(0.1, 0.5, num_parameters))
    ours.load_state_dict({"weight": ag.tensor(theirs.weight.detach().numpy())})
    data = np.random.default_rng(0).standard_normal((4, 3, 2))
    x, xt = ag.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, out_t = ours(x), theirs(xt)
    np.testing.assert_allclose(out.data, out_t.detach().numpy())
    (out * out).sum().backward()
    (out_t * out_t).sum().backward()
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy())
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy())
    with pytest.raises(ValueError, match=r"prelu: weight of shape \(2,\) must have 1 element or one per channel \(3\)"):
        F.prelu(x, np.ones(2))


def test_functional_forms_match_the_modules_and_pytorch():
    data = _inputs(np.float64)
    pairs = [
        (F.gelu(data), torch.nn.functional.gelu), (F.silu(data), torch.nn.functional.silu),
        (F.elu(data, alpha=0.3), lambda t: torch.nn.functional.elu(t, alpha=0.3)),
        (F.softplus(data, beta=0.5), lambda t: torch.nn.functional.softplus(t, beta=0.5)),
        (F.softmin(data, dim=0), lambda t: torch.nn.functional.softmin(t, dim=0)),
        (F.glu(data, dim=-1), torch.nn.functional.glu), (F.logsigmoid(data), torch.nn.functional.logsigmoid),
    ]  # fmt: skip
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.data, theirs(torch.from_numpy(data)).numpy(), rtol=1e-10, atol=1e-12)


def test_activation_arguments_are_checked():
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh', got 'fast'"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'erf'"):
        F.gelu(ag.tensor([1.0]), approximate="erf")
    with pytest.raises(ValueError, match=r"glu: axis -1 of shape \(2, 3\) must have an even length"):
        F.glu(ag.tensor(np.ones((2, 3))))
    with pytest.raises(ValueError, match="Hardtanh: min_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match="PReLU: num_parameters must be a positive int"):
        nn.PReLU(0)
    assert "approximate='tanh'" in repr(nn.GELU("tanh")) and "beta=2.0" in repr(nn.Softplus(beta=2.0))
    assert "alpha=0.5" in repr(nn.ELU(0.5)) and "min_val=-1.0" in repr(nn.Hardtanh()) and "dim=1" in repr(nn.GLU(1))
