"""``cross_entropy`` at integer labels (no class weights, no ignored label): one node that
indexes the logits by the labels (a gather forward, a scatter backward) instead of
multiplying by a one-hot target. Values and δ against a long-double reference and PyTorch,
the second derivative, the refusals, masked classes, and a compiled step's replay."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(16)


def reference(z, labels, reduction="mean", label_smoothing=0.0):
    """ℓ = (1 − ε)(−ln softmax(z)_y) + ε · mean over the classes of −ln softmax(z), in long double."""
    axis = 0 if z.ndim == 1 else 1
    z = z.astype(np.longdouble)
    top = z.max(axis=axis, keepdims=True)
    log_p = z - top - np.log(np.exp(z - top).sum(axis=axis, keepdims=True))
    picked = np.take_along_axis(log_p, np.expand_dims(labels, axis), axis).squeeze(axis)
    losses = -(1 - label_smoothing) * picked - label_smoothing * log_p.mean(axis=axis)
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](losses)


def reference_delta(z, labels, label_smoothing=0.0):
    """δz of Σ ℓ: softmax(z) − (1 − ε) onehot(y) − ε/C, in long double."""
    axis = 0 if z.ndim == 1 else 1
    z = z.astype(np.longdouble)
    p = np.exp(z - z.max(axis=axis, keepdims=True))
    p /= p.sum(axis=axis, keepdims=True)
    classes = z.shape[axis]
    onehot = np.expand_dims(labels, axis) == np.arange(classes).reshape((classes,) + (1,) * (z.ndim - axis - 1))
    return p - (1 - label_smoothing) * onehot - label_smoothing / classes


SHAPES = [(5,), (7, 4), (3, 4, 2), (2, 3, 2, 2)]


def _labels_for(shape):
    axis = 0 if len(shape) == 1 else 1
    return RNG.integers(0, shape[axis], shape[:axis] + shape[axis + 1 :])


def test_integer_labels_record_one_node_that_keeps_the_labels_not_a_one_hot():
    z = ag.tensor(RNG.normal(size=(6, 4)), requires_grad=True)
    labels = np.array([0, 3, 1, 1, 2, 3])
    loss = F.cross_entropy(z, labels)
    assert loss.grad_fn.name == "SoftmaxCrossEntropyLabels"
    assert loss.grad_fn.params["labels"] is labels  # the user's labels, unchanged: no (6, 4) target made
    assert len(loss.grad_fn.parents) == 1  # the labels are a parameter: no δ, no input slot


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_values_and_deltas_match_the_long_double_reference(shape, reduction, label_smoothing):
    z = RNG.normal(size=shape) * 3
    labels = _labels_for(shape)
    t = ag.tensor(z, requires_grad=True)
    loss = F.cross_entropy(t, labels, reduction=reduction, label_smoothing=label_smoothing)
    np.testing.assert_allclose(loss.data, reference(z, labels, reduction, label_smoothing), rtol=1e-13, atol=1e-15)
    cotangent = RNG.normal(size=np.shape(loss.data))
    loss.backward(ag.tensor(cotangent))
    per_sample = np.expand_dims(cotangent, 0 if len(shape) == 1 else 1) if reduction == "none" else cotangent
    scale = 1 / labels.size if reduction == "mean" else 1.0
    expected = per_sample * scale * reference_delta(z, labels, label_smoothing)
    np.testing.assert_allclose(t.grad.data, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_first_and_second_derivatives_match_finite_differences(shape, reduction):
    labels = _labels_for(shape)
    z = ag.tensor(RNG.normal(size=shape), requires_grad=True)
    loss = lambda x: F.cross_entropy(x, labels, reduction=reduction, label_smoothing=0.2)  # noqa: E731
    gradcheck(loss, [z])
    gradgradcheck(loss, [z])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_against_pytorch_with_create_graph(dtype):
    torch = pytest.importorskip("torch")
    z = RNG.normal(size=(5, 4, 3)).astype(dtype) * 4
    labels = RNG.integers(0, 4, (5, 3))
    cotangent = RNG.normal(size=(5, 3)).astype(dtype)
    t = ag.tensor(z, requires_grad=True)
    loss = F.cross_entropy(t, labels, reduction="none", label_smoothing=0.1)
    (g,) = ag.grad(loss, t, ag.tensor(cotangent), create_graph=True)
    (h,) = ag.grad((g * g).sum(), t)
    tz = torch.tensor(z, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tz, torch.tensor(labels), reduction="none", label_smoothing=0.1)
    (tg,) = torch.autograd.grad(tl, tz, torch.tensor(cotangent), create_graph=True)
    (th,) = torch.autograd.grad((tg * tg).sum(), tz)
    tol = 2e-6 if dtype == np.float32 else 1e-13
    assert loss.dtype == g.dtype == dtype
    np.testing.assert_allclose(loss.data, tl.detach().numpy(), rtol=tol)
    np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(h.data, th.numpy(), rtol=10 * tol, atol=10 * tol)


def test_an_ignore_index_among_the_classes_is_not_counted_and_one_that_is_absent_changes_nothing():
    z = RNG.normal(size=(6, 3))
    labels = np.array([0, 1, 2, 1, 0, 2])
    counted = labels != 1
    ignored = F.cross_entropy(ag.tensor(z), labels, ignore_index=1, reduction="none")
    np.testing.assert_allclose(ignored.data, np.where(counted, reference(z, labels, "none"), 0.0), rtol=1e-13)
    mean = F.cross_entropy(ag.tensor(z), labels, ignore_index=1)
    np.testing.assert_allclose(mean.data, reference(z[counted], labels[counted]), rtol=1e-13)
    absent = F.cross_entropy(ag.tensor(z, requires_grad=True), np.array([0, 2, 2, 0, 0, 2]), ignore_index=1)
    assert absent.grad_fn.name == "SoftmaxCrossEntropyLabels"
    np.testing.assert_allclose(absent.data, reference(z, np.array([0, 2, 2, 0, 0, 2])), rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8])
def test_negative_labels_are_refused_not_read_from_the_end(dtype):
    z = ag.tensor(RNG.normal(size=(3, 4)))
    with pytest.raises(ValueError, match=r"cross_entropy: class labels must be in \[0, 4\), got values in \[-1, 2\]"):
        F.cross_entropy(z, np.array([0, -1, 2], dtype=dtype))
    with pytest.raises(ValueError, match=r"cross_entropy: class labels must be in \[0, 4\), got values in \[0, 4\]"):
        F.cross_entropy(z, np.array([0, 4, 2], dtype=dtype))
    with pytest.raises(ValueError, match=r"class labels must have shape \(3,\) for input of shape \(3, 4\), got \(3, 1\)"):
        F.cross_entropy(z, np.array([[0], [1], [2]], dtype=dtype))


def test_unsigned_labels_are_checked_too():
    z = ag.tensor(RNG.normal(size=(3, 4)))
    with pytest.raises(ValueError, match=r"class labels must be in \[0, 4\), got values in \[0, 200\]"):
        F.cross_entropy(z, np.array([0, 200, 2], dtype=np.uint8))
    np.testing.assert_allclose(F.cross_entropy(z, np.array([0, 3, 2], dtype=np.uint8)).data,
                               reference(z.data, np.array([0, 3, 2])), rtol=1e-13)  # fmt: skip


def test_a_masked_out_class_counts_for_nothing_unless_it_is_the_label():
    """A logit of −∞: softmax 0 there, ℓ finite, δ 0 (or −ε/C when smoothed, PyTorch's), no warning;
    ℓ = ∞ where the label is that class, or when smoothing spreads a share onto it (PyTorch's)."""
    z = np.array([[0.0, -np.inf, 1.0], [2.0, -np.inf, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = ag.tensor(z, requires_grad=True)
        loss = F.cross_entropy(t, np.array([0, 2]), reduction="none")
        loss.sum().backward()
        finite = z[:, [0, 2]]
        np.testing.assert_allclose(loss.data, reference(finite, np.array([0, 1]), "none"), rtol=1e-14)
        np.testing.assert_array_equal(t.grad.data[:, 1], [0.0, 0.0])
        smoothed = ag.tensor(z, requires_grad=True)
        loss = F.cross_entropy(smoothed, np.array([0, 2]), reduction="none", label_smoothing=0.3)
        loss.sum().backward()
        assert np.isposinf(loss.data).all()
        np.testing.assert_allclose(smoothed.grad.data[:, 1], [-0.1, -0.1], rtol=1e-14)
        assert np.isposinf(F.cross_entropy(ag.tensor(z), np.array([1, 2]), reduction="none").data[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_logits_keep_full_accuracy(dtype):
    """Shifted by the row's largest logit: logits of ±1e4 neither overflow nor lose digits
    (each ℓ to a few ulps of itself, δ to a few ulps of 1)."""
    z = (RNG.normal(size=(8, 5)) * 1e4).astype(dtype)
    labels = RNG.integers(0, 5, 8)
    t = ag.tensor(z, requires_grad=True)
    loss = F.cross_entropy(t, labels, reduction="none")
    loss.sum().backward()
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(loss.data, reference(z, labels, "none").astype(np.float64), rtol=4 * eps, atol=1e-30)
    np.testing.assert_allclose(t.grad.data, reference_delta(z, labels).astype(np.float64), rtol=0, atol=4 * eps)


def test_a_compiled_step_replays_the_eager_values_bit_for_bit():
    W = ag.tensor(RNG.normal(size=(4, 3)), requires_grad=True)

    def step(x, labels):
        loss = F.cross_entropy(ag.einsum("nfd,fc->ncd", x, W), labels, reduction="none", label_smoothing=0.1)
        loss.sum().backward()
        grad, W.grad = W.grad, None
        return loss, grad

    fast = ag.compile(step)
    rng = np.random.default_rng(3)
    for _ in range(5):
        x, labels = ag.tensor(rng.normal(size=(5, 4, 2))), rng.integers(0, 3, (5, 2))
        (loss, grad), (eager_loss, eager_grad) = fast(x, labels), step(x, labels)
        np.testing.assert_array_equal(loss.data, eager_loss.data)
        np.testing.assert_array_equal(grad.data, eager_grad.data)
    assert fast.replays >= 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", ["cross_entropy", "cross_entropy smoothed", "nll_loss"])
def test_a_batch_whose_labels_are_all_ignored_has_a_nan_mean_and_a_zero_gradient(loss, dtype):
    """Every label ignore_index (a batch of padding): the mean over no counted label is 0/0,
    nan (PyTorch's too), but δz is 0, not 0·∞ = nan in every logit (an optimizer step would
    make every parameter nan)."""
    z = ag.tensor(np.random.default_rng(0).standard_normal((2, 3)).astype(dtype), requires_grad=True)
    labels = np.array([-100, -100])
    if loss == "nll_loss":
        value = F.nll_loss(F.log_softmax(z, axis=1), labels)
    else:
        value = F.cross_entropy(z, labels, label_smoothing=0.1 if "smoothed" in loss else 0.0)
    value.backward()
    assert np.isnan(value.item()) and value.dtype == dtype
    assert z.grad.dtype == dtype and np.array_equal(z.grad.numpy(), np.zeros((2, 3), dtype))
