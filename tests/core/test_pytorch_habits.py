"""PyTorch's spellings that autograd_nn accepts on purpose (docs/from_pytorch.md), each
checked against torch itself when it is installed (it is in CI) or a closed form."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag


def test_size_is_numpys_count_and_pytorchs_call():
    t = ag.tensor(np.zeros((2, 3)))
    assert t.size == 6 and isinstance(t.size, int) and t.size + 1 == 7  # numpy: an int
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-2) == 2  # PyTorch: the shape
    with pytest.raises(IndexError, match=r"size: dim 2 is out of range for a tensor of shape \(2, 3\)"):
        t.size(2)
    assert t.numel() == t.nelement() == 6 and t.dim() == t.ndim == 2


torch = pytest.importorskip("torch")


def _pair(data):
    return ag.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)


def _same(ours, theirs, x, xt):
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)
    cotangent = np.random.default_rng(0).standard_normal(ours.shape)
    ours.backward(cotangent)
    theirs.backward(torch.from_numpy(cotangent))
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-12)


HABITS = [
    ("view", lambda t: t.view(3, 8)), ("view_as", lambda t: t.view_as(t.reshape(4, 6))),
    ("reshape_as", lambda t: t.reshape_as(t.reshape(6, 4))), ("unsqueeze", lambda t: t.unsqueeze(1)),
    ("permute", lambda t: t.permute(2, 0, 1)), ("expand", lambda t: t[:, :1].expand(2, -1, 5, 4)),
    ("expand_as", lambda t: t[:1].expand_as(t)), ("flatten", lambda t: t.flatten(1)),
    ("flatten(0, 1)", lambda t: t.flatten(0, 1)), ("flatten(-2)", lambda t: t.flatten(-2)),
    ("unflatten", lambda t: t.unflatten(2, (2, 2))), ("clamp", lambda t: t.clamp(-0.5, 0.5)),
    ("clamp(min=)", lambda t: t.clamp(min=0.1)), ("clamp_min", lambda t: t.clamp_min(0.2)),
    ("clamp_max", lambda t: t.clamp_max(-0.2)), ("pow", lambda t: t.pow(2)), ("clone", lambda t: t.clone()),
    ("double", lambda t: t.double()), ("to", lambda t: t.to(t.dtype)), ("type_as", lambda t: t.type_as(t)),
    ("sum(dim, keepdim)", lambda t: t.sum(dim=1, keepdim=True)), ("mean(dim)", lambda t: t.mean(dim=(0, 2))),
    ("std(unbiased=True)", lambda t: t.std(dim=1, unbiased=True)), ("std(correction=0)", lambda t: t.std(correction=0)), ("var(unbiased=False)", lambda t: t.var(unbiased=False)),
    ("softmax(dim)", lambda t: t.softmax(dim=0)), ("chunk", lambda t: t.chunk(2, dim=2)[1]),
    ("narrow", lambda t: t.narrow(1, 1, 2)), ("t", lambda t: t[0].t()), ("roll", lambda t: t.roll(1, dims=0)),
    ("flip", lambda t: t.flip(dims=(0, 2))), ("tile", lambda t: t.tile((2, 1, 1))),
    ("repeat_interleave", lambda t: t.repeat_interleave(2, dim=1)), ("gather", lambda t: t.gather(2, _INDEX)),
    ("index_select", lambda t: t.index_select(1, _ROWS)), ("logsumexp", lambda t: t.logsumexp(dim=1)),
    ("cumsum", lambda t: t.cumsum(dim=2)), ("prod(dim)", lambda t: t.prod(dim=1)),
    ("diagonal", lambda t: t.diagonal(offset=1, dim1=1, dim2=2)), ("tril", lambda t: t.tril(diagonal=-1)),
]  # fmt: skip
_INDEX = np.array([[[0, 3], [1, 1], [2, 0]], [[3, 3], [0, 2], [1, 0]]])
_ROWS = np.array([2, 0])


@pytest.mark.parametrize(("name", "call"), HABITS, ids=[h[0] for h in HABITS])
def test_pytorch_habits_give_pytorchs_values_and_gradients(name, call):
    data = np.random.default_rng(1).standard_normal((2, 3, 4))
    x, xt = _pair(data)
    torch_call = call
    if name in ("gather", "index_select"):
        index = torch.from_numpy(_INDEX if name == "gather" else _ROWS)
        torch_call = (lambda t: t.gather(2, index)) if name == "gather" else (lambda t: t.index_select(1, index))
    _same(call(x), torch_call(xt), x, xt)


def test_pytorch_casts():
    x = ag.tensor([1.5, -2.0], requires_grad=True)
    assert x.float().dtype == np.float32 and x.double().dtype == np.float64 and x.half().dtype == np.float16
    assert x.long().dtype == np.int64 and x.int().dtype == np.int32 and x.bool().dtype == np.bool_
    assert x.long().tolist() == [1, -2] and not x.long().requires_grad
    assert x.to(np.float32).dtype == np.float32 and x.to("cpu").dtype == np.float64
    assert x.to(ag.tensor([1], dtype=np.int8)).dtype == np.int8
    with pytest.raises(ValueError, match="to: autograd_nn computes on the CPU with numpy; device must be None or 'cpu', got 'cuda'"):
        x.to("cuda")
    (x.float() * 2).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [2.0, 2.0]


def test_expand_refuses_minus_one_for_a_new_axis():
    with pytest.raises(ValueError, match="expand: −1 cannot stand for a new leading axis"):
        ag.tensor([1.0, 2.0]).expand(-1, 2)
    with pytest.raises(ValueError, match="flatten: only order='C' is supported"):
        ag.tensor([[1.0]]).flatten("F")
    assert ag.tensor([[1.0, 2.0]]).flatten("C").shape == (2,)


def test_where_numpy_and_pytorch_disagree_numpy_wins():
    data = np.arange(6.0).reshape(2, 3)
    x, xt = ag.tensor(data), torch.tensor(data)
    np.testing.assert_allclose(x.std().data, np.std(data))  # ddof=0; PyTorch's default is ddof=1
    assert not np.isclose(x.std().item(), xt.std().item())
    assert x.repeat(2).shape == (12,) and tuple(xt.repeat(2, 1).shape) == (4, 3)  # numpy's repeat; PyTorch's is tile
    np.testing.assert_array_equal(x.tile((2, 1)).data, xt.repeat(2, 1).numpy())
    assert x.transpose().shape == (3, 2) and x.swapaxes(0, 1).shape == tuple(xt.transpose(0, 1).shape)
    assert [p.shape for p in x.split(3, axis=1)] == [(2, 1)] * 3  # 3 sections; PyTorch: pieces of size 3
    assert ag.median(ag.tensor([1.0, 2.0, 3.0, 4.0])).item() == 2.5 and torch.tensor([1.0, 2, 3, 4]).median() == 2
    assert isinstance(x.sort(), ag.Tensor) and len(xt.sort()) == 2  # values; PyTorch: (values, indices)
