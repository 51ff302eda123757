"""Recognising the blocks of a network in a graph: affine maps, declared layers,
activations, dropout, residual additions and attention built from primitives.

Each recogniser looks at one node (the last op of the block it may find) and returns a
``Block`` only when the graph proves it: the inner ops are private to the block (their
results are used nowhere else), the weights are leaves, the dropout mask really holds
only 0 and 1/(1 − p), the skip connection really reaches the other branch.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from ..graph import Node
from ..registry import spec_of_function
from ._blocks import Block, Cutter, constant_slot, is_leaf, is_op, role_of, saved_input, scalar_constant
from ._formula import formula_of
from ._walk import expanded

RESIDUAL_SEARCH = 10_000  # ops searched for a skip connection before giving up (not proven)


# ------------------------------------------------------------------ affine maps
def affine(node: Node, cutter: Cutter) -> Block | None:
    """``z = a·Wᵀ + b`` (PyTorch's Linear), ``a·W + b`` (the post's numpy code) or ``W·a + b``
    (column vectors), from primitives or from a fused op's declared decomposition."""
    if role_of(node) == "layer":
        template = expanded(node)
        if template is None:
            return None
        inside = _affine_primitives(template, None)
        if inside is None or inside.out is not template:
            return None
        # the template was recorded on the fused node's own inputs: its edges are the node's
        slots = {id(p): i for i, p in enumerate(node.parents) if p is not None}
        weight_slot = slots.get(id(inside.inputs[1]))
        if weight_slot is None:
            return None
        inputs = [node.parents[0], node.parents[weight_slot]] + ([node.parents[2]] if len(inside.inputs) > 2 else [])
        return Block("affine", node, [node], inputs, [saved_input(node, 0), None, None][: len(inputs)], inside.info)
    return _affine_primitives(node, cutter)


def _affine_primitives(node: Node, cutter: Cutter | None) -> Block | None:
    def private(n: Any, inside: list[Node]) -> bool:
        return type(n) is Node and (cutter is None or cutter.private(n, inside))

    bias = None
    matmul = node
    inside = [node]
    if is_op(node, "add"):
        x, y = node.parents
        if is_op(x, "matmul") and is_leaf(y) and private(x, inside):
            matmul, bias = x, y
        elif is_op(y, "matmul") and is_leaf(x) and private(y, inside):
            matmul, bias = y, x
        else:
            return None
        inside.append(matmul)
    elif not is_op(node, "matmul") or (cutter is not None and not cutter.free(node)):
        return None
    left, right = matmul.parents
    if is_leaf(right) and len(right.shape) == 2 and right is not left:
        weight, form, source, side = right, "a·W", left, 0
    elif is_op(right, "transpose") and is_leaf(right.parents[0]) and len(right.shape) == 2 and private(right, inside):
        weight, form, source, side = right.parents[0], "a·Wᵀ", left, 0
        inside.append(right)
    elif is_leaf(left) and len(left.shape) == 2 and not is_leaf(right):
        weight, form, source, side = left, "W·a", right, 1
    else:
        return None
    if bias is not None and not _bias_fits(bias, node.shape, form):
        return None
    inputs = [source, weight] + ([bias] if bias is not None else [])
    constants = [saved_input(matmul, side) if source is None else None, None, None][: len(inputs)]
    return Block("affine", node, inside, inputs, constants, {"form": form})


def _bias_fits(bias: Any, z_shape: tuple[int, ...], form: str) -> bool:
    """A bias is one value per output unit, broadcast over the batch."""
    shape = tuple(bias.shape)
    if form == "W·a":
        return len(shape) <= 2 and (shape == z_shape or shape in ((z_shape[0],), (z_shape[0], 1)))
    return shape == z_shape or shape in (z_shape[-1:], (1,) + z_shape[-1:])


# ------------------------------------------------------------ declared layers
def declared_layer(node: Node, cutter: Cutter) -> Block | None:
    """An op declared ``role="layer"`` (a convolution, a norm, an embedding, …): input 0 is
    the layer's input, its leaf inputs are its parameters; the formula is its own."""
    if role_of(node) != "layer":
        return None
    constants = [saved_input(node, i) if p is None else None for i, p in enumerate(node.parents)]
    return Block("layer", node, [node], list(node.parents), constants)


# ----------------------------------------------------------------- activations
def activation(node: Node, cutter: Cutter) -> Block | None:
    """An op declared ``role="activation"``: aˡ = f(zˡ), δz = δa ⊙ f'(z)."""
    if role_of(node) != "activation" or len(node.parents) != 1:
        return None
    return Block("activation", node, [node], [node.parents[0]], [saved_input(node, 0)], {"f": function_symbol(node)})


def function_symbol(node: Node) -> str:
    """How formulas write the op: ``σ`` from ``a = σ(z)``, ``tanh`` from ``a = tanh z``,
    else the op's public name (``relu``)."""
    formula = formula_of(node.fn)
    if formula is not None and formula.variables:
        var = re.escape(formula.variables[0])
        found = re.fullmatch(rf"(\S+?)\({var}\)|(\S+) {var}", formula.forward)
        if found:
            return found.group(1) or found.group(2)
    spec = spec_of_function(node.fn)
    names = (spec.surface.functions + spec.surface.methods) if spec is not None else ()
    return names[0] if names else node.name.lower()


# -------------------------------------------------------------------- dropout
def dropout(node: Node, cutter: Cutter) -> Block | None:
    """``a ⊙ m`` with a constant mask m of zeros and 1/(1 − p): what ``F.dropout`` records."""
    slot = constant_slot(node) if is_op(node, "multiply") else None
    if slot is None:
        return None
    data = node.parents[1 - slot]
    mask = saved_input(node, slot)
    if data is None or mask is None or mask.shape != node.shape or mask.size < 2:
        return None
    kept = np.unique(mask)
    if len(kept) != 2 or kept[0] != 0 or not kept[1] > 1:
        return None
    scale = float(kept[1])
    info = {
        "p": 1 - 1 / scale, "scale": scale, "zeroed": int(np.count_nonzero(mask == 0)), "size": int(mask.size),
        "mask": mask,
    }  # fmt: skip
    return Block("dropout", node, [node], [data], [None], info)


# ------------------------------------------------------------------- residual
def residual(node: Node, cutter: Cutter) -> Block | None:
    """``h = v + F(v)``: an addition whose one operand also feeds the other (a skip)."""
    if not is_op(node, "add") or any(p is None for p in node.parents) or node.parents[0] is node.parents[1]:
        return None
    for skip in (1, 0):
        if _reaches(node.parents[1 - skip], node.parents[skip]):
            return Block("residual", node, [node], list(node.parents), [None, None], {"skip": skip})
    return None


def _reaches(start: Any, target: Any) -> bool:
    """Whether ``target`` (a node or leaf) is an input, direct or not, of ``start``."""
    if type(start) is not Node:
        return False
    floor = target.seq if type(target) is Node else -1
    stack, seen = [start], {id(start)}
    while stack and len(seen) < RESIDUAL_SEARCH:
        for parent in stack.pop().parents:
            if parent is target:
                return True
            if type(parent) is Node and parent.seq > floor and id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return False


# ------------------------------------------------------------------ attention
def attention(node: Node, cutter: Cutter) -> Block | None:
    """``o = softmax(q kᵀ · s [+ mask]) v`` built from primitives (scaled dot-product attention),
    with dropout on the weights when training (``(softmax(…) ⊙ m) v``)."""
    if not is_op(node, "matmul") or not cutter.free(node):
        return None
    probabilities, values = node.parents
    inside = [node]
    dropped = dropout(probabilities, cutter) if type(probabilities) is Node else None
    mask = None
    if dropped is not None and cutter.private(probabilities, inside):  # dropout on the weights (training)
        inside.append(probabilities)
        probabilities, mask = dropped.inputs[0], dropped.info
    if not is_op(probabilities, "softmax") or not cutter.private(probabilities, inside):
        return None
    axis = probabilities.params.get("axis", -1)
    if axis not in (-1, len(probabilities.shape) - 1):
        return None
    inside.append(probabilities)
    scores = probabilities.parents[0]
    info: dict[str, Any] = {"probabilities": probabilities, "scores": scores, "masked": False, "scale": 1.0}
    info["dropout"] = mask
    edge = scores
    if is_op(edge, "add") and constant_slot(edge) is not None and cutter.private(edge, inside):
        info["masked"] = True
        inside.append(edge)
        edge = edge.parents[1 - constant_slot(edge)]
    edge = _scaled(edge, info, cutter, inside)
    if not is_op(edge, "matmul") or not cutter.private(edge, inside):
        return None
    inside.append(edge)
    saved_query = saved_input(edge, 0)
    info["d"] = int(saved_query.shape[-1]) if saved_query is not None and saved_query.ndim else 0
    query, keys = edge.parents
    query = _scaled(query, info, cutter, inside)
    if is_op(keys, "transpose") and _swaps_last_axes(keys) and cutter.private(keys, inside):
        inside.append(keys)
        keys, info["transposed"] = keys.parents[0], True
    else:
        info["transposed"] = False
    scores_matmul = edge
    constants = [saved_input(scores_matmul, 0), saved_input(scores_matmul, 1), saved_input(node, 1)]
    inputs = [query, keys, values]
    return Block("attention", node, inside, inputs, [c if e is None else None for c, e in zip(constants, inputs)], info)


def _scaled(edge: Any, info: dict[str, Any], cutter: Cutter, inside: list[Node]) -> Any:
    """Step over ``edge · c`` or ``edge / c`` (a constant scalar), folding c into the scale."""
    for name, invert in (("multiply", False), ("divide", True)):
        if is_op(edge, name) and cutter.private(edge, inside):
            slot = 1 if invert else (1 if edge.parents[1] is None else 0)
            c = scalar_constant(edge, slot)
            if c is not None and c != 0 and edge.parents[1 - slot] is not None:
                info["scale"] *= 1 / c if invert else c
                inside.append(edge)
                return edge.parents[1 - slot]
    return edge


def _swaps_last_axes(node: Node) -> bool:
    axes = node.params.get("axes")
    n = len(node.shape)
    return (axes is None and n == 2) or (axes is not None and tuple(axes) == tuple(range(n - 2)) + (n - 1, n - 2))


def scale_text(scale: float, d: int) -> str:
    """``/√d`` when the scale is 1/√d (the usual one), else ``· s``."""
    if d and math.isclose(scale, 1 / math.sqrt(d), rel_tol=1e-6):
        return "/√d"
    return "" if scale == 1 else f" · {scale:.4g}"
