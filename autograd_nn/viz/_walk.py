"""Reading a graph without touching it: its nodes in order, the values it still knows,
and every node's gradient δ from a read-only reverse sweep.

Nothing here recurses, registers a hook, retains a gradient or frees a saved array.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine import GraphFreedError, Observer, run_backward
from ..grad_mode import enable_grad
from ..graph import Node
from ..registry import spec_of_function
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
    # Unfused views (``index_graph(root, unfused=True)``): a fused node is drawn as its
    # declared decomposition, recorded apart on stand-in leaves. ``alias`` maps the fused
    # node to the decomposition's output and each stand-in leaf to the edge it stands for;
    # ``owner`` maps each decomposition node to the recorded node it unfolds.
    alias: dict[int, Any] = field(default_factory=dict)
    owner: dict[int, Node] = field(default_factory=dict)
    unfolded: list[tuple[Node, Node]] = field(default_factory=list)  # (fused node, its decomposition's output)
    keep: list[Any] = field(default_factory=list)  # the stand-ins, alive while the index is
    constants: dict[int, np.ndarray] = field(default_factory=dict)  # id(stand-in of a constant) → its value

    def key(self, edge: Any) -> str:
        return self.ids[id(self.resolve(edge))]

    def resolve(self, edge: Any) -> Any:
        """The drawn edge for ``edge``: itself, or what an unfused view draws in its place (a
        stand-in leaf stands for an edge that may itself be a fused node: follow both)."""
        alias = self.alias
        while alias and edge is not None and id(edge) in alias:
            edge = alias[id(edge)]
        return edge

    def constant(self, node: Node, slot: int) -> np.ndarray | None:
        """The value of a constant input of an unfused view's op, where it is known."""
        return self.constants.get(id(node.parents[slot])) if self.constants else None

    def parents(self, node: Node) -> tuple[Any, ...]:
        """``node.parents``, as the index draws them."""
        if not self.alias:
            return node.parents
        return tuple(self.resolve(p) for p in node.parents)

    @property
    def root_node(self) -> Any:
        return self.resolve(self.root.grad_fn)


def index_graph(root: Tensor, unfused: bool = False) -> GraphIndex:
    """Collect every node and leaf reachable from ``root`` (iteratively); ``unfused``
    puts each fused op's declared decomposition in its place."""
    start = root.grad_fn
    index = GraphIndex(root, [], [], {}, {})
    nodes = index.nodes
    order: dict[int, tuple[int, ...]] = {}
    if start is not None:
        order[id(start)] = (start.seq,)
        seen = {id(start)}
        stack = [start]
        while stack:
            node = stack.pop()
            if unfused:
                found = unfolded(node)
                if found is not None:
                    out, stand_ins = found
                    index.alias[id(node)] = out
                    index.unfolded.append((node, out))
                    index.keep.append(stand_ins)
                    for leaf, parent in stand_ins:
                        index.alias[id(leaf)] = parent
                        if parent is None:
                            index.constants[id(leaf)] = leaf.data
                    owner = index.owner.get(id(node), node)
                    for k, inner in enumerate(_decomposition_nodes(out, stand_ins)):
                        order[id(inner)] = order[id(node)] + (k,)
                        index.owner[id(inner)] = owner
                        seen.add(id(inner))
                        stack.append(inner)
                    continue
            nodes.append(node)
            for parent in index.parents(node):
                if type(parent) is Node and id(parent) not in seen:
                    seen.add(id(parent))
                    order.setdefault(id(parent), (parent.seq,))
                    stack.append(parent)
        nodes.sort(key=lambda n: order[id(n)])
    for number, node in enumerate(nodes):
        index.ids[id(node)] = f"op{number}"
    for node in nodes:
        for i, parent in enumerate(index.parents(node)):
            if parent is None:
                continue
            index.consumers.setdefault(id(parent), []).append((node, i))
            if type(parent) is not Node and id(parent) not in index.ids:
                index.ids[id(parent)] = f"t{len(index.leaves)}"
                index.leaves.append(parent)
    if start is None:  # the root is itself a leaf
        index.ids[id(root)] = "t0"
        index.leaves.append(root)
    return index


def _decomposition_nodes(out: Node, stand_ins: list[tuple[Tensor, Any]]) -> list[Node]:
    """The nodes of a decomposition recorded on stand-in leaves, in recording order."""
    found, stack, seen = [], [out], {id(out)}
    while stack:
        node = stack.pop()
        found.append(node)
        for parent in node.parents:
            if type(parent) is Node and id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return sorted(found, key=lambda n: n.seq)


def root_edge(t: Tensor) -> Any:
    return t if t.grad_fn is None else t.grad_fn


def known_values(index: GraphIndex, tensors: dict[str, Tensor]) -> dict[int, np.ndarray]:
    """The output values the graph still knows, keyed by ``id(node or leaf)``.

    A node keeps no output, but the root, the leaves, the tensors the caller passed, and
    the arrays ops saved for backward (which are inputs or outputs: ``saved_sources``)
    are values of known edges.
    """
    values: dict[int, np.ndarray] = {id(index.resolve(root_edge(index.root))): index.root.data}
    for leaf in index.leaves:
        values[id(leaf)] = leaf.data
    for t in tensors.values():
        values[id(index.resolve(root_edge(t)))] = t.data
    for node in index.nodes:
        saved = node.saved_values
        if not saved:
            continue
        parents = index.parents(node)
        for value, source in zip(saved, node.saved_sources):
            if source is None:
                continue
            edge = node if source == -1 else parents[source]
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


class _Watch(Observer):
    """A read-only observer: every node's δ and every broadcast sum, no hooks run."""

    runs_hooks = False

    def __init__(self) -> None:
        self.of: dict[int, Any] = {}
        self.sums: dict[tuple[int, int], tuple[int, ...]] = {}

    def node(self, node: Node, grad: Any) -> None:
        self.of[id(node)] = grad

    def reduced(self, node: Node, index: int, shape: tuple[int, ...]) -> None:
        self.sums[(id(node), index)] = tuple(shape)


def sweep(index: GraphIndex, gradient: Any = None) -> Gradients:
    """Run the engine's reverse sweep from the root, capturing every node's δ.

    ``retain_graph=True`` keeps the saved arrays, the observer keeps every hook
    (``retain_grad`` included) silent, and leaves' ``.grad`` is never written: the graph
    and the user's tensors are exactly as before.
    """
    root = index.root
    if not root.requires_grad:
        return stored_gradients(index)
    seed = _seed(root, gradient)
    watch = _Watch()
    try:
        leaf_grads = run_backward([root_edge(root)], [seed], retain_graph=True, create_graph=False, observer=watch)
    except GraphFreedError:
        grads = stored_gradients(index)
        grads.state = "freed"
        return grads
    of: dict[int, Any] = dict(watch.of)
    for key, (_, g) in leaf_grads.items():  # a root that is itself a leaf is among them, with its seed
        of[key] = np.asarray(g)
    for fused, out in index.unfolded:  # outer decompositions first: each one's δ is known by now
        delta = of.get(id(fused))
        if delta is not None:
            run_backward([out], [np.asarray(delta)], retain_graph=True, create_graph=False, observer=watch)
            of.update(watch.of)
    grads = Gradients("computed", of)
    grads.reduced = watch.sums
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


def unfolded(node: Node) -> tuple[Node, list[tuple[Tensor, Any]]] | None:
    """A fused node's declared decomposition, recorded apart on stand-in leaves (one per
    input that carries a gradient, holding the value the node saved), so a read-only
    sweep of it stops there. Returns its output node and the (stand-in, edge) pairs;
    None for a primitive, or when there is nothing to unfold."""
    spec = spec_of_function(node.fn)
    if spec is None or spec.decomposition is None:
        return None
    saved = {s: v for v, s in zip(node.saved_values or (), node.saved_sources) if s is not None and s >= 0}
    inputs: list[Any] = []
    stand_ins: list[tuple[Tensor, Any]] = []
    for i, parent in enumerate(node.parents):
        value = saved.get(i)
        if parent is None:
            if value is not None and np.asarray(value).dtype.kind == "f":
                # a stand-in too, so the picture can still name the constant (Sub saves nothing)
                leaf = Tensor(np.asarray(value), requires_grad=True)
                stand_ins.append((leaf, None))
                inputs.append(leaf)
            else:
                inputs.append(value if value is not None else np.zeros(()))
            continue
        data = parent.data if type(parent) is not Node else value
        if data is None:
            data = np.zeros(parent.shape, parent.dtype)
        leaf = Tensor(np.asarray(data), requires_grad=True)
        stand_ins.append((leaf, parent))
        inputs.append(leaf)
    with enable_grad():
        out = spec.decomposition(*inputs, **node.params)
    return (out.grad_fn, stand_ins) if out.grad_fn is not None else None


def expanded(node: Node) -> Node | None:
    """What a fused node means, as primitives: its declared decomposition, recorded on the
    node's own inputs, so the subgraph's edges are the fused node's edges. None for a
    primitive. The graph itself is only read: nothing in it points to the subgraph.
    """
    spec = spec_of_function(node.fn)
    if spec is None or spec.decomposition is None:
        return None
    saved = {s: v for v, s in zip(node.saved_values or (), node.saved_sources) if s is not None and s >= 0}
    inputs: list[Any] = []
    for i, parent in enumerate(node.parents):
        value = saved.get(i)
        if type(parent) is Node:
            inputs.append(Tensor._wrap(np.asarray(value if value is not None else np.zeros(parent.shape, parent.dtype)), parent))
        else:
            inputs.append(parent if parent is not None else (value if value is not None else 0.0))
    with enable_grad():
        out = spec.decomposition(*inputs, **node.params)
    return out.grad_fn
