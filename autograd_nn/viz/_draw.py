"""The op-level pictures: ``draw_forward`` and ``draw_backward``.

Both draw the same nodes in the same places (edges always run from an input to the op
that used it, so Graphviz lays both views out alike); the backward view turns the
arrowheads round (``dir=back``: δ flows from the loss to the leaves), annotates every
node with its gradient δ, colours it by |δ| and marks the edges where the engine summed
a broadcast gradient back to the input's shape.

This module owns the drawing itself: which node goes in which cluster, each node's
label (shape, dtype, saved inputs, value or δ) and fill, and the edges. The DOT
spelling and styles are in :mod:`._dot`, the collapsing of long chains in
:mod:`._chains`, the legend in :mod:`._legend`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..graph import Node
from ..tensor import Tensor
from ._chains import chain_inputs, chain_title, find_chains, inner_leaf_count
from ._dot import GRAPH_ATTRS, REDUCE_COLOUR, STYLES, attrs_text, edge_line, small, value_label
from ._format import UNKNOWN_COLOUR, MagnitudeScale, dtype_text, escape, number, rms, shape_text, values_text
from ._legend import legend_lines
from ._render import Graph
from ._walk import (
    Gradients,
    GraphIndex,
    argument_names,
    index_graph,
    known_values,
    named_tensors,
    root_edge,
    stored_gradients,
    sweep,
)


@dataclass
class _Cluster:
    """A box drawn around some ops (one layer of a model), with its own label."""

    label: str
    nodes: Sequence[Node]
    lines: list[str] = field(default_factory=list)


@dataclass
class _Drawing:
    index: GraphIndex
    names: dict[int, str]
    values: dict[int, np.ndarray]
    grads: Gradients | None
    scale: MagnitudeScale | None
    params: set[int]
    clusters: list[_Cluster]
    max_nodes: int | None
    magnitudes: dict[int, float] = field(default_factory=dict)
    edges: list[str] = field(default_factory=list)

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
        chain_of, chains = find_chains(index, self.max_nodes, kept=set(where))  # clustered ops stay
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
                owner = {chain_of[id(n)] for n, _ in users}
                if len(owner) == 1:
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
            body.extend(legend_lines(self.grads, self.scale))
        graph.body.extend(body)
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
        lines = [f"{prefix} {escape(values_text(g))}"]
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
        key = self.index.key(node)
        is_root = node is self.index.root.grad_fn
        kind = "loss" if is_root else "op"
        name = self.names.get(id(node))
        title = f"<b>{escape(node.name)}</b>"
        if name:
            title += f"  <i>{escape(name)}</i>"
        rows = [title, f"{shape_text(node.shape)} {dtype_text(node.dtype)}"]
        saved_inputs: dict[int, np.ndarray] = {}
        if node.saved_values:
            names = argument_names(node)
            saved_labels = []
            for value, source in zip(node.saved_values, node.saved_sources):
                if source is None:
                    continue
                saved_labels.append("output" if source == -1 else names[source])
                if source >= 0 and node.parents[source] is None and isinstance(value, np.ndarray):
                    saved_inputs[source] = value
            if saved_labels:
                rows.append(small("saves " + ", ".join(saved_labels)))
        if self.grads is None:
            value = self.values.get(id(node))
            if value is not None:
                rows.append(small(value_label(value)))
        else:
            rows.extend(self._delta_lines(node, False))
        lines = [f"\t{key} [label=<{'<br/>'.join(rows)}> {attrs_text(self._fill(node, kind))}]\n"]
        argnames = argument_names(node)
        for i, parent in enumerate(node.parents):
            label = argnames[i] if len(node.parents) > 1 else ""
            if parent is None:
                source_key = f"{key}_in{i}"
                if i in saved_inputs:
                    value = saved_inputs[i]
                    rows = [f"<b>{escape(label or 'input')}</b> (constant)", f"{shape_text(value.shape)} {value.dtype}"]
                    if self.grads is None:
                        rows.append(small(value_label(value)))
                    lines.append(f"\t{source_key} [label=<{'<br/>'.join(rows)}> {attrs_text(STYLES['saved'])}]\n")
                else:
                    lines.append(f'\t{source_key} [label="constant" {attrs_text(STYLES["constant"])}]\n')
                edge_attrs = {"style": "dashed", "color": "#999999"}
                if label:
                    edge_attrs["label"] = label
                if self.grads is not None:
                    edge_attrs["dir"] = "back"
                    edge_attrs["arrowhead"] = "none"
                    edge_attrs["arrowtail"] = "none"
                self.edges.append(edge_line(source_key, key, edge_attrs))
                continue
            parent_key = self._drawn_key(parent, chain_of)
            self.edges.append(edge_line(parent_key, key, self._edge_attrs(node, i, label)))
        return lines

    def _edge_attrs(self, node: Node, i: int, label: str) -> dict[str, str]:
        attrs: dict[str, str] = {}
        if label:
            attrs["label"] = label
        if self.grads is not None:
            attrs["dir"] = "back"
            reduced = self.grads.reduced.get((id(node), i))
            if reduced is not None:
                target = node.parents[i].shape
                attrs["label"] = (f"{label}: " if label else "") + f"Σ {shape_text(reduced)} → {shape_text(target)}"
                attrs["color"] = attrs["fontcolor"] = REDUCE_COLOUR
                attrs["penwidth"] = "2"
        return attrs

    def _leaf_line(self, leaf: Tensor) -> str:
        key = self.index.key(leaf)
        kind = "parameter" if id(leaf) in self.params else "leaf"
        if leaf is self.index.root:
            kind = "loss"
        name = self.names.get(id(leaf)) or "leaf"
        rows = [f"<b>{escape(name)}</b>", f"{shape_text(leaf.shape)} {dtype_text(leaf.dtype)}"]
        if self.grads is None:
            rows.append(small(value_label(leaf.data)))
        else:
            rows.extend(self._delta_lines(leaf, True))
        return f"\t{key} [label=<{'<br/>'.join(rows)}> {attrs_text(self._fill(leaf, kind))}]\n"

    # ------------------------------------------------------------------ chains
    def _drawn_key(self, parent: Any, chain_of: dict[int, int]) -> str:
        chain = chain_of.get(id(parent))
        return f"chain{chain}" if chain is not None else self.index.key(parent)

    def _chain_lines(self, run: list[Node], chain_of: dict[int, int]) -> list[str]:
        key = f"chain{chain_of[id(run[0])]}"
        leaves = inner_leaf_count(run)
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
                rows.append(small(f"RMS δ from {number(min(magnitudes))} to {number(max(magnitudes))}"))
                fill["fillcolor"] = self.scale.colour(known[0][1]) if self.scale else UNKNOWN_COLOUR
            else:
                rows.extend(self._delta_lines(run[-1], False))
                fill["fillcolor"] = UNKNOWN_COLOUR
        lines = [f"\t{key} [label=<{'<br/>'.join(rows)}> {attrs_text(fill)}]\n"]
        edge_attrs = {"dir": "back"} if self.grads is not None else {}
        for parent in chain_inputs(run, self.index):
            self.edges.append(edge_line(self._drawn_key(parent, chain_of), key, edge_attrs))
        return lines


def _names(index: GraphIndex, params: dict[str, Tensor], tensors: dict[str, Tensor]) -> dict[int, str]:
    names: dict[int, str] = {}
    for leaf in index.leaves:
        if leaf.name:
            names[id(leaf)] = leaf.name
    for name, t in params.items():
        names[id(t)] = name
    for name, t in tensors.items():
        key = id(root_edge(t))
        names[key] = f"{names[key]} = {name}" if key in names and names[key] != name else name
    return names


def _drawing(
    root: Tensor,
    *,
    params: Any,
    tensors: dict[str, Tensor] | None,
    grads: Gradients | None,
    clusters: list[_Cluster] | None,
    max_nodes: int | None,
    index: GraphIndex | None = None,
) -> _Drawing:
    if not isinstance(root, Tensor):
        raise TypeError(f"viz: expected a Tensor, got {type(root).__name__}")
    index = index or index_graph(root)
    named = named_tensors(params)
    tensors = dict(tensors or {})
    names = _names(index, named, tensors)
    if id(root_edge(root)) not in names:
        names[id(root_edge(root))] = "loss C" if root.size == 1 else "output"
    scale = None
    magnitudes: dict[int, float] = {}
    if grads is not None:
        magnitudes = {key: rms(g) for key, g in grads.of.items()}
        scale = MagnitudeScale(list(magnitudes.values()))
    return _Drawing(
        index=index,
        names=names,
        values=known_values(index, tensors),
        grads=grads,
        scale=scale,
        params={id(t) for t in named.values()},
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
) -> Graph:
    """The forward graph of ``output``: tensors and ops, inputs at the top.

    Each op shows its output's shape and dtype, and its value where the graph still
    knows it (leaves, ``tensors`` you pass, and arrays saved for backward); ``params``
    (``{name: tensor}`` or a model with ``named_parameters()``) names the parameters.
    Above ``max_nodes`` ops, chains of repeated ops are collapsed into one node each
    (``max_nodes=None`` never collapses). The graph is only read, never changed.

    >>> import autograd_nn as ag
    >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> g = draw_forward((w * w).sum(), params={"w": w})
    >>> "Mul" in g.source and "<b>w</b>" in g.source
    True
    """
    drawing = _drawing(output, params=params, tensors=tensors, grads=None, clusters=None, max_nodes=max_nodes)
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
) -> Graph:
    """The backward pass of ``loss``: every node with its gradient δ = ∂C/∂(node).

    δs come from one read-only reverse sweep of the engine (the same arithmetic as
    ``loss.backward()``), which captures every node's output gradient without storing
    anything: ``.grad``, hooks and saved arrays are left as they were. Arrows point
    the way δ flows (loss → leaves); nodes are coloured by the RMS of δ on a log scale;
    red edges mark where a broadcast gradient was summed back to its input's shape.

    ``stored=True`` shows instead what ``backward`` left: the leaves' ``.grad`` or
    "backward has not run". When an earlier ``backward()`` freed the graph, nodes say so
    and leaves show ``.grad``. ``gradient`` is δ for a non-scalar ``loss``.

    >>> import autograd_nn as ag
    >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> g = draw_backward((w * w).sum(), params={"w": w})
    >>> "δ [2, 4]" in g.source, w.grad is None
    (True, True)
    """
    index = index_graph(loss)
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
