"""Reading a graph without touching it: its nodes in order, the values it still knows,
and every node's gradient δ from a read-only reverse sweep.

Nothing here recurses, registers a hook, retains a gradient or frees a saved array.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine import GraphFreedError, run_backward
from ..function import Node
from ..tensor import Tensor


@dataclass
class GraphIndex:
    """A graph laid out for drawing: nodes in topological order, stable ids.

    ``nodes`` are sorted by creation number (parents before consumers), ``leaves``
    (tensors that require grad) by first use. Ids are ``op0, op1, …`` and ``t0, t1, …``
    in those orders, so the same computation always gives the same DOT text, whatever
    ran before it in the process.
    """

    root: Tensor
    nodes: list[Node]
    leaves: list[Tensor]
    ids: dict[int, str]
    consumers: dict[int, list[tuple[Node, int]]]

    def key(self, edge: Any) -> str:
        return self.ids[id(edge)]


def index_graph(root: Tensor) -> GraphIndex:
    """Collect every node and leaf reachable from ``root`` (iteratively)."""
    start = root.grad_fn
    nodes: list[Node] = []
    if start is not None:
        seen = {id(start)}
        stack = [start]
        while stack:
            node = stack.pop()
            nodes.append(node)
            for parent in node.parents:
                if type(parent) is Node and id(parent) not in seen:
                    seen.add(id(parent))
                    stack.append(parent)
        nodes.sort(key=lambda n: n.seq)
    ids: dict[int, str] = {}
    leaves: list[Tensor] = []
    consumers: dict[int, list[tuple[Node, int]]] = {}
    for number, node in enumerate(nodes):
        ids[id(node)] = f"op{number}"
    for node in nodes:
        for i, parent in enumerate(node.parents):
            if parent is None:
                continue
            consumers.setdefault(id(parent), []).append((node, i))
            if type(parent) is not Node and id(parent) not in ids:
                ids[id(parent)] = f"t{len(leaves)}"
                leaves.append(parent)
    if start is None:  # the root is itself a leaf
        ids[id(root)] = "t0"
        leaves.append(root)
    return GraphIndex(root, nodes, leaves, ids, consumers)


def root_edge(t: Tensor) -> Any:
    return t if t.grad_fn is None else t.grad_fn


def known_values(index: GraphIndex, tensors: dict[str, Tensor]) -> dict[int, np.ndarray]:
    """The output values the graph still knows, keyed by ``id(node or leaf)``.

    A node keeps no output, but the root, the leaves, the tensors the caller passed, and
    the arrays ops saved for backward (which are inputs or outputs: ``saved_sources``)
    are values of known edges.
    """
    values: dict[int, np.ndarray] = {id(root_edge(index.root)): index.root.data}
    for leaf in index.leaves:
        values[id(leaf)] = leaf.data
    for t in tensors.values():
        values[id(root_edge(t))] = t.data
    for node in index.nodes:
        saved = node.saved
        if not saved:
            continue
        for value, source in zip(saved, node.saved_sources):
            if source is None:
                continue
            edge = node if source == -1 else node.parents[source]
            if edge is not None and isinstance(value, np.ndarray) and id(edge) not in values:
                values[id(edge)] = value
    return values


@dataclass
class Gradients:
    """δ = ∂(root)/∂(output) for every node and leaf, or why they are unknown.

    ``state`` is ``"computed"`` (a read-only sweep ran), ``"stored"`` (showing the
    leaves' ``.grad``; nodes keep none), or ``"freed"`` (an earlier ``backward`` released
    the saved arrays, so nodes' δ cannot be recomputed; leaves show ``.grad``).
    """

    state: str
    of: dict[int, Any] = field(default_factory=dict)
    reduced: dict[tuple[int, int], tuple[int, ...]] = field(default_factory=dict)

    def get(self, edge: Any) -> Any:
        return self.of.get(id(edge))


def sweep(index: GraphIndex, gradient: Any = None) -> Gradients:
    """Run the engine's reverse sweep from the root, capturing every node's δ.

    ``retain_graph=True`` keeps the saved arrays, ``run_hooks=False`` keeps every hook
    (``retain_grad`` included) silent, and leaves' ``.grad`` is never written: the graph
    and the user's tensors are exactly as before.
    """
    root = index.root
    if not root.requires_grad:
        return stored_gradients(index)
    seed = _seed(root, gradient)
    reductions: list[tuple[Node, Any, tuple[int, ...]]] = []
    try:
        leaf_grads, captured = run_backward(
            [root_edge(root)],
            [seed],
            retain_graph=True,
            create_graph=False,
            capture={id(n) for n in index.nodes},
            run_hooks=False,
            reductions=reductions,
        )
    except GraphFreedError:
        grads = stored_gradients(index)
        grads.state = "freed"
        return grads
    of: dict[int, Any] = dict(captured)
    for key, (_, g) in leaf_grads.items():
        of[key] = np.asarray(g)
    if root.grad_fn is None:
        of[id(root)] = seed
    grads = Gradients("computed", of)
    grads.reduced = broadcast_reductions(reductions)
    return grads


def stored_gradients(index: GraphIndex) -> Gradients:
    """What ``backward`` left behind: the leaves' ``.grad`` (None where it has not run)."""
    of = {id(leaf): leaf.grad.data for leaf in index.leaves if leaf.grad is not None}
    return Gradients("stored", of)


def _seed(root: Tensor, gradient: Any) -> np.ndarray:
    if gradient is None:
        if root.size != 1:
            raise ValueError(
                f"viz: the root has shape {root.shape}, not one element; pass gradient= "
                f"(an array of shape {root.shape}) to say which δ to backpropagate"
            )
        return np.ones_like(root.data)
    seed = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient, dtype=root.dtype)
    if seed.shape != root.shape:
        raise ValueError(f"viz: gradient has shape {seed.shape} but the root has shape {root.shape}; they must match")
    return seed


def broadcast_reductions(reductions: list[tuple[Node, Any, tuple[int, ...]]]) -> dict[tuple[int, int], tuple[int, ...]]:
    """Edges where the engine summed a broadcast gradient back to the input's shape, as
    ``{(id(node), input index): shape the op's derivative returned}``, from what the
    engine reported during the sweep."""
    reduced: dict[tuple[int, int], tuple[int, ...]] = {}
    for node, parent, shape in reductions:
        for i, edge in enumerate(node.parents):
            if edge is parent:
                reduced[(id(node), i)] = tuple(shape)
    return reduced


_ARGUMENT_NAMES: dict[Any, list[str]] = {}


def argument_names(node: Node) -> list[str]:
    """The names of the op's inputs, from its ``forward`` signature (``x``, ``y``, …)."""
    fn = node.fn
    names = _ARGUMENT_NAMES.get(fn)
    if names is None:
        try:
            params = list(inspect.signature(fn.forward).parameters.values())[1:]
        except (TypeError, ValueError):
            params = []
        names = []
        for p in params:
            if p.kind is p.VAR_POSITIONAL:
                names.append(f"{p.name}[]")
                break
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                names.append(p.name)
        _ARGUMENT_NAMES[fn] = names
    count = len(node.parents)
    if names and names[-1].endswith("[]"):
        base = names[-1][:-2]
        return names[:-1] + [f"{base}{i}" for i in range(count - len(names) + 1)]
    if len(names) < count:
        return [str(i) for i in range(count)]
    return names[:count]


def named_tensors(params: Any) -> dict[str, Tensor]:
    """``{name: tensor}`` from a mapping, or a model's ``named_parameters()``."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        return dict(params.named_parameters())
    if isinstance(params, dict):
        return dict(params)
    raise TypeError(
        f"viz: params must be a mapping {{name: tensor}} or a model with named_parameters(), got {type(params).__name__}"
    )
