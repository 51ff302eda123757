"""The model-level picture: one node per layer, in the post's notation, with the δ recursion.

The model runs once on the batch you pass (``model(x)``), and the graph it records is cut
into blocks exactly as ``explain_backward`` cuts it (:mod:`._blocks`): layer l is a layer
block (an affine map, or an op declared ``role="layer"``) with the activation that reads
its zˡ; dropout, residual additions, attention, the loss and any other op are nodes of
their own, drawn by their names. Each layer shows Wˡ, bˡ, zˡ and aˡ with real shapes and,
in the backward view, its δ formula and value (``δ¹ = (δ² · W²) ◦ σ'(z¹)``) from the
same read-only sweep. Nothing of the model is changed: a module runs as a private copy.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..creation import as_tensor
from ..graph import Node
from ..tensor import Tensor
from ._blocks import cut, is_leaf
from ._draw import _Cluster, _drawing
from ._explain import RECOGNISERS, Explanation, explain
from ._format import escape, shape_text
from ._layers import LayerDrawing, group_blocks, module_names
from ._names import Names, sub
from ._naming import Naming
from ._render import Graph, RendererNotFoundError
from ._walk import index_graph, known_values, named_tensors, sweep


def draw_model(
    model: Any,
    x: Any,
    y: Any = None,
    loss_fn: Callable[[Tensor, Any], Tensor] | None = None,
    *,
    backward: bool = False,
    expand: bool = False,
    fused: bool = True,
    legend: bool = True,
) -> Graph:
    """A model as the post draws it: one node per layer, zˡ = aˡ⁻¹(Wˡ)ᵀ + bˡ, aˡ = f(zˡ).

    ``model(x)`` runs once on the batch ``x``; with ``y`` and ``loss_fn`` the loss C is
    computed too. Layers are found in the recorded graph (see the module doc), so any
    model draws: a Sequential, a residual block, attention built from primitives, a
    model of your own. ``backward=True`` (needs ``y`` and ``loss_fn``) adds to each layer
    its δ formula with the engine's values (RMS, min, max), ∂C/∂Wˡ and ∂C/∂bˡ, and
    colours it by the RMS of δ. ``expand=True`` draws the op graph instead, one cluster
    per layer; ``fused=False`` draws each fused op (Linear, MseLoss) as the primitives it
    declares. More than 12 layers: runs of identical layers are collapsed.

    A tuple ``x`` holds several inputs (``model(*x)``: attention's query, key, value);
    a model that returns a tuple (``nn.LSTM``'s ``output, (h, c)``) is drawn, and its loss
    taken, from the first element. The inputs are named ``x`` (``x₁``, ``x₂``, … for several).
    """
    inputs = [as_tensor(v) for v in (x if isinstance(x, tuple) else (x,))]
    model = _copy_of(model)
    output = model(*inputs)
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], Tensor):
        output = output[0]  # PyTorch's convention: (output, state) or (output, weights)
    if not isinstance(output, Tensor):
        raise TypeError(f"draw_model: the model returned {type(output).__name__}, not a Tensor")
    tensors = {"x": inputs[0]} if len(inputs) == 1 else {f"x{sub(k + 1)}": t for k, t in enumerate(inputs)}
    loss = None
    if loss_fn is not None and y is not None:
        loss = loss_fn(output, y)
    elif backward:
        raise ValueError("draw_model: backward=True needs y and loss_fn to compute the loss C")
    root = loss if loss is not None else output
    params = named_tensors(model) if hasattr(model, "named_parameters") else {}
    explanation: Explanation | None = None
    if backward:
        explanation, names, grads = explain(root, params=params, tensors=tensors, inputs=inputs)
        blocks = explanation.blocks
    else:
        blocks = cut(index_graph(root), RECOGNISERS)
        names, grads = Names(blocks, root, params, tensors, inputs), None
    groups = group_blocks(blocks, names)
    modules = module_names(model)
    for g in groups:
        g.describe(names, modules)
    if expand:
        index = index_graph(root, unfused=not fused)
        op_grads = sweep(index) if backward else None
        clusters = [_Cluster(escape(g.title), [n for b in g.blocks for n in b.nodes]) for g in groups if g.numbered]
        naming = Naming(index, names, {id(t): n for n, t in params.items()}, {id(t) for t in params.values()})
        drawing = _drawing(
            root, params=params, tensors=None, grads=op_grads, clusters=clusters, max_nodes=None, index=index,
            naming=naming,
        )  # fmt: skip
        return drawing.build("backward pass: δ = ∂C/∂(node)" if backward else "forward graph", legend)
    data = names.data[1] if names.data is not None else None
    first = _input_shape(blocks, names, data)
    values = known_values(index_graph(root), {})
    return LayerDrawing(groups, names, grads, explanation, root, loss is not None, first, values).build(legend)


def _copy_of(model: Any) -> Any:
    """A private copy of a module to run, so drawing leaves the model as it was: a
    Dropout's generator does not advance, a BatchNorm's running statistics do not move.
    A plain callable (or a module that cannot be copied) runs as it is."""
    if not hasattr(model, "named_parameters"):
        return model
    try:
        return copy.deepcopy(model)
    except Exception:  # noqa: BLE001 - a module holding a lock or a file: run the original
        return model


def _input_shape(blocks: list[Any], names: Names, data: Any) -> str | None:
    """``128×56 float32``: the network's input a⁰ = x, where the graph knows it (layer 1
    reads a leaf or a constant; after a conv, a reshape, … its input is no longer x)."""
    if names.data is None or type(data) is Node:
        return None
    block = names.data[0]
    value = data if is_leaf(data) else (block.constants[0] if block.constants else None)
    return f"{shape_text(tuple(value.shape))} {value.dtype}" if value is not None else None


def render_model_graphs(
    model: Any,
    x: Any,
    y: Any,
    loss_fn: Callable[[Tensor, Any], Tensor],
    out_dir: str | Path,
    formats: tuple[str, ...] = ("svg", "png"),
    *,
    fused: bool = True,
) -> list[Path]:
    """Write the forward and backward pictures of ``model`` on one batch to ``out_dir``.

    Both views, forward and backward: ``model_forward`` and ``model_backward`` (one node
    per layer, the δ recursion on each) and ``ops_forward`` and ``ops_backward`` (the op
    graph, one cluster per layer; ``fused=False`` draws fused ops as their primitives),
    each as ``.dot`` and in every format of ``formats``. Returns the paths written. With
    no renderer installed the ``.dot`` files are still written and a warning says how
    to get one.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    graphs = {
        "model_forward": draw_model(model, x, y, loss_fn),
        "model_backward": draw_model(model, x, y, loss_fn, backward=True),
        "ops_forward": draw_model(model, x, y, loss_fn, expand=True, fused=fused),
        "ops_backward": draw_model(model, x, y, loss_fn, backward=True, expand=True, fused=fused),
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

