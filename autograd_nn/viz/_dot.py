"""DOT text primitives and the node styles every picture shares.

This module owns how a node or an edge is spelled in DOT: the one style per kind of
thing (op, loss, parameter, leaf, saved or dropped constant, collapsed chain), the
graph-wide font and spacing attributes, and the small helpers that write attribute
lists, edge lines and the grey 9-point rows of an HTML label. Lines are written
directly (not through ``Digraph.node``, which quotes every attribute) so that a
10⁵-node chain becomes DOT text in well under a second.
"""

from __future__ import annotations

import numpy as np

from ._format import escape, values_text
from ._glyphs import FONT

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
# Edges where the engine summed a broadcast gradient back to the input's shape.
REDUCE_COLOUR = "#d62728"
GRAPH_ATTRS = (
    f'\tgraph [rankdir=TB fontname="{FONT}" fontsize=12 nodesep=0.25 ranksep=0.3]\n'
    f'\tnode [fontname="{FONT}" fontsize=11 margin="0.08,0.04"]\n'
    f'\tedge [fontname="{FONT}" fontsize=10 arrowsize=0.7]\n'
)


def attrs_text(attrs: dict[str, str]) -> str:
    """``{"shape": "box"}`` → ``shape="box"``: a DOT attribute list, values quoted."""
    return " ".join(f'{k}="{v}"' for k, v in attrs.items())


def edge_line(tail: str, head: str, attrs: dict[str, str]) -> str:
    """One DOT edge statement, with its attribute list when there is one."""
    return f"\t{tail} -> {head} [{attrs_text(attrs)}]\n" if attrs else f"\t{tail} -> {head}\n"


def value_rows(value: np.ndarray) -> list[str]:
    """An array's values as label rows: ``= [1, 2]``, or a big one's ``RMS=…`` then its range
    (two short rows keep the node narrow)."""
    text = values_text(value)
    if not text.startswith("RMS="):
        return [small("= " + text)]
    magnitude, _, spread = text.partition(" ")
    return [small(magnitude), small(spread)]


def small(text: str) -> str:
    """``text`` escaped for an HTML label, in the 9-point font of secondary rows."""
    return f'<font point-size="9">{escape(text)}</font>'
