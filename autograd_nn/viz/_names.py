"""Names for every tensor of a cut graph, in the post's notation where it applies.

Layer l (an affine map or a declared layer with parameters, numbered in the order they
ran) outputs zˡ and reads Wˡ, bˡ; the activation after it outputs aˡ; the network's input
is a⁰ = x; the loss compares ŷ with the target y and is C. Everything else is named by
what it is: the user's names (``params=``, ``tensors=``, a leaf's ``name``, a model's
parameter paths), else hₖ for the k-th other result, wₖ for other leaves, cₖ for other
constants (a one-element constant is written as its value). Never by an op's argument slot.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from ._blocks import Block, is_leaf
from ._format import number, sup

_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_PARAMETER_LETTERS = {"w": "W", "W": "W", "weight": "W", "b": "b", "bias": "b"}


def sub(n: int) -> str:
    """``sub(12) == '₁₂'``."""
    return str(n).translate(_SUBSCRIPTS)


def _numbered(block: Block) -> bool:
    """A layer of the post: an affine map, or a declared layer with a parameter (a leaf
    among its inputs after the first)."""
    return block.kind == "affine" or (block.kind == "layer" and any(is_leaf(e) for e in block.inputs[1:]))


class Names:
    """The symbol of every edge (node or leaf) and constant of a cut graph.

    ``symbol(edge)`` names a node's output or a leaf; ``delta(edge)`` is how its δ is
    written (``δˡ`` for zˡ, else ``∂C/∂`` and the symbol); ``constant(block, slot)`` names
    a constant input; ``user[id(edge)]`` holds the caller's own name where it differs.
    """

    def __init__(
        self, blocks: list[Block], root: Tensor, params: dict[str, Tensor], tensors: dict[str, Tensor],
        inputs: list[Tensor] | None = None,
    ):  # fmt: skip
        """``inputs``: the model's inputs where the caller knows them (``draw_model``); then
        layer 1's input is called a⁰ = x only if it is one of them."""
        self.blocks = blocks
        self._inputs = inputs
        self.of: dict[int, str] = {}
        self.user: dict[int, str] = {}
        self.layer: dict[int, int] = {}  # id(block) → l, for the post's layers
        self.parameters: set[int] = set()  # the leaves that are some layer's Wˡ, bˡ, …
        self.z: dict[int, int] = {}  # id(node of zˡ) → l
        self.prediction: Any = None
        self.data: tuple[Block, Any] | None = None  # layer 1 and its input a⁰
        self._constants: dict[tuple[int, int], str] = {}
        self._unnamed_constants = 0
        self._arrays: list[tuple[np.ndarray, str]] = []  # constants named so far, by their array
        self._tensor_data = [(name, t.data) for name, t in tensors.items()]
        for name, t in params.items():
            self.user[id(t)] = name
        for name, t in tensors.items():
            self.user[id(t if t.grad_fn is None else t.grad_fn)] = name
        self._name_layers()
        self._name_rest(root)
        for block in blocks:  # constants in the order they are first read, so one array keeps one name
            for slot, edge in enumerate(block.inputs):
                if edge is None:
                    self.constant(block, slot)

    # ------------------------------------------------------------------ layers
    def _name_layers(self) -> None:
        number_ = 0
        for block in self.blocks:
            if not _numbered(block):
                continue
            number_ += 1
            ell = sup(number_)
            self.layer[id(block)] = number_
            self.z[id(block.out)] = number_
            self.of[id(block.out)] = f"z{ell}"
            for edge, variable in zip(block.inputs[1:], self.parameter_variables(block)):
                if is_leaf(edge) and id(edge) not in self.of:
                    letter = _PARAMETER_LETTERS.get(variable, variable)
                    self.of[id(edge)] = f"{letter}{ell}"
                    self.parameters.add(id(edge))
            if number_ == 1 and self._reads_an_input(block):
                self.data = (block, block.inputs[0])
                if is_leaf(block.inputs[0]):
                    self.of[id(block.inputs[0])] = f"a{sup(0)}"
        for block in self.blocks:
            if block.kind == "activation" and id(block.inputs[0]) in self.z:
                users = [b for b in self.blocks if any(e is block.inputs[0] for e in b.inputs)]
                if users == [block]:
                    self.of[id(block.out)] = f"a{sup(self.z[id(block.inputs[0])])}"

    def _reads_an_input(self, block: Block) -> bool:
        """Whether layer 1's input may be called x: always, unless the inputs are known and it is none of them."""
        if self._inputs is None:
            return True
        edge = block.inputs[0]
        if edge is not None:
            return any(edge is t for t in self._inputs)
        value = block.constants[0] if block.constants else None
        return value is not None and any(value.shape == t.shape and np.shares_memory(value, t.data) for t in self._inputs)

    def parameter_variables(self, block: Block) -> list[str]:
        """The formula's names for a layer's inputs after the first (``W``, ``b``)."""
        if block.kind == "affine":
            return ["W", "b"][: len(block.inputs) - 1]
        from ._formula import formula_of

        formula = formula_of(block.out.fn)
        variables = list(formula.variables[1:]) if formula is not None else []
        return variables + [f"p{k}" for k in range(len(variables), len(block.inputs) - 1)]

    # -------------------------------------------------------------------- rest
    def _name_rest(self, root: Tensor) -> None:
        others = leaves = attention = 0
        root_edge = root if root.grad_fn is None else root.grad_fn
        for block in self.blocks:
            if block.kind == "loss":
                self.prediction = block.inputs[0]
            if block.kind == "dropout":
                self._arrays.append((block.info["mask"], "m"))
            if block.kind == "attention":
                if block.info.get("dropout"):
                    self._arrays.append((block.info["dropout"]["mask"], "m"))
                attention += 1
                self.of[id(block.info["probabilities"])] = f"P{sub(attention)}"
                self.of[id(block.info["scores"])] = f"S{sub(attention)}"
            for edge in block.inputs:
                if is_leaf(edge) and id(edge) not in self.of:
                    name = self.user.get(id(edge)) or getattr(edge, "name", None)
                    if not name:
                        leaves += 1
                        name = f"w{sub(leaves)}"
                    self.of[id(edge)] = name
            if id(block.out) in self.of:
                continue
            if block.out is root_edge:
                self.of[id(block.out)] = "C" if root.size == 1 else "out"
            elif id(block.out) in self.user:
                self.of[id(block.out)] = self.user[id(block.out)]
            else:
                others += 1
                self.of[id(block.out)] = f"h{sub(others)}"
        if root.grad_fn is None:
            self.of.setdefault(id(root), self.user.get(id(root)) or getattr(root, "name", None) or "C")

    # ----------------------------------------------------------------- lookups
    def symbol(self, edge: Any) -> str:
        return self.of.get(id(edge), "?")

    def delta(self, edge: Any) -> str:
        """How δ of ``edge`` is written: δˡ for zˡ, ∂C/∂ŷ for the prediction, else ∂C/∂(symbol)."""
        if id(edge) in self.z:
            return f"δ{sup(self.z[id(edge)])}"
        if edge is self.prediction and edge is not None:
            return "∂C/∂ŷ"
        return f"∂C/∂{self.symbol(edge)}"

    def operand(self, block: Block, slot: int) -> str:
        """The symbol of input ``slot`` of ``block``: its edge's, or the constant's name."""
        edge = block.inputs[slot]
        return self.constant(block, slot) if edge is None else self.symbol(edge)

    def constant(self, block: Block, slot: int) -> str:
        """A constant input by what it is: the data x (a⁰), the target y, a value, a user's name."""
        key = (id(block), slot)
        if key in self._constants:
            return self._constants[key]
        value = block.constants[slot] if slot < len(block.constants) else None
        same = self._seen(value)
        if same is not None:
            name = same
        elif self.data is not None and self.data[0] is block and slot == 0:
            name = f"a{sup(0)}"
        elif block.kind == "loss" and slot == 1:
            name = "y"
        elif (user := self._users_name(value)) is not None:
            name = user
        elif value is not None and value.size == 1:
            name = number(float(value.reshape(())))
        else:
            self._unnamed_constants += 1
            name = f"c{sub(self._unnamed_constants)}"
        self._constants[key] = name
        if value is not None and value.size > 1:
            self._arrays.append((value, name))
        return name

    def array_name(self, value: Any) -> str | None:
        """The name a constant array got (``a⁰``, ``y``, ``m``, ``c₁``), or None."""
        return self._seen(value)

    def _seen(self, value: Any) -> str | None:
        """The name already given to this very array (one input read by several ops)."""
        if value is None or value.size <= 1:
            return None
        for array, name in self._arrays:
            if array.shape == value.shape and array.strides == value.strides and np.shares_memory(array, value):
                return name
        return None

    def _users_name(self, value: Any) -> str | None:
        if value is None:
            return None
        for name, data in self._tensor_data:
            for view, written in ((data, name), (data.T, f"{name}ᵀ")):  # key.T computed outside the graph
                if view.shape == value.shape and view.strides == value.strides and np.shares_memory(view, value):
                    return written
        return None

