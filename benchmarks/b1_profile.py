"""Where the microseconds of B1 go: one recorded op of the chain, split into its parts.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 benchmarks/b1_profile.py [--baseline DIR]

B1's chain y ← tanh(y·c + d) is timed five ways, per op (three ops per cycle), and the
differences are the parts of an op's cost:

- *numpy forward*: the three kernels by hand;
- *dispatch*: the same ops on tensors under ``no_grad`` (an operator call reaching numpy
  and wrapping its result), less numpy;
- *record*: the ops with grad on (a Node, a Context, the output tensor), less ``no_grad``;
- *numpy backward*: the derivative kernels by hand (δ·c, δ·(1 − a²));
- *sweep*: ``backward()`` less the numpy backward kernels (the engine: order, δ sums,
  shape and dtype checks, leaf gradients) — measured as (forward + backward) − forward.

Medians of interleaved rounds of process CPU time. ``--baseline DIR`` also profiles the
autograd_nn of another checkout, for a before/after table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import frameworks  # noqa: E402
import harness  # noqa: E402
import specs  # noqa: E402

CYCLES = 333  # 999 ops per pass: long enough that the per-pass constant cost is negligible


def passes(ag: ModuleType, dtype: np.dtype) -> dict[str, Any]:
    x, c, d, seed = specs.chain_arrays(dtype)
    seed = np.ones_like(x)
    leaf = ag.tensor(x, requires_grad=True)

    def numpy_forward() -> Any:
        y = x
        for _ in range(CYCLES):
            y = np.tanh(y * c + d)
        return y

    def numpy_both() -> Any:
        outputs, y = [], x
        for _ in range(CYCLES):
            y = np.tanh(y * c + d)
            outputs.append(y)
        g = seed
        for a in reversed(outputs):
            g = g * (1 - a * a)
            g = g * c
        return g

    def tensors_forward() -> Any:
        y = leaf
        for _ in range(CYCLES):
            y = (y * c + d).tanh()
        return y

    def no_grad_forward() -> Any:
        with ag.no_grad():
            return tensors_forward()

    def both() -> Any:
        tensors_forward().backward(seed)
        leaf.grad = None

    return {
        "numpy forward": numpy_forward,
        "numpy forward + backward": numpy_both,
        "no_grad forward": no_grad_forward,
        "recorded forward": tensors_forward,
        "forward + backward": both,
    }


def profile(ag: ModuleType, dtype: np.dtype, rounds: int, sample: float) -> dict[str, float]:
    steps = passes(ag, dtype)
    counts = {name: harness.calibrate(step, sample) for name, step in steps.items()}
    seconds: dict[str, list[float]] = {name: [] for name in steps}
    for r in range(rounds):
        names = list(steps)
        names = names[r % len(names) :] + names[: r % len(names)]  # rotate the order
        for name in names:
            start = time.process_time()
            for _ in range(counts[name]):
                steps[name]()
            seconds[name].append((time.process_time() - start) / counts[name])
    us = {name: statistics.median(v) / (3 * CYCLES) * 1e6 for name, v in seconds.items()}
    return {
        "numpy forward": us["numpy forward"],
        "dispatch": us["no_grad forward"] - us["numpy forward"],
        "record": us["recorded forward"] - us["no_grad forward"],
        "numpy backward": us["numpy forward + backward"] - us["numpy forward"],
        "sweep": (us["forward + backward"] - us["recorded forward"])
        - (us["numpy forward + backward"] - us["numpy forward"]),
        "total": us["forward + backward"],
        "numpy total": us["numpy forward + backward"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to profile beside this one")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--sample-seconds", type=float, default=0.2)
    args = parser.parse_args(argv)
    limiter, info = harness.blas_report(1)  # keep the limiter alive
    kernels = ", ".join(f"{p.get('internal_api')} {p.get('version')} {p.get('architecture')}" for p in info)
    print(f"BLAS: {kernels} (one thread)")
    import autograd_nn

    libraries = {"autograd_nn": autograd_nn}
    if args.baseline:
        libraries["autograd_nn@base"] = frameworks.load_other_checkout(args.baseline)
    parts = ["numpy forward", "dispatch", "record", "numpy backward", "sweep", "total", "numpy total"]
    print("µs per recorded op | " + " | ".join(parts) + " | × numpy")
    for dtype in args.dtypes:
        for name, ag in libraries.items():
            row = profile(ag, np.dtype(dtype), args.rounds, args.sample_seconds)
            cells = " | ".join(f"{row[p]:.2f}" for p in parts)
            print(f"{name} {dtype} | {cells} | {row['total'] / row['numpy total']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
