"""PyTorch's Tensor spellings that autograd_nn accepts as aliases or extra forms of its ops: the
in-place unary forms (``x.sigmoid_()``), the comparison methods (``x.lt(y)``), ``maximum``/
``minimum``/``amax``/``amin`` as methods, ``x.where(condition, y)``, ``mm``/``bmm`` and
``index_add``/``index_add_``, each against torch itself (values and gradients) and, in float64,
finite differences; their refusals name the op, the shapes and what was expected."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.testing import gradcheck

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)
MIXED = RNG.standard_normal((3, 4))  # both signs, away from 0 for the kinks of relu and abs
MIXED[np.abs(MIXED) < 0.1] = 0.5
POSITIVE = np.abs(MIXED) + 0.2  # log and sqrt


def _pair(data):
    return ag.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)


def _same_values_and_gradients(ours, theirs, leaves, torch_leaves, rtol=1e-12):
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=rtol, atol=1e-15)
    cotangent = np.random.default_rng(0).standard_normal(ours.shape)
    ours.backward(cotangent)
    theirs.backward(torch.from_numpy(cotangent))
    for leaf, torch_leaf in zip(leaves, torch_leaves):
        np.testing.assert_allclose(leaf.grad.data, torch_leaf.grad.numpy(), rtol=rtol, atol=1e-15)


UNARY_INPLACE = [
    ("exp_", MIXED), ("log_", POSITIVE), ("sqrt_", POSITIVE), ("sigmoid_", MIXED), ("tanh_", MIXED),
    ("relu_", MIXED), ("neg_", MIXED), ("abs_", MIXED), ("cos_", MIXED), ("sin_", MIXED), ("square_", MIXED),
    ("erf_", MIXED),
]  # fmt: skip


@pytest.mark.parametrize(("name", "data"), UNARY_INPLACE, ids=[n for n, _ in UNARY_INPLACE])
def test_unary_inplace_forms_give_pytorchs_values_and_gradients(name, data):
    x, xt = _pair(data)
    h, ht = x * 1.5, xt * 1.5  # a non-leaf, changed in place
    assert getattr(h, name)() is h
    getattr(ht, name)()
    assert h.grad_fn is not None and h._version == 1
    _same_values_and_gradients(h, ht, [x], [xt])
    assert gradcheck(lambda t: getattr(t * 1.5, name)(), [ag.tensor(data, requires_grad=True)])


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("clamp_min_", lambda t: t.clamp_min_(0.3)), ("clamp_max_", lambda t: t.clamp_max_(-0.2)),
        ("masked_fill_", lambda t: t.masked_fill_(MIXED > 0.4, -2.0)),
    ],
)  # fmt: skip
def test_clamp_and_masked_fill_inplace_forms_give_pytorchs_values_and_gradients(name, call):
    x, xt = _pair(MIXED)
    h, ht = x * 1.0, xt * 1.0
    call(h)
    if name == "masked_fill_":
        ht.masked_fill_(torch.from_numpy(MIXED > 0.4), -2.0)
    else:
        call(ht)
    _same_values_and_gradients(h, ht, [x], [xt])


def test_inplace_forms_refuse_a_leaf_that_requires_grad_and_an_integer_result_that_does_not_fit():
    w = ag.tensor([0.5, 2.0], requires_grad=True)
    for name in ("exp_", "sigmoid_", "relu_", "square_", "masked_fill_"):
        args = (np.array([True, False]), 0.0) if name == "masked_fill_" else ()
        with pytest.raises(RuntimeError, match=rf"^{name}: a leaf tensor that requires grad \(shape \(2,\)"):
            getattr(w, name)(*args)
    with pytest.raises(TypeError, match=r"^exp_: cannot store the result in a tensor of dtype int64"):
        ag.tensor([1, 2]).exp_()
    with ag.no_grad():  # as an optimizer would: the leaf keeps being a leaf
        w.sigmoid_()
    np.testing.assert_allclose(w.data, 1 / (1 + np.exp(-np.array([0.5, 2.0]))), rtol=1e-15)
    assert w.is_leaf and w._version == 1


COMPARISONS = [("eq", "__eq__"), ("ne", "__ne__"), ("lt", "__lt__"), ("le", "__le__"), ("gt", "__gt__"), ("ge", "__ge__")]


@pytest.mark.parametrize(("method", "operator"), COMPARISONS, ids=[m for m, _ in COMPARISONS])
def test_comparison_methods_are_the_operators(method, operator):
    """As the operators: a plain boolean ndarray (it has no gradient), with torch's values."""
    a, b = np.array([1.0, 2.0, 3.0, 2.0]), np.array([2.0, 2.0, 1.0, 2.5])
    x = ag.tensor(a, requires_grad=True)
    for other in (ag.tensor(b), b, 2.0):
        got = getattr(x, method)(other)
        assert isinstance(got, np.ndarray) and got.dtype == np.bool_
        np.testing.assert_array_equal(got, getattr(x, operator)(other))
        theirs = getattr(torch.tensor(a), method)(torch.tensor(np.asarray(other)))
        np.testing.assert_array_equal(got, theirs.numpy())


def test_maximum_minimum_amax_amin_methods_give_pytorchs_values_and_gradients():
    data = np.array([[1.0, 3.0, 3.0], [-2.0, 0.5, -2.0]])  # ties: δ is split evenly, as torch's amax/amin do
    other = np.array([[0.0, 4.0, 1.0], [-1.0, 0.25, -3.0]])
    for method in ("maximum", "minimum"):
        (x, xt), (y, yt) = _pair(data), _pair(other)
        _same_values_and_gradients(getattr(x, method)(y), getattr(xt, method)(yt), [x, y], [xt, yt])
    for method in ("amax", "amin"):
        for dim in (None, 1, 0):
            x, xt = _pair(data)
            ours = getattr(x, method)() if dim is None else getattr(x, method)(dim=dim, keepdim=True)
            theirs = getattr(xt, method)() if dim is None else getattr(xt, method)(dim=dim, keepdim=True)
            _same_values_and_gradients(ours, theirs, [x], [xt])


def test_where_method_takes_pytorchs_order():
    condition = MIXED > 0
    (x, xt), (y, yt) = _pair(MIXED), _pair(-MIXED[:1] * 2)
    _same_values_and_gradients(x.where(condition, y), xt.where(torch.from_numpy(condition), yt), [x, y], [xt, yt])
    np.testing.assert_array_equal(x.where(condition, 0.0).data, ag.where(condition, x, 0.0).data)  # numpy's order


def test_mm_and_bmm_give_pytorchs_values_and_gradients():
    (a, at), (b, bt) = _pair(RNG.standard_normal((2, 3))), _pair(RNG.standard_normal((3, 4)))
    _same_values_and_gradients(a.mm(b), at.mm(bt), [a, b], [at, bt])
    (a, at), (b, bt) = _pair(RNG.standard_normal((2, 3))), _pair(RNG.standard_normal((3, 4)))
    _same_values_and_gradients(ag.mm(a, b), torch.mm(at, bt), [a, b], [at, bt])
    (a, at), (b, bt) = _pair(RNG.standard_normal((5, 2, 3))), _pair(RNG.standard_normal((5, 3, 4)))
    _same_values_and_gradients(a.bmm(b), at.bmm(bt), [a, b], [at, bt])
    assert gradcheck(ag.bmm, [ag.tensor(RNG.standard_normal((2, 2, 3)), requires_grad=True),
                              ag.tensor(RNG.standard_normal((2, 3, 2)), requires_grad=True)])  # fmt: skip


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ag.mm(ag.zeros(2, 3), ag.zeros(4, 5)), r"^mm: shapes \(2, 3\) and \(4, 5\) cannot be multiplied \(3 != 4\)"),
        (lambda: ag.zeros(2, 3, 4).mm(ag.zeros(4, 5)), r"^mm: expects two 2-D tensors \(matrices\), got shapes \(2, 3, 4\) and \(4, 5\)"),
        (lambda: ag.zeros(3).mm(ag.zeros(3, 2)), r"^mm: expects two 2-D tensors"),
        (lambda: ag.zeros(2, 3).bmm(ag.zeros(3, 4)), r"^bmm: expects two 3-D tensors \(batches of matrices\), got shapes \(2, 3\) and \(3, 4\)"),
        (lambda: ag.bmm(ag.zeros(2, 3, 4), ag.zeros(1, 4, 5)), r"^bmm: the batch sizes of shapes \(2, 3, 4\) and \(1, 4, 5\) differ \(2 != 1\); bmm does not broadcast"),
        (lambda: ag.bmm(ag.zeros(2, 3, 4), ag.zeros(2, 5, 5)), r"^bmm: shapes \(2, 3, 4\) and \(2, 5, 5\) cannot be multiplied \(4 != 5\)"),
    ],
)  # fmt: skip
def test_mm_and_bmm_refuse_what_pytorch_refuses(call, message):
    """Where numpy's matmul would broadcast or take a vector, PyTorch's mm and bmm refuse."""
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("alpha", [1, 2.5, -0.5])
def test_index_add_gives_pytorchs_values_and_gradients(dim, alpha):
    data = RNG.standard_normal((3, 4))
    index = np.array([2, 0, 2, 2]) if dim == 0 else np.array([3, 3, 0])  # repeated positions add up
    source_shape = list(data.shape)
    source_shape[dim] = len(index)
    source = RNG.standard_normal(source_shape)
    (x, xt), (s, st) = _pair(data), _pair(source)
    ours = x.index_add(dim, index, s, alpha=alpha)
    theirs = xt.index_add(dim, torch.from_numpy(index), st, alpha=alpha)
    _same_values_and_gradients(ours, theirs, [x, s], [xt, st])
    assert gradcheck(lambda x, s: ag.index_add(x, dim, index, s, alpha=alpha),
                     [ag.tensor(data, requires_grad=True), ag.tensor(source, requires_grad=True)])  # fmt: skip


def test_index_add_in_place_gives_pytorchs_values_gradients_and_version():
    data, source, index = RNG.standard_normal((4, 2)), RNG.standard_normal((3, 2)), np.array([1, 1, 3])
    (x, xt), (s, st) = _pair(data), _pair(source)
    h, ht = x * 2.0, xt * 2.0
    assert h.index_add_(0, index, s, alpha=3.0) is h and h._version == 1
    ht.index_add_(0, torch.from_numpy(index), st, alpha=3.0)
    _same_values_and_gradients(h, ht, [x, s], [xt, st])
    plain = ag.tensor(data.copy())
    memory = plain.data
    plain.index_add_(0, index, source)  # nothing to record: straight into the tensor's memory
    assert plain.data is memory and plain._version == 1
    np.testing.assert_allclose(plain.data, torch.tensor(data).index_add(0, torch.from_numpy(index), torch.tensor(source)).numpy(), rtol=1e-15)


def test_index_add_of_a_saved_tensor_makes_backward_refuse():
    x = ag.tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    h = x * 2.0
    loss = (h * h).sum()  # Mul saved h
    with ag.no_grad():
        h.index_add_(0, np.array([0]), np.ones((1, 2)))
    with pytest.raises(RuntimeError, match=r"Mul saved .*shape \(3, 2\).*at version 1; expected version 0"):
        loss.backward()


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((0, np.array([0, 1]), np.ones((3, 2))), ValueError,
         r"^index_add: source has shape \(3, 2\), but x of shape \(3, 2\) with 2 index entries along dim 0 needs source of shape \(2, 2\)"),
        ((1, np.array([0, 1]), np.ones((2, 2))), ValueError, r"^index_add: source has shape \(2, 2\), but x of shape \(3, 2\) .* needs source of shape \(3, 2\)"),
        ((0, np.array([0, 5]), np.ones((2, 2))), IndexError, r"^index_add: index 5 is out of range for dim 0 of size 3"),
        ((0, np.array([-1]), np.ones((1, 2))), IndexError, r"^index_add: index -1 is out of range for dim 0 of size 3"),
        ((0, np.array([0.0, 1.0]), np.ones((2, 2))), TypeError, r"^index_add: index must hold integers, got dtype float64"),
        ((0, np.array([[0]]), np.ones((1, 2))), ValueError, r"^index_add: index must be a vector \(0-d or 1-D\), got shape \(1, 1\)"),
        ((2, np.array([0]), np.ones((1, 2))), ValueError, r"^index_add: axis 2 is out of bounds for an array of dimension 2"),
    ],
)  # fmt: skip
def test_index_add_refuses_bad_arguments_naming_the_shapes(args, error, message):
    """torch refuses the same (a negative index too), with its own words."""
    with pytest.raises(error, match=message):
        ag.zeros(3, 2).index_add(*args)


def test_index_add_takes_a_0d_index_and_refuses_a_0d_tensor_and_a_tensor_alpha():
    z = ag.zeros(3).index_add(0, np.array(1), ag.tensor([2.0]))
    np.testing.assert_array_equal(z.data, torch.zeros(3).index_add(0, torch.tensor(1), torch.tensor([2.0])).numpy())
    with pytest.raises(ValueError, match=r"^index_add: needs a tensor with at least one dimension"):
        ag.tensor(1.0).index_add(0, np.array([0]), ag.tensor([1.0]))
    with pytest.raises(TypeError, match=r"^index_add: alpha must be a number, got Tensor"):
        ag.zeros(3).index_add(0, np.array([0]), ag.ones(1), alpha=ag.tensor(2.0))
