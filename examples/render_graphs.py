"""Regenerate docs/images: the bike network's forward and backward graphs.

    python examples/render_graphs.py [out_dir]

Trains the post's network (56 → 200 sigmoid → 1, MSE) for one epoch on the built-in
synthetic data, then draws one minibatch of 128 through it. Needs a Graphviz renderer
(``dot``, or ``pip install "autograd-nn[render]"``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import autograd_nn as ag
from autograd_nn import viz
from autograd_nn.data import synthetic_bike_sharing
from autograd_nn.training import TrainConfig, build_network, train


def main(out_dir: str | Path = "docs/images") -> list[Path]:
    data = synthetic_bike_sharing(seed=0)
    config = TrainConfig(hidden=200, epochs=1, dtype="float64")
    model = build_network(data.n_features, config.hidden, dtype=config.dtype)
    train(model, data, config)
    x, y = ag.tensor(data.train.X[:128]), ag.tensor(data.train.y[:128])
    out = Path(out_dir)
    written = []
    for name, backward in [("bike_forward", False), ("bike_backward", True)]:
        graph = viz.draw_model(model, x, y, ag.functional.mse_loss, backward=backward, expand=True)
        written.append(graph.save(out / f"{name}.png"))
    return written


if __name__ == "__main__":
    for path in main(*sys.argv[1:]):
        print(path)
