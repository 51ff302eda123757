"""The engine reproduces the post's hand-derived backpropagation, to float64 round-off.

Network: a⁰ = x (n × 56), z¹ = a⁰ W¹ + b¹, a¹ = σ(z¹), ŷ = z² = a¹ W² + b² (linear output),
C = 1/(2n) Σ ‖ŷ − y‖². Hand-derived (rows are examples, so the transposes sit on the other side):
    δ² = (ŷ − y) / n
    δ¹ = δ² (W²)ᵀ ⊙ σ'(z¹),  σ'(z¹) = a¹ (1 − a¹)
    ∂C/∂W² = (a¹)ᵀ δ²,  ∂C/∂b² = Σ_rows δ²
    ∂C/∂W¹ = (a⁰)ᵀ δ¹,  ∂C/∂b¹ = Σ_rows δ¹
"""

from __future__ import annotations

import numpy as np

import autograd_nn as ag


def _hand_derived(x, y, W1, b1, W2, b2):
    n = len(x)
    z1 = x @ W1 + b1
    a1 = 1 / (1 + np.exp(-z1))
    y_hat = a1 @ W2 + b2
    delta2 = (y_hat - y) / n
    delta1 = (delta2 @ W2.T) * a1 * (1 - a1)
    return {
        "W1": x.T @ delta1,
        "b1": delta1.sum(axis=0),
        "W2": a1.T @ delta2,
        "b2": delta2.sum(axis=0),
        "delta1": delta1,
        "delta2": delta2,
        "cost": np.sum((y_hat - y) ** 2) / (2 * n),
    }


def test_engine_matches_the_post_hand_derived_gradients(rng):
    n, hidden = 128, 20
    x = rng.standard_normal((n, 56))
    y = rng.standard_normal((n, 1))
    weights = {
        "W1": rng.normal(0, 56**-0.5, (56, hidden)),
        "b1": np.zeros(hidden),
        "W2": rng.normal(0, hidden**-0.5, (hidden, 1)),
        "b2": np.zeros(1),
    }
    params = {k: ag.tensor(v, requires_grad=True) for k, v in weights.items()}
    z1 = ag.tensor(x) @ params["W1"] + params["b1"]
    z1.retain_grad()
    a1 = z1.sigmoid()
    y_hat = a1 @ params["W2"] + params["b2"]
    y_hat.retain_grad()
    cost = ((y_hat - y) ** 2).sum() / (2 * n)
    cost.backward()

    expected = _hand_derived(x, y, **weights)
    np.testing.assert_allclose(cost.item(), expected["cost"], rtol=1e-13)
    for name in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(params[name].grad.data, expected[name], rtol=1e-12, atol=1e-15, err_msg=name)
    # The δs themselves: δ^l = ∂C/∂z^l.
    np.testing.assert_allclose(y_hat.grad.data, expected["delta2"], rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(z1.grad.data, expected["delta1"], rtol=1e-12, atol=1e-16)


def test_one_sgd_step_matches_the_post_update(rng):
    n, hidden, lr = 32, 8, 0.5
    x = rng.standard_normal((n, 56))
    y = rng.standard_normal((n, 1))
    weights = {
        "W1": rng.normal(0, 56**-0.5, (56, hidden)),
        "b1": rng.normal(0, 0.1, hidden),
        "W2": rng.normal(0, hidden**-0.5, (hidden, 1)),
        "b2": rng.normal(0, 0.1, 1),
    }
    params = {k: ag.tensor(v, requires_grad=True) for k, v in weights.items()}
    y_hat = ag.sigmoid(ag.tensor(x) @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
    (0.5 * ag.functional.mse_loss(y_hat, y)).backward()  # ½·mean = the post's 1/(2n) Σ
    with ag.no_grad():
        for p in params.values():
            p.data -= lr * p.grad.data
    expected = _hand_derived(x, y, **weights)
    for name, w in weights.items():
        np.testing.assert_allclose(params[name].data, w - lr * expected[name], rtol=1e-12, atol=1e-15)
