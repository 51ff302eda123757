"""The legend of the op-level pictures: one sample node per kind, and the colour table.

This module owns what the legend says: a description of every node kind (in the
shapes of :data:`~._dot.STYLES`) and, in the backward view, the table that reads a
fill colour back as an RMS of δ (log scale), with the colours for δ = 0, NaN/inf and
unknown δ and the meaning of red edges and of the arrows' direction.
"""

from __future__ import annotations

from ._dot import REDUCE_COLOUR, STYLES, attrs_text
from ._format import NONFINITE_COLOUR, UNKNOWN_COLOUR, ZERO_COLOUR, MagnitudeScale, number
from ._walk import Gradients

KIND_DESCRIPTIONS = {
    "loss": "the root (loss C)",
    "op": "operation (its output's shape)",
    "parameter": "parameter (named leaf)",
    "leaf": "leaf that requires grad",
    "saved": "constant input saved for backward",
    "constant": "constant input (not kept)",
    "chain": "repeated ops, collapsed",
}


def legend_lines(grads: Gradients | None, scale: MagnitudeScale | None) -> list[str]:
    """The DOT lines of the legend cluster; ``grads`` is None for the forward view."""
    kinds = ["loss", "op", "parameter", "leaf", "saved", "constant"]
    lines = ['\tsubgraph cluster_legend {\n\t\tlabel="legend" style="rounded" color="#bbbbbb" fontsize=10\n']
    for kind in kinds:
        style = dict(STYLES[kind])
        if grads is not None and kind not in ("saved", "constant"):
            style["fillcolor"] = UNKNOWN_COLOUR
        lines.append(f'\t\tlegend_{kind} [label="{KIND_DESCRIPTIONS[kind]}" fontsize=9 {attrs_text(style)}]\n')
    order = [f"legend_{k}" for k in kinds]
    if grads is not None:
        lines.append(f"\t\tlegend_colours [shape=plaintext label=<{colour_table(grads, scale)}>]\n")
        order.append("legend_colours")
    for a, b in zip(order, order[1:]):
        lines.append(f"\t\t{a} -> {b} [style=invis]\n")
    lines.append("\t}\n")
    return lines


def colour_table(grads: Gradients, scale: MagnitudeScale | None) -> str:
    """An HTML table: the scale's ticks (only for freshly computed δ), then the special colours."""
    cells = ['<tr><td colspan="2"><font point-size="9"><b>fill = RMS of δ (log scale)</b></font></td></tr>']
    if scale is not None and grads.state == "computed":
        for magnitude, colour in reversed(scale.ticks()):
            cells.append(f'<tr><td bgcolor="{colour}" width="18"> </td><td align="left">{number(magnitude)}</td></tr>')
    cells.append(f'<tr><td bgcolor="{ZERO_COLOUR}"> </td><td align="left">δ = 0</td></tr>')
    cells.append(f'<tr><td bgcolor="{NONFINITE_COLOUR}"> </td><td align="left">NaN / inf</td></tr>')
    cells.append(f'<tr><td bgcolor="{UNKNOWN_COLOUR}"> </td><td align="left">δ unknown</td></tr>')
    cells.append(
        f'<tr><td colspan="2"><font color="{REDUCE_COLOUR}" point-size="9">red edge: Σ broadcast δ '
        "back to the input's shape</font></td></tr>"
    )
    cells.append('<tr><td colspan="2"><font point-size="9">arrows: δ flows loss → leaves</font></td></tr>')
    return f'<table border="0" cellborder="1" cellspacing="0" cellpadding="2">{"".join(cells)}</table>'
