"""What a tensor's memory looks like, in PyTorch's words and numpy's: ``stride()`` (elements)
beside ``strides`` (bytes), ``is_contiguous``/``contiguous``, ``element_size``/``itemsize``/
``nbytes``, ``mT``, ``device``/``cpu()``, and ``detach_``; each against torch."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.testing import gradcheck

torch = pytest.importorskip("torch")

DATA = np.arange(24.0).reshape(2, 3, 4)


def _views(t):
    """The same views of a tensor of ours and of torch's."""
    return [lambda v: v, lambda v: v[:, 1:], lambda v: v[..., ::2], lambda v: v.permute(2, 0, 1), lambda v: v.mT, lambda v: v[0]]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int16])
def test_stride_counts_elements_and_strides_count_bytes(dtype):
    x, xt = ag.tensor(DATA.astype(dtype)), torch.tensor(DATA.astype(dtype))
    for view in _views(x):
        ours, theirs = view(x), view(xt)
        assert ours.stride() == theirs.stride()  # PyTorch's: elements
        assert ours.strides == ours.data.strides == tuple(s * ours.itemsize for s in ours.stride())  # numpy's: bytes
        assert [ours.stride(d) for d in range(-ours.ndim, ours.ndim)] == [theirs.stride(d) for d in range(-ours.ndim, ours.ndim)]
        assert ours.is_contiguous() == theirs.is_contiguous()
    assert x.element_size() == x.itemsize == xt.element_size() == xt.itemsize == np.dtype(dtype).itemsize
    assert x.nbytes == xt.nbytes == 24 * np.dtype(dtype).itemsize
    assert ag.tensor(1.5).stride() == torch.tensor(1.5).stride() == ()


def test_stride_refuses_a_dim_out_of_range():
    with pytest.raises(IndexError, match=r"^stride: dim 3 is out of range for a tensor of shape \(2, 3, 4\)"):
        ag.tensor(DATA).stride(3)
    with pytest.raises(IndexError, match=r"^stride: dim 1.5 is out of range"):
        ag.tensor(DATA).stride(1.5)
    with pytest.raises(ValueError, match=r"^is_contiguous: only the row-major \(C\) layout is known here"):
        ag.tensor(DATA).is_contiguous(memory_format="channels_last")


def test_contiguous_returns_self_or_a_row_major_copy_with_the_identity_gradient():
    x = ag.tensor(DATA, requires_grad=True)
    assert x.contiguous() is x and torch.tensor(DATA).contiguous() is not None
    y = x.permute(2, 0, 1)
    assert not y.is_contiguous()
    z = y.contiguous()
    assert z.is_contiguous() and z.grad_fn.name == "Copy" and not np.shares_memory(z.data, x.data)
    assert z.stride() == torch.tensor(DATA).permute(2, 0, 1).contiguous().stride() == (6, 3, 1)
    np.testing.assert_array_equal(z.data, y.data)
    cotangent = np.random.default_rng(0).standard_normal(z.shape)
    z.backward(cotangent)
    np.testing.assert_array_equal(x.grad.data, cotangent.transpose(1, 2, 0))  # δ moved back, unchanged
    assert gradcheck(lambda t: t.mT.contiguous() * t.mT, [ag.tensor(DATA[0], requires_grad=True)])
    assert ag.tensor(DATA).clone().is_contiguous() and not y.clone().is_contiguous()  # clone keeps the layout, as torch
    assert y.copy(order="C").is_contiguous()


def test_mT_swaps_the_last_two_axes_as_torch():
    x, xt = ag.tensor(DATA, requires_grad=True), torch.tensor(DATA, requires_grad=True)
    ours, theirs = x.mT, xt.mT
    np.testing.assert_array_equal(ours.data, theirs.detach().numpy())
    assert np.shares_memory(ours.data, x.data)  # a view, as torch's
    np.testing.assert_array_equal(ag.matrix_transpose(x).data, np.matrix_transpose(DATA))
    cotangent = np.random.default_rng(1).standard_normal(ours.shape)
    ours.backward(cotangent)
    theirs.backward(torch.from_numpy(cotangent))
    np.testing.assert_array_equal(x.grad.data, xt.grad.numpy())
    with pytest.raises(ValueError, match=r"^matrix_transpose: needs at least 2 dimensions .* got shape \(3,\)"):
        ag.tensor([1.0, 2.0, 3.0]).mT  # noqa: B018 - the look-up is what is tested


def test_device_is_the_cpu_and_cpu_returns_the_tensor_itself():
    x = ag.tensor(DATA)
    xt = torch.tensor(DATA)
    assert x.device == "cpu" and str(x.device) == str(xt.device) and repr(x.device) == repr(xt.device)
    assert x.device.type == xt.device.type == "cpu" and x.device.index is xt.device.index is None
    assert x.cpu() is x and xt.cpu() is xt
    assert x.to(x.device).dtype == x.dtype  # what device= arguments take
    assert nn.Linear(2, 3).to(x.device).weight.device == "cpu"  # Module.to reads it too
    assert torch.zeros(1, device=x.device).device == xt.device  # torch reads it as its own CPU


def test_detach_in_place_makes_a_leaf_that_does_not_require_grad():
    x, xt = ag.tensor(DATA, requires_grad=True), torch.tensor(DATA, requires_grad=True)
    h, ht = x * 2.0, xt * 2.0
    assert h.detach_() is h and ht.detach_() is ht
    assert (h.is_leaf, h.requires_grad, h.grad_fn) == (ht.is_leaf, ht.requires_grad, ht.grad_fn) == (True, False, None)
    loss = (h * x).sum()  # h is a constant now: δx = h
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, 2 * DATA)
    leaf = ag.tensor([1.0], requires_grad=True)
    leaf.detach_()
    assert not leaf.requires_grad and leaf.is_leaf
    base = ag.tensor(DATA)
    base.reshape(6, 4)  # a view of base exists: base itself may still be detached, as in torch
    assert base.detach_() is base


@pytest.mark.parametrize("make", [lambda x: (x * 2.0)[0], lambda x: (x * 2.0).reshape(6, 4), lambda x: x.detach().mT])
def test_detach_in_place_refuses_a_view_as_torch(make):
    x = ag.tensor(DATA, requires_grad=True)
    view = make(x)
    with pytest.raises(RuntimeError, match=r"^detach_: this tensor \(shape .*\) is a view of another tensor's memory"):
        view.detach_()
    xt = torch.tensor(DATA, requires_grad=True)
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        (xt * 2.0)[0].detach_()
