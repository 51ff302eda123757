"""The model-level view: one node per layer, found in the graph, with the δ recursion on it.

Models here are the fake ``nn`` of ``viz_fakes`` (primitives only) and real ``nn``
modules (fused ``Linear`` and ``MseLoss``): the view must not depend on which."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn import nn, viz

sys.path.insert(0, str(Path(__file__).parent))
from test_explain_families import Residual  # noqa: E402
from viz_fakes import Linear, Sequential, Tanh, bike_network  # noqa: E402

NODE = re.compile(r"^\t+(\w+) \[label=<(.*)> (.*)\]$", re.M)


def labels(source: str) -> dict[str, str]:
    return {k: label for k, label, _ in NODE.findall(source)}


def rms(a) -> float:
    return float(np.sqrt(np.mean(np.square(a))))


def hand_deltas(model, x, y):
    W1, b1 = model.layers[0].weight.data, model.layers[0].bias.data
    W2, b2 = model.layers[2].weight.data, model.layers[2].bias.data
    a1 = 1 / (1 + np.exp(-(x @ W1.T + b1)))
    d2 = 2 * (a1 @ W2.T + b2 - y) / len(y)
    return (d2 @ W2) * a1 * (1 - a1), d2


def test_forward_model_view_has_one_node_per_layer_in_the_posts_notation():
    model, x, y = bike_network(hidden=200)
    source = viz.draw_model(model, x, y, ag.functional.mse_loss).source
    found = labels(source)
    assert {"input", "layer0", "layer1", "layer2"} <= set(found) and "layer3" not in found
    assert found["input"].startswith("<b>a⁰ = x</b><br/>128×56")
    assert found["layer0"].startswith("<b>layer 1: Linear 56→200 + Sigmoid</b>")  # the module's class, the op's name
    assert "0: W¹ 200×56, b¹ 200" in found["layer0"]  # the module path and the parameters
    assert "z¹ (128×200) = a⁰ · (W¹)ᵀ + b¹" in found["layer0"] and "a¹ (128×200) = σ(z¹)" in found["layer0"]
    assert "z² (128×1) = a¹ · (W²)ᵀ + b²" in found["layer1"]
    assert found["layer2"].startswith("<b>the loss C</b><br/>C = mean((ŷ − y)²) = ")
    assert "input -> layer0" in source and "layer0 -> layer1" in source and "layer1 -> layer2" in source


def test_backward_model_view_shows_each_layers_delta_formula_and_the_engines_value():
    model, x, y = bike_network(hidden=8)
    found = labels(viz.draw_model(model, x, y, ag.functional.mse_loss, backward=True).source)
    d1, d2 = hand_deltas(model, x, y)
    assert "δ¹ (128×8) = (δ² · W²) ◦ σ'(z¹)" in found["layer0"]  # the recursion, with real shapes
    assert "δ² (128×1) = 2(ŷ − y)/n" in found["layer1"]
    printed = float(re.search(r"δ¹: RMS=(\S+)", found["layer0"]).group(1))
    assert printed == float(f"{rms(d1):.4g}")
    assert f"∂C/∂b² (1) = Σ over the batch of δ²: [{float(d2.sum()):.4g}]" in found["layer1"]
    assert model.layers[0].weight.grad is None


def test_backward_model_view_paints_the_smaller_delta_blue_and_the_larger_red():
    model, x, y = bike_network(hidden=8)
    source = viz.draw_model(model, x, y, ag.functional.mse_loss, backward=True).source
    fill = dict(re.findall(r'^\t(layer[01]) \[label=<.*> fillcolor="(#\w+)"\]$', source, re.M))
    d1, d2 = hand_deltas(model, x, y)
    assert rms(d1) < rms(d2)  # the sigmoid's σ' ≤ 1/4 shrinks δ on the way down
    assert fill == {"layer0": "#c6dbef", "layer1": "#fb8072"}  # blue: smallest RMS δ; red: largest
    ticks = re.findall(r'<td bgcolor="(#\w+)" border="1"><font point-size="9"> ([^<]*) </font>', source)
    assert ticks[0] == ("#c6dbef", f"{rms(d1):.4g}") and ticks[4] == ("#fb8072", f"{rms(d2):.4g}")


def test_expanded_view_draws_the_op_graph_in_one_cluster_per_layer():
    model, x, y = bike_network(hidden=8)
    source = viz.draw_model(model, x, y, ag.functional.mse_loss, backward=True, expand=True).source
    clusters = re.findall(r"subgraph (cluster_layer\d+) \{\n\t\tlabel=<(.*?)> style=", source)
    assert clusters == [("cluster_layer0", "layer 1: Linear 56→8 + Sigmoid"), ("cluster_layer1", "layer 2: Linear 8→1")]
    layer0 = source.split("subgraph cluster_layer0")[1].split("subgraph cluster_layer1")[0]
    assert "<b>W¹ (0.weight)</b>" in layer0 and "<b>Sigmoid  a¹</b>" in layer0 and "<b>Add  z¹</b>" in layer0
    assert "<b>Add  z² = ŷ</b>" in source


def test_the_unfused_op_graph_shows_the_path_that_carries_delta_back():
    """nn.Linear and MseLoss record one node each; fused=False draws what they declare."""
    nn.init.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 3), nn.Sigmoid(), nn.Linear(3, 1))
    x, y = np.random.default_rng(0).normal(size=(4, 5)), np.random.default_rng(1).normal(size=(4, 1))
    fused = viz.draw_model(model, x, y, F.mse_loss, backward=True, expand=True).source
    unfused = viz.draw_model(model, x, y, F.mse_loss, backward=True, expand=True, fused=False).source
    names = lambda source: sorted(re.findall(r"label=<<b>(\w+)", source))  # noqa: E731
    assert names(fused).count("Linear") == 2 and "Transpose" not in names(fused)
    assert names(unfused).count("Transpose") == 2 and names(unfused).count("Matmul") == 2
    assert "Linear" not in names(unfused) and "MseLoss" not in names(unfused) and "Sub" in names(unfused)
    # δ at Wᵀ is ∂C/∂W transposed; the bias edge carries the broadcast sum
    W1 = model[0].weight
    loss = F.mse_loss(model(x), y)
    (dW1,) = ag.grad(loss, [W1])
    transposes = [label for label in labels(unfused).values() if label.startswith("<b>Transpose")]
    assert any(f"RMS={rms(dW1.data):.4g}" in label for label in transposes)
    assert "Σ 4×3 → 3" in unfused and "<b>y</b>" in unfused  # the target is named, not "constant"
    spine = sorted(re.findall(r'^\t+op\d+ \[label=<<b>(\w+)[^>]*>.* group="spine"', unfused, re.M))
    assert spine == sorted(["Transpose", "Matmul", "Add", "Sigmoid", "Matmul", "Add", "Sub", "Mul", "Mean"])  # one column


def test_a_residual_model_draws_its_skip_connection():
    nn.init.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), Residual(4), nn.Linear(4, 1))
    x, y = np.random.default_rng(3).normal(size=(6, 3)), np.random.default_rng(4).normal(size=(6, 1))
    source = viz.draw_model(model, x, y, F.mse_loss, backward=True).source
    found = labels(source)
    assert found["layer1"].startswith("<b>layer 2: Linear 4→4 + Relu</b><br/><font point-size=\"9\">1.fc: W² 4×4")
    assert found["layer2"].startswith("<b>residual addition</b>")
    assert "layer0 -> layer1" in source and "layer0 -> layer2" in source  # the skip, from z¹ to the sum
    assert "δ¹ (6×4) = δ² · W² + ∂C/∂h₁ (the skip)" in found["layer0"]


def test_many_identical_layers_are_collapsed():
    rng = np.random.default_rng(0)
    layers = [Linear(3, 4, rng), Tanh()]
    for _ in range(29):
        layers += [Linear(4, 4, rng), Tanh()]
    model = Sequential(*layers)
    source = viz.draw_model(
        model, rng.normal(size=(2, 3)), np.zeros((2, 4)), ag.functional.mse_loss, backward=True
    ).source
    found = labels(source)
    assert "<b>layers 2–30: (Linear 4→4 + Tanh) × 29</b>" in found["layer1"]
    assert len([k for k in found if k.startswith("layer")]) == 3  # layer 1, layers 2–30, the loss C
    assert found["layer0"].startswith("<b>layer 1: Linear 3→4 + Tanh</b>")
    assert re.search(r"RMS of δ: \S+ \(layer 30\) … \S+ \(layer 2\)", found["layer1"])


def test_render_model_graphs_writes_dot_always(tmp_path, monkeypatch):
    from autograd_nn.viz import _render

    monkeypatch.setattr(_render, "find_renderer", lambda format="svg": None)
    monkeypatch.setattr(_render, "_graphviz_pure", lambda: None)
    model, x, y = bike_network(hidden=4)
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = viz.render_model_graphs(model, x, y, ag.functional.mse_loss, tmp_path)
    assert sorted(p.name for p in paths) == sorted(
        f"{n}.dot" for n in ["model_forward", "model_backward", "ops_forward", "ops_backward"]
    )
    assert all(p.read_text().startswith("digraph") for p in paths)
    assert any("apt-get install graphviz" in str(w.message) for w in caught)


class PairAttention(nn.Module):
    """Attention over (query, key, value) that returns (output, weights), as nn.MultiheadAttention does."""

    def __init__(self):
        super().__init__()
        self.out = nn.Linear(3, 2)

    def forward(self, query, key, value):
        weights = ag.softmax(query @ key.T, axis=-1)
        return self.out(weights @ value), weights


def test_several_inputs_and_a_tuple_output_draw_from_the_first_element():
    rng = np.random.default_rng(12)
    nn.init.manual_seed(4)
    model, q, kv, y = PairAttention(), rng.normal(size=(4, 3)), rng.normal(size=(5, 3)), rng.normal(size=(4, 2))
    query = ag.tensor(q, requires_grad=True)
    found = labels(viz.draw_model(model, (query, kv, kv), y, F.mse_loss, backward=True).source)
    text = " ".join(found.values())
    assert "softmax(x₁ x₂ᵀ) x₂: attention, d = 3" in text  # the inputs by position; key and value are one array
    assert "z¹ (4×2) = h₁ · (W¹)ᵀ + b¹" in text and "the loss C" in text
    assert "input" not in found  # layer 1 reads the attention's output, not an input
    constant = labels(viz.draw_model(model, (q, kv, kv), y, F.mse_loss).source)  # attention not recorded
    assert "input" not in constant and "z¹ (4×2) = c₁ · (W¹)ᵀ + b¹" in " ".join(constant.values())
    W, b = model.out.weight.data, model.out.bias.data
    s = q @ kv.T
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    d1 = 2 * ((p @ kv) @ W.T + b - y) / y.size
    assert f"δ¹: RMS={rms(d1):.4g}" in text  # the engine's δ of the first output's loss


def test_the_input_box_is_drawn_only_when_layer_one_reads_x():
    nn.init.manual_seed(5)
    x, y = np.random.default_rng(13).normal(size=(4, 2, 3)), np.zeros((4, 1))
    layer = nn.Linear(6, 1)
    flat = labels(viz.draw_model(lambda t: layer(t.reshape(4, 6)), x, y, F.mse_loss).source)
    assert "input" not in flat  # layer 1 reads x reshaped, not x: no "a⁰ = x 4×6" box
    leaf = labels(viz.draw_model(lambda t: layer(t.reshape(4, 6)), ag.tensor(x, requires_grad=True), y, F.mse_loss).source)
    assert "input" not in leaf and "h₁ (4×6) = x.reshape(4, 6)" in " ".join(leaf.values())  # x named by what it is
    plain = labels(viz.draw_model(nn.Linear(3, 1), x[:, 0], y, F.mse_loss).source)
    assert plain["input"].startswith("<b>a⁰ = x</b><br/>4×3 float64")


class Counting(nn.Module):
    """A layer that keeps a running statistic in a buffer, as BatchNorm does in training."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 1)
        self.register_buffer("seen", ag.tensor(np.zeros(1)))

    def forward(self, x):
        self.seen.data += len(x)
        return self.fc(x)


def test_drawing_a_model_leaves_it_as_it_was():
    nn.init.manual_seed(6)
    model = nn.Sequential(Counting(), nn.Dropout(0.5, generator=np.random.default_rng(8)), nn.Linear(1, 1))
    state = {k: v.data.copy() for k, v in model.state_dict().items()}
    draws = model[1].generator.bit_generator.state
    x, y = np.random.default_rng(9).normal(size=(4, 3)), np.zeros((4, 1))
    for kw in ({}, {"backward": True}, {"backward": True, "expand": True, "fused": False}):
        viz.draw_model(model, x, y, F.mse_loss, **kw)
    assert model[1].generator.bit_generator.state == draws  # the dropout mask was drawn on a copy
    assert all(np.array_equal(v.data, state[k]) for k, v in model.state_dict().items())  # the buffer did not move
    assert all(p.grad is None for p in model.parameters())
