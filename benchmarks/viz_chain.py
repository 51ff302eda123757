"""How long viz takes to turn a chain of 10⁵ tanh ops into DOT text (docs/visualising.md).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 benchmarks/viz_chain.py

Times, as the median of 3 runs of wall-clock time (the chain is built once):
``draw_forward`` and ``draw_backward`` with every node drawn (``max_nodes=None``), and
with the default collapsing (chains above 400 ops become one node). The backward
drawings include the engine's read-only reverse sweep. No image is rendered.
"""

from __future__ import annotations

import argparse
import statistics
import time

import autograd_nn as ag
from autograd_nn import viz


def median_seconds(draw, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        draw()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=100_000, help="length of the tanh chain")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    t = ag.tensor(0.5, requires_grad=True)
    for _ in range(args.ops):
        t = ag.tanh(t)
    cases = {
        "forward, every node": lambda: viz.draw_forward(t, max_nodes=None).source,
        "backward, every node": lambda: viz.draw_backward(t, max_nodes=None).source,
        "forward, collapsed (default)": lambda: viz.draw_forward(t).source,
        "backward, collapsed (default)": lambda: viz.draw_backward(t).source,
    }
    print(f"chain of {args.ops} tanh ops, median of {args.repeats} (wall-clock seconds)")
    for name, draw in cases.items():
        print(f"  {name:<30} {median_seconds(draw, args.repeats):6.2f} s")


if __name__ == "__main__":
    main()
