"""The op-level pictures: DOT structure, δ annotations, read-only behaviour, scale."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import viz
from autograd_nn.engine import Capture, run_backward
from autograd_nn.viz._format import number

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
    assert found["op0"][0].startswith("<b>Mul  h₁</b><br/>2 float64")  # named as explain_backward names it
    assert "saves w, c₁" in found["op0"][0]  # by what they are, not by Mul's argument slots x, y
    assert found["op0_in1"][0].startswith("<b>c₁</b><br/>2 float64 constant")  # the data, saved by Mul
    assert "= [3, 4]" in found["op0_in1"][0]
    assert found["op2"][0].startswith("<b>Sum  C</b><br/>scalar float64")
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
    viz.explain_backward(out)
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


# The palette as the docs promise it (docs/visualising.md), written out so that a change to
# the implementation's ramp cannot move the expectation with it.
BLUE = "#c6dbef"  # the smallest RMS δ in the graph (vanishing)
YELLOW = "#ffffcc"  # the middle of the log scale
RED = "#fb8072"  # the largest RMS δ (exploding)
GREY = "#d9d9d9"  # δ exactly zero (a dead ReLU)
MAGENTA = "#ff66ff"  # NaN or inf


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def test_the_palette_means_what_the_docs_say():
    r, g, b = _rgb(BLUE)
    assert b > r + 40 and b > g  # blue dominates
    r, g, b = _rgb(RED)
    assert r > b + 100 and r > g + 100  # red dominates
    r, g, b = _rgb(YELLOW)
    assert r == g and r > b + 40  # red and green equal: yellow
    assert len(set(_rgb(GREY))) == 1  # grey: no hue
    r, g, b = _rgb(MAGENTA)
    assert r == b and r > g + 100


def _fills(loss, params):
    found = nodes(viz.draw_backward(loss, params=params).source)
    fill = {k: re.search(r'fillcolor="(#\w+)"', a).group(1) for k, (label, a) in found.items()}
    label_of = {re.match(r"<b>(\w+)</b>", label).group(1): k for k, (label, a) in found.items() if k.startswith("t")}
    return {name: fill[k] for name, k in label_of.items()}, found, label_of


def test_colour_follows_gradient_magnitude_on_a_log_scale():
    big = ag.tensor([1.0, 1.0], requires_grad=True)
    middle = ag.tensor([1.0, 1.0], requires_grad=True)
    small = ag.tensor([1.0, 1.0], requires_grad=True)
    dead = ag.tensor([-1.0, -2.0], requires_grad=True)
    loss = (big * 1000.0).sum() + middle.sum() + (small * 0.001).sum() + ag.relu(dead).sum()
    params = {"big": big, "middle": middle, "small": small, "dead": dead}
    fill, found, label_of = _fills(loss, params)
    # RMS δ: 1000, 1 and 0.001: the log scale puts 1 exactly half way.
    assert fill == {"big": RED, "middle": YELLOW, "small": BLUE, "dead": GREY}
    assert "δ [0, 0]" in found[label_of["dead"]][0]


def test_colour_scale_is_relative_to_the_graph_and_interpolates_between_the_stops():
    big = ag.tensor([1.0], requires_grad=True)
    quarter = ag.tensor([1.0], requires_grad=True)
    small = ag.tensor([1.0], requires_grad=True)
    loss = (big * 10.0).sum() + (quarter * 10**-0.5).sum() + (small * 0.1).sum()
    fill, _, _ = _fills(loss, {"big": big, "quarter": quarter, "small": small})
    # 10 and 0.1 are the ends of this graph's scale (whatever the absolute size); 10^-0.5 is
    # a quarter of the way up in log₁₀: halfway from blue (198, 219, 239) to yellow (255, 255, 204).
    assert fill["big"] == RED and fill["small"] == BLUE
    assert fill["quarter"] == "#e2edde"  # (226.5, 237, 221.5) rounded half to even


def test_legend_prints_the_scale_from_the_smallest_blue_to_the_largest_red():
    big = ag.tensor([1.0, 1.0], requires_grad=True)
    small = ag.tensor([1.0, 1.0], requires_grad=True)
    source = viz.draw_backward((big * 1000.0).sum() + (small * 0.001).sum()).source
    rows = re.findall(r'<td bgcolor="(#\w+)" border="1"><font point-size="9"> ([^<]*) </font></td>', source)
    assert rows[:5] == [(BLUE, "0.001"), ("#e2edde", "0.03162"), (YELLOW, "1"), ("#fdc09f", "31.62"), (RED, "1000")]
    assert (GREY, "δ = 0") in rows and (MAGENTA, "NaN/inf") in rows


def test_a_nan_gradient_is_painted_magenta():
    x = ag.tensor([4.0, -1.0], requires_grad=True)
    ok = ag.tensor([1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        loss = x.sqrt().sum() + ok.sum()  # √(−1) is NaN, and so is its δ
        fill, _, _ = _fills(loss, {"x": x, "ok": ok})
    assert fill["x"] == MAGENTA and fill["ok"] == YELLOW  # one finite magnitude: the middle


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
    assert "δ at output" in collapsed and "δ at input" in collapsed and "RMS of δ from" in collapsed


def test_values_text_formats_tiny_tensors_in_full():
    assert number(0.000123456) == "0.0001235"


def test_six_elements_are_shown_in_full_and_seven_as_rms_min_and_max():
    six = ag.tensor([1.0, -2.0, 3.0, 4.0, 5.0, 6.0], requires_grad=True)
    seven = ag.tensor([-3.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0], requires_grad=True)
    found = nodes(viz.draw_forward(six.sum() + seven.sum(), params={"six": six, "seven": seven}).source)
    labels = {
        re.match(r"<b>(\w+)</b>", label).group(1): label for label, _ in found.values() if label.startswith("<b>s")
    }
    assert "= [1, -2, 3, 4, 5, 6]" in labels["six"]
    assert "RMS=1.89</font><br/><font point-size=\"9\">min=-3 max=4" in labels["seven"]  # √((9 + 16)/7)


def test_an_op_that_saves_its_output_shows_that_value():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    found = nodes(viz.draw_forward(x.exp().sum()).source)  # Sum keeps nothing: only Exp saved its output
    (exp_label,) = [label for label, _ in found.values() if label.startswith("<b>Exp")]
    assert "saves its output" in exp_label and "= [2.718, 7.389]" in exp_label  # e¹, e²


def _tanh_chain(n):
    t = ag.tensor(0.5, requires_grad=True)
    for _ in range(n):
        t = ag.tanh(t)
    return t


def test_chains_collapse_above_400_ops_by_default_and_never_with_max_nodes_none():
    at_limit, above = _tanh_chain(400), _tanh_chain(401)
    assert len(re.findall(r"^\top\d+ \[", viz.draw_forward(at_limit).source, re.M)) == 400
    collapsed = viz.draw_backward(above).source
    assert "(Tanh) × 400" in collapsed
    assert len(re.findall(r"^\top\d+ \[", collapsed, re.M)) == 1  # the root is never collapsed
    assert len(re.findall(r"^\top\d+ \[", viz.draw_forward(above, max_nodes=None).source, re.M)) == 401
    assert "(Tanh) × 40" in viz.draw_forward(_tanh_chain(41), max_nodes=40).source


def test_a_gradient_of_the_wrong_shape_is_refused():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\) but the root has shape \(2,\)"):
        viz.draw_backward(x * 2, gradient=np.ones(3))


def test_a_leaf_drawn_on_its_own_is_the_loss():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    found = nodes(viz.draw_forward(w, params={"w": w}).source)
    assert list(found) == ["t0"]
    assert 'peripheries="2"' in found["t0"][1]  # the root's double border, even for a leaf


def test_a_leaf_drawn_backward_on_its_own_shows_its_seed_as_its_delta():
    """∂w/∂w weighted by g is g: the backward view of a leaf root is the leaf, with δ = g."""
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    found = nodes(viz.draw_backward(w, gradient=np.array([3.0, -4.0]), params={"w": w}).source)
    assert list(found) == ["t0"]
    assert "δ [3, -4]" in found["t0"][0]
    assert w.grad is None
