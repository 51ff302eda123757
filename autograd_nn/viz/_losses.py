"""Recognising the cost C at the root: squared error (fused ``MseLoss`` or any spelling in
primitives: ``mean((ŷ − y)²)``, the post's ``1/(2n) Σ(ŷ − y)²``), softmax cross-entropy,
binary cross-entropy (on probabilities or on logits) and any op declared ``role="loss"``.

Each gives the cost's formula and ∂C/∂ŷ's, with the constant factor the graph applies
(a mean's 1/n, a scale by ½) read off the graph, never assumed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Node
from ._blocks import Block, Cutter, constant_slot, is_op, role_of, saved_input, scalar_constant
from ._walk import expanded


def loss(node: Node, cutter: Cutter) -> Block | None:
    """The cost at the root of the graph, or None."""
    root = cutter.index.root.grad_fn
    if node is not root or node.shape != ():
        return None
    inside: list[Node] = []
    factor = 1.0
    top: Any = node
    while (is_op(top, "multiply") or is_op(top, "divide")) and top.shape == () and (not inside or cutter.private(top, inside)):
        slot = 1 if top.parents[1] is None else 0
        c = scalar_constant(top, slot)
        if c is None or c == 0 or (is_op(top, "divide") and slot == 0):
            break
        factor = factor / c if is_op(top, "divide") else factor * c
        inside.append(top)
        top = top.parents[1 - slot]
    if type(top) is not Node or (inside and not cutter.private(top, inside)):
        return None
    for recognise in (_fused, _squared_error, _cross_entropy, _binary_cross_entropy, _declared):
        block = recognise(top, cutter, inside + [top], factor)
        if block is not None:
            return block
    return None


def _private(cutter: Cutter | None, node: Any, nodes: list[Node]) -> bool:
    """``node`` is a node that only ``nodes`` read (always, in a fused loss's decomposition: no ``cutter``)."""
    return type(node) is Node and (cutter is None or cutter.private(node, nodes))


def _reduced(top: Node, factor: float) -> tuple[Any, float] | None:
    """``top`` = mean or Σ over every element of its input: (the input, C's factor per element)."""
    if top.shape != () or not (is_op(top, "mean") or is_op(top, "sum")):
        return None
    inner = top.parents[0]
    if type(inner) is not Node:
        return None
    return inner, factor / max(int(np.prod(inner.shape)), 1) if is_op(top, "mean") else factor


def _fused(top: Node, cutter: Cutter, inside: list[Node], factor: float) -> Block | None:
    """A fused loss (``MseLoss``, ``SoftmaxCrossEntropy``) read through its declared decomposition."""
    if role_of(top) != "loss":
        return None
    template = expanded(top)
    if template is None:
        return None
    found = _squared_error(template, None, [template], factor) or _cross_entropy(template, None, [template], factor)
    if found is None:
        return None
    found.out, found.nodes = inside[0], inside
    slots = {id(p): i for i, p in enumerate(top.parents) if p is not None}
    order = [slots.get(id(e), 0 if e is None else -1) for e in found.inputs]
    found.inputs = list(top.parents)
    found.constants = [saved_input(top, i) if p is None else None for i, p in enumerate(top.parents)]
    if order and order[0] == 1:  # the decomposition's prediction is the op's second input
        found.inputs.reverse()
        found.constants.reverse()
    return found


def _squared_error(top: Node, cutter: Cutter | None, inside: list[Node], factor: float) -> Block | None:
    reduced = _reduced(top, factor)
    if reduced is None:
        return None
    squared, factor = reduced
    if not _private(cutter, squared, inside):
        return None
    count = int(np.prod(squared.shape))
    if len(squared.parents) != 2:
        return None
    x, y = squared.parents
    if is_op(squared, "multiply") and x is y:
        difference = x
    elif is_op(squared, "power") and (e := saved_input(squared, 1)) is not None and e.size == 1 and float(e) == 2:
        difference = x
    else:
        return None
    inside = inside + [squared]
    if not is_op(difference, "subtract") or not _private(cutter, difference, inside):
        return None
    nodes = inside + [difference]
    prediction, target = difference.parents
    constants = [saved_input(difference, 0) if prediction is None else None, saved_input(difference, 1)]
    if prediction is None:  # (y − ŷ)²: the same cost with the prediction second
        prediction, target = target, prediction
        constants.reverse()
    cost, delta, n = _squared_error_formulas(factor, count)
    info = {"loss": "squared error", "cost": cost, "delta": delta, "n": n, "target_delta": f"−{_group(delta)}"}
    return Block("loss", nodes[0], nodes, [prediction, target], constants, info)


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
        cost = f"{factor:.4g} · Σ(ŷ − y)²"
    if near(2 * factor * count, 1):
        delta = "(ŷ − y)/n"
    elif near(2 * factor * count, 2):
        delta = "2(ŷ − y)/n"
    elif near(2 * factor, 1):
        delta = "ŷ − y"
    else:
        delta = f"{2 * factor:.4g} · (ŷ − y)"
    n = f"n = {count}" if "n" in cost + delta else ""
    return cost, delta, n


def _group(text: str) -> str:
    return f"({text})" if " " in text else text


def _per_sample(factor: float, count: int, what: str) -> str:
    """``what`` scaled by C's factor per element: ``what/n``, ``what`` or ``0.5 · what``."""
    if abs(factor * count - 1) <= 1e-12:
        return f"{_group(what)}/n"
    if abs(factor - 1) <= 1e-12:
        return what
    return f"{factor:.4g} · {_group(what)}"


def _cost(factor: float, count: int, body: str) -> str:
    """C = factor · Σ body over ``count`` terms, in words: ``mean(body)``, ``Σ body``, …"""
    if abs(factor * count - 1) <= 1e-12:
        return f"mean({body})"
    return f"Σ {body}" if abs(factor - 1) <= 1e-12 else f"{factor:.4g} · Σ {body}"


def _cross_entropy(top: Node, cutter: Cutter | None, inside: list[Node], factor: float) -> Block | None:
    """−mean Σₖ yₖ ln softmax(ŷ)ₖ, as its primitives record it (a fused loss's decomposition,
    with no ``cutter``: nothing else can read its nodes)."""
    reduced = _reduced(top, factor)
    if reduced is None:
        return None
    negated, factor = reduced
    if not is_op(negated, "negative") or not _private(cutter, negated, inside):
        return None
    total = negated.parents[0]
    nodes = inside + [negated]
    if not is_op(total, "sum") or not _private(cutter, total, nodes) or len(total.shape) != 1:
        return None
    product = total.parents[0]
    nodes.append(total)
    slot = constant_slot(product) if is_op(product, "multiply") else None
    if slot is None or not _private(cutter, product, nodes):
        return None
    log_p, target = product.parents[1 - slot], saved_input(product, slot)
    nodes.append(product)
    if not is_op(log_p, "log_softmax") or not _private(cutter, log_p, nodes) or target is None:
        return None
    axis = total.params.get("axis")
    if target.shape != log_p.shape or axis not in (1, -1) or log_p.params.get("axis", -1) not in (1, -1):
        return None
    nodes.append(log_p)
    count = int(total.shape[0])
    rows_sum_to_one = np.allclose(target.sum(axis=1), 1.0)
    what = "softmax(ŷ) − y" if rows_sum_to_one else "softmax(ŷ) · Σₖ yₖ − y"
    info = {
        "loss": "softmax cross-entropy", "cost": _cost(factor, count, "−Σₖ yₖ ln softmax(ŷ)ₖ"),
        "delta": _per_sample(factor, count, what), "n": f"n = {count}",
    }  # fmt: skip
    return Block("loss", nodes[0], nodes, [log_p.parents[0], None], [None, target], info)


def _binary_cross_entropy(top: Node, cutter: Cutter, inside: list[Node], factor: float) -> Block | None:
    """mean −[y ln ŷ + (1 − y) ln(1 − ŷ)] on probabilities (the ``role="loss"`` op), or on
    logits as ``F.binary_cross_entropy_with_logits`` records it: softplus(ŷ ⊙ (1 − 2m)) −
    ŷ ⊙ (y − m) with m = relu(sign ŷ) = [ŷ > 0], which is softplus(ŷ) − ŷ ⊙ y written to keep
    its relative accuracy."""
    reduced = _reduced(top, factor)
    if reduced is None:
        return None
    inner, factor = reduced
    count = int(np.prod(inner.shape))
    if not cutter.private(inner, inside):
        return None
    nodes = inside + [inner]
    if role_of(inner) == "loss" and len(inner.parents) == 1 and "target" in inner.params:
        info = {
            "loss": "binary cross-entropy", "cost": _cost(factor, count, "−[y ln ŷ + (1 − y) ln(1 − ŷ)]"),
            "delta": _per_sample(factor, count, "(ŷ − y)/(ŷ(1 − ŷ))"), "n": f"n = {count}",
        }  # fmt: skip
        return Block("loss", nodes[0], nodes, [inner.parents[0], None], [None, np.asarray(inner.params["target"])], info)
    hidden = _on_logits(inner)
    if hidden is None:
        return None
    logits, shift, below = hidden
    product = below[0]
    for node in below:  # each read only inside the block
        if not cutter.private(node, nodes + below):
            return None
    info = {
        "loss": "binary cross-entropy on logits", "cost": _cost(factor, count, "softplus(ŷ) − ŷ ⊙ y"),
        "delta": _per_sample(factor, count, "σ(ŷ) − y"), "n": f"n = {count}",
    }  # fmt: skip
    shifted, z = saved_input(product, shift), saved_input(product, 1 - shift)
    target = None if shifted is None or z is None else shifted + (np.asarray(z) > 0)
    return Block("loss", nodes[0], nodes + below, [logits, None], [None, target], info)


def _on_logits(inner: Node) -> tuple[Node, int, list[Node]] | None:
    """(ŷ, the slot of y − m in ŷ ⊙ (y − m), the nodes below ``inner``, that product first) of
    softplus(ŷ ⊙ (1 − 2m)) − ŷ ⊙ (y − m), m = relu(sign ŷ), y a constant; None for any other graph."""
    if not is_op(inner, "subtract") or not is_op(inner.parents[0], "softplus") or not is_op(inner.parents[1], "multiply"):
        return None
    soft, product = inner.parents
    shift = next((i for i, p in enumerate(product.parents) if is_op(p, "subtract") and p.parents[0] is None), None)
    if shift is None:
        return None
    logits, shifted = product.parents[1 - shift], product.parents[shift]
    above = shifted.parents[1]  # m = relu(sign ŷ)
    sign = above.parents[0] if is_op(above, "relu") else None
    if not is_op(sign, "sign") or sign.parents[0] is not logits:
        return None
    folded = soft.parents[0]  # ŷ ⊙ (1 − 2m) = −|ŷ|
    if not is_op(folded, "multiply") or folded.parents[0] is not logits or not is_op(folded.parents[1], "subtract"):
        return None
    fold = folded.parents[1]  # 1 − 2m (a subtract keeps no inputs: its 1 is not read back)
    twice = fold.parents[1]
    slot = next((i for i, p in enumerate(twice.parents) if p is above), None) if is_op(twice, "multiply") else None
    if fold.parents[0] is not None or slot is None or scalar_constant(twice, 1 - slot) != 2:
        return None
    return logits, shift, [product, soft, folded, fold, twice, shifted, above, sign]


def _declared(top: Node, cutter: Cutter, inside: list[Node], factor: float) -> Block | None:
    """Any other op declared ``role="loss"`` at the root: its own formula says the rest."""
    if role_of(top) != "loss" or top.shape != () or factor != 1.0 or len(inside) != 1:
        return None
    constants = [saved_input(top, i) if p is None else None for i, p in enumerate(top.parents)]
    return Block("loss", top, [top], list(top.parents), constants, {"loss": top.name, "declared": True})
