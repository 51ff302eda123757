"""``explain_backward`` against the δ recursion derived by hand for the post's network."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import viz

N, HIDDEN = 128, 200


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def post_network(convention: str, cost: str, seed: int = 0):
    """56 → HIDDEN (sigmoid) → 1 on random data, from core Tensors, and the δs by hand."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, 56))
    y = rng.normal(size=(N, 1))
    W1 = rng.normal(scale=0.1, size=(56, HIDDEN))  # stored in×out, as in the post's numpy code
    b1 = rng.normal(scale=0.1, size=HIDDEN)
    W2 = rng.normal(scale=0.1, size=(HIDDEN, 1))
    b2 = rng.normal(scale=0.1, size=1)
    if convention == "torch":  # stored out×in, z = a Wᵀ + b (nn.Linear)
        p = {k: ag.tensor(v, requires_grad=True) for k, v in dict(W1=W1.T, b1=b1, W2=W2.T, b2=b2).items()}
        a1 = ag.sigmoid(ag.tensor(X) @ p["W1"].T + p["b1"])
        y_hat = a1 @ p["W2"].T + p["b2"]
    else:  # z = a W + b
        p = {k: ag.tensor(v, requires_grad=True) for k, v in dict(W1=W1, b1=b1, W2=W2, b2=b2).items()}
        a1 = ag.sigmoid(ag.tensor(X) @ p["W1"] + p["b1"])
        y_hat = a1 @ p["W2"] + p["b2"]
    if cost == "mse":
        loss = ag.functional.mse_loss(y_hat, y)
        scale = 2 / N  # C = mean((ŷ − y)²)
    else:
        loss = ((y_hat - y) ** 2).sum() / (2 * N)  # the post's C = 1/(2n) Σ(ŷ − y)²
        scale = 1 / N
    # The hand derivation, in numpy: δ² = ∂C/∂z², δ¹ = δ² W²ᵀ ⊙ σ'(z¹), ∂C/∂W = aᵀ δ.
    z1 = X @ W1 + b1
    a1_np = sigmoid(z1)
    out = a1_np @ W2 + b2
    d2 = scale * (out - y)
    d1 = (d2 @ W2.T) * a1_np * (1 - a1_np)
    hand = {"δ²": d2, "δ¹": d1, "W2": a1_np.T @ d2, "b2": d2.sum(0), "W1": X.T @ d1, "b1": d1.sum(0)}
    if convention == "torch":
        hand["W2"], hand["W1"] = hand["W2"].T, hand["W1"].T
    return loss, p, hand


@pytest.mark.parametrize("convention", ["torch", "post"])
@pytest.mark.parametrize("cost", ["mse", "post"])
def test_recursion_values_equal_the_hand_derived_deltas(convention, cost):
    loss, params, hand = post_network(convention, cost)
    e = viz.explain_backward(loss)
    np.testing.assert_allclose(e.step("δ²").value, hand["δ²"], rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(e.step("δ¹").value, hand["δ¹"], rtol=1e-10, atol=1e-15)
    for name, symbol in [("W1", "∂C/∂W¹"), ("b1", "∂C/∂b¹"), ("W2", "∂C/∂W²"), ("b2", "∂C/∂b²")]:
        np.testing.assert_allclose(e.step(symbol).value, hand[name], rtol=1e-10, atol=1e-15)
        assert e.step(symbol).shape == params[name].shape
    assert e.step("δ¹").shape == (N, HIDDEN) and e.step("δ²").shape == (N, 1)
    assert all(p.grad is None for p in params.values())


def test_formulas_follow_the_weight_convention_found_in_the_graph():
    torch_style = viz.explain_backward(post_network("torch", "mse")[0])
    assert str(torch_style.step("δ²")).startswith("δ² (128×1) = 2(ŷ − y)/n")
    assert str(torch_style.step("δ¹")).startswith("δ¹ (128×200) = (δ² · W²) ⊙ σ'(z¹)")
    assert str(torch_style.step("∂C/∂W¹")).startswith("∂C/∂W¹ (200×56) = (δ¹)ᵀ · a⁰")
    assert str(torch_style.step("∂C/∂b¹")).startswith("∂C/∂b¹ (200) = Σ over the batch of δ¹")
    post_style = viz.explain_backward(post_network("post", "post")[0])
    assert str(post_style.step("δ²")).startswith("δ² (128×1) = (ŷ − y)/n")
    assert str(post_style.step("δ¹")).startswith("δ¹ (128×200) = (δ² · (W²)ᵀ) ⊙ σ'(z¹)")
    assert str(post_style.step("∂C/∂W¹")).startswith("∂C/∂W¹ (56×200) = (a⁰)ᵀ · δ¹")
    assert "C (scalar) = 1/(2n) Σ(ŷ − y)²" in str(post_style)
    assert "z¹ (128×200) = a⁰ · W¹ + b¹" in str(post_style)


def test_printed_magnitudes_are_the_hand_computed_rms():
    loss, params, hand = post_network("torch", "mse")
    text = repr(viz.explain_backward(loss))
    for symbol, key in [("δ²", "δ²"), ("δ¹", "δ¹"), ("∂C/∂W¹", "W1"), ("∂C/∂b¹", "b1"), ("∂C/∂W²", "W2")]:
        line = next(line for line in text.splitlines() if line.strip().startswith(symbol + " "))
        printed = float(re.search(r"RMS=(\S+)", line).group(1))
        assert printed == pytest.approx(np.sqrt(np.mean(hand[key] ** 2)), rel=1e-3), line
    assert text.index("δ²") < text.index("δ¹")  # the recursion runs from the output down


def test_deeper_networks_and_other_activations_are_found_by_walking_the_graph():
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.normal(size=(5, 3)))
    Ws = [ag.tensor(rng.normal(size=s), requires_grad=True) for s in [(4, 3), (4, 4), (2, 4)]]
    h = ag.relu(x @ Ws[0].T)
    h = ag.tanh(h @ Ws[1].T)
    out = ag.sigmoid(h @ Ws[2].T)
    e = viz.explain_backward(ag.functional.mse_loss(out, np.zeros((5, 2))))
    assert [s.symbol for s in e.steps] == ["∂C/∂ŷ", "δ³", "∂C/∂W³", "δ²", "∂C/∂W²", "δ¹", "∂C/∂W¹"]
    assert e.step("δ³").formula == "∂C/∂ŷ ⊙ σ'(z³)"
    assert e.step("δ²").formula == "(δ³ · W³) ⊙ tanh'(z²)"
    assert e.step("δ¹").formula == "(δ² · W²) ⊙ relu'(z¹)"
    # the engine's δ¹ against the chain rule by hand
    a1 = np.maximum(x.data @ Ws[0].data.T, 0)
    a2 = np.tanh(a1 @ Ws[1].data.T)
    a3 = 1 / (1 + np.exp(-(a2 @ Ws[2].data.T)))
    d3 = 2 * a3 / a3.size * a3 * (1 - a3)
    d2 = (d3 @ Ws[2].data) * (1 - a2**2)
    d1 = (d2 @ Ws[1].data) * (x.data @ Ws[0].data.T > 0)
    np.testing.assert_allclose(e.step("δ¹").value, d1, rtol=1e-10, atol=1e-15)


def test_graphs_without_layers_fall_back_to_one_line_per_op():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    e = viz.explain_backward((x * x).exp().sum())
    assert [s.symbol for s in e.steps] == ["∂C/∂C", "∂C/∂h₂", "∂C/∂h₁", "∂C/∂w₁"]
    assert [s.formula for s in e.forward] == ["w₁ ⊙ w₁", "eᶻ, with z = h₁", "Σₐₓᵢₛ h₂"]
    assert [s.ops for s in e.forward] == [("Mul",), ("Exp",), ("Sum",)]
    assert e.step("∂C/∂h₁").formula == "∂C/∂h₂ · h₂"  # Exp's declared δz = δa · a
    assert e.step("∂C/∂w₁").formula == "∂C/∂h₁ ⊙ w₁ + ∂C/∂h₁ ⊙ w₁"  # Mul read w₁ twice
    np.testing.assert_allclose(e.step("∂C/∂h₁").value, np.exp([1.0, 4.0]))
    np.testing.assert_allclose(e.step("∂C/∂w₁").value, 2 * x.data * np.exp(x.data**2))  # d/dx e^(x²)


def test_a_freed_graph_cannot_be_explained():
    loss = post_network("torch", "mse")[0]
    loss.backward()
    with pytest.raises(RuntimeError, match="freed by an earlier backward"):
        viz.explain_backward(loss)


def test_explains_nn_sequential_with_fused_linear_and_mse():
    """nn.Linear and mse_loss record one fused node each; the recursion is still read off."""
    import autograd_nn.functional as F
    from autograd_nn import nn

    rng = np.random.default_rng(3)
    model = nn.Sequential(nn.Linear(56, 20), nn.Sigmoid(), nn.Linear(20, 1))
    x, y = ag.tensor(rng.standard_normal((32, 56))), rng.standard_normal((32, 1))
    loss = F.mse_loss(model(x), y)
    explanation = viz.explain_backward(loss)
    W1, b1, W2, b2 = (p.data for p in model.parameters())
    a1 = 1 / (1 + np.exp(-(x.data @ W1.T + b1)))
    delta2 = 2 * (a1 @ W2.T + b2 - y) / 32
    delta1 = (delta2 @ W2) * a1 * (1 - a1)
    assert explanation.step("δ²").formula == "2(ŷ − y)/n"
    assert explanation.step("δ¹").formula == "(δ² · W²) ⊙ σ'(z¹)"
    np.testing.assert_allclose(explanation.step("δ²").value, delta2, rtol=1e-12)
    np.testing.assert_allclose(explanation.step("δ¹").value, delta1, rtol=1e-10)
    np.testing.assert_allclose(explanation.step("∂C/∂W¹").value, delta1.T @ x.data, rtol=1e-10)


def test_an_explanation_holds_the_forward_recap_the_steps_and_notes():
    x = ag.tensor([[1.0, 2.0]])
    W = ag.tensor([[0.5, -1.0]], requires_grad=True)
    b = ag.tensor([0.1], requires_grad=True)
    loss = ag.functional.mse_loss(ag.sigmoid(x @ W.T + b), np.zeros((1, 1)))
    e = viz.explain_backward(loss)
    assert isinstance(e, viz.Explanation) and all(isinstance(s, viz.Step) for s in e.forward + e.steps)
    assert [s.symbol for s in e.forward] == ["a⁰", "z¹", "a¹", "ŷ", "C"]
    assert [s.symbol for s in e.steps] == ["∂C/∂ŷ", "δ¹", "∂C/∂W¹", "∂C/∂b¹"]
    assert e.notes == []
    a = 1 / (1 + np.exp(-(0.5 - 2.0 + 0.1)))  # σ(z¹), z¹ = 1·0.5 + 2·(−1) + 0.1
    delta = e.step("δ¹")
    assert delta.symbol == "δ¹" and delta.formula == "∂C/∂ŷ ⊙ σ'(z¹)" and delta.shape == (1, 1)
    np.testing.assert_allclose(delta.value, [[2 * a * a * (1 - a)]], rtol=1e-12)  # C = a², δ¹ = 2a·σ'
    np.testing.assert_allclose(e.step("∂C/∂W¹").value, 2 * a * a * (1 - a) * x.data, rtol=1e-12)
    assert str(e).startswith("forward:\n  a⁰ (1×2) = x (the input)\n")
    with pytest.raises(KeyError, match=r"no step 'δ⁹'; steps are \['∂C/∂ŷ', 'δ¹', '∂C/∂W¹', '∂C/∂b¹'\]"):
        e.step("δ⁹")


def test_a_graph_without_layers_says_so_in_a_note():
    w = ag.tensor([1.0, -2.0], requires_grad=True)
    e = viz.explain_backward((w * w).sum())
    assert e.notes[-1] == "no layer was recognised: one line per op, each δ the VJP its consumers declare"
    assert "  note: no layer was recognised" in str(e)
    step = viz.Step("δ", "by hand", np.array([1.0, 2.0]), (2,))
    assert str(step).startswith("δ (2) = by hand") and str(step).endswith("[1, 2]")
