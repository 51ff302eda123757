"""Numerical stability: softmax, log_softmax, cross_entropy, sigmoid, softplus, the BCE
losses, log and exp at extreme inputs (logits of ±1e3, tiny probabilities) give finite
values and correct gradients, with numpy set to raise on overflow, 0/0 and log 0.

References are closed forms evaluated independently in numpy (in a stable arrangement).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_nn as ag
from autograd_nn import functional as F
from autograd_nn.testing import strategies as ats

EXTREME = (-1e3, 1e3)
FLOATS = [np.float64, np.float32]


def strict():
    """numpy raises instead of warning: any overflow, x/0 or invalid value fails the test."""
    return np.errstate(over="raise", divide="raise", invalid="raise")


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _grad(fn, x, cotangent=None):
    x = ag.tensor(x, requires_grad=True)
    with strict():
        out = fn(x)
        out.backward(np.ones(out.shape) if cotangent is None else cotangent)
    return out.data, x.grad.data


logits = ats.arrays(st.tuples(st.integers(1, 4), st.integers(1, 5)), elements=EXTREME)


# ----------------------------------------------------------------------- softmax family
@given(logits, st.integers(0, 2**32 - 1))
def test_softmax_of_extreme_logits_is_finite_with_the_closed_form_gradient(z, seed):
    g = np.random.default_rng(seed).standard_normal(z.shape)
    s, grad = _grad(lambda x: x.softmax(axis=1), z, g)
    expected = _softmax(z, axis=1)
    np.testing.assert_allclose(s, expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-12)
    # δz = s ⊙ (δs − ⟨δs, s⟩)
    np.testing.assert_allclose(grad, expected * (g - (g * expected).sum(axis=1, keepdims=True)), rtol=1e-9, atol=1e-12)


@given(logits, st.integers(0, 2**32 - 1))
def test_log_softmax_of_extreme_logits_is_finite_with_the_closed_form_gradient(z, seed):
    g = np.random.default_rng(seed).standard_normal(z.shape)
    y, grad = _grad(lambda x: x.log_softmax(axis=1), z, g)
    shifted = z - z.max(axis=1, keepdims=True)
    expected = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    # δz = δy − softmax(z) · Σ δy
    np.testing.assert_allclose(grad, g - _softmax(z, axis=1) * g.sum(axis=1, keepdims=True), rtol=1e-9, atol=1e-12)


@given(logits, st.data())
def test_cross_entropy_of_extreme_logits_is_finite_with_the_closed_form_gradient(z, data):
    n, classes = z.shape
    labels = np.array(data.draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)))
    loss, grad = _grad(lambda x: F.cross_entropy(x, labels), z)
    one_hot = np.eye(classes)[labels]
    log_p = z - z.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    assert np.isfinite(loss)
    np.testing.assert_allclose(loss, -(log_p * one_hot).sum() / n, rtol=1e-12)
    np.testing.assert_allclose(grad, (_softmax(z, axis=1) - one_hot) / n, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("dtype", FLOATS)
def test_confidently_wrong_logits_cost_their_margin_exactly(dtype):
    z = np.array([[1e3, -1e3], [-1e3, 1e3]], dtype=dtype)
    loss, grad = _grad(lambda x: F.cross_entropy(x, np.array([1, 1])), z)
    assert loss.dtype == dtype and grad.dtype == dtype
    np.testing.assert_allclose(loss, 1e3, rtol=1e-6)  # (2000 + 0) / 2
    np.testing.assert_allclose(grad, [[0.5, -0.5], [0.0, 0.0]], atol=1e-7)
    y, _ = _grad(lambda x: x.log_softmax(axis=1), z)
    np.testing.assert_allclose(y, [[0.0, -2e3], [-2e3, 0.0]], rtol=1e-6)


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_is_shift_invariant_far_from_zero(dtype):
    z = np.array([[0.5, -1.0, 2.0]], dtype=dtype)
    g = np.array([[1.0, -2.0, 0.5]], dtype=dtype)
    near, grad_near = _grad(lambda x: x.softmax(axis=1), z, g)
    far, grad_far = _grad(lambda x: x.softmax(axis=1), z + dtype(1e3), g)
    tolerance = 1e-12 if dtype == np.float64 else 1e-4  # z + 1000 rounds in float32
    np.testing.assert_allclose(far, near, rtol=tolerance)
    np.testing.assert_allclose(grad_far, grad_near, rtol=tolerance, atol=tolerance)


# ----------------------------------------------------------------- sigmoid and softplus
def _sigmoid(z):
    e = np.exp(-np.abs(z))  # never overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _sigmoid_derivative(z):
    e = np.exp(-np.abs(z))  # σ'(z) = e^{-|z|} / (1 + e^{-|z|})²
    return e / (1 + e) ** 2


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_and_softplus_at_extreme_inputs(dtype):
    z = np.array([-1e3, -80.0, -20.0, 0.0, 20.0, 80.0, 1e3], dtype=dtype)
    exact = z.astype(np.float64)
    a, grad = _grad(lambda x: x.sigmoid(), z)
    assert a.dtype == grad.dtype == dtype
    np.testing.assert_allclose(a, _sigmoid(exact), atol=1e-7)
    np.testing.assert_allclose(grad, _sigmoid_derivative(exact), atol=1e-7)
    a, grad = _grad(lambda x: x.softplus(), z)
    np.testing.assert_allclose(a, np.maximum(exact, 0) + np.log1p(np.exp(-np.abs(exact))), rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(grad, _sigmoid(exact), atol=1e-7)  # softplus' = σ


# Down to σ(z) at the smallest normal number of each dtype (e^−87 in float32, e^−708 in float64):
# σ(z) is representable there and must keep its relative accuracy, as 1/(1 + e⁻ᶻ) does.
TAILS = {np.float32: [-87.0, -60.0, -30.0, -17.5, -9.0, -3.0, -0.5], np.float64: [-708.0, -300.0, -40.0, -20.0, -3.0, -0.5]}


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_keeps_its_relative_accuracy_in_the_negative_tail(dtype):
    z = np.array(TAILS[dtype], dtype=dtype)
    exact = np.array([math.exp(v) / (1 + math.exp(v)) for v in z.astype(np.float64)])  # e^z/(1+e^z): no cancellation
    a, grad = _grad(lambda x: x.sigmoid(), z)
    ulp = np.finfo(dtype).eps
    np.testing.assert_allclose(a, exact, rtol=8 * ulp, atol=0)
    np.testing.assert_allclose(grad, exact / (1 + np.exp(z.astype(np.float64))), rtol=16 * ulp, atol=0)  # σ(z)σ(−z)
    # and what is built on it: BCE against the label 1 is −log σ(z), whose log PyTorch clamps at −100
    loss, _ = _grad(lambda x: F.binary_cross_entropy(x.sigmoid(), np.ones(z.shape, dtype), reduction="none"), z)
    np.testing.assert_allclose(loss, np.minimum(-np.log(exact), 100), rtol=8 * ulp)


@given(ats.arrays(ats.shapes(max_dims=2), elements=EXTREME), st.integers(0, 2**32 - 1))
def test_sigmoid_gradient_matches_the_closed_form_everywhere(z, seed):
    g = np.random.default_rng(seed).standard_normal(z.shape)
    _, grad = _grad(lambda x: x.sigmoid(), z, g)
    np.testing.assert_allclose(grad, g * _sigmoid_derivative(z), rtol=1e-6, atol=1e-15)


# -------------------------------------------------------------------------- BCE losses
@pytest.mark.parametrize("dtype", FLOATS)
def test_bce_with_logits_at_extreme_logits(dtype):
    z = np.array([1e3, 1e3, -1e3, -1e3], dtype=dtype)
    y = np.array([1.0, 0.0, 1.0, 0.0], dtype=dtype)
    loss, grad = _grad(lambda x: F.binary_cross_entropy_with_logits(x, y, reduction="none"), z)
    np.testing.assert_allclose(loss, [0.0, 1e3, 1e3, 0.0], atol=1e-6)
    # δz = σ(z) − y, divided by n under the mean
    np.testing.assert_allclose(grad, [0.0, 1.0, -1.0, 0.0], atol=1e-7)
    mean, grad = _grad(lambda x: F.binary_cross_entropy_with_logits(x, y), z)
    np.testing.assert_allclose(mean, 500.0, rtol=1e-6)
    np.testing.assert_allclose(grad, [0.0, 0.25, -0.25, 0.0], atol=1e-7)


@given(
    ats.arrays(ats.shapes(max_dims=2), elements=EXTREME).flatmap(
        lambda z: st.tuples(st.just(z), ats.arrays(z.shape, elements=(0.0, 1.0)))
    )
)
def test_bce_with_logits_is_finite_with_the_closed_form_gradient(case):
    z, y = case
    loss, grad = _grad(lambda x: F.binary_cross_entropy_with_logits(x, y, reduction="sum"), z)
    expected = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    np.testing.assert_allclose(loss, expected.sum(), rtol=1e-9, atol=1e-9)
    sigma = np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), 1 - 1 / (1 + np.exp(-np.abs(z))))
    np.testing.assert_allclose(grad, sigma - y, rtol=1e-9, atol=1e-12)


def test_bce_at_tiny_probabilities_matches_the_closed_form():
    p = np.array([1e-8, 1e-6, 1 - 1e-8, 0.3, 1e-8])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.25])
    loss, grad = _grad(lambda x: F.binary_cross_entropy(x, y, reduction="none"), p)
    np.testing.assert_allclose(loss, -(y * np.log(p) + (1 - y) * np.log1p(-p)), rtol=1e-7)
    np.testing.assert_allclose(grad, -y / p + (1 - y) / (1 - p), rtol=1e-6)  # up to ±1e8


@pytest.mark.parametrize("dtype", FLOATS)
def test_bce_at_zero_and_one_is_clamped_and_finite(dtype):
    # As PyTorch: log p is clamped at −100, and p(1 − p) at 1e-12 in the gradient.
    p = np.array([0.0, 1.0, 1e-30, 0.0, 1.0], dtype=dtype)
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0], dtype=dtype)
    loss, grad = _grad(lambda x: F.binary_cross_entropy(x, y, reduction="none"), p)
    assert np.isfinite(loss).all() and np.isfinite(grad).all()
    # −ln p for the p actually stored: 1e-30 rounded to float32 is 1.0000000031710769e-30
    tiny = -math.log(float(p[2]))  # 69.07755278982137 in float64; 69.07755278665029 for float32
    expected_loss = [100.0, 100.0, tiny, 0.0, 0.0]
    np.testing.assert_allclose(loss, expected_loss, rtol=4 * np.finfo(dtype).eps, atol=0)
    np.testing.assert_allclose(grad, [-1e12, 1e12, -1e12, 0.0, 0.0], rtol=1e-6)


# ------------------------------------------------------------------------- log and exp
def test_log_of_tiny_and_huge_values_is_finite_with_gradient_one_over_x():
    x = np.array([1e-300, 1e-30, 1.0, 1e30, 1e300])
    y, grad = _grad(lambda t: t.log(), x)
    np.testing.assert_allclose(y, np.log(x), rtol=1e-15)
    np.testing.assert_allclose(grad, 1 / x, rtol=1e-15)
    assert np.isfinite(grad).all()


@pytest.mark.parametrize("dtype", FLOATS)
def test_exp_of_extreme_finite_outputs_has_the_exact_gradient(dtype):
    top = 709.0 if dtype == np.float64 else 88.0  # the largest e^x below overflow
    x = np.array([-1e3, -50.0, 0.0, top], dtype=dtype)
    y, grad = _grad(lambda t: t.exp(), x)
    assert np.isfinite(y).all() and np.isfinite(grad).all()
    np.testing.assert_array_equal(grad, y)  # δx = δa · eˣ with δa = 1
    np.testing.assert_allclose(y, np.exp(x.astype(np.float64)), rtol=1e-6)


def test_log_softmax_of_probabilities_with_zeros_gives_finite_cross_entropy():
    # A probability target with zeros must not produce 0 · (−inf) = nan.
    z = np.array([[1e3, -1e3, 0.0]])
    target = np.array([[1.0, 0.0, 0.0]])
    loss, grad = _grad(lambda x: F.cross_entropy(x, target), z)
    assert loss == 0.0
    np.testing.assert_allclose(grad, _softmax(z) - target, atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("target", ["labels", "probabilities"])
def test_a_masked_out_class_with_a_logit_of_minus_infinity_counts_for_nothing(dtype, target):
    """Logits of −∞ mask classes out (PyTorch's labels path stays finite): 0 · ln 0 is 0 there, not nan,
    and no RuntimeWarning is raised. Closed form: ℓ = ln Σ over the finite eᶻ − z_label, δz = (p − y)/n."""
    z = np.array([[0.0, -np.inf, 1.0], [2.0, 0.5, -np.inf]], dtype=dtype)
    labels = np.array([0, 1])
    y = labels if target == "labels" else np.eye(3, dtype=dtype)[labels]
    logits = ag.tensor(z, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(logits, y)
        loss.backward()
    finite = np.where(np.isinf(z), 0.0, np.exp(z.astype(np.float64)))
    p = finite / finite.sum(axis=1, keepdims=True)
    expected = np.mean(np.log(finite.sum(axis=1)) - z.astype(np.float64)[[0, 1], labels])
    tolerance = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(float(loss.data), expected, rtol=tolerance)
    np.testing.assert_allclose(logits.grad.data, (p - np.eye(3)[labels]) / 2, rtol=tolerance, atol=tolerance)
