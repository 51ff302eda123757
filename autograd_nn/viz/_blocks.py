"""A graph cut into blocks: the layers, activations, dropouts, residual additions,
attention blocks and losses it provably contains, and one block per op for the rest.

Every recorded node belongs to exactly one block, so whatever describes the blocks
describes every op. A block claims nodes only when the graph proves what they compute:
an op's declared ``role`` (``"layer"``, ``"activation"``, ``"loss"``), its declared
``decomposition``, or a pattern of primitives whose inner results are used nowhere else.
Primitives are known by the registry's declaration (``matmul`` is the op whose public
function is ``matmul``), never by a class's name. The recognisers are in
:mod:`._patterns` and :mod:`._losses`; this module owns the cutting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..graph import Node
from ..registry import OP_REGISTRY, spec_of_function
from ._walk import GraphIndex

# Kinds of block, in the words the text and the pictures use.
KINDS = ("affine", "layer", "activation", "dropout", "residual", "attention", "loss", "op")


@dataclass(eq=False)
class Block:
    """Recorded nodes that together compute one thing.

    ``out`` is the node whose output the block produces, ``nodes`` every node it covers
    (in the order they were recorded), ``inputs`` the edges it reads from outside (a
    Node, a leaf Tensor, or None for a constant; one entry per operand of the kind, so
    an edge read twice appears twice) and ``constants`` the value of each constant
    input where the graph kept it. ``info`` holds what the kind needs (an affine map's
    form, dropout's p, attention's scale, a loss's formulas).
    """

    kind: str
    out: Node
    nodes: list[Node]
    inputs: list[Any]
    constants: list[Any] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def ops(self) -> list[str]:
        """The names of the recorded ops the block stands for, in order."""
        return [n.name for n in self.nodes]


def is_leaf(edge: Any) -> bool:
    """A leaf Tensor edge (not a Node, not None)."""
    return edge is not None and type(edge) is not Node


_PRIMITIVES: dict[str, Any] = {}
_OWN_PACKAGE = __name__.split(".")[0] + "."  # "autograd_nn.", or the name another checkout is loaded under


def primitive(name: str) -> Any:
    """The Function class of the built-in primitive whose public name is ``name``."""
    fn = _PRIMITIVES.get(name)
    if fn is None:
        for key, spec in OP_REGISTRY.items():
            surface = spec.surface
            if key.startswith(_OWN_PACKAGE) and spec.kind == "primitive" and name in surface.functions + surface.methods:
                fn = _PRIMITIVES[name] = spec.function
                break
        else:
            raise LookupError(f"viz: no built-in primitive is called {name!r}")
    return fn


def is_op(edge: Any, name: str) -> bool:
    """Whether ``edge`` is a node of the built-in primitive ``name`` (``"matmul"``, ``"add"``)."""
    return type(edge) is Node and edge.fn is primitive(name)


def constant_slot(node: Node) -> int | None:
    """The input slot of a two-input op that is a constant (its edge is None), if exactly one is."""
    slots = [i for i, p in enumerate(node.parents) if p is None]
    return slots[0] if len(slots) == 1 and len(node.parents) == 2 else None


_ROLES: dict[Any, str | None] = {}


def role_of(node: Node) -> str | None:
    """The op's declared ``role`` (``"layer"``, ``"activation"``, ``"loss"``), or None."""
    fn = node.fn
    if fn not in _ROLES:
        spec = spec_of_function(fn)
        _ROLES[fn] = spec.role if spec is not None else None
    return _ROLES[fn]


def saved_input(node: Node, slot: int) -> np.ndarray | None:
    """The value the op saved for its input ``slot`` (constants included), or None."""
    saved = node.saved_values
    if saved:
        for value, source in zip(saved, node.saved_sources):
            if source == slot and isinstance(value, (np.ndarray, np.generic, int, float)):
                return np.asarray(value)
    return None


def scalar_constant(node: Node, slot: int) -> float | None:
    """The value of a constant one-element input ``slot`` (``h * 0.25``), or None."""
    if node.parents[slot] is not None:
        return None
    value = saved_input(node, slot)
    return float(value.reshape(())) if value is not None and value.size == 1 else None


class Cutter:
    """What a recogniser may ask while the graph is being cut."""

    def __init__(self, index: GraphIndex):
        self.index = index
        self.claimed: set[int] = set()

    def users(self, edge: Any) -> list[tuple[Node, int]]:
        return self.index.consumers.get(id(edge), [])

    def free(self, node: Any) -> bool:
        return type(node) is Node and id(node) not in self.claimed

    def private(self, node: Any, inside: Iterable[Node]) -> bool:
        """``node`` is unclaimed and every op that reads it is in ``inside``: the block may
        hide it (nothing else's δ flows through it)."""
        ids = {id(n) for n in inside}
        return self.free(node) and bool(self.users(node)) and all(id(u) in ids for u, _ in self.users(node))


Recogniser = Callable[[Node, Cutter], "Block | None"]


def op_block(node: Node) -> Block:
    """One op on its own: the fallback, described by its declared formula."""
    constants = [saved_input(node, i) if p is None else None for i, p in enumerate(node.parents)]
    return Block("op", node, [node], list(node.parents), constants)


def cut(index: GraphIndex, recognisers: list[Recogniser]) -> list[Block]:
    """Cut the graph into blocks, in the order they were recorded.

    Nodes are visited from the root down (the order of the backward sweep), so a block's
    recogniser sees its last op first and claims what lies below it; every node ends in
    exactly one block.
    """
    cutter = Cutter(index)
    blocks: list[Block] = []
    for node in reversed(index.nodes):
        if id(node) in cutter.claimed:
            continue
        block = None
        for recognise in recognisers:
            block = recognise(node, cutter)
            if block is not None:
                break
        if block is None:
            block = op_block(node)
        cutter.claimed.update(id(n) for n in block.nodes)
        blocks.append(block)
    blocks.reverse()
    for block in blocks:
        block.nodes.sort(key=lambda n: n.seq)
    return blocks
