"""The model-level picture: one node per layer, in the post's notation.

Written against a duck-typed Sequential: the model iterates its layers (or has
``children()``); a layer with a ``weight`` Tensor (and optional ``bias``) is
Linear-like and starts layer l, computing zˡ = aˡ⁻¹(Wˡ)ᵀ + bˡ; the parameter-free
layers after it (activations) make aˡ. The forward pass is run here, layer by layer,
on the batch you pass, so every zˡ and aˡ is known; nothing of the model is changed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..creation import as_tensor
from ..tensor import Tensor
from ._dot import STYLES, edge_line, small
from ._draw import _Cluster, _drawing
from ._format import UNKNOWN_COLOUR, MagnitudeScale, escape, rms, shape_text, sup, values_text
from ._render import Graph, RendererNotFoundError
from ._walk import Gradients, index_graph, sweep

_SYMBOLS = {"Sigmoid": "σ", "Tanh": "tanh", "ReLU": "ReLU", "Relu": "ReLU", "Identity": ""}
MAX_LAYERS = 12


@dataclass
class _Group:
    """Layer l: a Linear-like module and the parameter-free modules after it."""

    number: int
    modules: list[Any] = field(default_factory=list)
    z: Tensor | None = None
    a: Tensor | None = None
    a_in: Tensor | None = None

    @property
    def linear(self) -> Any:
        return self.modules[0] if self.modules and _linear_like(self.modules[0]) else None

    def signature(self) -> tuple[Any, ...]:
        return (self.title(), self.z.shape if self.z is not None else None)

    def title(self) -> str:
        parts = []
        for m in self.modules:
            if _linear_like(m):
                out_features, in_features = m.weight.shape
                parts.append(f"{type(m).__name__} {in_features}→{out_features}")
            else:
                parts.append(type(m).__name__)
        return " + ".join(parts) or "identity"

    def activation(self) -> str | None:
        names = [type(m).__name__ for m in self.modules[1:]]
        if not names:
            return None
        return " ∘ ".join(_SYMBOLS.get(n, n.lower()) for n in reversed(names))


def _linear_like(module: Any) -> bool:
    return isinstance(getattr(module, "weight", None), Tensor)


def _layers(model: Any) -> list[Any]:
    try:
        return list(iter(model))
    except TypeError:
        children = getattr(model, "children", None)
        return list(children()) if callable(children) else [model]


def _run(model: Any, x: Any) -> tuple[list[_Group], Tensor]:
    """Apply the layers one by one, grouping them and keeping every zˡ and aˡ."""
    groups: list[_Group] = []
    current = as_tensor(x)
    for module in _layers(model):
        if _linear_like(module) or not groups:
            number_ = sum(1 for g in groups if g.number) + 1 if _linear_like(module) else 0
            groups.append(_Group(number_, a_in=current))
        group = groups[-1]
        group.modules.append(module)
        current = module(current)
        if len(group.modules) == 1:
            group.z = current
        group.a = current
    return groups, current


def _notation(groups: list[_Group]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """``{name: tensor}`` for zˡ, aˡ and ŷ, and for Wˡ, bˡ: names the op graph shows."""
    tensors: dict[str, Tensor] = {}
    params: dict[str, Tensor] = {}
    for g in groups:
        if g.linear is None:
            continue
        ell = sup(g.number)
        params[f"W{ell}"] = g.linear.weight
        if isinstance(getattr(g.linear, "bias", None), Tensor):
            params[f"b{ell}"] = g.linear.bias
        if g.z is not None:
            tensors[f"z{ell}"] = g.z
        if g.a is not None and g.a is not g.z:
            tensors[f"a{ell}"] = g.a
    if groups and groups[-1].a is not None:
        tensors["ŷ"] = groups[-1].a
    return tensors, params


def _z_formula(g: _Group) -> str:
    ell, before = sup(g.number), sup(g.number - 1)
    bias = f" + b{ell}" if isinstance(getattr(g.linear, "bias", None), Tensor) else ""
    return f"z{ell} = a{before}(W{ell})ᵀ{bias}"


def draw_model(
    model: Any,
    x: Any,
    y: Any = None,
    loss_fn: Callable[[Tensor, Any], Tensor] | None = None,
    *,
    backward: bool = False,
    expand: bool = False,
    legend: bool = True,
) -> Graph:
    """A Sequential-like model as the post draws it: one node per layer.

    Layer l shows Wˡ, bˡ, zˡ = aˡ⁻¹(Wˡ)ᵀ + bˡ and aˡ with real shapes (``x`` is one
    batch); with ``backward=True`` (needs ``y`` and ``loss_fn``) each layer shows
    δˡ = ∂C/∂zˡ, ∂C/∂Wˡ and ∂C/∂bˡ from a read-only sweep and is coloured by ``|δˡ|``.
    ``expand=True`` draws the op graph instead, one cluster per layer, named in the
    same notation. More than 12 layers: runs of identical layers are collapsed.
    """
    groups, output = _run(model, x)
    loss = None
    if loss_fn is not None and y is not None:
        loss = loss_fn(output, y)
    elif backward:
        raise ValueError("draw_model: backward=True needs y and loss_fn to compute the loss C")
    root = loss if loss is not None else output
    tensors, params = _notation(groups)
    if loss is not None:
        tensors["C"] = loss
    index = index_graph(root)
    grads = sweep(index) if backward else None
    if expand:
        clusters = []
        previous = -1
        for g in groups:
            last = g.a.grad_fn.seq if g.a is not None and g.a.grad_fn is not None else previous
            nodes = [n for n in index.nodes if previous < n.seq <= last]
            previous = last
            label = f"<b>layer {g.number}</b>: {escape(g.title())}" if g.number else escape(g.title())
            clusters.append(_Cluster(label, nodes))
        drawing = _drawing(
            root, params=params, tensors=tensors, grads=grads, clusters=clusters, max_nodes=None, index=index
        )
        return drawing.build("backward pass: δ = ∂C/∂(node)" if backward else "forward graph", legend)
    return _LayerDrawing(groups, loss, grads).build(legend)


@dataclass
class _LayerDrawing:
    groups: list[_Group]
    loss: Tensor | None
    grads: Gradients | None

    def _delta(self, t: Any) -> np.ndarray | None:
        if self.grads is None or t is None:
            return None
        return self.grads.get(t.grad_fn if isinstance(t, Tensor) and t.grad_fn is not None else t)

    def build(self, legend: bool) -> Graph:
        graph = Graph(name="autograd_nn_model")
        backward = self.grads is not None
        body = [
            '\tgraph [rankdir=TB fontname="DejaVu Sans" fontsize=12 nodesep=0.3 ranksep=0.4]\n',
            '\tnode [fontname="DejaVu Sans" fontsize=11 shape=box style="rounded,filled" margin="0.1,0.05"]\n',
            '\tedge [fontname="DejaVu Sans" fontsize=10 arrowsize=0.7]\n',
            f'\tlabel=<{"backward pass: δˡ = ∂C/∂zˡ" if backward else "forward pass"}> labelloc="t"\n',
        ]
        magnitudes = [rms(d) for g in self.groups if (d := self._delta(g.z)) is not None]
        scale = MagnitudeScale(magnitudes) if backward else None
        first = self.groups[0].a_in if self.groups else None
        rows = [f"<b>a{sup(0)} = x</b>"]
        if first is not None:
            rows.append(f"{shape_text(first.shape)} {first.dtype}")
        body.append(f"\tinput [label=<{'<br/>'.join(rows)}> {_style('saved')}]\n")
        previous = "input"
        groups = self._runs()
        for k, run in enumerate(groups):
            key = f"layer{k}"
            g = run[0]
            rows = self._layer_rows(run)
            fill = "#f0f0f0"
            if backward:
                d = self._delta(run[-1].z)
                fill = scale.colour(d) if d is not None and scale else UNKNOWN_COLOUR
            body.append(f'\t{key} [label=<{"<br/>".join(rows)}> fillcolor="{fill}"]\n')
            edge_label = f"a{sup(run[0].number - 1)}" if g.number else ""
            attrs = {"label": edge_label} if edge_label else {}
            if backward:
                attrs["dir"] = "back"
                d_in = self._delta(run[0].a_in)
                if d_in is not None and edge_label:
                    attrs["label"] = f"∂C/∂{edge_label} {rms_text(d_in)}"
            body.append(edge_line(previous, key, attrs))
            previous = key
        last = self.groups[-1].a if self.groups else None
        if self.loss is not None:
            rows = ["<b>C</b> (loss)", f"= {values_text(self.loss.data)}"]
            if backward:
                rows.append("δ = 1 (the seed)")
            body.append(f"\tloss [label=<{'<br/>'.join(rows)}> {_style('loss')}]\n")
            attrs = {"label": "ŷ"}
            if backward:
                attrs = {"label": f"∂C/∂ŷ {rms_text(self._delta(last))}", "dir": "back"}
            body.append(edge_line(previous, "loss", attrs))
        if legend:
            body.append(self._legend(scale))
        graph.body.extend(body)
        return graph

    def _runs(self) -> list[list[_Group]]:
        """Consecutive identical layers grouped, when there are many."""
        if len(self.groups) <= MAX_LAYERS:
            return [[g] for g in self.groups]
        runs: list[list[_Group]] = []
        for g in self.groups:
            if runs and runs[-1][-1].signature() == g.signature() and g.number:
                runs[-1].append(g)
            else:
                runs.append([g])
        return runs

    def _layer_rows(self, run: list[_Group]) -> list[str]:
        g = run[0]
        backward = self.grads is not None
        if len(run) > 1:
            rows = [f"<b>layers {g.number}–{run[-1].number}</b>: ({escape(g.title())}) × {len(run)}"]
            rows.append(small(f"each: z {shape_text(g.z.shape)}"))
            if backward:
                deltas = [d for r in run if (d := self._delta(r.z)) is not None]
                if deltas:
                    rows.append(
                        f"RMS δ: {rms(deltas[-1]):.3g} (layer {run[-1].number}) … {rms(deltas[0]):.3g} (layer {g.number})"
                    )
            return rows
        if not g.number:
            return [f"<b>{escape(g.title())}</b>", f"{shape_text(g.a.shape)}"]
        ell = sup(g.number)
        w = g.linear.weight
        bias = getattr(g.linear, "bias", None)
        rows = [f"<b>layer {g.number}</b>: {escape(g.title())}"]
        params = f"W{ell} {shape_text(w.shape)}" + (
            f", b{ell} {shape_text(bias.shape)}" if isinstance(bias, Tensor) else ""
        )
        rows.append(small(params))
        rows.append(f"{escape(_z_formula(g))}   {shape_text(g.z.shape)}")
        act = g.activation()
        if act is not None:
            rows.append(f"a{ell} = {escape(act)}(z{ell})   {shape_text(g.a.shape)}")
        if not backward:
            rows.append(small(f"a{ell}: {values_text(g.a.data)}"))
            return rows
        d = self._delta(g.z)
        rows.append(f"δ{ell} = ∂C/∂z{ell}: {escape(values_text(d)) if d is not None else 'unknown'}")
        gw = self._delta(w)
        if gw is not None:
            rows.append(small(f"∂C/∂W{ell}: {values_text(gw)}"))
        if isinstance(bias, Tensor) and (gb := self._delta(bias)) is not None:
            rows.append(small(f"∂C/∂b{ell}: {values_text(gb)}"))
        return rows

    def _legend(self, scale: MagnitudeScale | None) -> str:
        rows = ['<tr><td colspan="2"><b>legend</b></td></tr>']
        rows.append('<tr><td colspan="2" align="left">zˡ = aˡ⁻¹(Wˡ)ᵀ + bˡ, aˡ = f(zˡ); a⁰ = x, ŷ = aᴸ</td></tr>')
        if scale is not None:
            rows.append('<tr><td colspan="2" align="left">δˡ = ∂C/∂zˡ; arrows: δ flows C → input</td></tr>')
            for magnitude, colour in reversed(scale.ticks()):
                rows.append(
                    f'<tr><td bgcolor="{colour}" width="18"> </td><td align="left">RMS δ {magnitude:.3g}</td></tr>'
                )
        table = f'<table border="0" cellborder="0" cellspacing="0" cellpadding="2">{"".join(rows)}</table>'
        return f'\tlegend [shape=box style="rounded" color="#bbbbbb" fontsize=9 label=<{table}>]\n'


def rms_text(d: np.ndarray | None) -> str:
    return "" if d is None else f"(RMS {rms(d):.3g})"


def _style(kind: str) -> str:
    return " ".join(f'{k}="{v}"' for k, v in STYLES[kind].items())


def render_model_graphs(
    model: Any,
    x: Any,
    y: Any,
    loss_fn: Callable[[Tensor, Any], Tensor],
    out_dir: str | Path,
    formats: tuple[str, ...] = ("svg", "png"),
) -> list[Path]:
    """Write the forward and backward pictures of ``model`` on one batch to ``out_dir``.

    Four graphs: ``model_forward`` and ``model_backward`` (one node per layer) and
    ``ops_forward`` and ``ops_backward`` (the op graph, one cluster per layer), each as
    ``.dot`` and in every format of ``formats``. Returns the paths written. With no
    renderer installed the ``.dot`` files are still written and a warning says how to
    get one.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    graphs = {
        "model_forward": draw_model(model, x, y, loss_fn),
        "model_backward": draw_model(model, x, y, loss_fn, backward=True),
        "ops_forward": draw_model(model, x, y, loss_fn, expand=True),
        "ops_backward": draw_model(model, x, y, loss_fn, backward=True, expand=True),
    }
    written: list[Path] = []
    missing: str | None = None
    for name, graph in graphs.items():
        dot_path = graph.save(out_dir / f"{name}.dot", format="dot")
        written.append(dot_path)
        for fmt in formats:
            if missing is not None:
                break
            try:
                written.append(graph.save(out_dir / f"{name}.{fmt}", format=fmt))
            except RendererNotFoundError as err:
                missing = str(err)
    if missing is not None:
        warnings.warn(missing, RuntimeWarning, stacklevel=2)
    return written
