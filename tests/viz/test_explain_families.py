"""``explain_backward`` is faithful on every family of model: each printed value is the δ
the engine computes for that node (asked of ``autograd_nn.grad``, not of viz), every
recorded op is named by exactly one line, and the layers found are the ones built.

Add a family by writing a builder that returns the loss (and optionally the PyTorch
twin) and listing it in ``FAMILIES``: the faithfulness checks then run on it too.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn import nn, viz
from autograd_nn.graph import Node
from autograd_nn.registry import register_op
from autograd_nn.viz._format import values_text


def mlp_with_dropout():
    nn.init.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5, generator=np.random.default_rng(7)), nn.Linear(8, 1))
    x, y = np.random.default_rng(1).normal(size=(5, 4)), np.random.default_rng(2).normal(size=(5, 1))
    return F.mse_loss(model(x), y), {"model": model, "x": x, "y": y}


class Residual(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x):
        return x + F.relu(self.fc(x))


def residual_block():
    nn.init.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), Residual(4), nn.Linear(4, 1))
    x, y = np.random.default_rng(3).normal(size=(6, 3)), np.random.default_rng(4).normal(size=(6, 1))
    return F.mse_loss(model(x), y), {"model": model, "x": x, "y": y}


def attention_block():
    rng = np.random.default_rng(5)
    tokens = ag.tensor(rng.normal(size=(6, 4)))
    W = {k: ag.tensor(rng.normal(scale=0.5, size=(4, 4)), requires_grad=True) for k in ("q", "k", "v", "o")}
    q, k, v = tokens @ W["q"], tokens @ W["k"], tokens @ W["v"]
    attended = ag.softmax(q @ k.T / np.sqrt(4.0), axis=-1) @ v
    target = rng.normal(size=(6, 4))
    return F.mse_loss(attended @ W["o"], target), {"tokens": tokens.data, "W": W, "target": target}


def attention_with_dropout():
    """Attention as nn.MultiheadAttention trains it: dropout on the weights, between softmax and v."""
    rng = np.random.default_rng(14)
    tokens = ag.tensor(rng.normal(size=(6, 4)))
    W = {k: ag.tensor(rng.normal(scale=0.5, size=(4, 4)), requires_grad=True) for k in "qkv"}
    q, k, v = tokens @ W["q"], tokens @ W["k"], tokens @ W["v"]
    weights = F.dropout(ag.softmax(q @ k.T / 2.0, axis=-1), 0.25, rng=3)
    return F.mse_loss(weights @ v, np.zeros((6, 4))), {"tokens": tokens.data, "W": W}


def hand_built():
    a = ag.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], requires_grad=True)
    b = ag.tensor([0.3, -0.2, 0.1], requires_grad=True)
    h = (a * b).sum(axis=0) + ag.tensor(1.0)
    return (h.tanh() * h.sin()).mean() + (a.exp() / 3.0).sum(), {"a": a, "b": b}


def classifier():
    nn.init.manual_seed(2)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
    x, labels = np.random.default_rng(6).normal(size=(8, 5)), np.array([0, 1, 2, 2, 1, 0, 1, 2])
    return F.cross_entropy(model(x), labels), {"model": model, "x": x, "labels": labels}


def logistic():
    nn.init.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 1))
    x, y = np.random.default_rng(7).normal(size=(9, 3)), (np.arange(9) % 2).reshape(9, 1).astype(float)
    return F.binary_cross_entropy_with_logits(model(x), y), {"model": model, "x": x, "y": y}


def shared_intermediate():
    """A product used twice (a layer's matmul read by the bias add and by a penalty): no block
    may hide it, since its δ has two terms."""
    rng = np.random.default_rng(10)
    W, b = ag.tensor(rng.normal(size=(3, 2)), requires_grad=True), ag.tensor(rng.normal(size=2), requires_grad=True)
    product = ag.tensor(rng.normal(size=(4, 3))) @ W
    return (product + b).tanh().sum() + 0.1 * (product * product).sum(), {"W": W, "b": b}


def lstm_step():
    """One step of an LSTM cell written with primitives (until nn's recurrent layers land)."""
    rng = np.random.default_rng(8)
    n, d, h = 3, 4, 5
    W_ih = ag.tensor(rng.normal(scale=0.4, size=(4 * h, d)), requires_grad=True)
    W_hh = ag.tensor(rng.normal(scale=0.4, size=(4 * h, h)), requires_grad=True)
    bias = ag.tensor(np.zeros(4 * h), requires_grad=True)
    x, h0, c0 = (ag.tensor(rng.normal(size=s)) for s in ((n, d), (n, h), (n, h)))
    gates = x @ W_ih.T + h0 @ W_hh.T + bias
    i, f, g, o = gates[:, :h].sigmoid(), gates[:, h : 2 * h].sigmoid(), gates[:, 2 * h : 3 * h].tanh(), gates[:, 3 * h :].sigmoid()
    c1 = f * c0 + i * g
    h1 = o * c1.tanh()
    return F.mse_loss(h1, np.zeros((n, h))), {"W_ih": W_ih, "W_hh": W_hh}


class Stretch(ag.Function):
    """z = x ⋆ w + b;  δx = δz ⋆ᵀ w,  δw = Σ x ⋆ δz,  δb = Σ δz

    A stand-in for a layer op declared ``role="layer"`` (as a convolution will be): an
    elementwise scale and shift of each channel, its formula written the way a conv's is.
    """

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x * w + b

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        return grad * w, (grad * x).sum(axis=0), grad.sum(axis=0)


register_op(reference=lambda x, w, b: x * w + b, shapes="same", role="layer")(Stretch)


def declared_layer():
    """A network whose first layer is an op that declares ``role="layer"`` (the opt-in a
    convolution, a norm or an embedding uses): named, numbered and explained by its formula."""
    rng = np.random.default_rng(9)
    w, b = ag.tensor(rng.normal(size=4), requires_grad=True), ag.tensor(rng.normal(size=4), requires_grad=True)
    W2 = ag.tensor(rng.normal(size=(1, 4)), requires_grad=True)
    hidden = Stretch.apply(ag.tensor(rng.normal(size=(6, 4))), w, b).tanh()
    return F.mse_loss(hidden @ W2.T, np.zeros((6, 1))), {"w": w, "b": b, "W2": W2}


class RunningSums(ag.Function):
    """[sₜ; pₜ] for t = 1…T: sₜ = sₜ₋₁ + xₜ, pₜ = sₜ ⊙ w;  δ by the running sums taken backwards (δx = δs summed from t on)

    A stand-in for a recurrent op (an LSTM's ``[hₜ; cₜ]``): its formula names no input as
    a plain variable and has a ``;`` inside brackets. Not registered: the text comes from
    the docstring, as it does for any user's Function.
    """

    @staticmethod
    def forward(ctx, x, w):
        s = np.cumsum(x, axis=0)
        ctx.save_for_backward(s, w)
        return np.stack([s, s * w])

    @staticmethod
    def backward(ctx, grad):
        s, w = ctx.saved_tensors
        g = grad[0] + grad[1] * w
        return np.cumsum(g[::-1], axis=0)[::-1], (grad[1] * s).sum(axis=0)


class PairMax(ag.Function):
    """z = the larger of each pair of rows;  δx = δz routed to the larger row of each pair"""

    @staticmethod
    def forward(ctx, x):
        pairs = x.reshape(x.shape[0] // 2, 2, *x.shape[1:])
        ctx.first, ctx.shape = pairs[:, 0] >= pairs[:, 1], x.shape
        return np.where(ctx.first, pairs[:, 0], pairs[:, 1])

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros((ctx.shape[0] // 2, 2) + ctx.shape[1:])
        out[:, 0], out[:, 1] = np.where(ctx.first, grad, 0), np.where(ctx.first, 0, grad)
        return out.reshape(ctx.shape)


def user_functions():
    """Two Functions of the user's own (a scan over time, a pooling) and some indexing."""
    rng = np.random.default_rng(11)
    x, w = ag.tensor(rng.normal(size=(4, 3)), requires_grad=True), ag.tensor(rng.normal(size=3), requires_grad=True)
    states = RunningSums.apply(x, w)
    return (PairMax.apply(states[1].reshape(4, 3)) ** 2).mean(), {"inputs": x, "scale": w}


FAMILIES = {
    "mlp-dropout": mlp_with_dropout, "residual": residual_block, "attention": attention_block, "hand-built": hand_built,
    "attention-dropout": attention_with_dropout,
    "cross-entropy": classifier, "logistic": logistic, "lstm-step": lstm_step, "declared-layer": declared_layer,
    "shared-intermediate": shared_intermediate, "user-functions": user_functions,
}  # fmt: skip


def engine_delta(loss, edge):
    """δ of ``edge`` asked of ``autograd_nn.grad`` (the engine's public route, not viz's sweep)."""
    target = edge if type(edge) is not Node else ag.Tensor._wrap(np.zeros(edge.shape, edge.dtype), edge)
    (delta,) = ag.grad(loss, [target], retain_graph=True)
    return delta.data


def recorded_graph(loss):
    """Every node the loss was recorded from and every leaf that requires grad, found by
    walking ``grad_fn`` and ``parents`` here (iteratively), not by viz's own walk. A loss
    that is itself a leaf is its graph's one leaf."""
    if loss.grad_fn is None:
        return [], [loss]
    nodes, leaves, seen = [], [], set()
    stack = [loss.grad_fn]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        for parent in node.parents:
            if type(parent) is Node:
                stack.append(parent)
            elif parent is not None and all(parent is not leaf for leaf in leaves):
                leaves.append(parent)
    return nodes, leaves


def test_the_reference_walk_finds_what_the_mlp_was_built_from():
    """``recorded_graph`` against the model's known structure: Linear, ReLU, dropout's mask
    product, Linear, MSE; its leaves are the four parameters (x and y need no grad)."""
    loss, made = mlp_with_dropout()
    nodes, leaves = recorded_graph(loss)
    assert Counter(node.name for node in nodes) == Counter(["Linear", "Relu", "Mul", "Linear", "MseLoss"])
    assert sorted(map(id, leaves)) == sorted(map(id, made["model"].parameters()))


@pytest.mark.parametrize("family", FAMILIES)
def test_every_printed_value_is_the_engines_delta(family):
    loss, _ = FAMILIES[family]()
    e = viz.explain_backward(loss)
    text = repr(e)
    assert isinstance(e, viz.Explanation) and all(isinstance(s, viz.Step) for s in e.steps + e.forward)
    assert e.steps and all(s.value is not None and s.edge is not None for s in e.steps)
    for step in e.steps:
        expected = engine_delta(loss, step.edge)
        np.testing.assert_allclose(step.value, expected, rtol=1e-12, atol=1e-15, err_msg=str(step))
        assert step.shape == expected.shape
        line = next(line for line in text.splitlines() if line.strip().startswith(f"{step.symbol} ("))
        assert line.endswith(values_text(expected)), line  # what is printed is the engine's δ


@pytest.mark.parametrize("family", FAMILIES)
def test_every_recorded_op_is_named_by_exactly_one_forward_line(family):
    loss, _ = FAMILIES[family]()
    e = viz.explain_backward(loss)
    nodes, _ = recorded_graph(loss)
    named = Counter(op for step in e.forward for op in step.ops)
    assert named == Counter(node.name for node in nodes)
    assert "?" not in repr(e)  # every tensor a line mentions has a name
    covered = [id(n) for block in e.blocks for n in block.nodes]
    assert sorted(covered) == sorted(id(n) for n in nodes)  # each node in one block
    for step in e.forward:
        assert f"[{', '.join(step.ops)}]" in str(step) if step.ops else True


@pytest.mark.parametrize("family", FAMILIES)
def test_every_tensor_that_carries_a_delta_gets_a_line(family):
    """Leaves that require grad and the outputs of blocks all have a backward line, except an
    activation folded into the next layer's δ (the post's δˡ = (δˡ⁺¹ Wˡ⁺¹) ⊙ f'(zˡ))."""
    loss, _ = FAMILIES[family]()
    e = viz.explain_backward(loss)
    explained = {id(s.edge) for s in e.steps}
    _, leaves = recorded_graph(loss)
    assert {id(leaf) for leaf in leaves} <= explained
    for block in e.blocks:
        if block.kind == "loss" or id(block.out) in explained:
            continue
        assert block.kind == "activation", block
        below = next(s for s in e.steps if s.edge is block.inputs[0])
        assert "'(" in below.formula  # folded into the δ of the layer below: ⊙ f'(z)


def test_dropout_appears_by_name_and_the_hidden_layer_is_not_the_input():
    loss, made = mlp_with_dropout()
    e = viz.explain_backward(loss, params=made["model"])
    forward = {s.symbol: s for s in e.forward}
    assert forward["a⁰"].shape == (5, 4) and forward["a⁰"].formula == "x (the input)"  # the input, not a¹
    assert [s.symbol for s in e.forward] == ["a⁰", "z¹", "a¹", "h₁", "z²", "ŷ", "C"]
    assert re.fullmatch(r"a¹ ⊙ m, m ∈ \{0, 2\}: dropout, p = 0\.5 \(\d+ of 40 zeroed\)", forward["h₁"].formula)
    assert e.step("∂C/∂a¹").formula == "∂C/∂h₁ ⊙ m" and e.step("δ¹").formula == "∂C/∂a¹ ⊙ relu'(z¹)"
    assert e.step("∂C/∂W²").formula == "(δ²)ᵀ · h₁"  # layer 2 reads the dropped-out h₁
    assert e.step("∂C/∂W²").note == "3.weight" and "(δ²)ᵀ · h₁ [3.weight]" in str(e.step("∂C/∂W²"))
    # by hand: the mask Dropout drew from its generator, δ through it and through ReLU
    model, x, y = made["model"], made["x"], made["y"]
    W1, b1, W2, b2 = (p.data for p in model.parameters())
    mask = (np.random.default_rng(7).random((5, 8)) >= 0.5) * 2.0
    z1 = x @ W1.T + b1
    h = np.maximum(z1, 0) * mask
    d2 = 2 * (h @ W2.T + b2 - y) / 5
    np.testing.assert_allclose(e.step("δ¹").value, (d2 @ W2) * mask * (z1 > 0), rtol=1e-12)


def test_a_residual_block_keeps_its_skip_connection():
    loss, made = residual_block()
    e = viz.explain_backward(loss)
    forward = {s.symbol: s.formula for s in e.forward}
    assert forward["h₁"] == "z¹ + a²: residual, skip connection from z¹"
    assert forward["ŷ"] == "z³" and forward["z³"] == "h₁ · (W³)ᵀ + b³"
    assert e.step("δ¹").formula == "δ² · W² + ∂C/∂h₁ (the skip)"  # both paths back to z¹
    torch = pytest.importorskip("torch")
    model, x, y = made["model"], made["x"], made["y"]
    W1, b1, W2, b2, W3, b3 = (torch.tensor(p.data, requires_grad=True) for p in model.parameters())
    z1 = torch.tensor(x) @ W1.T + b1
    z1.retain_grad()
    h = z1 + torch.relu(z1 @ W2.T + b2)
    torch.nn.functional.mse_loss(h @ W3.T + b3, torch.tensor(y)).backward()
    np.testing.assert_allclose(e.step("δ¹").value, z1.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(e.step("∂C/∂W²").value, W2.grad.numpy(), rtol=1e-10)


def test_attention_from_primitives_is_named_and_its_deltas_match_pytorch():
    loss, made = attention_block()
    e = viz.explain_backward(loss)
    forward = {s.symbol: s for s in e.forward}
    assert forward["h₁"].formula == "softmax(z¹ (z²)ᵀ/√d) z³: attention, d = 4"
    assert forward["h₁"].ops == ("Transpose", "Matmul", "Div", "Softmax", "Matmul")
    assert e.step("δ³").formula == "P₁ᵀ · ∂C/∂h₁"
    assert e.step("δ²").formula == "(∂C/∂S₁)ᵀ · z¹/√d" and e.step("δ¹").formula == "∂C/∂S₁ · z²/√d"
    torch = pytest.importorskip("torch")
    W = {k: torch.tensor(t.data, requires_grad=True) for k, t in made["W"].items()}
    tokens = torch.tensor(made["tokens"])
    q, k, v = tokens @ W["q"], tokens @ W["k"], tokens @ W["v"]
    scores = q @ k.T / 2.0
    scores.retain_grad()
    out = torch.softmax(scores, dim=-1) @ v
    torch.nn.functional.mse_loss(out @ W["o"], torch.tensor(made["target"])).backward()
    np.testing.assert_allclose(e.step("∂C/∂S₁").value, scores.grad.numpy(), rtol=1e-10)
    for name, symbol in [("q", "∂C/∂W¹"), ("k", "∂C/∂W²"), ("v", "∂C/∂W³")]:
        np.testing.assert_allclose(e.step(symbol).value, W[name].grad.numpy(), rtol=1e-10)


def test_a_hand_built_graph_gets_one_declared_line_per_op():
    loss, made = hand_built()
    e = viz.explain_backward(loss, params={"a": made["a"], "b": made["b"]})
    forward = [(s.symbol, s.formula) for s in e.forward]
    assert forward[:3] == [("h₁", "a ⊙ b"), ("h₂", "Σₐₓᵢₛ h₁"), ("h₃", "h₂ + c₁")]  # Add keeps no constant
    assert ("h₄", "tanh(h₃)") in forward and ("h₅", "sin h₃") in forward
    assert e.step("∂C/∂h₃").formula == "∂C/∂h₄ ⊙ tanh'(h₃) + ∂C/∂h₅ · cos h₃"  # tanh and sin both read h₃
    assert forward[-1] == ("C", "h₇ + h₁₀")  # a sum of two branches that share nothing is no residual
    b_line = e.step("∂C/∂b").formula
    assert b_line == "∂C/∂h₁ ⊙ a, summed from 2×3 to 3"  # the engine's broadcast sum, said
    a, b = made["a"].data, made["b"].data
    h = (a * b).sum(axis=0) + 1
    dh = (np.tanh(h) * np.cos(h) + (1 - np.tanh(h) ** 2) * np.sin(h)) / 3
    np.testing.assert_allclose(e.step("∂C/∂a").value, dh * b + np.exp(a) / 3, rtol=1e-12)


@pytest.mark.parametrize("spelling", ["cross_entropy", "primitives"])
def test_softmax_cross_entropy_and_logistic_losses_are_recognised(spelling):
    loss, made = classifier()
    if spelling == "primitives":  # the same cost written out: −mean Σₖ yₖ ln softmax(ŷ)ₖ
        onehot = np.eye(3)[made["labels"]]
        loss = (-(made["model"](made["x"]).log_softmax(axis=1) * onehot).sum(axis=1)).mean()
    e = viz.explain_backward(loss)
    assert e.forward[-1].formula.startswith("mean(−Σₖ yₖ ln softmax(ŷ)ₖ) = ")
    recorded = ("SoftmaxCrossEntropyLabels",) if spelling == "cross_entropy" else ("LogSoftmax", "Mul", "Sum", "Neg", "Mean")
    assert e.forward[-1].ops == recorded
    assert e.step("δ²").formula == "(softmax(ŷ) − y)/n"
    z = e.step("δ²").edge
    logits = engine_free_logits(made)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(e.step("δ²").value, (p - np.eye(3)[made["labels"]]) / 8, rtol=1e-10)
    assert z.shape == (8, 3)
    loss, made = logistic()
    e = viz.explain_backward(loss)
    assert e.step("δ¹").formula == "(σ(ŷ) − y)/n"
    W, b = (p.data for p in made["model"].parameters())
    s = 1 / (1 + np.exp(-(made["x"] @ W.T + b)))
    np.testing.assert_allclose(e.step("δ¹").value, (s - made["y"]) / 9, rtol=1e-10)


def engine_free_logits(made):
    model, x = made["model"], made["x"]
    W1, b1, W2, b2 = (p.data for p in model.parameters())
    return np.tanh(x @ W1.T + b1) @ W2.T + b2


def test_the_explanation_is_returned_not_printed(capsys):
    loss, _ = mlp_with_dropout()
    e = viz.explain_backward(loss)
    assert capsys.readouterr().out == ""  # a REPL shows the repr once; nothing is printed twice
    assert repr(e) == str(e) and repr(e).startswith("forward:\n  a⁰ (5×4) = x (the input)")
    print(e)
    assert capsys.readouterr().out == str(e) + "\n"


def test_explaining_changes_nothing():
    loss, made = mlp_with_dropout()
    viz.explain_backward(loss)
    assert all(p.grad is None for p in made["model"].parameters())
    loss.backward()  # the graph is still whole
    assert all(p.grad is not None for p in made["model"].parameters())


def test_a_layer_op_that_declares_its_role_is_numbered_and_explained_by_its_own_formula():
    """How a new layer opts in (docs/visualising.md): ``role="layer"`` and its docstring formula."""
    loss, made = declared_layer()
    e = viz.explain_backward(loss)
    forward = {s.symbol: s for s in e.forward}
    assert forward["z¹"].formula == "a⁰ ⋆ W¹ + b¹" and forward["z¹"].ops == ("Stretch",)
    assert forward["a¹"].formula == "tanh(z¹)" and forward["z²"].formula == "a¹ · (W²)ᵀ"
    assert e.step("∂C/∂W¹").formula == "Σ a⁰ ⋆ δ¹" and e.step("∂C/∂b¹").formula == "Σ δ¹"
    assert e.step("δ¹").formula == "(δ² · W²) ⊙ tanh'(z¹)"
    picture = viz.draw_model(lambda x: x, np.zeros(1)).source  # any callable model draws
    assert "forward pass" in picture


def test_an_lstm_step_from_primitives_gets_a_line_for_each_gate():
    loss, made = lstm_step()
    e = viz.explain_backward(loss, params=made)
    ops = [op for s in e.forward for op in s.ops]
    assert ops.count("Sigmoid") == 3 and ops.count("Tanh") == 2 and ops.count("GetItem") == 4
    assert e.step("∂C/∂W¹").note == "W_ih" and e.step("∂C/∂W²").note == "W_hh"  # both projections are layers


def test_a_constant_product_is_not_mistaken_for_dropout():
    w = ag.tensor(np.ones((2, 3)), requires_grad=True)
    scaled = viz.explain_backward((w * np.array([[0.5, 3.0, 0.5], [3.0, 0.5, 3.0]])).sum())
    assert scaled.forward[0].formula == "w₁ ⊙ c₁" and "dropout" not in repr(scaled)
    masked = viz.explain_backward((w * np.array([[0.0, 2.0, 0.0], [2.0, 2.0, 0.0]])).sum())
    assert masked.forward[0].formula == "w₁ ⊙ m, m ∈ {0, 2}: dropout, p = 0.5 (3 of 6 zeroed)"


def test_a_shared_intermediate_keeps_its_own_line():
    loss, made = shared_intermediate()
    e = viz.explain_backward(loss, params=made)
    assert [s.formula for s in e.forward][1:3] == ["a⁰ · W¹", "z¹ + b"]  # the matmul alone: it is read twice
    assert e.step("δ¹").formula == "∂C/∂h₁ + ∂C/∂h₄ ⊙ z¹ + ∂C/∂h₄ ⊙ z¹"  # the bias add, and z¹ ⊙ z¹


def test_a_users_functions_are_written_with_their_own_formulas_and_inputs():
    loss, made = user_functions()
    e = viz.explain_backward(loss, params=made)
    forward = [s.formula for s in e.forward]
    # one forward part (the ";" is in brackets); x appears only as xₜ, so the inputs are said in order
    assert forward[0] == "RunningSums(inputs, scale): [sₜ; pₜ] for t = 1…T: sₜ = sₜ₋₁ + xₜ, pₜ = sₜ ⊙ w"
    assert forward[1:3] == ["h₁[1]", "h₂.reshape(4, 3)"]  # the op's parameters written out
    assert forward[3] == "PairMax(h₃): the larger of each pair of rows"  # the formula names no input: say which
    assert forward[4] == "xʸ, with x = h₄, y = 2"  # xʸ cannot be rewritten: what x and y are, said
    assert e.step("∂C/∂h₃").formula == "(∂C/∂h₄) routed to the larger row of each pair"
    rule = "δ by the running sums taken backwards (δx = δs summed from t on)"  # verbatim, brackets kept
    assert e.step("∂C/∂inputs").formula == f"the derivative RunningSums declares for its input 0: {rule}"
    # by hand: C = mean(max-of-pairs(cumsum(x) ⊙ w)²)
    x, w = made["inputs"].data, made["scale"].data
    p = np.cumsum(x, axis=0) * w
    first = p[0::2] >= p[1::2]
    d_p = np.zeros_like(p)
    d_p[0::2], d_p[1::2] = np.where(first, 2 * p[0::2] / 6, 0), np.where(first, 0, 2 * p[1::2] / 6)
    np.testing.assert_allclose(e.step("∂C/∂scale").value, (d_p * np.cumsum(x, axis=0)).sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(e.step("∂C/∂inputs").value, np.cumsum((d_p * w)[::-1], axis=0)[::-1], rtol=1e-12)


def test_attention_with_dropout_on_its_weights_is_still_attention():
    loss, made = attention_with_dropout()
    e = viz.explain_backward(loss)
    block = next(s for s in e.forward if "attention" in s.formula)
    assert block.formula == "(softmax(z¹ (z²)ᵀ/√d) ⊙ m) z³: attention, d = 4, dropout on the weights, p = 0.25"
    assert block.ops == ("Transpose", "Matmul", "Div", "Softmax", "Mul", "Matmul")
    assert e.step("∂C/∂P₁").formula == "(∂C/∂ŷ · (z³)ᵀ) ⊙ m" and e.step("δ³").formula == "(P₁ ⊙ m)ᵀ · ∂C/∂ŷ"
    # by hand, with the mask dropout drew (seed 3): δv = (P ⊙ m)ᵀ δo, δP = (δo vᵀ) ⊙ m
    x, W = made["tokens"], {k: t.data for k, t in made["W"].items()}
    q, k, v = x @ W["q"], x @ W["k"], x @ W["v"]
    s = q @ k.T / 2.0
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    mask = (np.random.default_rng(3).random((6, 6)) >= 0.25) / 0.75
    d_out = 2 * ((p * mask) @ v) / 24
    np.testing.assert_allclose(e.step("δ³").value, (p * mask).T @ d_out, rtol=1e-12)
    np.testing.assert_allclose(e.step("∂C/∂P₁").value, (d_out @ v.T) * mask, rtol=1e-12)
