"""The op-level pictures: ``draw_forward`` and ``draw_backward``.

Both draw the same nodes in the same places (edges always run from an input to the op
that used it, so Graphviz lays both views out alike); the backward view turns the
arrowheads round (``dir=back``: δ flows from the loss to the leaves), annotates every
node with its gradient δ, colours it by the RMS of δ and marks the edges where the
engine summed a broadcast gradient back to the input's shape. ``fused=False`` draws
each fused op (``Linear``, ``MseLoss``) as the primitives it declares, with their δ.

This module owns the drawing itself: which node goes in which cluster, each node's
label and fill, and the edges. Tensors are named as ``explain_backward`` names them
(:mod:`._names`); each line of a label has one style, so every renderer places it
alike. The DOT spelling is in :mod:`._dot`, long chains in :mod:`._chains`, the legend
in :mod:`._legend`, the characters a label may use in :mod:`._glyphs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..graph import Node
from ..tensor import Tensor
from ._chains import chain_inputs, chain_title, find_chains, inner_leaf_count
from ._dot import GRAPH_ATTRS, REDUCE_COLOUR, STYLES, attrs_text, edge_line, small, value_rows
from ._format import UNKNOWN_COLOUR, MagnitudeScale, dtype_text, escape, number, rms, shape_text, values_text
from ._glyphs import picture_text
from ._legend import legend_lines
from ._naming import Naming
from ._render import Graph
from ._walk import Gradients, GraphIndex, index_graph, known_values, named_tensors, stored_gradients, sweep


@dataclass
class _Cluster:
    """A box drawn around some ops (one layer of a model), with its own label."""

    label: str
    nodes: Sequence[Node]
    lines: list[str] = field(default_factory=list)


@dataclass
class _Drawing:
    index: GraphIndex
    naming: Naming
    values: dict[int, np.ndarray]
    grads: Gradients | None
    scale: MagnitudeScale | None
    clusters: list[_Cluster]
    max_nodes: int | None
    magnitudes: dict[int, float] = field(default_factory=dict)
    edges: list[str] = field(default_factory=list)
    spine: set[int] = field(default_factory=set)

    def build(self, title: str, legend: bool) -> Graph:
        index = self.index
        graph = Graph(name="autograd_nn")
        body = [GRAPH_ATTRS]
        if title:
            body.append(f'\tlabel=<{title}> labelloc="t"\n')
        where: dict[int, int] = {}  # id(node) → cluster number
        for number_, cluster in enumerate(self.clusters):
            for node in cluster.nodes:
                where[id(node)] = number_
        for node in index.nodes:  # a decomposition's ops go where the op they unfold went
            owner = index.owner.get(id(node))
            if owner is not None and id(owner) in where:
                where[id(node)] = where[id(owner)]
        chain_of, chains = find_chains(index, self.max_nodes, kept=set(where))  # clustered ops stay
        self.spine = _spine(index) if not chains else set()
        drawn_chains: set[int] = set()
        for node in index.nodes:
            home = self.clusters[where[id(node)]].lines if id(node) in where else body
            chain = chain_of.get(id(node))
            if chain is not None:
                if chain not in drawn_chains:
                    drawn_chains.add(chain)
                    home.extend(self._chain_lines(chains[chain], chain_of))
                continue
            home.extend(self._node_lines(node, chain_of))
        for leaf in index.leaves:
            users = index.consumers.get(id(leaf), [])
            if users and all(chain_of.get(id(n)) is not None for n, _ in users):
                if len({chain_of[id(n)] for n, _ in users}) == 1:
                    continue  # folded into its chain's label
            homes = {where.get(id(n)) for n, _ in users}
            home = self.clusters[homes.pop()].lines if len(homes) == 1 and None not in homes else body
            home.append(self._leaf_line(leaf))
        for number_, cluster in enumerate(self.clusters):
            body.append(f"\tsubgraph cluster_layer{number_} {{\n")
            body.append(f'\t\tlabel=<{cluster.label}> style="rounded,dashed" color="#888888" labeljust="l"\n')
            body.extend("\t" + line for line in cluster.lines)
            body.append("\t}\n")
        # Edges last, at the top level: a node first named inside a cluster stays there.
        body.extend(self.edges)
        if legend:
            body.extend(legend_lines(self.grads, self.scale, chains=bool(chains)))
        graph.body.extend(picture_text(line) for line in body)
        return graph

    # ------------------------------------------------------------------ labels
    def _delta_lines(self, edge: Any, is_leaf: bool) -> list[str]:
        grads = self.grads
        assert grads is not None
        g = grads.get(edge)
        if g is None:
            if grads.state == "computed":
                return [small("δ: none flows here")]
            if is_leaf:
                return [small(".grad: None (backward has not run)")]
            if grads.state == "freed":
                return [small("δ: graph freed by backward()")]
            return [small("δ: not kept (backward has not run here)")]
        prefix = "δ" if grads.state == "computed" else ".grad"
        text = values_text(g)
        if text.startswith("RMS="):  # two short lines: the magnitude, then the range
            magnitude, _, spread = text.partition(" ")
            lines = [f"{prefix} {escape(magnitude)}", small(spread)]
        else:
            lines = [f"{prefix} {escape(text)}"]
        uses = len(self.index.consumers.get(id(edge), ()))
        if uses > 1 and grads.state == "computed":
            lines.append(small(f"Σ over {uses} uses"))
        return lines

    def _fill(self, edge: Any, kind: str) -> dict[str, str]:
        style = dict(STYLES[kind])
        if self.grads is not None and kind not in ("saved", "constant"):
            m = self.magnitudes.get(id(edge))
            style["fillcolor"] = self.scale.colour_of(m) if m is not None and self.scale else UNKNOWN_COLOUR
        return style

    def _node_lines(self, node: Node, chain_of: dict[int, int]) -> list[str]:
        index, naming = self.index, self.naming
        key = index.key(node)
        kind = "loss" if node is index.root_node else "op"
        name = naming.display(node)
        rows = [f"<b>{escape(node.name + ('  ' + name if name else ''))}</b>", f"{shape_text(node.shape)} {dtype_text(node.dtype)}"]
        parents = index.parents(node)
        saved_inputs: dict[int, np.ndarray] = {}
        slots = naming.slots(node)
        if node.saved_values:
            saved_labels = []
            for value, source in zip(node.saved_values, node.saved_sources):
                if source is None:
                    continue
                saved_labels.append("its output" if source == -1 else naming.operand(parents[source], value, slots[source]))
                if source >= 0 and parents[source] is None and isinstance(value, np.ndarray):
                    saved_inputs[source] = value
            if saved_labels:
                rows.append(small("saves " + ", ".join(saved_labels)))
        if self.grads is None:
            value = self.values.get(id(node))
            if value is not None:
                rows.extend(value_rows(value))
        else:
            rows.extend(self._delta_lines(node, False))
        style = self._fill(node, kind)
        if id(node) in self.spine:
            style["group"] = "spine"  # Graphviz keeps a group in one straight column
        lines = [f"\t{key} [label=<{'<br/>'.join(rows)}> {attrs_text(style)}]\n"]
        if len(parents) < 2:
            slots = [""] * len(parents)
        for i, parent in enumerate(parents):
            if parent is None:
                value = saved_inputs.get(i)
                lines.append(self._constant_line(f"{key}_in{i}", value if value is not None else index.constant(node, i)))
                edge_attrs = {"style": "dashed", "color": "#999999"}
                if slots[i]:
                    edge_attrs["label"] = slots[i]
                if self.grads is not None:
                    edge_attrs.update(dir="back", arrowhead="none", arrowtail="none")
                self.edges.append(edge_line(f"{key}_in{i}", key, edge_attrs))
                continue
            self.edges.append(edge_line(self._drawn_key(parent, chain_of), key, self._edge_attrs(node, i, slots[i])))
        return lines

    def _constant_line(self, key: str, value: np.ndarray | None) -> str:
        """A constant input: named by what it is when the graph kept it, else grey text."""
        if value is None:
            return f'\t{key} [label="constant" {attrs_text(STYLES["constant"])}]\n'
        rows = [f"<b>{escape(self.naming.constant(value))}</b>", f"{shape_text(value.shape)} {value.dtype} constant"]
        if self.grads is None:
            rows.extend(value_rows(value))
        return f"\t{key} [label=<{'<br/>'.join(rows)}> {attrs_text(STYLES['saved'])}]\n"

    def _edge_attrs(self, node: Node, i: int, label: str) -> dict[str, str]:
        attrs: dict[str, str] = {}
        if label:
            attrs["label"] = label
        if self.grads is not None:
            attrs["dir"] = "back"
            reduced = self.grads.reduced.get((id(node), i))
            if reduced is not None:
                target = self.index.parents(node)[i].shape
                attrs["label"] = (f"{label}: " if label else "") + f"Σ {shape_text(reduced)} → {shape_text(target)}"
                attrs["color"] = attrs["fontcolor"] = REDUCE_COLOUR
                attrs["penwidth"] = "2"
        return attrs

    def _leaf_line(self, leaf: Tensor) -> str:
        key = self.index.key(leaf)
        kind = "loss" if leaf is self.index.root else "parameter" if self.naming.is_parameter(leaf) else "leaf"
        rows = [f"<b>{escape(self.naming.display(leaf) or 'leaf')}</b>", f"{shape_text(leaf.shape)} {dtype_text(leaf.dtype)}"]
        if self.grads is None:
            rows.extend(value_rows(leaf.data))
        else:
            rows.extend(self._delta_lines(leaf, True))
        return f"\t{key} [label=<{'<br/>'.join(rows)}> {attrs_text(self._fill(leaf, kind))}]\n"

    # ------------------------------------------------------------------ chains
    def _drawn_key(self, parent: Any, chain_of: dict[int, int]) -> str:
        chain = chain_of.get(id(parent))
        return f"chain{chain}" if chain is not None else self.index.key(parent)

    def _chain_lines(self, run: list[Node], chain_of: dict[int, int]) -> list[str]:
        key = f"chain{chain_of[id(run[0])]}"
        leaves = inner_leaf_count(run, self.index)
        rows = [chain_title(run), small(f"{len(run)} ops collapsed; output {shape_text(run[-1].shape)} {run[-1].dtype}")]
        if leaves:
            rows.append(small(f"+ {leaves} {'leaf' if leaves == 1 else 'leaves'} inside"))
        fill = dict(STYLES["chain"])
        if self.grads is not None:
            known = [(n, self.grads.get(n)) for n in run]
            known = [(n, g) for n, g in known if g is not None]
            if known:
                rows.append(f"δ at output {escape(values_text(known[-1][1]))}")
                rows.append(f"δ at input {escape(values_text(known[0][1]))}")
                magnitudes = [rms(g) for _, g in known]
                rows.append(small(f"RMS of δ from {number(min(magnitudes))} to {number(max(magnitudes))}"))
                fill["fillcolor"] = self.scale.colour(known[0][1]) if self.scale else UNKNOWN_COLOUR
            else:
                rows.extend(self._delta_lines(run[-1], False))
                fill["fillcolor"] = UNKNOWN_COLOUR
        lines = [f"\t{key} [label=<{'<br/>'.join(rows)}> {attrs_text(fill)}]\n"]
        edge_attrs = {"dir": "back"} if self.grads is not None else {}
        for parent in chain_inputs(run, self.index):
            self.edges.append(edge_line(self._drawn_key(parent, chain_of), key, edge_attrs))
        return lines


def _spine(index: GraphIndex) -> set[int]:
    """The ops of the longest path down to the root (the data's way through the network),
    drawn as one straight column so side inputs hang beside it instead of stepping the
    picture sideways layer after layer."""
    depth: dict[int, int] = {}
    for node in index.nodes:  # topological order: parents first
        depth[id(node)] = 1 + max((depth.get(id(p), 0) for p in index.parents(node) if type(p) is Node), default=0)
    spine: set[int] = set()
    node = index.root_node
    while type(node) is Node:
        spine.add(id(node))
        parents = [p for p in index.parents(node) if type(p) is Node]
        node = max(parents, key=lambda p: depth[id(p)]) if parents else None
    return spine


def _drawing(
    root: Tensor,
    *,
    params: Any,
    tensors: dict[str, Tensor] | None,
    grads: Gradients | None,
    clusters: list[_Cluster] | None,
    max_nodes: int | None,
    index: GraphIndex | None = None,
    naming: Naming | None = None,
) -> _Drawing:
    if not isinstance(root, Tensor):
        raise TypeError(f"viz: expected a Tensor, got {type(root).__name__}")
    index = index or index_graph(root)
    tensors = dict(tensors or {})
    naming = naming or Naming.of(root, index, named_tensors(params), tensors, max_nodes)
    scale = None
    magnitudes: dict[int, float] = {}
    if grads is not None:
        magnitudes = {key: rms(g) for key, g in grads.of.items()}
        scale = MagnitudeScale(list(magnitudes.values()))
    return _Drawing(
        index=index,
        naming=naming,
        values=known_values(index, tensors),
        grads=grads,
        scale=scale,
        clusters=list(clusters or []),
        max_nodes=max_nodes,
        magnitudes=magnitudes,
    )


def draw_forward(
    output: Tensor,
    *,
    params: Any = None,
    tensors: dict[str, Tensor] | None = None,
    legend: bool = True,
    max_nodes: int | None = 400,
    fused: bool = True,
) -> Graph:
    """The forward graph of ``output``: tensors and ops, inputs at the top.

    Each op shows its output's shape and dtype, and its value where the graph still
    knows it (leaves, ``tensors`` you pass, and arrays saved for backward); tensors are
    named as ``explain_backward`` names them (zˡ, aˡ, Wˡ, x, y, hₖ, …), or by ``params``
    (``{name: tensor}`` or a model with ``named_parameters()``) and ``tensors``.
    ``fused=False`` draws each fused op as the primitives it declares. Above ``max_nodes``
    ops, chains of repeated ops are collapsed into one node each (``max_nodes=None``
    never collapses). The graph is only read, never changed.

    >>> import autograd_nn as ag
    >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> g = draw_forward((w * w).sum(), params={"w": w})
    >>> "Mul" in g.source and "<b>w</b>" in g.source
    True
    """
    index = index_graph(output, unfused=not fused)
    drawing = _drawing(output, params=params, tensors=tensors, grads=None, clusters=None, max_nodes=max_nodes, index=index)
    return drawing.build("forward graph", legend)


def draw_backward(
    loss: Tensor,
    *,
    params: Any = None,
    tensors: dict[str, Tensor] | None = None,
    gradient: Any = None,
    stored: bool = False,
    legend: bool = True,
    max_nodes: int | None = 400,
    fused: bool = True,
) -> Graph:
    """The backward pass of ``loss``: every node with its gradient δ = ∂C/∂(node).

    δs come from one read-only reverse sweep of the engine (the same arithmetic as
    ``loss.backward()``), which captures every node's output gradient without storing
    anything: ``.grad``, hooks and saved arrays are left as they were. Arrows point
    the way δ flows (loss → leaves); nodes are coloured by the RMS of δ on a log scale;
    red edges mark where a broadcast gradient was summed back to its input's shape.
    ``fused=False`` draws each fused op as the primitives it declares, with their δ
    (the δ the path ``Wᵀ``, ``matmul`` of ``nn.Linear`` carries back).

    ``stored=True`` shows instead what ``backward`` left: the leaves' ``.grad`` or
    "backward has not run". When an earlier ``backward()`` freed the graph, nodes say so
    and leaves show ``.grad``. ``gradient`` is δ for a non-scalar ``loss``.

    >>> import autograd_nn as ag
    >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> g = draw_backward((w * w).sum(), params={"w": w})
    >>> "δ [2, 4]" in g.source, w.grad is None
    (True, True)
    """
    index = index_graph(loss, unfused=not fused)
    grads = stored_gradients(index) if stored else sweep(index, gradient)
    drawing = _drawing(
        loss, params=params, tensors=tensors, grads=grads, clusters=None, max_nodes=max_nodes, index=index
    )
    title = {
        "computed": "backward pass: δ = ∂C/∂(node)",
        "stored": "backward pass: stored .grad",
        "freed": "backward pass: graph freed by backward(), showing stored .grad",
    }[grads.state]
    return drawing.build(title, legend)
