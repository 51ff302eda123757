"""What each block computes and how its δ flows back, written with the graph's names.

``forward_text`` is the right-hand side of ``zˡ = …``; ``vjp_text`` is one input's share
of δ (the block's vector-Jacobian product for that input) given how the block's own δ
is written. The post's layers get the post's formulas; every other op gets its declared
formula (its docstring's first line), with the graph's symbols put in.
"""

from __future__ import annotations

from typing import Any

from ._blocks import Block
from ._format import parameter_text, shape_text
from ._formula import declared_rule, formula_line, formula_of, substitute, superscript_letters, tokens
from ._names import Names
from ._patterns import scale_text


def group(text: str) -> str:
    """``text`` in parentheses when it is more than one symbol."""
    return f"({text})" if " " in text else text


def powered(symbol: str) -> str:
    """``symbol`` ready for a superscript after it: ``(z²)ᵀ``, but ``kᵀ``."""
    return f"({symbol})" if " " in symbol or any(c in symbol for c in "⁰¹²³⁴⁵⁶⁷⁸⁹⁻ˡ") else symbol


def parameters(node: Any, expression: str) -> dict[str, str]:
    """The op's keyword parameters that ``expression`` names as ``(name)`` or ``[name]``,
    written out: ``x.reshape(shape)`` → ``h₃.reshape(4, 27)``, ``x[index]`` → ``z¹[:, 0:4]``."""
    out = {}
    parts = tokens(expression)
    for k in range(1, len(parts) - 1):
        name = parts[k]
        if name in node.params and (parts[k - 1], parts[k + 1]) in (("(", ")"), ("[", "]")):
            text = parameter_text(node.params[name])
            if text is not None:
                out[name] = text
    return out


# ------------------------------------------------------------------- forward
def forward_text(block: Block, names: Names) -> str:
    """The block's output in terms of its inputs: ``a⁰ · (W¹)ᵀ + b¹``, ``σ(z¹)``, …"""
    kind, info = block.kind, block.info
    operand = [names.operand(block, i) for i in range(len(block.inputs))]
    if kind == "affine":
        a, w = operand[0], operand[1]
        body = {"a·Wᵀ": f"{a} · {powered(w)}ᵀ", "a·W": f"{a} · {w}", "W·a": f"{w} · {a}"}[info["form"]]
        return body + (f" + {operand[2]}" if len(operand) > 2 else "")
    if kind == "activation":
        return f"{info['f']}({operand[0]})"
    if kind == "dropout":
        return (
            f"{operand[0]} ⊙ m, m ∈ {{0, {info['scale']:.4g}}}: dropout, p = {info['p']:.4g} "
            f"({info['zeroed']} of {info['size']} zeroed)"
        )
    if kind == "residual":
        return f"{operand[0]} + {operand[1]}: residual, skip connection from {operand[info['skip']]}"
    if kind == "attention":
        q, k, v = operand
        keys = f"{powered(k)}ᵀ" if info["transposed"] else k
        masked = " + mask" if info["masked"] else ""
        weights = f"softmax({q} {keys}{scale_text(info['scale'], info['d'])}{masked})"
        dropped = info.get("dropout")
        if dropped is None:
            return f"{weights} {v}: attention, d = {info['d']}"
        return f"({weights} ⊙ m) {v}: attention, d = {info['d']}, dropout on the weights, p = {dropped['p']:.4g}"
    if kind == "loss" and not info.get("declared"):
        return info["cost"]
    return _declared_forward(block, names, operand)


def _declared_forward(block: Block, names: Names, operand: list[str]) -> str:
    node = block.out
    formula = formula_of(node.fn)
    call = f"{node.name}({', '.join(operand)})"
    if formula is None:
        return call
    mentioned = set(tokens(formula.forward)) | superscript_letters(formula.forward)
    used = [(v, o) for v, o in zip(formula.variables, operand) if v in mentioned]
    if len(formula.variables) == len(operand) and len(used) == len(operand):
        symbols = {**parameters(node, formula.forward), **dict(zip(formula.variables, operand))}
        if formula.out:
            symbols[formula.out] = names.symbol(node)
        text = substitute(formula.forward, symbols, {})
        if text is not None:
            return text
        return f"{formula.forward}, with {', '.join(f'{v} = {o}' for v, o in used)}"  # eᶻ: z left as written
    # The formula does not name each of the op's inputs: say which they are, in order.
    return f"{call}: {formula.forward}" if formula.forward else call


# --------------------------------------------------------------- backward
def vjp_text(block: Block, slot: int, names: Names, delta: str, reduced: dict[tuple[int, int], Any]) -> str:
    """Input ``slot``'s share of δ through ``block``, whose own δ is written ``delta``."""
    kind, info = block.kind, block.info
    operand = [names.operand(block, i) for i in range(len(block.inputs))]
    d = group(delta)
    if kind == "affine":
        a, w, form = operand[0], operand[1], info["form"]
        if slot == 0:
            return {"a·Wᵀ": f"{d} · {w}", "a·W": f"{d} · {powered(w)}ᵀ", "W·a": f"{powered(w)}ᵀ {d}"}[form]
        if slot == 1:
            return {"a·Wᵀ": f"{powered(delta)}ᵀ · {a}", "a·W": f"{powered(a)}ᵀ · {d}", "W·a": f"{d} · {powered(a)}ᵀ"}[form]
        bias = block.inputs[2]
        return f"Σ over the batch of {delta}" if tuple(bias.shape) != block.out.shape else delta
    if kind == "activation":
        return f"{d} ⊙ {info['f']}'({operand[0]})"
    if kind == "dropout":
        return f"{d} ⊙ m"
    if kind == "residual":
        return delta + (" (the skip)" if slot == info["skip"] else "")
    if kind == "attention":
        return _attention_vjp(block, slot, names, d, operand)
    if kind == "loss" and not info.get("declared"):
        return info["delta"] if slot == 0 else info.get("target_delta", "?")
    text = _declared_vjp(block, slot, names, delta, operand)
    shape = reduced.get((id(block.out), slot))
    if shape is not None and len(block.nodes) == 1:
        text += f", summed from {shape_text(shape)} to {shape_text(_shape(block.inputs[slot]))}"
    return text


def _shape(edge: Any) -> tuple[int, ...]:
    return tuple(edge.shape) if edge is not None else ()


def _declared_vjp(block: Block, slot: int, names: Names, delta: str, operand: list[str]) -> str:
    node = block.out
    formula = formula_of(node.fn)
    if formula is not None and slot in formula.entries and len(formula.variables) == len(operand):
        symbols = {**parameters(node, formula.entries[slot][1]), **dict(zip(formula.variables, operand))}
        symbols[formula.out] = names.symbol(node)
        own = {formula.out: delta}
        deltas = dict(own)
        for i, (variable, expression) in formula.entries.items():  # "δy = −δŷ": the other entry, once
            if i != slot:
                other = substitute(expression, symbols, own)
                if other is not None:
                    deltas[variable] = f"({other})"
        text = substitute(formula.entries[slot][1], symbols, deltas)
        if text is not None:
            return text
    # The declared derivative, verbatim, with what its letters stand for here: never renamed.
    if formula is not None and (slot in formula.entries or len(formula.rules) == 1):
        variable, expression = formula.entries.get(slot) or formula.rules[0]
        bindings = [f"{v} = {o}" for v, o in zip(formula.variables, operand)] if len(formula.variables) == len(operand) else []
        if not bindings:
            bindings = [f"{variable} = its input {slot} ({operand[slot]})"]
        bindings.append(f"δ{formula.out} = {delta}")
        return f"{node.name}'s δ{variable} = {expression}, with {', '.join(bindings)}"
    rule = declared_rule(formula_line(node.fn))
    return f"the derivative {node.name} declares for its input {slot}" + (f": {rule}" if rule else "")


def _attention_vjp(block: Block, slot: int, names: Names, d: str, operand: list[str]) -> str:
    info = block.info
    q, k, v = operand
    p, s = names.symbol(info["probabilities"]), names.delta(info["scores"])
    scale = scale_text(info["scale"], info["d"])
    if slot == 2:
        return f"({p} ⊙ m)ᵀ · {d}" if info.get("dropout") else f"{powered(p)}ᵀ · {d}"
    if slot == 0:
        return f"{group(s)} · {k}{scale}" if info["transposed"] else f"{group(s)} · {powered(k)}ᵀ{scale}"
    return f"({s})ᵀ · {q}{scale}" if info["transposed"] else f"{powered(q)}ᵀ · {group(s)}{scale}"


def attention_steps(block: Block, names: Names, delta: str) -> list[tuple[str, str, Any]]:
    """The δ inside an attention block: at its softmax output P and at the scores S."""
    info = block.info
    probabilities, scores = info["probabilities"], info["scores"]
    v = names.operand(block, 2)
    p, dp = names.symbol(probabilities), names.delta(probabilities)
    through = f"({group(delta)} · ({v})ᵀ) ⊙ m" if info.get("dropout") else f"{group(delta)} · ({v})ᵀ"
    return [
        (dp, through, probabilities),
        (names.delta(scores), f"{p} ⊙ ({dp} − Σ {group(dp)} ⊙ {p})  (softmax's row-wise δ)", scores),
    ]
