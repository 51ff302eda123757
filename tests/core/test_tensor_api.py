"""The Tensor's attributes, conversions, factories and dtype rules."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F


def test_attributes():
    data = np.arange(6.0).reshape(2, 3)
    t = ag.Tensor(data, requires_grad=True)
    assert t.data is data  # Tensor(...) wraps an ndarray without copying
    assert (t.shape, t.ndim, t.size, t.dtype) == ((2, 3), 2, 6, np.float64)
    assert t.is_leaf and t.grad is None and t.grad_fn is None and t.requires_grad
    np.testing.assert_array_equal(t.T.data, data.T)
    assert t.numpy() is data
    assert ag.tensor(2.5).item() == 2.5
    with pytest.raises(ValueError, match=r"item: only a tensor with one element.*\(2, 3\)"):
        t.item()
    y = t * 2
    assert not y.is_leaf and y.grad_fn.name == "Mul"


def test_factory_copies_and_casts():
    data = np.array([1, 2, 3])
    t = ag.tensor(data, dtype=np.float32, requires_grad=True)
    data[0] = 100
    assert t.dtype == np.float32 and t.data[0] == 1.0
    assert ag.tensor([1.0, 2.0]).dtype == np.float64  # numpy's default for Python floats
    assert ag.tensor(t).data is not t.data


def test_integer_data_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients, got dtype int64"):
        ag.tensor([1, 2, 3], requires_grad=True)
    t = ag.tensor([1, 2])
    with pytest.raises(TypeError, match="requires_grad_"):
        t.requires_grad_()
    assert (t * 2).dtype == np.int64  # integer math without gradients is fine


def test_array_protocol():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    assert np.allclose(x.grad, [3.0, 3.0])
    assert np.asarray(x) is x.data
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    assert float(ag.tensor(1.5)) == 1.5 and int(ag.tensor(3.0)) == 3


def test_repr():
    assert repr(ag.tensor([1.0, 2.0])) == "Tensor([1., 2.])"
    assert repr(ag.tensor([1.0], requires_grad=True)) == "Tensor([1.], requires_grad=True)"
    assert repr(ag.tensor([1.0], dtype=np.float32) * 2) == "Tensor([2.], dtype=float32)"
    x = ag.tensor([1.0], requires_grad=True)
    assert repr(x + 1) == "Tensor([2.], grad_fn=<Add>)"


def test_tensors_hash_by_identity():
    a, b = ag.tensor([1.0]), ag.tensor([1.0])
    assert len({a, b}) == 2
    assert {a: 1}[a] == 1


def test_top_level_functions_and_methods_agree(rng):
    x = ag.tensor(rng.uniform(0.5, 2, (3, 4)))
    pairs = [
        (ag.exp(x), x.exp()), (ag.log(x), x.log()), (ag.sqrt(x), x.sqrt()), (ag.abs(x), x.abs()),
        (ag.sigmoid(x), x.sigmoid()), (ag.relu(x), x.relu()), (ag.tanh(x), x.tanh()),
        (ag.softmax(x), x.softmax()), (ag.log_softmax(x, axis=0), x.log_softmax(axis=0)),
        (ag.sum(x, axis=1), x.sum(axis=1)), (ag.mean(x, keepdims=True), x.mean(keepdims=True)),
        (ag.reshape(x, (2, 6)), x.reshape(2, 6)), (ag.transpose(x), x.transpose()),
        (ag.clip(x, 1, 1.5), x.clip(1, 1.5)), (ag.matmul(x, x.T), x @ x.T), (F.leaky_relu(x), x.leaky_relu()),
        (ag.max(x, axis=0), x.max(axis=0)), (ag.min(x), x.min()), (ag.var(x, ddof=1), x.var(ddof=1)),
        (ag.std(x, axis=1), x.std(axis=1)), (ag.squeeze(x[None]), x[None].squeeze()),
        (ag.expand_dims(x, 1), x.expand_dims(1)), (ag.flatten(x), x.flatten()),
        (ag.broadcast_to(x[0], (2, 4)), x[0].broadcast_to((2, 4))),
    ]  # fmt: skip
    for function_result, method_result in pairs:
        np.testing.assert_array_equal(function_result.data, method_result.data)


def test_float32_is_preserved_end_to_end(rng):
    def f32(shape):
        return ag.tensor(rng.standard_normal(shape), dtype=np.float32, requires_grad=True)

    x, W, b = f32((8, 5)), f32((5, 3)), f32((3,))
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    h = (x @ W + b).sigmoid() * 2.0 - 1  # Python scalars do not promote
    h = ag.maximum(h, 0.1 * h) / 3.0 + np.float32(1) + h**2
    terms = [
        F.cross_entropy(h, labels),
        F.mse_loss(h, np.zeros((8, 3), dtype=np.float32)),
        h.var(axis=0).sum(),
        ag.concatenate([h, h.tanh()], axis=1).max(),
        h[::2].softmax().log().mean(),
        F.binary_cross_entropy_with_logits(h, np.ones((8, 3))),
    ]
    for term in terms:
        assert term.dtype == np.float32, term
    loss = sum(terms[1:], terms[0])
    assert loss.dtype == np.float32
    loss.backward()
    for p in (x, W, b):
        assert p.grad.dtype == np.float32


def test_gradients_are_cast_to_the_input_dtype():
    x = ag.tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    y = x * np.array([1.0, 2.0])  # float64 constant: numpy promotes the output
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    z = ag.tensor([1.0], requires_grad=True)
    z.astype(np.float32).sum().backward()
    assert z.grad.dtype == np.float64


def test_float64_is_preserved(rng):
    x = ag.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    ((x @ x).sigmoid().sum() * np.float32(2)).backward()
    assert x.grad.dtype == np.float64


def test_shape_error_messages():
    with pytest.raises(ValueError, match=r"^matmul: shapes \(3, 4\) and \(5, 6\) are not aligned \(4 != 5\)$"):
        ag.tensor(np.ones((3, 4))) @ ag.tensor(np.ones((5, 6)))
    with pytest.raises(ValueError, match=r"^add: shapes \(3,\) and \(4,\) cannot be broadcast together$"):
        ag.tensor(np.ones(3), requires_grad=True) + np.ones(4)
    with pytest.raises(ValueError, match=r"^mul: shapes \(2,\) and \(2, 3\) cannot be broadcast together$"):
        np.ones(2) * ag.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"matmul: the batch dimensions of shapes \(2, 3, 4\) and \(5, 4, 1\)"):
        ag.tensor(np.ones((2, 3, 4))) @ np.ones((5, 4, 1))
    with pytest.raises(
        ValueError, match=r"reshape: cannot reshape an array of shape \(2, 3\) \(size 6\) into shape \(4, 2\)"
    ):
        ag.tensor(np.ones((2, 3))).reshape(4, 2)
    with pytest.raises(ValueError, match=r"broadcast_to: cannot broadcast shape \(2,\) to shape \(3,\)"):
        ag.tensor(np.ones(2)).broadcast_to((3,))
    with pytest.raises(ValueError, match=r"concatenate: shapes \(2, 3\), \(2, 4\) must match except along axis 0"):
        ag.concatenate([np.ones((2, 3)), ag.tensor(np.ones((2, 4)))])
    with pytest.raises(ValueError, match=r"stack: all arrays must have the same shape"):
        ag.stack([np.ones(2), np.ones(3)])
    with pytest.raises(IndexError, match=r"getitem: index 5 is invalid for shape \(3,\)"):
        ag.tensor(np.ones(3))[5]
    with pytest.raises(ValueError, match=r"transpose: axes \(0, 0\) are not a permutation"):
        ag.tensor(np.ones((2, 2))).transpose(0, 0)


def test_no_grad_tensor_ops_record_nothing():
    x = ag.tensor([1.0], requires_grad=True)
    with ag.no_grad():
        y = (x * 2).exp().sum()
    assert y.grad_fn is None and not y.requires_grad


@pytest.mark.parametrize(
    "data, kind",
    [(None, "NoneType"), ("1.0", "str"), (b"x", "bytes"), (np.array([object()]), "object"), ([1 + 2j], "complex128")],
    ids=["None", "str", "bytes", "object", "complex"],
)
def test_construction_refuses_what_a_tensor_cannot_hold(data, kind):
    with pytest.raises(TypeError, match=kind):
        ag.Tensor(data)
    with pytest.raises(TypeError, match=kind):
        ag.tensor(data)


def test_gradient_must_be_real_and_of_the_outputs_shape():
    y = ag.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(TypeError, match=r"backward: gradient must hold real numbers, got dtype complex128 \(the imaginary part"):
        y.backward(np.array([1 + 1j, 1.0]))
    with pytest.raises(TypeError, match=r"grad: gradient must hold real numbers, got dtype <U1"):
        ag.grad(y, y, grad_outputs=np.array(["a", "b"]))
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\) but the output has shape \(2,\)"):
        y.backward(np.ones(3))


@pytest.mark.parametrize("axis", [1.0, "0", (0, 1.5), True], ids=["float", "str", "tuple with float", "bool"])
def test_axis_arguments_must_be_integers(axis):
    x = ag.tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"mean: axis must be an int, a tuple of ints or None"):
        x.mean(axis=axis)


def test_argmax_and_argmin_give_numpy_indices_of_the_extremes():
    t = ag.tensor([[3.0, -1.0, 7.0], [0.5, 9.0, -4.0]], requires_grad=True)
    assert t.argmax() == 4 and t.argmin() == 5  # flat indices of 9 and −4
    np.testing.assert_array_equal(t.argmax(axis=1), [2, 1])
    np.testing.assert_array_equal(t.argmin(axis=1), [1, 2])
    np.testing.assert_array_equal(t.argmax(axis=0), [0, 1, 0])
    np.testing.assert_array_equal(t.argmin(axis=0), [1, 0, 1])
    assert isinstance(t.argmax(axis=0), np.ndarray)  # indices, not a differentiable Tensor


def test_dot_is_the_matrix_product_with_its_gradients():
    a = ag.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    b = ag.tensor([[1.0, -1.0, 0.0], [2.0, 0.5, 1.0]], requires_grad=True)
    c = a.dot(b)
    np.testing.assert_array_equal(c.data, [[5.0, 0.0, 2.0], [11.0, -1.0, 4.0], [17.0, -2.0, 6.0]])
    c.backward(np.ones((3, 3)))
    np.testing.assert_array_equal(a.grad.data, [[0.0, 3.5]] * 3)  # δ Bᵀ: row sums of B
    np.testing.assert_array_equal(b.grad.data, [[9.0] * 3, [12.0] * 3])  # Aᵀ δ: column sums of A
    v = ag.tensor([1.0, 2.0])
    assert a.dot(v).tolist() == [5.0, 11.0, 17.0] and v.dot(v).item() == 5.0


def test_as_tensor_wraps_without_copying_and_passes_tensors_through():
    t = ag.tensor([1.0], requires_grad=True)
    assert ag.as_tensor(t) is t
    array = np.arange(3.0)
    wrapped = ag.as_tensor(array)
    assert wrapped.data is array and not wrapped.requires_grad and wrapped.is_leaf
    listed = ag.as_tensor([1, 2])
    assert isinstance(listed, ag.Tensor) and listed.dtype == np.int64 and listed.tolist() == [1, 2]


def test_needs_input_grad_tells_an_op_which_gradients_to_compute():
    seen = []

    class Scale(ag.Function):
        """a = x·y; computes only the gradients that are needed"""

        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved
            seen.append(ctx.needs_input_grad)
            need_x, need_y = ctx.needs_input_grad
            return (grad * y if need_x else None), (grad * x if need_y else None)

    x, y = ag.tensor([2.0], requires_grad=True), ag.tensor([3.0])
    Scale.apply(x, y).sum().backward()
    Scale.apply(y, x).sum().backward()
    assert seen == [(True, False), (False, True)]
    assert x.grad.tolist() == [6.0]
