"""The op-level pictures: DOT structure, δ annotations, read-only behaviour, scale."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import viz
from autograd_nn.engine import Capture, run_backward
from autograd_nn.viz._format import ZERO_COLOUR, number, ramp

NODE = re.compile(r"^\t(\w+) \[label=<(.*)> (.*)\]$", re.M)
EDGE = re.compile(r"^\t(\w+) -> (\w+)(?: \[(.*)\])?$", re.M)


def nodes(source: str) -> dict[str, tuple[str, str]]:
    """{id: (label, attributes)} for every node outside the legend."""
    return {k: (label, attrs) for k, label, attrs in NODE.findall(source) if not k.startswith("legend")}


def edges(source: str) -> dict[tuple[str, str], str]:
    return {(a, b): attrs for a, b, attrs in EDGE.findall(source) if not a.startswith("legend")}


def small_graph():
    """C = Σ (w ⊙ x + b): w (2,) and b (scalar) require grad, x is constant data."""
    w = ag.tensor([1.5, -2.0], requires_grad=True)
    b = ag.tensor(0.25, requires_grad=True)
    x = ag.tensor([3.0, 4.0])
    return w, b, x, (w * x + b).sum()


def test_forward_view_has_the_ops_tensors_and_edges_of_the_graph():
    w, b, x, loss = small_graph()
    source = viz.draw_forward(loss, params={"w": w, "b": b}).source
    found = nodes(source)
    assert set(found) == {"op0", "op0_in1", "op1", "op2", "t0", "t1"}
    assert found["op0"][0].startswith("<b>Mul</b><br/>2 float64")
    assert "saves x, y" in found["op0"][0]
    assert found["op0_in1"][0].startswith("<b>y</b> (constant)<br/>2 float64")  # the data x, saved by Mul
    assert "= [3, 4]" in found["op0_in1"][0]
    assert found["op2"][0].startswith("<b>Sum</b>  <i>loss C</i><br/>scalar float64")
    assert "= -3</font>" in found["op2"][0]  # the root's value: 1.5·3 − 2·4 + 2·0.25
    assert found["t0"][0].startswith("<b>w</b><br/>2 float64") and "= [1.5, -2]" in found["t0"][0]
    assert 'penwidth="2"' in found["t0"][1]  # parameters have a thick border
    assert set(edges(source)) == {("t0", "op0"), ("op0_in1", "op0"), ("op0", "op1"), ("t1", "op1"), ("op1", "op2")}
    assert 'label="x"' in edges(source)[("t0", "op0")]


def test_backward_view_annotates_every_node_with_its_hand_derived_delta():
    w, b, x, loss = small_graph()
    source = viz.draw_backward(loss, params={"w": w, "b": b}).source
    found = nodes(source)
    # C = Σ(w x + b): δ(Sum) = 1, δ(Add) = δ(Mul) = [1, 1], ∂C/∂w = x, ∂C/∂b = 2 (two elements).
    assert "δ 1" in found["op2"][0]
    assert "δ [1, 1]" in found["op1"][0] and "δ [1, 1]" in found["op0"][0]
    assert "δ [3, 4]" in found["t0"][0]
    assert "δ 2" in found["t1"][0]
    arrows = edges(source)
    assert all('dir="back"' in attrs for attrs in arrows.values())
    # b was broadcast from a scalar to (2,): the engine summed δ back, and the edge says so.
    assert "Σ 2 → scalar" in arrows[("t1", "op1")] and "#d62728" in arrows[("t1", "op1")]
    assert "Σ" not in arrows[("t0", "op0")]
    assert w.grad is None and b.grad is None


def test_broadcast_reduction_of_a_bias_is_labelled_with_both_shapes():
    z = ag.tensor(np.ones((3, 4)), requires_grad=True)
    b = ag.tensor(np.zeros(4), requires_grad=True)
    source = viz.draw_backward((z + b).sum(), params={"b": b}).source
    assert "Σ 3×4 → 4" in edges(source)[("t1", "op0")]
    assert "δ [3, 3, 3, 3]" in nodes(source)["t1"][0]


def test_drawing_backward_changes_nothing_in_the_graph_or_the_tensors():
    w, b, x, loss = small_graph()
    hidden = w * x
    hidden.retain_grad()
    calls = []
    hidden.register_hook(lambda g: calls.append(g))
    out = (hidden + b).sum()
    viz.draw_backward(out)
    viz.explain_backward(out, file=None)
    assert hidden.grad is None and w.grad is None and calls == []
    out.backward()  # the graph was not freed by drawing
    np.testing.assert_array_equal(w.grad.data, x.data)
    np.testing.assert_array_equal(hidden.grad.data, [1.0, 1.0])
    assert len(calls) == 1


def test_engine_can_skip_hooks_for_read_only_sweeps():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    calls = []
    y.register_hook(lambda g: calls.append(g))
    out = y.sum()
    class ReadOnly(Capture):
        runs_hooks = False

    watch = ReadOnly({id(y.grad_fn)})
    leaf_grads = run_backward([out.grad_fn], [np.ones(())], retain_graph=True, create_graph=False, observer=watch)
    assert calls == []
    np.testing.assert_array_equal(watch.grads[id(y.grad_fn)], [1.0, 1.0])
    np.testing.assert_array_equal(leaf_grads[id(x)][1], [3.0, 3.0])
    run_backward([out.grad_fn], [np.ones(())], retain_graph=True, create_graph=False)
    assert len(calls) == 1


def test_before_backward_the_stored_view_says_so_instead_of_zeros():
    w, b, x, loss = small_graph()
    source = viz.draw_backward(loss, stored=True).source
    assert source.count(".grad: None (backward has not run)") == 2
    assert "δ 0" not in source and "[0, 0]" not in source
    loss.backward(retain_graph=True)
    after = nodes(viz.draw_backward(loss, stored=True).source)
    assert ".grad [3, 4]" in after["t0"][0]


def test_a_freed_graph_is_reported_and_leaves_show_their_grad():
    w, b, x, loss = small_graph()
    loss.backward()
    source = viz.draw_backward(loss).source
    assert "graph freed by backward()" in source
    assert ".grad [3, 4]" in nodes(source)["t0"][0]


def test_node_ids_are_deterministic_whatever_ran_before():
    first = viz.draw_backward(small_graph()[3]).source
    for _ in range(5):
        ag.tensor([1.0], requires_grad=True).exp()  # advances the global node counter
    assert viz.draw_backward(small_graph()[3]).source == first


def test_colour_follows_gradient_magnitude_on_a_log_scale():
    big = ag.tensor([1.0, 1.0], requires_grad=True)
    small = ag.tensor([1.0, 1.0], requires_grad=True)
    dead = ag.tensor([-1.0, -2.0], requires_grad=True)
    loss = (big * 1000.0).sum() + (small * 0.001).sum() + ag.relu(dead).sum()
    found = nodes(viz.draw_backward(loss, params={"big": big, "small": small, "dead": dead}).source)
    fill = {k: re.search(r'fillcolor="(#\w+)"', a).group(1) for k, (label, a) in found.items()}
    label_of = {re.match(r"<b>(\w+)</b>", label).group(1): k for k, (label, a) in found.items() if k.startswith("t")}
    assert fill[label_of["big"]] == ramp(1.0)
    assert fill[label_of["small"]] == ramp(0.0)
    assert fill[label_of["dead"]] == ZERO_COLOUR
    assert "δ [0, 0]" in found[label_of["dead"]][0]


def test_non_scalar_root_needs_a_gradient():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"shape \(2,\).*gradient="):
        viz.draw_backward(x * 2)
    source = viz.draw_backward(x * 2, gradient=np.array([1.0, -1.0])).source
    assert "δ [2, -2]" in source


def test_params_accepts_a_model_and_rejects_other_things():
    class Model:
        def __init__(self, w):
            self.w = w

        def named_parameters(self):
            yield "layer.w", self.w

    w, b, x, loss = small_graph()
    assert "<b>layer.w</b>" in viz.draw_forward(loss, params=Model(w)).source
    with pytest.raises(TypeError, match="params must be a mapping"):
        viz.draw_forward(loss, params=[w])


def test_a_hundred_thousand_node_chain_renders_to_dot_without_recursion():
    t = ag.tensor(0.5, requires_grad=True)
    for _ in range(100_000):
        t = ag.tanh(t)
    full = viz.draw_forward(t, max_nodes=None).source
    assert len(re.findall(r"^\top\d+ \[", full, re.M)) == 100_000
    assert len(EDGE.findall(full)) >= 100_000
    collapsed = viz.draw_backward(t).source  # default: chains collapse above 400 ops
    assert "(Tanh) × 99999" in collapsed
    assert len(nodes(collapsed)) < 10
    # the collapsed node still reports δ at both ends of the chain and its range
    assert "δ at output" in collapsed and "δ at input" in collapsed and "RMS δ from" in collapsed


def test_values_text_formats_tiny_tensors_in_full():
    assert number(0.000123456) == "0.0001235"
