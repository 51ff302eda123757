"""``explain_backward``: the δ recursion of the post, read off the actual graph.

The graph is walked from the loss down; a layer is recognised where it is, not
assumed: ``z = a·Wᵀ + b`` (PyTorch's Linear), ``z = a·W + b`` (weights stored
in×out, as in the post's numpy code) or ``z = W·a + b`` (column vectors, the post's
equations), each optionally followed by an elementwise activation. The printed
numbers are the engine's own δs from a read-only sweep (``.grad`` is not touched).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from ..graph import Node
from ..tensor import Tensor
from ._format import number, shape_text, stats_text, sup, values_text
from ._walk import Gradients, GraphIndex, expanded, index_graph, named_tensors, sweep

_STDOUT = object()
ACTIVATIONS = {"Sigmoid": "σ", "Tanh": "tanh", "Relu": "relu", "LeakyRelu": "leaky_relu", "Softplus": "softplus"}


@dataclass
class Step:
    """One line of the recursion: ``symbol (shape) = formula`` with the engine's value."""

    symbol: str
    formula: str
    value: np.ndarray | None
    shape: tuple[int, ...] = ()

    def __str__(self) -> str:
        head = f"{self.symbol} ({shape_text(self.shape)}) = {self.formula}"
        if self.value is None:
            return head
        return f"{head:<46}  {values_text(self.value) if self.value.size <= 6 else stats_text(self.value)}"


@dataclass
class Explanation:
    """The recursion as ``steps`` (forward recap in ``forward``); ``str()`` is the text."""

    forward: list[Step] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def step(self, symbol: str) -> Step:
        """The backward step whose symbol is ``symbol`` (e.g. ``"δ¹"``, ``"∂C/∂W²"``)."""
        for s in self.steps:
            if s.symbol == symbol:
                return s
        raise KeyError(f"explain_backward: no step {symbol!r}; steps are {[s.symbol for s in self.steps]}")

    def __str__(self) -> str:
        lines = ["forward:"] if self.forward else []
        lines += [f"  {s.symbol} ({shape_text(s.shape)}) = {s.formula}" for s in self.forward]
        lines.append("backward (δˡ = ∂C/∂zˡ; values are the engine's):")
        lines += [f"  {s}" for s in self.steps]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


@dataclass
class _Layer:
    z: Node  # the node whose output is zˡ
    out: Node  # aˡ (the activation, or z itself for an identity layer)
    weight: Tensor
    bias: Tensor | None
    source: Any  # the edge aˡ⁻¹ came from: a Node, a leaf, or None for constant data
    source_value: np.ndarray | None
    form: str  # "a·Wᵀ", "a·W" or "W·a"
    activation: str | None  # "σ", "tanh", …; None for the identity


def _leaf(edge: Any) -> bool:
    return edge is not None and type(edge) is not Node


def _saved_input(node: Node, i: int) -> np.ndarray | None:
    if node.saved_values:
        for value, source in zip(node.saved_values, node.saved_sources):
            if source == i and isinstance(value, (np.ndarray, np.generic, int, float)):
                return np.asarray(value)
    return None


def _affine(node: Any) -> _Layer | None:
    """``z = a·Wᵀ + b`` and its variants at ``node``, or None. A fused op (nn.Linear's) is
    read through its declared decomposition, and stands for the layer it computes."""
    if type(node) is not Node:
        return None
    template = expanded(node)
    if template is None:
        return _affine_of_primitives(node)
    layer = _affine_of_primitives(template)
    if layer is not None and layer.z is template:
        layer.z = layer.out = node
        return layer
    return None


def _affine_of_primitives(node: Node) -> _Layer | None:
    bias = None
    matmul = node
    if node.name == "Add":
        x, y = node.parents
        if type(x) is Node and x.name == "Matmul" and (y is None or _leaf(y)):
            matmul, bias = x, y
        elif type(y) is Node and y.name == "Matmul" and (x is None or _leaf(x)):
            matmul, bias = y, x
        else:
            return None
    elif node.name != "Matmul":
        return None
    left, right = matmul.parents
    if _leaf(right) and len(right.shape) == 2:
        weight, form, source, side = right, "a·W", left, 0
    elif type(right) is Node and right.name == "Transpose" and _leaf(right.parents[0]) and len(right.shape) == 2:
        weight, form, source, side = right.parents[0], "a·Wᵀ", left, 0
    elif _leaf(left) and len(left.shape) == 2 and not _leaf(right):
        weight, form, source, side = left, "W·a", right, 1
    else:
        return None
    return _Layer(node, node, weight, bias, source, _saved_input(matmul, side), form, None)


def _layer(node: Any) -> _Layer | None:
    """A layer whose output aˡ is ``node``: an activation of an affine map, or the map."""
    if type(node) is Node and node.name in ACTIVATIONS:
        inner = _affine(node.parents[0])
        if inner is not None:
            inner.out, inner.activation = node, ACTIVATIONS[node.name]
            return inner
        return None
    return _affine(node)


def _cost(root: Node, prediction: Node) -> tuple[str, str, str] | None:
    """(C's formula, ∂C/∂ŷ's formula) for squared-error costs built from primitives."""
    factor = 1.0
    node: Any = root
    while type(node) is Node and node.name in ("Mul", "Div") and node.shape == ():
        parents = node.parents
        if sum(type(p) is Node for p in parents) != 1 or any(_leaf(p) for p in parents):
            return None
        i = 0 if type(parents[0]) is Node else 1
        constant = _saved_input(node, 1 - i)
        if constant is None or constant.size != 1:
            return None
        c = float(constant)
        factor = factor * c if node.name == "Mul" else (factor / c if i == 0 else None)  # type: ignore[operator]
        if factor is None:
            return None
        node = parents[i]
    if type(node) is Node:
        node = expanded(node) or node  # a fused loss reads as the primitives it declares
    if type(node) is not Node or node.name not in ("Mean", "Sum") or node.shape != ():
        return None
    reduce_name, squared = node.name, node.parents[0]
    if type(squared) is not Node:
        return None
    count = int(np.prod(squared.shape))
    if reduce_name == "Mean":
        factor /= count
    x, y = squared.parents[0], squared.parents[-1]
    if squared.name == "Mul" and x is y:
        difference = x
    elif squared.name == "Pow" and (e := _saved_input(squared, 1)) is not None and e.size == 1 and float(e) == 2:
        difference = x
    else:
        return None
    if type(difference) is not Node or difference.name != "Sub" or prediction not in difference.parents:
        return None
    if any(p is not prediction and p is not None for p in difference.parents):
        return None
    return _squared_error_formulas(factor, count)


def _squared_error_formulas(factor: float, count: int) -> tuple[str, str, str]:
    """C = factor · Σ(ŷ − y)² over ``count`` elements, in words, and ∂C/∂ŷ."""

    def near(a: float, b: float) -> bool:
        return abs(a - b) <= 1e-12 * max(abs(b), 1.0)

    # C = factor · Σ(ŷ − y)², so ∂C/∂ŷ = 2 · factor · (ŷ − y).
    if near(factor * count, 1):
        cost = "mean((ŷ − y)²)"
    elif near(factor * count, 0.5):
        cost = "1/(2n) Σ(ŷ − y)²"
    elif near(factor, 1):
        cost = "Σ(ŷ − y)²"
    elif near(factor, 0.5):
        cost = "½ Σ(ŷ − y)²"
    else:
        cost = f"{number(factor)} · Σ(ŷ − y)²"
    if near(2 * factor * count, 1):
        delta = "(ŷ − y)/n"
    elif near(2 * factor * count, 2):
        delta = "2(ŷ − y)/n"
    elif near(2 * factor, 1):
        delta = "ŷ − y"
    else:
        delta = f"{number(2 * factor)} · (ŷ − y)"
    n = f"n = {count}" if "n" in cost + delta else ""
    return cost, delta, n


def _derivative(activation: str | None, ell: int) -> str:
    if activation is None:
        return ""
    if activation == "σ":
        return f" ⊙ σ'(z{sup(ell)})"
    return f" ⊙ {activation}'(z{sup(ell)})"


def _backprop_through(layer: _Layer, ell: int) -> str:
    """How δˡ⁻¹'s first factor comes out of layer l: δˡ · Wˡ, δˡ · (Wˡ)ᵀ or (Wˡ)ᵀ δˡ."""
    if layer.form == "a·Wᵀ":
        return f"δ{sup(ell)} · W{sup(ell)}"
    if layer.form == "a·W":
        return f"δ{sup(ell)} · (W{sup(ell)})ᵀ"
    return f"(W{sup(ell)})ᵀ δ{sup(ell)}"


def _weight_formula(layer: _Layer, ell: int) -> str:
    a = f"a{sup(ell - 1)}"
    if layer.form == "a·Wᵀ":
        return f"(δ{sup(ell)})ᵀ · {a}"
    if layer.form == "a·W":
        return f"({a})ᵀ · δ{sup(ell)}"
    return f"δ{sup(ell)} · ({a})ᵀ"


def _z_formula(layer: _Layer, ell: int) -> str:
    a, w = f"a{sup(ell - 1)}", f"W{sup(ell)}"
    body = {"a·Wᵀ": f"{a} · ({w})ᵀ", "a·W": f"{a} · {w}", "W·a": f"{w} · {a}"}[layer.form]
    return body + (f" + b{sup(ell)}" if layer.bias is not None else "")


def explain(loss: Tensor, *, params: Any = None, gradient: Any = None) -> Explanation:
    """Build the ``Explanation`` without printing it (see ``explain_backward``)."""
    index = index_graph(loss)
    grads = sweep(index, gradient)
    if grads.state != "computed":
        raise RuntimeError(
            "explain_backward: the graph was freed by an earlier backward(); call explain_backward "
            "before backward(), or pass retain_graph=True to backward()"
        )
    layers = _find_layers(index)
    names = {id(t): n for n, t in named_tensors(params).items()}
    if not layers:
        return _generic(index, grads)
    return _recursion(index, grads, layers, names)


def _find_layers(index: GraphIndex) -> list[_Layer]:
    """The chain of layers ending at the prediction ŷ, input first."""
    top = None
    for node in reversed(index.nodes):  # the latest layer output is ŷ
        top = _layer(node)
        if top is not None:
            break
    layers: list[_Layer] = []
    while top is not None:
        layers.append(top)
        top = _layer(top.source)
    layers.reverse()
    return layers


def _recursion(index: GraphIndex, grads: Gradients, layers: list[_Layer], names: dict[int, str]) -> Explanation:
    out = Explanation()
    count = len(layers)
    first = layers[0]
    source_shape = first.source_value.shape if first.source_value is not None else _shape_of(first.source)
    out.forward.append(Step(f"a{sup(0)}", "x (the input)", first.source_value, source_shape))
    for ell, layer in enumerate(layers, start=1):
        out.forward.append(Step(f"z{sup(ell)}", _z_formula(layer, ell), None, layer.z.shape))
        if layer.activation is not None:
            out.forward.append(Step(f"a{sup(ell)}", f"{layer.activation}(z{sup(ell)})", None, layer.out.shape))
    root = index.root
    last = layers[-1]
    top = f"a{sup(count)}" if last.activation else f"z{sup(count)}"
    cost = _cost(root.grad_fn, last.out) if root.grad_fn is not None else None
    out.forward.append(Step("ŷ", top, None, last.out.shape))
    value = number(float(root.data.sum()))
    if cost:
        out.forward.append(Step("C", f"{cost[0]} = {value}" + (f"   ({cost[2]})" if cost[2] else ""), None, root.shape))
        delta_hat = cost[1]
    else:
        loss_ops = [n.name for n in reversed(index.nodes) if n.seq > last.out.seq]
        out.forward.append(Step("C", f"{' ∘ '.join(loss_ops) or 'ŷ'}(ŷ) = {value}", None, root.shape))
        delta_hat = "δ through " + " → ".join(loss_ops) if loss_ops else "the seed δ"
    if last.activation is not None:
        out.steps.append(Step("∂C/∂ŷ", delta_hat, grads.get(last.out), last.out.shape))
        top_formula = f"∂C/∂ŷ{_derivative(last.activation, count)}"
    else:
        top_formula = delta_hat
    for ell in range(count, 0, -1):
        layer = layers[ell - 1]
        if ell == count:
            formula = top_formula
        else:
            above = layers[ell]
            formula = _backprop_through(above, ell + 1) + _derivative(layer.activation, ell)
            if len(index.consumers.get(id(layer.out), ())) > 1:
                formula += "  (+ its other uses)"
        out.steps.append(Step(f"δ{sup(ell)}", formula, grads.get(layer.z), layer.z.shape))
        w = layer.weight
        label = f" [{names[id(w)]}]" if id(w) in names else ""
        out.steps.append(Step(f"∂C/∂W{sup(ell)}", _weight_formula(layer, ell) + label, grads.get(w), tuple(w.shape)))
        if layer.bias is not None:
            b = layer.bias
            reduced = tuple(b.shape) != layer.z.shape
            formula = (f"Σ over the batch of δ{sup(ell)}" if reduced else f"δ{sup(ell)}") + (
                f" [{names[id(b)]}]" if id(b) in names else ""
            )
            out.steps.append(Step(f"∂C/∂b{sup(ell)}", formula, grads.get(b), tuple(b.shape)))
    if _leaf(first.source):
        out.steps.append(Step(f"∂C/∂a{sup(0)}", _backprop_through(first, 1), grads.get(first.source), source_shape))
    if cost is None:
        out.notes.append("the loss was not recognised as a squared error; ∂C/∂ŷ is the engine's δ at ŷ")
    return out


def _shape_of(edge: Any) -> tuple[int, ...]:
    return tuple(edge.shape) if edge is not None else ()


def _generic(index: GraphIndex, grads: Gradients) -> Explanation:
    """No layer pattern: list each op's δ, loss first, as the sweep met them."""
    out = Explanation()
    out.notes.append("no z = a·W + b layer was recognised; listing δ for every op, loss first")
    for number_, node in reversed(list(enumerate(index.nodes))):
        users = index.consumers.get(id(node), [])
        formula = (
            "the seed (∂C/∂C = 1)" if not users else " + ".join(f"via {u.name}#{index.key(u)[2:]}" for u, _ in users)
        )
        out.steps.append(Step(f"δ[{node.name}#{number_}]", formula, grads.get(node), node.shape))
    return out


def explain_backward(
    loss: Tensor, *, params: Any = None, gradient: Any = None, file: TextIO | None | object = _STDOUT
) -> Explanation:
    """Print the δ recursion the engine ran for ``loss``, in the post's notation.

    Layers are found by walking the graph (see the module doc), so the text follows
    whatever network built ``loss``. Each line is ``symbol (shape) = formula`` followed
    by the engine's value (full for tiny tensors, else norm, min and max); values come
    from a read-only sweep, so ``.grad`` and the graph are left untouched. Returns the
    ``Explanation`` (``.steps``; ``str()`` is the text); ``file=None`` prints nothing.

    >>> import numpy as np, autograd_nn as ag
    >>> W = ag.tensor([[0.5, -1.0]], requires_grad=True)       # 1×2: one output, two inputs
    >>> x = ag.tensor([[1.0, 2.0]])                               # one sample
    >>> e = explain_backward(((x @ W.T - 1.0) ** 2).mean(), file=None)
    >>> print(e.step("δ¹"))
    δ¹ (1×1) = 2(ŷ − y)/n                            [-5]
    """
    explanation = explain(loss, params=params, gradient=gradient)
    if file is _STDOUT:
        file = sys.stdout  # looked up now, so redirected output (pytest, contextlib) is honoured
    if file is not None:
        print(explanation, file=file)
    return explanation
