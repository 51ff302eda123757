"""``explain_backward``: the δ recursion of the post, read off the actual graph.

The graph is cut into blocks (:mod:`._blocks`): the layers, activations, dropouts,
residual additions, attention blocks and the loss it provably contains, and one block
per op for everything else. The text has one forward line per block, naming the ops it
stands for, and one backward line per tensor that carries a δ: ``δ (shape) = the sum,
over the blocks that read it, of their VJP``, followed by the engine's own value from a
read-only sweep (``.grad`` is not touched). Where an activation's δ feeds one layer, its
line folds into the next, as in the post: ``δ¹ = (δ² · W²) ⊙ σ'(z¹)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..graph import Node
from ..tensor import Tensor
from ._blocks import Block, cut, is_leaf
from ._format import number, shape_text, values_text
from ._losses import loss as _loss
from ._names import Names
from ._patterns import activation, affine, attention, declared_layer, dropout, residual
from ._text import attention_steps, forward_text, vjp_text
from ._walk import Gradients, index_graph, named_tensors, root_edge, sweep

RECOGNISERS = [_loss, attention, affine, declared_layer, activation, dropout, residual]
_OPS_COLUMN = 52


@dataclass
class Step:
    """One line: ``symbol (shape) = formula`` with the engine's value (None in the forward recap).

    ``edge`` is the graph's node (or leaf) the line is about: a backward line's value is
    the δ the engine computed for it; ``ops`` names the recorded ops a forward line
    stands for.
    """

    symbol: str
    formula: str
    value: np.ndarray | None
    shape: tuple[int, ...] = ()
    edge: Any = field(default=None, repr=False, compare=False)
    ops: tuple[str, ...] = ()
    note: str = ""  # the caller's name for the tensor, when it is not the symbol

    def __str__(self) -> str:
        head = f"{self.symbol} ({shape_text(self.shape)}) = {self.formula}" + (f" [{self.note}]" if self.note else "")
        if self.ops:
            head = f"{head:<{_OPS_COLUMN}}  [{', '.join(self.ops)}]"
        if self.value is None:
            return head
        return f"{head:<46}  {values_text(self.value)}"


@dataclass
class Explanation:
    """The recursion as ``steps`` (forward recap in ``forward``); its ``repr`` is the text."""

    forward: list[Step] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    blocks: list[Any] = field(default_factory=list, repr=False)  # the cut graph (viz._blocks.Block)

    def step(self, symbol: str) -> Step:
        """The backward step whose symbol is ``symbol`` (e.g. ``"δ¹"``, ``"∂C/∂W²"``)."""
        for s in self.steps:
            if s.symbol == symbol:
                return s
        raise KeyError(f"explain_backward: no step {symbol!r}; steps are {[s.symbol for s in self.steps]}")

    def __str__(self) -> str:
        lines = ["forward:"] if self.forward else []
        lines += [f"  {s}" for s in self.forward]
        lines.append("backward (δˡ = ∂C/∂zˡ; values are the engine's):")
        lines += [f"  {s}" for s in self.steps]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    __repr__ = __str__


def explain(
    loss: Tensor, *, params: Any = None, tensors: dict[str, Tensor] | None = None, gradient: Any = None,
    inputs: list[Tensor] | None = None,
) -> tuple[Explanation, Names, Gradients]:
    """The ``Explanation`` of ``loss``, the names it uses and the engine's δs (``inputs``:
    the model's inputs, where the caller knows them)."""
    if not isinstance(loss, Tensor):
        raise TypeError(f"explain_backward: expected a Tensor, got {type(loss).__name__}")
    index = index_graph(loss)
    grads = sweep(index, gradient)
    if grads.state != "computed":
        raise RuntimeError(
            "explain_backward: the graph was freed by an earlier backward(); call explain_backward "
            "before backward(), or pass retain_graph=True to backward()"
        )
    blocks = cut(index, RECOGNISERS)
    names = Names(blocks, loss, named_tensors(params), dict(tensors or {}), inputs)
    out = Explanation(blocks=blocks)
    out.forward = _forward(blocks, names, loss)
    out.steps = _backward(blocks, names, grads, loss, gradient)
    if not blocks or blocks[-1].kind != "loss":
        out.notes.append("the loss was not recognised as a known cost; its δ is the seed, and each op below it is one line")
    if blocks and all(b.kind == "op" for b in blocks):
        out.notes.append("no layer was recognised: one line per op, each δ the VJP its consumers declare")
    return out, names, grads


def _forward(blocks: list[Block], names: Names, loss: Tensor) -> list[Step]:
    steps: list[Step] = []
    if names.data is not None and (names.data[1] is None or is_leaf(names.data[1])):
        block, edge = names.data
        value = block.constants[0] if edge is None else edge.data
        shape = tuple(value.shape) if value is not None else ()
        steps.append(Step(names.operand(block, 0), "x (the input)", None, shape, edge))
    for block in blocks:
        symbol = names.symbol(block.out)
        if block.kind == "loss":
            prediction = block.inputs[0]
            if prediction is not None:
                steps.append(Step("ŷ", names.symbol(prediction), None, tuple(prediction.shape), prediction))
            n = block.info.get("n")
            text = f"{forward_text(block, names)} = {number(float(loss.data.sum()))}" + (f"   ({n})" if n else "")
            steps.append(Step(symbol, text, None, block.out.shape, block.out, tuple(block.ops)))
            continue
        user = names.user.get(id(block.out))
        note = user if user and user != symbol else ""
        steps.append(Step(symbol, forward_text(block, names), None, block.out.shape, block.out, tuple(block.ops), note))
    return steps


def _backward(blocks: list[Block], names: Names, grads: Gradients, loss: Tensor, gradient: Any) -> list[Step]:
    consumers: dict[int, list[tuple[Block, int]]] = {}
    position = {id(b): k for k, b in enumerate(blocks)}
    for block in blocks:
        for slot, edge in enumerate(block.inputs):
            if edge is not None:
                consumers.setdefault(id(edge), []).append((block, slot))
    folded = {
        id(b.out) for b in blocks
        if b.kind == "activation" and len(consumers.get(id(b.out), ())) == 1
        and consumers[id(b.out)][0][0].kind in ("affine", "layer") and b.out is not names.prediction
    }  # fmt: skip
    formulas: dict[int, str] = {}

    def delta_of(block: Block) -> str:
        """How the δ arriving at ``block``'s output is written (folded lines in full)."""
        return formulas[id(block.out)] if id(block.out) in folded else names.delta(block.out)

    def formula(edge: Any) -> str:
        terms = [vjp_text(b, slot, names, delta_of(b), grads.reduced) for b, slot in consumers.get(id(edge), [])]
        return " + ".join(terms) if terms else "0 (no δ reaches it)"

    top = root_edge(loss)
    steps: list[Step] = []
    for k in range(len(blocks) - 1, -1, -1):
        block = blocks[k]
        out = block.out
        if out is top:
            formulas[id(out)] = "the seed δ" if gradient is not None else "1 (the seed)"
            if block.kind != "loss":
                steps.append(Step(names.delta(out), formulas[id(out)], grads.get(out), out.shape, out))
        else:
            formulas[id(out)] = formula(out)
            if id(out) not in folded:
                steps.append(Step(names.delta(out), formulas[id(out)], grads.get(out), out.shape, out))
        if block.kind == "attention":
            for symbol, text, edge in attention_steps(block, names, delta_of(block)):
                steps.append(Step(symbol, text, grads.get(edge), edge.shape, edge))
        seen: set[int] = set()
        for edge in block.inputs:
            if not is_leaf(edge) or id(edge) in seen:
                continue
            seen.add(id(edge))
            if min(position[id(b)] for b, _ in consumers[id(edge)]) == k:
                user = names.user.get(id(edge))
                note = user if user and user != names.symbol(edge) else ""
                steps.append(Step(names.delta(edge), formula(edge), grads.get(edge), tuple(edge.shape), edge, (), note))
    if type(top) is not Node:  # the root is a leaf: the seed is all there is
        steps.append(Step(names.delta(top), "1 (the seed)", grads.get(top), tuple(top.shape), top))
    return steps


def explain_backward(
    loss: Tensor, *, params: Any = None, tensors: dict[str, Tensor] | None = None, gradient: Any = None
) -> Explanation:
    """The δ recursion the engine runs for ``loss``, in the post's notation, as an object
    whose ``repr`` (and ``str``) is the text: a REPL or notebook shows it once, ``print``
    prints it, and nothing is printed behind your back.

    The graph is read, not assumed (see the module doc): the layers, activations,
    dropout masks, residual additions, attention blocks and losses it provably contains
    are named; every other op gets one line from its declared formula. Each line is
    ``symbol (shape) = formula`` and the engine's value (in full for up to 6 elements,
    else RMS, min and max); ``params`` and ``tensors`` (``{name: tensor}``, or a model)
    name what you like. ``.step(symbol)`` returns one line, with ``.value`` and ``.edge``.

    >>> import numpy as np, autograd_nn as ag
    >>> W = ag.tensor([[0.5, -1.0]], requires_grad=True)       # 1×2: one output, two inputs
    >>> x = ag.tensor([[1.0, 2.0]])                               # one sample
    >>> e = explain_backward(((x @ W.T - 1.0) ** 2).mean())
    >>> print(e.step("δ¹"))
    δ¹ (1×1) = 2(ŷ − y)/n                            [-5]
    """
    return explain(loss, params=params, tensors=tensors, gradient=gradient)[0]
