"""The nodes of the model-level picture: the blocks of a cut graph grouped into layers,
and the DOT that draws them with the δ recursion on each.

Layer l groups a layer block (an affine map, or an op declared ``role="layer"``) with
the activation that reads its zˡ; every other block is a node of its own. Labels are
the text view's lines (``z¹ = a⁰ · (W¹)ᵀ + b¹``, ``δ¹ = (δ² · W²) ⊙ σ'(z¹)``) with real
shapes and the engine's values, one style per line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..graph import Node
from ._blocks import Block, is_leaf
from ._dot import STYLES, attrs_text, edge_line, small
from ._explain import Explanation, Step
from ._format import UNKNOWN_COLOUR, MagnitudeScale, escape, number, rms, shape_text, sup, values_text
from ._glyphs import FONT, picture_text
from ._legend import colour_strip
from ._names import Names
from ._render import Graph
from ._text import forward_text
from ._walk import Gradients

MAX_LAYERS = 12
"""Models with more nodes than this have runs of identical layers collapsed into one."""


@dataclass(eq=False)
class Group:
    """One node of the model view: layer l (a layer and its activation), or another block."""

    blocks: list[Block]
    number: int | None = None
    title: str = ""
    detail: str = ""

    @property
    def numbered(self) -> bool:
        return self.number is not None

    @property
    def out(self) -> Node:
        return self.blocks[-1].out

    def signature(self) -> tuple[Any, ...]:
        """What makes two layers alike: their title without the number, ops and shapes."""
        shapes = tuple((b.out.shape, tuple(e.shape for e in b.inputs if is_leaf(e))) for b in self.blocks)
        return (self.title.split(": ", 1)[-1], tuple(tuple(b.ops) for b in self.blocks), shapes)

    def describe(self, names: Names, modules: dict[int, tuple[str, Any]]) -> None:
        """The title (``layer 1: Linear 56→200 + Sigmoid``) and the parameters' line."""
        head = self.blocks[0]
        if not self.numbered:
            self.title = {
                "dropout": f"dropout, p = {head.info.get('p', 0):.4g}", "residual": "residual addition",
                "attention": "attention", "loss": "the loss C",
            }.get(head.kind, head.out.name)  # fmt: skip
            return
        params = [e for e in head.inputs[1:] if is_leaf(e)]
        path, module = modules.get(id(params[0]), ("", None)) if params else ("", None)
        what = type(module).__name__ if module is not None else head.out.name
        if head.kind == "affine":
            rows, cols = params[0].shape
            n_in, n_out = (rows, cols) if head.info["form"] == "a·W" else (cols, rows)
            what += f" {n_in}→{n_out}"
        extra = [f" + {b.out.name}" for b in self.blocks[1:]]
        self.title = f"layer {self.number}: {what}{''.join(extra)}"
        shapes = ", ".join(f"{names.symbol(p)} {shape_text(tuple(p.shape))}" for p in params)
        self.detail = (f"{path}: " if path else "") + shapes


def group_blocks(blocks: list[Block], names: Names) -> list[Group]:
    """Blocks in forward order, each layer block joined by the activation that reads its zˡ."""
    groups: list[Group] = []
    joined: set[int] = set()
    for k, block in enumerate(blocks):
        if id(block) in joined:
            continue
        group = Group([block], names.layer.get(id(block)))
        if group.numbered:
            for later in blocks[k + 1 :]:
                if later.kind == "activation" and later.inputs[0] is block.out and names.symbol(later.out)[:1] == "a":
                    group.blocks.append(later)
                    joined.add(id(later))
                    break
        groups.append(group)
    return groups


def module_names(model: Any) -> dict[int, tuple[str, Any]]:
    """``{id(parameter): (module path, module)}`` for the modules that own parameters."""
    found: dict[int, tuple[str, Any]] = {}
    named = getattr(model, "named_modules", None)
    if callable(named):
        for path, module in named():
            for value in vars(module).get("_parameters", {}).values():
                if value is not None:
                    found.setdefault(id(value), (path, module))
        return found
    try:
        modules = list(iter(model))
    except TypeError:
        modules = [model]
    for k, module in enumerate(modules):
        for value in vars(module).values() if hasattr(module, "__dict__") else ():
            found.setdefault(id(value), (str(k), module))
    return found


@dataclass
class LayerDrawing:
    groups: list[Group]
    names: Names
    grads: Gradients | None
    explanation: Explanation | None
    root: Any
    has_loss: bool
    input_shape: str | None
    values: dict[int, Any] = field(default_factory=dict)  # what the graph still knows of each output
    keys: dict[int, str] = field(default_factory=dict)  # id(edge) → the node drawing it

    def build(self, legend: bool) -> Graph:
        graph = Graph(name="autograd_nn_model")
        backward = self.grads is not None
        body = [
            f'\tgraph [rankdir=TB fontname="{FONT}" fontsize=12 nodesep=0.3 ranksep=0.3]\n',
            f'\tnode [fontname="{FONT}" fontsize=11 shape=box style="rounded,filled" margin="0.1,0.05"]\n',
            f'\tedge [fontname="{FONT}" fontsize=10 arrowsize=0.7]\n',
            f'\tlabel=<{"backward pass: δˡ = ∂C/∂zˡ" if backward else "forward pass"}> labelloc="t"\n',
        ]
        steps = {id(s.edge): s for s in self.explanation.steps} if self.explanation is not None else {}
        magnitudes = [rms(d) for g in self.groups if (d := self._delta(g)) is not None]
        scale = MagnitudeScale(magnitudes) if backward else None
        if self.names.data is not None and self.input_shape is not None:
            data = self.names.data
            self.keys[id(data[1]) if data[1] is not None else 0] = "input"
            body.append(f"\tinput [label=<<b>a{sup(0)} = x</b><br/>{self.input_shape}> {_style('saved')}]\n")
        for k, run in enumerate(self._runs()):
            key = f"layer{k}"
            for g in run:
                for b in g.blocks:
                    self.keys[id(b.out)] = key
            fill = "#f0f0f0"
            if backward:
                d = self._delta(run[-1])
                fill = scale.colour(d) if d is not None and scale else UNKNOWN_COLOUR
            kind = "loss" if run[0].blocks[0].kind == "loss" else None
            attrs = f'fillcolor="{fill}"' + (' peripheries="2"' if kind else "")
            body.append(f'\t{key} [label=<{"<br/>".join(self._rows(run, steps))}> {attrs}]\n')
        body.extend(self._edges(backward))
        if legend:
            body.append(self._legend(scale))
        graph.body.extend(picture_text(line) for line in body)
        return graph

    # ----------------------------------------------------------------- labels
    def _delta(self, group: Group) -> Any:
        if self.grads is None or group.blocks[0].kind == "loss":
            return None
        return self.grads.get(group.blocks[0].out)

    def _runs(self) -> list[list[Group]]:
        """Consecutive identical layers grouped, when there are many."""
        if len(self.groups) <= MAX_LAYERS:
            return [[g] for g in self.groups]
        runs: list[list[Group]] = []
        for g in self.groups:
            if runs and g.numbered and runs[-1][-1].numbered and runs[-1][-1].signature() == g.signature():
                runs[-1].append(g)
            else:
                runs.append([g])
        return runs

    def _rows(self, run: list[Group], steps: dict[int, Step]) -> list[str]:
        g = run[0]
        if len(run) > 1:
            title = g.title.split(": ", 1)[-1]
            rows = [f"<b>layers {g.number}–{run[-1].number}: ({escape(title)}) × {len(run)}</b>"]
            rows.append(small(f"each: z {shape_text(g.out.shape)}"))
            deltas = [(r.number, d) for r in run if (d := self._delta(r)) is not None]
            if deltas:
                rows.append(
                    f"RMS of δ: {number(rms(deltas[-1][1]))} (layer {deltas[-1][0]}) … "
                    f"{number(rms(deltas[0][1]))} (layer {deltas[0][0]})"
                )
            return rows
        rows = [f"<b>{escape(g.title)}</b>"]
        if g.detail:
            rows.append(small(g.detail))
        names = self.names
        for block in g.blocks:
            symbol = names.symbol(block.out)
            if block.kind == "loss":
                rows.append(escape(f"C = {forward_text(block, names)} = {values_text(self.root.data)}"))
                if self.grads is not None:
                    rows.append(small("δ = 1 (the seed)"))
                continue
            rows.append(escape(f"{symbol} ({shape_text(block.out.shape)}) = {forward_text(block, names)}"))
        if self.grads is None:
            for block in g.blocks:
                value = self.values.get(id(block.out))
                if value is not None and block.kind != "loss":
                    rows.append(small(f"{names.symbol(block.out)}: {values_text(value)}"))
            return rows
        for block in g.blocks:  # the δ of what the layer computes, then of its parameters
            step = steps.get(id(block.out)) if block.kind != "loss" else None
            if step is not None:
                rows.append(escape(f"{step.symbol} ({shape_text(step.shape)}) = {step.formula}"))
                rows.append(small(f"{step.symbol}: {values_text(step.value)}"))
        for block in g.blocks:
            for edge in [e for e in block.inputs if is_leaf(e) and id(e) in names.parameters]:
                step = steps.get(id(edge))
                if step is not None:
                    rows.append(small(f"{step.symbol} ({shape_text(step.shape)}) = {step.formula}: {values_text(step.value)}"))
        return rows

    def _edges(self, backward: bool) -> list[str]:
        lines: list[str] = []
        seen: set[tuple[str, str]] = set()
        for g in self.groups:
            head = self.keys[id(g.blocks[0].out)]
            inside = {id(b.out) for b in g.blocks}
            for block in g.blocks:
                for slot, edge in enumerate(block.inputs):
                    if edge is None:
                        source = "input" if self.names.data == (block, None) and slot == 0 else None
                    elif id(edge) in inside or id(edge) in self.names.parameters:
                        continue
                    else:
                        source = self.keys.get(id(edge))
                    if source is None or source == head or (source, head) in seen:
                        continue
                    seen.add((source, head))
                    symbol = self.names.operand(block, slot)
                    attrs = {"label": symbol}
                    if backward:
                        attrs["dir"] = "back"
                        delta = self.grads.get(edge) if edge is not None else None
                        if delta is not None:
                            attrs["label"] = f"{self.names.delta(edge)} (RMS {number(rms(delta))})"
                    lines.append(edge_line(source, head, attrs))
        return lines

    def _legend(self, scale: MagnitudeScale | None) -> str:
        rows = ['<tr><td align="left"><font point-size="10">legend</font></td></tr>']
        notation = "zˡ = aˡ⁻¹ (Wˡ)ᵀ + bˡ, aˡ = f(zˡ); a⁰ = x, ŷ = the last layer's output; ◦ elementwise product"
        rows.append(f'<tr><td align="left"><font point-size="9">{notation}</font></td></tr>')
        if scale is not None and self.grads is not None:
            rows.append(
                '<tr><td align="left"><font point-size="9">δˡ = ∂C/∂zˡ; arrows: δ flows from C to the input; '
                "RMS = √mean(δ²)</font></td></tr>"
            )
            rows.append(f'<tr><td align="left">{colour_strip(self.grads, scale)}</td></tr>')
        table = f'<table border="0" cellborder="0" cellspacing="0" cellpadding="1">{"".join(rows)}</table>'
        return f'\t{{ rank=sink\n\t\tlegend [shape=box style="rounded" color="#bbbbbb" fillcolor="white" label=<{table}>]\n\t}}\n'


def _style(kind: str) -> str:
    return attrs_text(STYLES[kind])
