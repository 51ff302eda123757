"""How the pictures name what they draw: as ``explain_backward`` names it.

The graph is cut into blocks and named (:mod:`._names`): zˡ, aˡ, Wˡ, bˡ, x, y, the
dropout mask m, hₖ, the user's names (``params=``, ``tensors=``, a model's parameter
paths). A picture of the unfused graph names a decomposition's output as the fused
op it stands for. On graphs too large to cut cheaply, only the user's names are used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Node
from ..tensor import Tensor
from ._blocks import cut
from ._format import number, sup
from ._formula import formula_of
from ._names import Names
from ._walk import GraphIndex, argument_names, index_graph, root_edge

NAMING_LIMIT = 5_000
"""Above this many ops, pictures use only the names the caller gave."""


class Naming:
    """The names a picture writes for edges, constants and input slots."""

    def __init__(self, index: GraphIndex, names: Names | None, user: dict[int, str], parameters: set[int]):
        self.index = index
        self.names = names
        self.user = user
        self.parameters = parameters | (names.parameters if names is not None else set())
        self.origin = {id(out): fused for fused, out in index.unfolded}

    @classmethod
    def of(
        cls, root: Tensor, index: GraphIndex, params: dict[str, Tensor], tensors: dict[str, Tensor], max_nodes: Any
    ) -> Naming:
        from ._explain import RECOGNISERS  # the same cut as the text's

        user: dict[int, str] = {}
        for leaf in index.leaves:
            if leaf.name:
                user[id(leaf)] = leaf.name
        for name, t in params.items():
            user[id(t)] = name
        for name, t in tensors.items():
            user[id(root_edge(t))] = name
        recorded = index if not index.unfolded else index_graph(root)
        names = None
        if root.grad_fn is not None and len(recorded.nodes) <= NAMING_LIMIT:
            names = Names(cut(recorded, RECOGNISERS), root, params, tensors)
        elif id(root_edge(root)) not in user:
            user[id(root_edge(root))] = "loss C" if root.size == 1 else "output"
        return cls(index, names, user, {id(t) for t in params.values()})

    def display(self, edge: Any) -> str:
        """``z¹``, ``W¹ (0.weight)``, ``z² = ŷ``, a user's name, or "" for an unnamed op."""
        origin = self.origin.get(id(edge), edge)
        symbol = self.names.of.get(id(origin)) if self.names is not None else None
        user = self.user.get(id(origin)) or (self.names.user.get(id(origin)) if self.names is not None else None)
        if symbol is None:
            return user or ""
        text = symbol
        if self.names is not None and origin is self.names.prediction and symbol != "ŷ":
            text += " = ŷ"
        if user and user != symbol:
            text += f" ({user})"
        return text

    def constant(self, value: np.ndarray) -> str:
        """A constant by what it is: ``a⁰ = x``, ``y``, ``m (dropout mask)``, its value, or ``constant``."""
        name = self.names.array_name(value) if self.names is not None else None
        if name is None:
            for user_name, t in self._user_arrays():
                if t.shape == value.shape and np.shares_memory(t, value):
                    return user_name
            return number(float(value.reshape(()))) if value.size == 1 else "constant"
        return {f"a{sup(0)}": f"a{sup(0)} = x", "m": "m (dropout mask)"}.get(name, name)

    def _user_arrays(self) -> list[tuple[str, np.ndarray]]:
        if self.names is None:
            return []
        return [(n, a) for n, a in self.names._tensor_data]

    def operand(self, edge: Any, value: Any, slot: str) -> str:
        """An input as a label names it (what ``saves …`` lists): its name, else its slot."""
        if edge is None:
            return self.constant(np.asarray(value)) if value is not None else slot
        return self.display(edge) or slot

    def slots(self, node: Node) -> list[str]:
        """The names the op's formula gives its inputs (``x, W, b``; ``ŷ, y``)."""
        formula = formula_of(node.fn)
        if formula is not None and len(formula.variables) == len(node.parents):
            return list(formula.variables)
        names = argument_names(node)
        return names if len(names) == len(node.parents) else [str(i) for i in range(len(node.parents))]

    def is_parameter(self, leaf: Tensor) -> bool:
        return id(leaf) in self.parameters
