"""Regenerate docs/images: the pictures the README and the docs show, with the CLI itself.

    python examples/render_graphs.py [out_dir]

Runs ``autograd-nn graph --expand --out docs/images``: the post's network (56 → 25 sigmoid
→ 1, MSE) freshly initialised (seed 0), one minibatch of 128 rows of the built-in synthetic
data, drawn as the model view and as the unfused op graph, forward and backward (DOT, SVG,
PNG). Needs a Graphviz renderer (``dot``, or ``pip install "autograd-nn[render]"``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from autograd_nn.cli import main as autograd_nn_cli

COMMAND = ["graph", "--expand", "--out"]


def main(out_dir: str | Path = "docs/images") -> list[Path]:
    """Run the CLI's ``graph --expand`` into ``out_dir``; returns the PNGs it wrote."""
    status = autograd_nn_cli([*COMMAND, str(out_dir)])
    if status != 0:
        raise SystemExit(status)
    return sorted(Path(out_dir).glob("*.png"))


if __name__ == "__main__":
    for path in main(*sys.argv[1:]):
        print(path)
