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
autograd_nn of another checkout, for a before/after table. A pass is 333 cycles (999 ops)
unless ``--cycles`` says otherwise: ``--cycles 33`` is B1's own step (99 ops), short enough
that CPython's young collections, which a 999-op pass sets off, do not run within it.

``--bare`` also times the least an op of this design can cost in CPython (``bare_passes``):
the three objects the recorder makes per op (its Context, Node and output Tensor, with
their fields), the ops' own forward and backward, and a sweep that only calls them: no
grad mode, no checks, no ordering, nothing else. With and without the cyclic collector.
"""

from __future__ import annotations

import argparse
import gc
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


def passes(ag: ModuleType, dtype: np.dtype, cycles: int = CYCLES) -> dict[str, Any]:
    x, c, d, seed = specs.chain_arrays(dtype)
    seed = np.ones_like(x)
    leaf = ag.tensor(x, requires_grad=True)

    def numpy_forward() -> Any:
        y = x
        for _ in range(cycles):
            y = np.tanh(y * c + d)
        return y

    def numpy_both() -> Any:
        outputs, y = [], x
        for _ in range(cycles):
            y = np.tanh(y * c + d)
            outputs.append(y)
        g = seed
        for a in reversed(outputs):
            g = g * (1 - a * a)
            g = g * c
        return g

    def tensors_forward() -> Any:
        y = leaf
        for _ in range(cycles):
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


def bare_passes(ag: ModuleType, dtype: np.dtype, cycles: int = CYCLES) -> dict[str, Any]:
    """B1 on the library's own objects and derivatives, recorded and swept with nothing else."""
    from autograd_nn.graph import Context, Node

    x, c, d, seed = specs.chain_arrays(dtype)
    Mul, Add, Tanh, Tensor, new = ag.ops.Mul, ag.ops.Add, ag.ops.Tanh, ag.Tensor, object.__new__
    leaf = ag.tensor(x, requires_grad=True)
    needs, no_params = (True, False), {}

    def record(fn: Any, y: Any, constant: Any = None) -> Any:  # one Python call per op, as an operator is
        ctx = Context()  # made as the recorder makes them
        ctx.needs_input_grad, ctx.saved_tensors = needs, ()
        edge = y.grad_fn or y
        if constant is None:
            data, parents = fn.forward(ctx, y.data), (edge,)
        else:
            data, parents = fn.forward(ctx, y.data, constant), (edge, None)
        node = Node()
        node.fn, node.ctx, node.parents, node.params = fn, ctx, parents, no_params
        node.seq, node.shape, node.dtype, node.ids = 0, data.shape, data.dtype, ()
        out = new(Tensor)
        out.data, out._grad, out.requires_grad, out.grad_fn = data, None, True, node
        return out

    def forward() -> Any:
        y = leaf
        for _ in range(cycles):
            y = record(Tanh, record(Add, record(Mul, y, c), d))
        return y

    def both() -> Any:
        node, grad = forward().grad_fn, seed
        while type(node) is Node:  # a chain: each node's first input is the one that needs δ
            grads = node.fn.backward(node.ctx, grad)
            node.ctx = None
            node, grad = node.parents[0], grads[0] if type(grads) is tuple else grads
        return grad

    return {"bare forward": forward, "bare forward + backward": both}


def timed(steps: dict[str, Any], rounds: int, sample: float, cycles: int) -> dict[str, float]:
    """µs per op of each pass: medians of ``rounds`` interleaved rounds (the order rotates)."""
    counts = {name: harness.calibrate(step, sample) for name, step in steps.items()}
    seconds: dict[str, list[float]] = {name: [] for name in steps}
    for r in range(rounds):
        names = list(steps)
        names = names[r % len(names) :] + names[: r % len(names)]
        for name in names:
            start = time.process_time()
            for _ in range(counts[name]):
                steps[name]()
            seconds[name].append((time.process_time() - start) / counts[name])
    return {name: statistics.median(v) / (3 * cycles) * 1e6 for name, v in seconds.items()}


def collections_per_pass(step: Any, passes: int = 1000) -> float:
    """How many cyclic collections (of any generation) CPython runs per call of ``step``."""
    started = 0

    def note(phase: str, info: dict[str, Any]) -> None:
        nonlocal started
        started += phase == "start"

    step()  # warm
    gc.callbacks.append(note)
    try:
        for _ in range(passes):
            step()
    finally:
        gc.callbacks.remove(note)
    return started / passes


def profile(ag: ModuleType, dtype: np.dtype, rounds: int, sample: float, cycles: int) -> dict[str, float]:
    us = timed(passes(ag, dtype, cycles), rounds, sample, cycles)
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


def bare_rows(ag: ModuleType, dtype: np.dtype, rounds: int, sample: float, cycles: int) -> list[str]:
    """The bare design beside numpy, with the cyclic collector on (as always) and off."""
    steps = {"numpy": passes(ag, dtype, cycles)["numpy forward + backward"], **bare_passes(ag, dtype, cycles)}
    rows = []
    for collector in ("on", "off"):
        if collector == "off":
            gc.disable()
        try:
            us = timed(steps, rounds, sample, cycles)
        finally:
            gc.enable()
        total = us["bare forward + backward"]
        rows.append(
            f"bare design {dtype}, cyclic GC {collector} | forward {us['bare forward']:.2f} | "
            f"total {total:.2f} | numpy total {us['numpy']:.2f} | {total / us['numpy']:.2f}"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to profile beside this one")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--sample-seconds", type=float, default=0.2)
    parser.add_argument("--bare", action="store_true", help="also time the bare design (bare_passes)")
    parser.add_argument(
        "--cycles",
        type=int,
        default=CYCLES,
        help=f"cycles (3 ops each) per pass; default {CYCLES}, B1's own step is {specs.CHAIN_CYCLES}",
    )
    args = parser.parse_args(argv)
    limiter, info = harness.blas_report(1)  # keep the limiter alive
    kernels = ", ".join(f"{p.get('internal_api')} {p.get('version')} {p.get('architecture')}" for p in info)
    print(f"BLAS: {kernels} (one thread)")
    import autograd_nn

    libraries = {"autograd_nn": autograd_nn}
    if args.baseline:
        libraries["autograd_nn@base"] = frameworks.load_other_checkout(args.baseline)
    parts = ["numpy forward", "dispatch", "record", "numpy backward", "sweep", "total", "numpy total"]
    print(f"{3 * args.cycles} recorded ops per pass")
    print("µs per recorded op | " + " | ".join(parts) + " | × numpy")
    for dtype in args.dtypes:
        for name, ag in libraries.items():
            row = profile(ag, np.dtype(dtype), args.rounds, args.sample_seconds, args.cycles)
            cells = " | ".join(f"{row[p]:.2f}" for p in parts)
            print(f"{name} {dtype} | {cells} | {row['total'] / row['numpy total']:.2f}")
        if args.bare:
            print("\n".join(bare_rows(autograd_nn, np.dtype(dtype), args.rounds, args.sample_seconds, args.cycles)))
    steps = passes(autograd_nn, np.dtype(args.dtypes[0]), args.cycles)
    bare = bare_passes(autograd_nn, np.dtype(args.dtypes[0]), args.cycles)
    print(
        f"cyclic collections per pass ({args.dtypes[0]}, 1000 passes): autograd_nn forward + backward "
        f"{collections_per_pass(steps['forward + backward']):.2f}, bare design "
        f"{collections_per_pass(bare['bare forward + backward']):.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
