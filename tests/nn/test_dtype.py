"""Dtypes of layers: the default dtype of new parameters, Module.to/float/double/half (in
place, on the same Parameter objects, as PyTorch), and the error a layer raises for input
of another dtype."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim


@pytest.fixture
def default_dtype():
    """Restore the process-wide default after a test changes it."""
    before = ag.get_default_dtype()
    yield
    ag.set_default_dtype(before)


def test_the_default_dtype_is_float64_and_new_parameters_use_it(default_dtype):
    assert ag.get_default_dtype() == np.float64
    assert nn.Linear(2, 3).weight.dtype == np.float64
    ag.set_default_dtype(np.float32)
    assert ag.get_default_dtype() == np.dtype("float32")
    layer = nn.Linear(2, 3)
    assert layer.weight.dtype == layer.bias.dtype == np.float32
    assert nn.Parameter().dtype == np.float32  # the empty placeholder too
    assert nn.Linear(2, 3, dtype=np.float64).weight.dtype == np.float64  # an explicit dtype wins
    ag.set_default_dtype("float16")
    assert nn.Linear(1, 1).weight.dtype == np.float16


def test_prelu_takes_the_default_dtype_as_every_layer_does(default_dtype):
    assert nn.PReLU(3).weight.dtype == np.float64
    ag.set_default_dtype(np.float32)
    layer = nn.PReLU(3)
    assert layer.weight.dtype == np.float32
    out = layer(np.array([-2.0, 0.5, -4.0], dtype=np.float32))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, np.float32([-0.5, 0.5, -1.0]))  # slope 0.25 below zero
    assert nn.PReLU(3, dtype=np.float64).weight.dtype == np.float64  # an explicit dtype wins
    with pytest.raises(TypeError, match="PReLU: only floating-point dtypes are supported .* got int64"):
        nn.PReLU(dtype=np.int64)


def test_set_default_dtype_refuses_what_is_not_a_float(default_dtype):
    with pytest.raises(TypeError, match=r"set_default_dtype: only floating-point dtypes are supported .* got int64"):
        ag.set_default_dtype(np.int64)
    with pytest.raises(TypeError, match="set_default_dtype: 'cuda' is not a dtype"):
        ag.set_default_dtype("cuda")
    with pytest.raises(TypeError, match="Linear: only floating-point dtypes"):
        nn.Linear(1, 1, dtype=np.int32)
    assert ag.get_default_dtype() == np.float64  # a refused call changes nothing


class WithBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(3, 2)
        self.register_buffer("running", ag.tensor(np.ones(2)))
        self.register_buffer("count", ag.tensor(np.array(4)))  # an integer buffer: left alone
        self.shared = self.layer  # the same module twice: cast once


def test_to_casts_floating_parameters_and_buffers_in_place():
    model = WithBuffers()
    weight, running = model.layer.weight, model.running
    weight.grad = ag.tensor(np.ones((2, 3)))
    grad = weight.grad
    before = weight.numpy().copy()
    assert model.to(np.float32) is model
    assert model.layer.weight is weight and model.running is running and weight.grad is grad  # same objects
    assert weight.dtype == model.layer.bias.dtype == running.dtype == grad.dtype == np.float32
    assert model.count.dtype == np.int64
    np.testing.assert_array_equal(weight.numpy(), before.astype(np.float32))
    assert weight.requires_grad and weight.is_leaf
    model.double()
    assert weight.dtype == running.dtype == np.float64
    model.half()
    assert weight.dtype == np.float16
    model.float()
    assert weight.dtype == np.float32 and model.count.dtype == np.int64
    assert model.to(ag.tensor(np.zeros(1))).layer.weight.dtype == np.float64  # to(tensor): its dtype
    assert model.to("cpu").layer.weight.dtype == np.float64  # a device: nothing to do
    assert model.to("cpu", np.float32).layer.weight.dtype == np.float32
    assert model.to(device="cpu", dtype="float64").layer.weight.dtype == np.float64


def test_to_refuses_other_devices_and_non_float_dtypes():
    model = nn.Linear(1, 1)
    with pytest.raises(ValueError, match="nn.Module.to: autograd_nn computes on the CPU with numpy; device must be None or 'cpu', got 'cuda'"):
        model.to("cuda")
    with pytest.raises(TypeError, match="only accepts floating point dtypes, but got desired dtype=int64"):
        model.to(np.int64)
    with pytest.raises(TypeError, match="unexpected keyword argument 'copy'"):
        model.to(copy=True)
    assert model.weight.dtype == np.float64


def test_a_graph_recorded_before_a_cast_refuses_to_backpropagate():
    """The parameter changed in place: the version counter says so, as after any in-place write."""
    layer = nn.Linear(3, 2)
    out = layer(np.ones((4, 3)))
    layer.float()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()
    fresh = layer(np.ones((4, 3), dtype=np.float32))  # a new forward is fine
    fresh.sum().backward()
    assert layer.weight.grad.dtype == np.float32


def test_an_optimizer_built_before_the_cast_keeps_training_the_model():
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    model.float()
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 1), np.float32)
    loss = nn.MSELoss()(model(x), y)
    loss.backward()
    before = model.weight.numpy().copy()
    opt.step()
    assert model.weight.dtype == np.float32
    np.testing.assert_allclose(model.weight.numpy(), before - 0.1 * model.weight.grad.numpy(), rtol=1e-6)


def test_to_matches_torch_on_the_same_structure():
    torch = pytest.importorskip("torch")

    class TorchWithBuffers(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(3, 2)
            self.register_buffer("running", torch.ones(2, dtype=torch.float64))
            self.register_buffer("count", torch.tensor(4))
            self.shared = self.layer

    ours, theirs = WithBuffers(), TorchWithBuffers()
    for name in ("float", "double", "half"):
        getattr(ours, name)()
        getattr(theirs, name)()
        ours_dtypes = {k: v.dtype.name for k, v in ours.state_dict().items()}
        theirs_dtypes = {k: str(v.dtype).removeprefix("torch.") for k, v in theirs.state_dict().items()}
        assert ours_dtypes == theirs_dtypes and len(ours_dtypes) == 6, name


def test_a_layer_refuses_input_of_another_dtype():
    layer = nn.Linear(3, 2, dtype=np.float32)
    with pytest.raises(TypeError, match="mat1 and mat2 must have the same dtype") as error:
        layer(np.ones((4, 3)))  # float64, numpy's default
    message = str(error.value)
    assert message.startswith("Linear(in_features=3, out_features=2, bias=True): input has dtype float64")
    assert "the layer's parameters are float32" in message
    assert "x.astype(np.float32)" in message and "layer.to(np.float64)" in message
    with pytest.raises(RuntimeError, match="mat1 and mat2"):  # PyTorch raises RuntimeError: both catch it
        layer(ag.tensor(np.ones((4, 3))))
    with pytest.raises(TypeError, match="input has dtype int64") as error:
        nn.Linear(3, 2)(np.ones((4, 3), dtype=np.int64))
    assert "layer.to" not in str(error.value)  # an integer layer is no fix
    assert layer(np.ones((4, 3), np.float32)).dtype == np.float32
    assert nn.Linear(3, 2)([[1.0, 2.0, 3.0]]).dtype == np.float64  # a list of floats is float64


def test_torch_refuses_the_same_mixed_dtype_call():
    """The behaviour the check copies, so a change in torch would show here."""
    torch = pytest.importorskip("torch")
    layer = torch.nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype"):
        layer(torch.ones((4, 3), dtype=torch.float64))
