"""Pictures of the computation graph, forward and backward, and the δ recursion as text.

>>> import autograd_nn as ag
>>> from autograd_nn import viz
>>> W = ag.tensor([[0.5, -1.0]], requires_grad=True)
>>> x = ag.tensor([[1.0], [2.0]])
>>> loss = ag.sigmoid(W @ x).sum()
>>> g = viz.draw_backward(loss, params={"W": W})   # a graphviz.Digraph; g.source is DOT
>>> W.grad is None                                   # drawing never runs backward for you
True
"""

from __future__ import annotations

from ._draw import draw_backward, draw_forward
from ._explain import Explanation, Step, explain_backward
from ._model import draw_model, render_model_graphs
from ._render import Graph, Renderer, RendererNotFoundError, find_renderer

__all__ = [
    "Explanation", "Graph", "Renderer", "RendererNotFoundError", "Step", "draw_backward", "draw_forward",
    "draw_model", "explain_backward", "find_renderer", "render_model_graphs",
]  # fmt: skip
