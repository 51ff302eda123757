"""The model-level view on a Sequential-like model (a fake one: see ``viz_fakes``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

import autograd_nn as ag
from autograd_nn import viz

sys.path.insert(0, str(Path(__file__).parent))
from viz_fakes import Linear, Sequential, Tanh, bike_network  # noqa: E402

NODE = re.compile(r"^\t(\w+) \[label=<(.*)> (.*)\]$", re.M)


def labels(source: str) -> dict[str, str]:
    return {k: label for k, label, _ in NODE.findall(source)}


def test_forward_model_view_has_one_node_per_layer_in_the_posts_notation():
    model, x, y = bike_network(hidden=200)
    source = viz.draw_model(model, x, y, ag.functional.mse_loss).source
    found = labels(source)
    assert {"input", "layer0", "layer1", "loss"} <= set(found)
    assert "layer2" not in found
    assert "<b>layer 1</b>: Linear 56→200 + Sigmoid" in found["layer0"]
    assert "W¹ 200×56, b¹ 200" in found["layer0"]
    assert "z¹ = a⁰(W¹)ᵀ + b¹   128×200" in found["layer0"] and "a¹ = σ(z¹)   128×200" in found["layer0"]
    assert "z² = a¹(W²)ᵀ + b²   128×1" in found["layer1"]
    assert "input -> layer0" in source and "layer0 -> layer1" in source and "layer1 -> loss" in source


def test_backward_model_view_shows_each_layers_delta():
    model, x, y = bike_network(hidden=8)
    found = labels(viz.draw_model(model, x, y, ag.functional.mse_loss, backward=True).source)
    W1, b1 = model.layers[0].weight.data, model.layers[0].bias.data
    W2, b2 = model.layers[2].weight.data, model.layers[2].bias.data
    a1 = 1 / (1 + np.exp(-(x @ W1.T + b1)))
    d2 = 2 * (a1 @ W2.T + b2 - y) / len(y)
    d1 = (d2 @ W2) * a1 * (1 - a1)
    rms_printed = float(re.search(r"δ¹ = ∂C/∂z¹: RMS=(\S+)", found["layer0"]).group(1))
    assert rms_printed == float(f"{np.sqrt(np.mean(d1**2)):.4g}")
    assert f"∂C/∂b²: [{float(d2.sum()):.4g}]" in found["layer1"]
    assert model.layers[0].weight.grad is None


def test_backward_model_view_paints_the_smaller_delta_blue_and_the_larger_red():
    model, x, y = bike_network(hidden=8)
    source = viz.draw_model(model, x, y, ag.functional.mse_loss, backward=True).source
    fill = dict(re.findall(r'^\t(layer\d+) \[label=<.*> fillcolor="(#\w+)"\]$', source, re.M))
    W1, b1 = model.layers[0].weight.data, model.layers[0].bias.data
    W2, b2 = model.layers[2].weight.data, model.layers[2].bias.data
    a1 = 1 / (1 + np.exp(-(x @ W1.T + b1)))
    d2 = 2 * (a1 @ W2.T + b2 - y) / len(y)
    d1 = (d2 @ W2) * a1 * (1 - a1)
    rms = [float(np.sqrt(np.mean(d**2))) for d in (d1, d2)]
    assert rms[0] < rms[1]  # the sigmoid's σ' ≤ 1/4 shrinks δ on the way down
    assert fill == {"layer0": "#c6dbef", "layer1": "#fb8072"}  # blue: smallest RMS δ; red: largest
    legend = re.findall(r'<td bgcolor="(#\w+)" width="18"> </td><td align="left">RMS δ ([^<]*)</td>', source)
    assert legend[0] == ("#fb8072", f"{rms[1]:.3g}") and legend[-1] == ("#c6dbef", f"{rms[0]:.3g}")


def test_expanded_view_draws_the_op_graph_in_one_cluster_per_layer():
    model, x, y = bike_network(hidden=8)
    source = viz.draw_model(model, x, y, ag.functional.mse_loss, backward=True, expand=True).source
    clusters = re.findall(r"subgraph (cluster_layer\d+) \{\n\t\tlabel=<(.*?)> style=", source)
    assert [c[0] for c in clusters] == ["cluster_layer0", "cluster_layer1"]
    assert "Linear 56→8 + Sigmoid" in clusters[0][1]
    layer0 = source.split("subgraph cluster_layer0")[1].split("subgraph cluster_layer1")[0]
    assert "<b>W¹</b>" in layer0 and "<b>Sigmoid</b>  <i>a¹</i>" in layer0 and "<i>z¹</i>" in layer0
    assert "<i>z² = ŷ</i>" in source


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
    assert "<b>layers 2–30</b>: (Linear 4→4 + Tanh) × 29" in found["layer1"]
    assert len([k for k in found if k.startswith("layer")]) == 2
    assert "<b>layer 1</b>: Linear 3→4 + Tanh" in found["layer0"]
    assert re.search(r"RMS δ: \S+ \(layer 30\) … \S+ \(layer 2\)", found["layer1"])


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
