"""Regenerate docs/images: the bike network's forward and backward graphs.

    python examples/render_graphs.py [out_dir]

Uses ``autograd_nn.nn`` when it exists, else an equivalent network from core Tensors
(56 → 200 sigmoid → 1, MSE) on one random minibatch of 128. Needs a Graphviz renderer
(``dot``, or ``pip install "autograd-nn[render]"``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import autograd_nn as ag
from autograd_nn import viz


def bike_network(rng: np.random.Generator):
    try:
        from autograd_nn import nn

        return nn.Sequential(nn.Linear(56, 200), nn.Sigmoid(), nn.Linear(200, 1))
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from viz_fakes import Linear, Sequential, Sigmoid

        return Sequential(Linear(56, 200, rng), Sigmoid(), Linear(200, 1, rng))


def main(out_dir: str = "docs/images") -> list[Path]:
    rng = np.random.default_rng(0)
    model = bike_network(rng)
    x, y = rng.normal(size=(128, 56)), rng.normal(size=(128, 1))
    out = Path(out_dir)
    written = []
    for name, backward in [("bike_forward", False), ("bike_backward", True)]:
        graph = viz.draw_model(model, x, y, ag.functional.mse_loss, backward=backward, expand=True)
        written.append(graph.save(out / f"{name}.png"))
    return written


if __name__ == "__main__":
    for path in main(*sys.argv[1:]):
        print(path)
