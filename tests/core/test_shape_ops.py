"""Shape and indexing ops: call forms the shared property test does not draw (einsum's
ellipsis, numpy's in-place put_along_axis, PyTorch's chunk and meshgrid conventions) and
their refusals."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.testing import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")


def test_einsum_with_ellipsis_broadcasting_and_implicit_output():
    rng = np.random.default_rng(0)
    a = ag.tensor(rng.standard_normal((2, 1, 3, 4)), requires_grad=True)
    b = ag.tensor(rng.standard_normal((5, 4, 2)), requires_grad=True)
    for subscripts in ("...ij,...jk->...ik", "...ij,...jk", "abij,cjk->bkac"):
        np.testing.assert_allclose(ag.einsum(subscripts, a, b).data, np.einsum(subscripts, a.data, b.data))
    assert gradcheck(lambda a, b: ag.einsum("...ij,...jk->...ik", a, b), [a, b])
    assert gradgradcheck(lambda a, b: ag.einsum("...ij,...jk->...ik", a, b), [a, b])
    m = ag.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    assert ag.einsum("ii", m).item() == pytest.approx(np.trace(m.data))  # a repeated label: the diagonal
    assert gradcheck(lambda m: ag.einsum("ii->i", m), [m]) and gradcheck(lambda m: np.einsum("ij->", m), [m])
    with pytest.raises(ValueError, match=r"einsum: subscripts 'ij,j' name 2 operand\(s\), got 1"):
        ag.einsum("ij,j", m)
    with pytest.raises(ValueError, match=r"einsum: subscripts 'ijk' do not fit an operand of shape \(3, 3\)"):
        ag.einsum("ijk", m)


def test_put_along_axis_writes_in_place_as_numpy_and_records_the_write():
    values = ag.tensor([[10.0], [20.0]], requires_grad=True)
    target = ag.tensor(np.zeros((2, 3)))
    indices = np.array([[2], [0]])
    assert ag.put_along_axis(target, indices, values, axis=1) is None
    expected = np.zeros((2, 3))
    np.put_along_axis(expected, indices, np.array([[10.0], [20.0]]), axis=1)
    np.testing.assert_array_equal(target.data, expected)
    (target * np.arange(6.0).reshape(2, 3)).sum().backward()
    assert values.grad.tolist() == [[2.0], [3.0]]
    with pytest.raises(TypeError, match="put_along_axis: writes into a Tensor in place, got a ndarray"):
        ag.put_along_axis(np.zeros(2), np.array([0]), 1.0, 0)
    with pytest.raises(TypeError, match="^numpy.put_along_axis has no autograd_nn op"):
        np.put_along_axis(target, indices, 1.0, 1)


def test_chunk_unbind_meshgrid_and_scatter_follow_pytorch():
    data = np.arange(10.0)
    for chunks in (1, 3, 4, 6):
        ours = ag.chunk(ag.tensor(data), chunks)
        theirs = torch.tensor(data).chunk(chunks)
        assert [p.tolist() for p in ours] == [p.tolist() for p in theirs]
    x, y = ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0, 5.0])
    for ours, theirs in zip(ag.meshgrid(x, y, indexing="ij"), torch.meshgrid(torch.tensor(x.data), torch.tensor(y.data),
                                                                             indexing="ij")):  # fmt: skip
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert [g.shape for g in ag.meshgrid(x, y)] == [(3, 2), (3, 2)]  # numpy's default 'xy'
    assert [u.tolist() for u in ag.tensor(np.eye(2)).unbind(1)] == [[1.0, 0.0], [0.0, 1.0]]
    base, index, src = np.zeros((2, 3)), np.array([[1, 0]]), np.array([[5.0, 6.0, 7.0]])
    expected = torch.tensor(base).scatter(1, torch.tensor(index), torch.tensor(src)).numpy()
    np.testing.assert_array_equal(ag.tensor(base).scatter(1, index, src).data, expected)
    added = torch.tensor(base).scatter_add(0, torch.tensor([[1, 1, 0]]), torch.tensor(src)).numpy()
    np.testing.assert_array_equal(ag.scatter_add(ag.tensor(base), 0, np.array([[1, 1, 0]]), src).data, added)
    with pytest.raises(ValueError, match="selects some elements more than once"):
        ag.tensor(base).scatter(1, np.array([[1, 1]]), src)


def test_pad_modes_and_refusals():
    x = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    for ours, numpys in (("replicate", "edge"), ("circular", "wrap"), ("reflect", "reflect")):
        np.testing.assert_array_equal(ag.pad(x, 1, ours).data, np.pad(x.data, 1, numpys))
    np.testing.assert_array_equal(ag.pad(x, ((0, 0), (2, 1)), value=-1.0).data, np.pad(x.data, ((0, 0), (2, 1)),
                                                                                        constant_values=-1.0))  # fmt: skip
    ag.pad(x, ((1, 1), (2, 2)), "reflect").sum().backward()
    leaf = torch.tensor(x.data, requires_grad=True)
    torch.nn.functional.pad(leaf[None], (2, 2, 1, 1), "reflect")[0].sum().backward()
    np.testing.assert_array_equal(x.grad.data, leaf.grad.numpy())
    with pytest.raises(ValueError, match=r"pad: pad_width \(1, 1, 2, 2\) does not fit a 2-D tensor \(PyTorch's F.pad"):
        ag.pad(x, (1, 1, 2, 2))
    with pytest.raises(ValueError, match="pad: mode 'mean' is not supported"):
        ag.pad(x, 1, "mean")


def test_tensordot_outer_kron_against_numpy():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 3, 5))
    np.testing.assert_allclose(ag.tensordot(ag.tensor(a), b, axes=([1, 2], [1, 0])).data,
                               np.tensordot(a, b, axes=([1, 2], [1, 0])))  # fmt: skip
    np.testing.assert_allclose(np.tensordot(ag.tensor(a), b, 1).data, np.tensordot(a, b, 1))
    np.testing.assert_allclose(ag.outer(ag.tensor(a[0]), b[0]).data, np.outer(a[0], b[0]))
    np.testing.assert_allclose(ag.kron(ag.tensor(a[0]), b[0, 0]).data, np.kron(a[0], b[0, 0]))
    with pytest.raises(ValueError, match="tensordot: axes 2 do not pair up shapes"):
        ag.tensordot(ag.tensor(a), b)
