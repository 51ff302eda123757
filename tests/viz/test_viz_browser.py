"""The pictures as a notebook shows them: each view's SVG, laid out by each renderer found,
opened in headless Chromium, where every line of text must lie inside the box drawn
around it (the browser draws Arial from fontconfig, as Jupyter does: text laid out with
one font's widths and drawn with a wider one would spill over its node's border).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_nn.functional as F
from autograd_nn import nn, viz
from autograd_nn.viz import _render

sys.path.insert(0, str(Path(__file__).parent))
from test_explain_families import FAMILIES  # noqa: E402
from viz_fakes import bike_network  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# For every node: its outline's box and each text's box, as the browser laid them out.
MEASURE = """
<script>
const out = [];
document.querySelectorAll('svg').forEach((svg, k) => {
  for (const node of svg.querySelectorAll('g.node')) {
    const shape = node.querySelector('polygon, path, ellipse');
    if (!shape) continue;
    const box = shape.getBBox();
    for (const t of node.querySelectorAll('text')) {
      const b = t.getBBox();
      out.push([k, node.querySelector('title').textContent, t.textContent, b.x - box.x,
                box.x + box.width - (b.x + b.width), b.width]);
    }
  }
});
document.getElementById('result').textContent = JSON.stringify(out);
</script>
"""


def views() -> dict[str, viz.Graph]:
    model, x, y = bike_network(hidden=6)
    nn.init.manual_seed(0)
    real = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Dropout(0.5), nn.Linear(5, 1))
    xr, yr = np.random.default_rng(0).normal(size=(3, 4)), np.zeros((3, 1))
    found = {
        "model-forward": viz.draw_model(model, x, y, F.mse_loss),
        "model-backward": viz.draw_model(model, x, y, F.mse_loss, backward=True),
        "ops-backward-unfused": viz.draw_model(real, xr, yr, F.mse_loss, backward=True, expand=True, fused=False),
    }
    for family in ("attention-dropout", "user-functions", "residual"):
        loss, _ = FAMILIES[family]()
        found[f"{family}-backward"] = viz.draw_backward(loss)
    return found


def programs() -> list[str]:
    return [name for name, found in (("dot", shutil.which("dot")), ("graphviz-pure", _render._graphviz_pure())) if found]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize("renderer", ["dot", "graphviz-pure"])
def test_every_label_fits_its_box_in_a_browser(renderer, tmp_path):
    path = shutil.which("dot") if renderer == "dot" else _render._graphviz_pure()
    if path is None:
        pytest.skip(f"{renderer} is not installed")
    program = viz.Renderer(renderer, path, ("svg",))
    graphs = views()
    svgs = []
    for graph in graphs.values():
        svg = _render.render_source(graph.source, "svg", program).decode("utf-8")
        svgs.append(svg[svg.index("<svg") :])  # inline, as a notebook embeds it
    page = tmp_path / "views.html"
    page.write_text(f"<html><body>{''.join(svgs)}<pre id='result'></pre>{MEASURE}</body></html>", encoding="utf-8")
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    found = re.search(r"<pre id=\"result\">(.*?)</pre>", result.stdout, re.S)
    assert result.returncode == 0 and found, result.stderr[-3000:]
    measured = json.loads(html.unescape(found.group(1)))
    names = list(graphs)
    assert {names[k] for k, *_ in measured} == set(names)  # every view was laid out and measured
    assert all(width > 0 for *_, width in measured)  # the text was drawn
    spilled = [(names[k], node, text, round(min(left, right), 1)) for k, node, text, left, right, _ in measured
               if min(left, right) < -1]  # fmt: skip
    assert spilled == [], spilled
