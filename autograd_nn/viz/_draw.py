"""The op-level pictures: ``draw_forward`` and ``draw_backward``.

Both draw the same nodes in the same places (edges always run from an input to the op
that used it, so Graphviz lays both views out alike); the backward view turns the
arrowheads round (``dir=back``: δ flows from the loss to the leaves), annotates every
node with its gradient δ, colours it by |δ| and marks the edges where the engine summed
a broadcast gradient back to the input's shape.

DOT lines are written directly (not through ``Digraph.node``, which quotes every
attribute): a 10⁵-node chain becomes DOT text in well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..graph import Node
from ..tensor import Tensor
from ._format import (
    NONFINITE_COLOUR,
    UNKNOWN_COLOUR,
    ZERO_COLOUR,
    MagnitudeScale,
    dtype_text,
    escape,
    number,
    rms,
    shape_text,
    values_text,
)
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

# One shape per kind of thing (shapes survive the backward view's colouring).
STYLES: dict[str, dict[str, str]] = {
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "#f0f0f0"},
    "loss": {"shape": "box", "style": "rounded,filled", "fillcolor": "#fbb4b9", "peripheries": "2"},
    "parameter": {"shape": "box", "style": "filled", "fillcolor": "#c7e9c0", "penwidth": "2"},
    "leaf": {"shape": "ellipse", "style": "filled", "fillcolor": "#deebf7"},
    "saved": {"shape": "note", "style": "filled", "fillcolor": "#fdd0a2"},
    "constant": {"shape": "plaintext", "fontcolor": "#777777"},
    "chain": {"shape": "box3d", "style": "filled", "fillcolor": "#e5e5e5"},
}
KIND_DESCRIPTIONS = {
    "loss": "the root (loss C)",
    "op": "operation (its output's shape)",
    "parameter": "parameter (named leaf)",
    "leaf": "leaf that requires grad",
    "saved": "constant input saved for backward",
    "constant": "constant input (not kept)",
    "chain": "repeated ops, collapsed",
}
REDUCE_COLOUR = "#d62728"
MIN_CHAIN = 4
GRAPH_ATTRS = (
    '\tgraph [rankdir=TB fontname="DejaVu Sans" fontsize=12 nodesep=0.25 ranksep=0.35]\n'
    '\tnode [fontname="DejaVu Sans" fontsize=11 margin="0.08,0.04"]\n'
    '\tedge [fontname="DejaVu Sans" fontsize=10 arrowsize=0.7]\n'
)


def _attrs(attrs: dict[str, str]) -> str:
    return " ".join(f'{k}="{v}"' for k, v in attrs.items())


def _edge(tail: str, head: str, attrs: dict[str, str]) -> str:
    return f"\t{tail} -> {head} [{_attrs(attrs)}]\n" if attrs else f"\t{tail} -> {head}\n"


def _value_text(value: np.ndarray) -> str:
    text = values_text(value)
    return text if text.startswith("‖") else "= " + text


def _small(text: str) -> str:
    return f'<font point-size="9">{escape(text)}</font>'


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
        chain_of, chains = self._chains()
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
            body.extend(self._legend())
        graph.body.extend(body)
        return graph

    # ------------------------------------------------------------------ labels
    def _delta_lines(self, edge: Any, is_leaf: bool) -> list[str]:
        grads = self.grads
        assert grads is not None
        g = grads.get(edge)
        if g is None:
            if grads.state == "computed":
                return [_small("δ: none flows here")]
            if is_leaf:
                return [_small(".grad: None (backward has not run)")]
            if grads.state == "freed":
                return [_small("δ: graph freed by backward()")]
            return [_small("δ: not kept (backward has not run here)")]
        prefix = "δ" if grads.state == "computed" else ".grad"
        lines = [f"{prefix} {escape(values_text(g))}"]
        uses = len(self.index.consumers.get(id(edge), ()))
        if uses > 1 and grads.state == "computed":
            lines.append(_small(f"Σ over {uses} uses"))
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
                rows.append(_small("saves " + ", ".join(saved_labels)))
        if self.grads is None:
            value = self.values.get(id(node))
            if value is not None:
                rows.append(_small(_value_text(value)))
        else:
            rows.extend(self._delta_lines(node, False))
        lines = [f"\t{key} [label=<{'<br/>'.join(rows)}> {_attrs(self._fill(node, kind))}]\n"]
        argnames = argument_names(node)
        for i, parent in enumerate(node.parents):
            label = argnames[i] if len(node.parents) > 1 else ""
            if parent is None:
                source_key = f"{key}_in{i}"
                if i in saved_inputs:
                    value = saved_inputs[i]
                    rows = [f"<b>{escape(label or 'input')}</b> (constant)", f"{shape_text(value.shape)} {value.dtype}"]
                    if self.grads is None:
                        rows.append(_small(_value_text(value)))
                    lines.append(f"\t{source_key} [label=<{'<br/>'.join(rows)}> {_attrs(STYLES['saved'])}]\n")
                else:
                    lines.append(f'\t{source_key} [label="constant" {_attrs(STYLES["constant"])}]\n')
                edge_attrs = {"style": "dashed", "color": "#999999"}
                if label:
                    edge_attrs["label"] = label
                if self.grads is not None:
                    edge_attrs["dir"] = "back"
                    edge_attrs["arrowhead"] = "none"
                    edge_attrs["arrowtail"] = "none"
                self.edges.append(_edge(source_key, key, edge_attrs))
                continue
            parent_key = self._drawn_key(parent, chain_of)
            self.edges.append(_edge(parent_key, key, self._edge_attrs(node, i, label)))
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
            rows.append(_small(_value_text(leaf.data)))
        else:
            rows.extend(self._delta_lines(leaf, True))
        return f"\t{key} [label=<{'<br/>'.join(rows)}> {_attrs(self._fill(leaf, kind))}]\n"

    # ------------------------------------------------------------------ chains
    def _chains(self) -> tuple[dict[int, int], list[list[Node]]]:
        """Runs of ≥ MIN_CHAIN ops, each the only consumer of the one before, collapsed
        into one node each, when the graph has more than ``max_nodes`` ops."""
        index = self.index
        if self.max_nodes is None or len(index.nodes) <= self.max_nodes:
            return {}, []
        root_node = index.root.grad_fn
        run_of: dict[int, int] = {}
        runs: list[list[Node]] = []
        protected = {id(n) for c in self.clusters for n in c.nodes} | {id(root_node)}
        for node in index.nodes:
            node_parents = [p for p in node.parents if type(p) is Node]
            previous = node_parents[0] if len(node_parents) == 1 else None
            if (
                previous is not None
                and id(node) not in protected
                and len(index.consumers.get(id(previous), ())) == 1
                and id(previous) in run_of
            ):
                run = run_of[id(previous)]
                runs[run].append(node)
                run_of[id(node)] = run
            elif id(node) not in protected:
                run_of[id(node)] = len(runs)
                runs.append([node])
        chains = [run for run in runs if len(run) >= MIN_CHAIN]
        chain_of = {id(n): k for k, run in enumerate(chains) for n in run}
        return chain_of, chains

    def _drawn_key(self, parent: Any, chain_of: dict[int, int]) -> str:
        chain = chain_of.get(id(parent))
        return f"chain{chain}" if chain is not None else self.index.key(parent)

    def _chain_lines(self, run: list[Node], chain_of: dict[int, int]) -> list[str]:
        key = f"chain{chain_of[id(run[0])]}"
        names = [n.name for n in run]
        period = next(
            p for p in range(1, len(names) + 1) if all(names[i] == names[i + p] for i in range(len(names) - p))
        )
        pattern = " → ".join(names[:period])
        repeats, extra = divmod(len(names), period)
        title = f"<b>({escape(pattern)}) × {repeats}</b>" + (f" + {extra}" if extra else "")
        inside = {id(n) for n in run}
        leaves = {id(p) for n in run for p in n.parents if p is not None and type(p) is not Node}
        rows = [title, _small(f"{len(run)} ops collapsed; output {shape_text(run[-1].shape)} {run[-1].dtype}")]
        if leaves:
            rows.append(_small(f"+ {len(leaves)} {'leaf' if len(leaves) == 1 else 'leaves'} inside"))
        fill = dict(STYLES["chain"])
        if self.grads is not None:
            known = [(n, self.grads.get(n)) for n in run]
            known = [(n, g) for n, g in known if g is not None]
            if known:
                rows.append(f"δ at output {escape(values_text(known[-1][1]))}")
                rows.append(f"δ at input {escape(values_text(known[0][1]))}")
                magnitudes = [rms(g) for _, g in known]
                rows.append(_small(f"RMS δ from {number(min(magnitudes))} to {number(max(magnitudes))}"))
                fill["fillcolor"] = self.scale.colour(known[0][1]) if self.scale else UNKNOWN_COLOUR
            else:
                rows.extend(self._delta_lines(run[-1], False))
                fill["fillcolor"] = UNKNOWN_COLOUR
        lines = [f"\t{key} [label=<{'<br/>'.join(rows)}> {_attrs(fill)}]\n"]
        edge_attrs = {"dir": "back"} if self.grads is not None else {}
        seen: set[int] = set()
        for node in run:
            for parent in node.parents:
                if parent is None or id(parent) in inside or id(parent) in seen:
                    continue
                seen.add(id(parent))
                if type(parent) is not Node:
                    users = self.index.consumers.get(id(parent), [])
                    if all(id(n) in inside for n, _ in users):
                        continue  # a leaf used only here is counted, not drawn
                self.edges.append(_edge(self._drawn_key(parent, chain_of), key, edge_attrs))
        return lines

    # ------------------------------------------------------------------ legend
    def _legend(self) -> list[str]:
        kinds = ["loss", "op", "parameter", "leaf", "saved", "constant"]
        lines = ['\tsubgraph cluster_legend {\n\t\tlabel="legend" style="rounded" color="#bbbbbb" fontsize=10\n']
        for kind in kinds:
            style = dict(STYLES[kind])
            if self.grads is not None and kind not in ("saved", "constant"):
                style["fillcolor"] = UNKNOWN_COLOUR
            lines.append(f'\t\tlegend_{kind} [label="{KIND_DESCRIPTIONS[kind]}" fontsize=9 {_attrs(style)}]\n')
        order = [f"legend_{k}" for k in kinds]
        if self.grads is not None:
            lines.append(f"\t\tlegend_colours [shape=plaintext label=<{self._colour_table()}>]\n")
            order.append("legend_colours")
        for a, b in zip(order, order[1:]):
            lines.append(f"\t\t{a} -> {b} [style=invis]\n")
        lines.append("\t}\n")
        return lines

    def _colour_table(self) -> str:
        grads = self.grads
        assert grads is not None
        cells = ['<tr><td colspan="2"><font point-size="9"><b>fill = RMS of δ (log scale)</b></font></td></tr>']
        if self.scale is not None and grads.state == "computed":
            for magnitude, colour in reversed(self.scale.ticks()):
                cells.append(
                    f'<tr><td bgcolor="{colour}" width="18"> </td><td align="left">{number(magnitude)}</td></tr>'
                )
        cells.append(f'<tr><td bgcolor="{ZERO_COLOUR}"> </td><td align="left">δ = 0</td></tr>')
        cells.append(f'<tr><td bgcolor="{NONFINITE_COLOUR}"> </td><td align="left">NaN / inf</td></tr>')
        cells.append(f'<tr><td bgcolor="{UNKNOWN_COLOUR}"> </td><td align="left">δ unknown</td></tr>')
        cells.append(
            f'<tr><td colspan="2"><font color="{REDUCE_COLOUR}" point-size="9">red edge: Σ broadcast δ '
            "back to the input's shape</font></td></tr>"
        )
        cells.append('<tr><td colspan="2"><font point-size="9">arrows: δ flows loss → leaves</font></td></tr>')
        return f'<table border="0" cellborder="1" cellspacing="0" cellpadding="2">{"".join(cells)}</table>'


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
