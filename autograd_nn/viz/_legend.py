"""The legend of the op-level pictures: one compact table at the bottom of the picture.

It says what each node shape means and, in the backward view, reads a fill colour back
as the RMS of δ (the one magnitude every label, edge and colour uses), with the colours
for δ = 0, NaN/inf and unknown δ, and what red edges and the arrows mean. One table,
placed on the last rank, so it adds height, not a column of empty width.
"""

from __future__ import annotations

from ._dot import REDUCE_COLOUR
from ._format import NONFINITE_COLOUR, UNKNOWN_COLOUR, ZERO_COLOUR, MagnitudeScale, number
from ._walk import Gradients

SHAPES = (
    "double border: the root C",
    "rounded box: an op (its output's shape)",
    "thick box: a parameter",
    "ellipse: another leaf that requires grad",
    "folded note: a constant the graph kept",
    "grey text: a constant it did not keep",
)


def _row(text: str, size: int = 9, colour: str | None = None) -> str:
    font = f'<font point-size="{size}"' + (f' color="{colour}"' if colour else "") + f">{text}</font>"
    return f'<tr><td align="left" colspan="8">{font}</td></tr>'


def legend_lines(grads: Gradients | None, scale: MagnitudeScale | None, chains: bool = False) -> list[str]:
    """The DOT lines of the legend; ``grads`` is None for the forward view."""
    shapes = list(SHAPES) + (["3-D box: repeated ops, collapsed"] if chains else [])
    rows = [_row("legend", 10)]
    half = (len(shapes) + 1) // 2
    rows.append(_row(" · ".join(shapes[:half])))
    rows.append(_row(" · ".join(shapes[half:])))
    if grads is not None:
        rows.append(f'<tr><td align="left" colspan="8">{colour_strip(grads, scale)}</td></tr>')
        rows.append(_row("red edge: the engine summed a broadcast δ back to the input's shape", 9, REDUCE_COLOUR))
        rows.append(_row("arrows: δ flows from C to the leaves; δ = ∂C/∂(node), RMS = √mean(δ²)"))
    table = f'<table border="0" cellborder="0" cellspacing="0" cellpadding="1">{"".join(rows)}</table>'
    return [
        "\t{ rank=sink\n",
        f'\t\tlegend [shape=box style="rounded" color="#bbbbbb" margin="0.1,0.05" label=<{table}>]\n',
        "\t}\n",
    ]


def colour_strip(grads: Gradients, scale: MagnitudeScale | None) -> str:
    """The fill colours in one line: the scale's ticks (smallest RMS of δ first), then the
    special colours. (A nested table in a table cell, so it stays one row.)"""
    cells = ['<td align="left"><font point-size="9">fill = RMS of δ, log scale:</font></td>']
    if scale is not None and grads.state == "computed":
        for magnitude, colour in scale.ticks():
            cells.append(f'<td bgcolor="{colour}" border="1"><font point-size="9"> {number(magnitude)} </font></td>')
    for colour, meaning in ((ZERO_COLOUR, "δ = 0"), (NONFINITE_COLOUR, "NaN/inf"), (UNKNOWN_COLOUR, "unknown")):
        cells.append(f'<td bgcolor="{colour}" border="1"><font point-size="9"> {meaning} </font></td>')
    return f'<table border="0" cellspacing="2" cellpadding="1"><tr>{"".join(cells)}</tr></table>'
