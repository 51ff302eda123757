"""Benchmark autograd_nn against hand-written numpy and PyTorch eager: one command, one table.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 benchmarks/run.py

B1 per-op overhead (a chain of (4,)-tensor ops), B2 the post's 56-200-1 sigmoid network,
B3 a 784-512-512-10 ReLU classifier, B4 a 10⁶-op chain, B5 peak memory of a B3 step at
batch 4096, B6 a LeNet-sized CNN step (cnn.py), B7 an LSTM step, B8 a transformer-encoder step
(sequence.py); float32 and float64; one BLAS thread. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmark this checkout, not an installed copy

import checks  # noqa: E402
import cnn  # noqa: E402
import floors  # noqa: E402
import frameworks  # noqa: E402
import harness  # noqa: E402
import numpy as np  # noqa: E402
import report  # noqa: E402
import sequence  # noqa: E402
import specs  # noqa: E402

WORKLOADS = ("B1", "B2", "B3", "B4", "B5", *cnn.WORKLOADS, *sequence.WORKLOADS)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, default=list(WORKLOADS), help="workloads to run")
    parser.add_argument("--dtypes", nargs="+", choices=("float32", "float64"), default=["float32", "float64"])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds (median reported)")
    parser.add_argument("--sample-seconds", type=float, default=0.15, help="length of one timed sample")
    parser.add_argument(
        "--clock", choices=("cpu", "wall"), default="cpu", help="process CPU time (robust to a busy machine) or wall"
    )
    parser.add_argument("--b4-sizes", nargs="+", type=int, default=[10_000, 100_000, 1_000_000], help="B4 chain lengths")
    parser.add_argument("--b4-rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="BLAS / PyTorch threads")
    parser.add_argument(
        "--api", choices=("core", "nn"), default="core", help="how the MLP step is written (frameworks.py)"
    )
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch reference")
    parser.add_argument(
        "--torch-compile",
        action="store_true",
        help="also time PyTorch's torch.compile of the step (B2, B3; compiled once per dtype, untimed)",
    )
    parser.add_argument(
        "--baseline", type=Path,
        help="another checkout whose autograd_nn also runs B1–B3 and B5, as 'autograd_nn@base' (and B1–B3 compiled)"
    )
    parser.add_argument("--json", type=Path, default=HERE / "results.json", help="where to write all figures")
    parser.add_argument("--quick", action="store_true", help="3 rounds, short samples, small B4: a smoke run")
    parser.add_argument("--rss-probe", nargs=4, metavar=("WORKLOAD", "IMPL", "DTYPE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.b4_rounds, args.sample_seconds = 3, 3, 0.05
        args.b4_sizes = [10_000, 100_000]
    return args


def set_threads(threads: int, use_torch: bool) -> tuple[Any, list[dict[str, Any]]]:
    torch = frameworks.torch_module() if use_torch else None
    if torch is not None:
        torch.set_num_threads(threads)
    return harness.blas_report(threads)


# ------------------------------------------------------------------------- setup
BASELINE: Any = None  # the other checkout's autograd_nn, with --baseline


def mlp_steps(spec: specs.MLP, dtype: str, args: argparse.Namespace, impls: list[str]) -> dict[str, Any]:
    """Fresh step functions for ``impls``, all from the same arrays."""
    params, x, y = specs.mlp_arrays(spec, np.dtype(dtype))
    steps = {}
    for impl in impls:
        copy = [(W.copy(), b.copy()) for W, b in params]
        if impl == "numpy":
            steps[impl] = floors.mlp_step(spec, copy, x, y)
        elif impl == "torch":
            steps[impl] = frameworks.torch_mlp_step(spec, copy, x, y, args.api)
        elif impl == "torch compiled":
            steps[impl] = frameworks.torch_mlp_step(spec, copy, x, y, args.api, compiled=True)
        elif impl in ("autograd_nn compiled", "autograd_nn@base compiled"):
            module = BASELINE if impl.startswith("autograd_nn@base") else None
            steps[impl] = frameworks.autograd_mlp_step(spec, copy, x, y, args.api, module, compiled=True)
        else:
            module = BASELINE if impl == "autograd_nn@base" else None
            steps[impl] = frameworks.autograd_mlp_step(spec, copy, x, y, args.api, module)
    return steps


def _impls(torch_ok: bool, torch_compile: bool = False) -> list[str]:
    return (
        ["numpy", "autograd_nn", "autograd_nn compiled"]
        + (["autograd_nn@base", "autograd_nn@base compiled"] if BASELINE else [])
        + (["torch"] if torch_ok else [])
        + (["torch compiled"] if torch_ok and torch_compile else [])
    )


def chain_steps(dtype: str, torch_ok: bool) -> dict[str, Any]:
    x, c, d, seed = specs.chain_arrays(np.dtype(dtype))
    steps = {
        "numpy": floors.chain_step(x, c, d, seed),
        "numpy fwd": floors.chain_step(x, c, d, seed, backward=False),
        "autograd_nn": frameworks.autograd_chain(x, c, d, seed),
        "autograd_nn anomaly on": frameworks.autograd_chain(x, c, d, seed, anomaly=True),
        "autograd_nn compiled": frameworks.autograd_chain(x, c, d, seed, compiled=True),
    }
    if BASELINE:
        steps["autograd_nn@base"] = frameworks.autograd_chain(x, c, d, seed, ag=BASELINE)
        steps["autograd_nn@base compiled"] = frameworks.autograd_chain(x, c, d, seed, ag=BASELINE, compiled=True)
    if torch_ok:
        steps["torch"] = frameworks.torch_chain(x, c, d, seed)
    return steps


# ------------------------------------------------------------------------ B1–B3
def run_b1(dtype: str, args: argparse.Namespace, torch_ok: bool) -> dict[str, Any]:
    steps = chain_steps(dtype, torch_ok)
    check = checks.check_chain(steps)
    ops = 3 * specs.CHAIN_CYCLES
    timings = harness.interleaved(steps, args.rounds, args.sample_seconds, clock=args.clock)
    rows = {name: _timing_row(t, per=ops) for name, t in timings.items()}
    return {"ops_per_step": ops, "max_abs_diff_dx": max(check["vs_floor"].values()), "check": check, "rows": rows}


def run_mlp(spec: specs.MLP, dtype: str, args: argparse.Namespace, torch_ok: bool) -> dict[str, Any]:
    torch_compile = args.torch_compile and torch_ok
    steps = mlp_steps(spec, dtype, args, _impls(torch_ok, torch_compile))
    compiled_torch = checks.compile_torch(steps) if torch_compile else None
    check = checks.check_mlp(spec, dtype, steps)
    if spec is specs.B3:
        steps["numpy GEMMs only"] = floors.gemm_step(spec, np.dtype(dtype))
    if spec.sizes[-1] == 1:  # the floor with δ¹ = δ² W² as autograd_nn computes it (ops.linalg.product)
        params, x, y = specs.mlp_arrays(spec, np.dtype(dtype))
        steps["numpy, δW as a * b"] = floors.mlp_step(spec, params, x, y, outer=True)
    timings = harness.interleaved(steps, args.rounds, args.sample_seconds, clock=args.clock)
    rows = {name: _timing_row(t) for name, t in timings.items()}
    for row in rows.values():
        row["gflops"] = spec.flops() / row["seconds"] / 1e9
    return {
        "flops_per_step": spec.flops(),
        "max_rel_diff_params": max(check["vs_floor"].values()),
        "check": check,
        "torch_compile": compiled_torch,
        "rows": rows,
    }


def _timing_row(t: harness.Timing, per: int = 1) -> dict[str, Any]:
    return {
        "seconds": t.median / per,
        "faults": t.median_faults,
        "spread": t.spread,
        "samples": [s / per for s in t.seconds],
    }


# ----------------------------------------------------------------------------- B4
UNPACED = report.UNPACED


def chain_run(impl: str, dtype: str, n_ops: int, now: Any = time.perf_counter) -> dict[str, float]:
    """Build a chain of ``n_ops`` recorded ops, backpropagate, drop it; seconds for each."""
    x, c, d, seed = specs.chain_arrays(np.dtype(dtype))
    cycles = n_ops // 3
    if impl == "torch":
        import torch

        leaf = torch.tensor(x, requires_grad=True)
        c, d, seed = torch.from_numpy(c), torch.from_numpy(d), torch.from_numpy(seed)
        tanh = torch.tanh
    else:
        import autograd_nn as ag

        leaf = ag.tensor(x, requires_grad=True)
        tanh = ag.tanh
        if impl == UNPACED:
            ag.collector.disable()  # CPython's own collector schedule, for the same-run comparison
    try:
        start = now()
        y = leaf
        for _ in range(cycles):
            y = tanh(y * c + d)
        built = now()
        y.backward(seed)
        swept = now()
        del y
        freed = now()
    finally:
        if impl == UNPACED:
            ag.collector.enable()
    return {"build": built - start, "backward": swept - built, "free": freed - swept}



def run_b4(dtype: str, args: argparse.Namespace, torch_ok: bool) -> dict[str, Any]:
    impls = ["autograd_nn", UNPACED] + (["torch"] if torch_ok else [])
    samples: dict[str, dict[int, list[dict[str, float]]]] = {i: {n: [] for n in args.b4_sizes} for i in impls}
    for r in range(args.b4_rounds):
        for n in args.b4_sizes:
            for impl in impls[r % len(impls) :] + impls[: r % len(impls)]:
                samples[impl][n].append(chain_run(impl, dtype, n, harness.CLOCKS[args.clock]))
    result: dict[str, Any] = {}
    for impl in impls:
        per_size = {}
        for n in args.b4_sizes:
            ops = 3 * (n // 3)
            runs = samples[impl][n]
            per_size[n] = {
                key: float(np.median([run[key] for run in runs])) / ops * 1e6 for key in ("build", "backward", "free")
            }
            per_size[n]["total_seconds"] = float(np.median([sum(run.values()) for run in runs]))
        result[impl] = per_size
    largest = max(args.b4_sizes)
    result["autograd_nn_traced_peak"] = {n: _traced_chain_peak(dtype, n) for n in args.b4_sizes}
    result["rss_peak"] = {impl: rss_in_subprocess("B4", impl, dtype, largest) for impl in impls if impl != UNPACED}
    return result


def _traced_chain_peak(dtype: str, n_ops: int) -> int:
    """Peak traced bytes (Python objects and numpy buffers) while a chain is built and swept."""
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        chain_run("autograd_nn", dtype, n_ops)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base


# ----------------------------------------------------------------------------- B5
def run_b5(dtype: str, args: argparse.Namespace, torch_ok: bool) -> dict[str, Any]:
    spec = specs.B5
    traced = {}
    for impl in ["numpy", "autograd_nn", "autograd_nn compiled"] + (["autograd_nn@base"] if BASELINE else []):
        made: dict[str, Any] = {}

        def setup(impl: str = impl, made: dict[str, Any] = made) -> Any:
            made["step"] = step = mlp_steps(spec, dtype, args, [impl])[impl]
            made["calls"] = checks.until_replayed(step) if impl == "autograd_nn compiled" else 0
            return step

        peak, base = harness.traced_peak(setup)  # one more untraced call, then the measured one
        traced[impl] = {"step_peak": peak, "live_at_start": base, "warmup_calls": made["calls"] + 1}
        if impl == "autograd_nn compiled":
            traced[impl].update(checks.replay_state(made["step"]))  # replays: the measured call was one
    rss = {impl: rss_in_subprocess("B5", impl, dtype, spec.batch) for impl in _impls(torch_ok) if "@" not in impl}
    return {"traced": traced, "rss_peak": rss}


def rss_in_subprocess(workload: str, impl: str, dtype: str, size: int) -> int | None:
    command = [sys.executable, str(HERE / "run.py"), "--rss-probe", workload, impl, dtype, str(size)]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    if done.returncode != 0:
        print(f"  rss probe {workload}/{impl}/{dtype} failed:\n{done.stderr}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])["bytes"]


def rss_probe(args: argparse.Namespace) -> None:
    workload, impl, dtype, size = args.rss_probe
    set_threads(args.threads, impl == "torch")
    if workload == "B5":
        tiny = dataclasses.replace(specs.B5, batch=16)
        small = mlp_steps(tiny, dtype, args, [impl])[impl]
        step = mlp_steps(specs.B5, dtype, args, [impl])[impl]

        def warmup() -> None:
            """A 16-row step absorbs one-time set-up; a compiled step then also makes its
            recordings and a replay at full size, so the measured call is a steady replay."""
            if impl != "autograd_nn compiled":
                small()
                return
            checks.until_replayed(small)
            checks.until_replayed(step)
            step()

        result = harness.rss_peak(step, warmup)
    else:
        result = harness.rss_peak(lambda: chain_run(impl, dtype, int(size)), lambda: chain_run(impl, dtype, 30))
    print(json.dumps({"bytes": result}))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.rss_probe:
        rss_probe(args)
        return
    torch_ok = not args.no_torch and frameworks.torch_module() is not None
    if args.baseline:
        global BASELINE
        BASELINE = frameworks.load_other_checkout(args.baseline)
        print(f"baseline autograd_nn from {Path(BASELINE.__file__).parent}")
    _limiter, pools = set_threads(args.threads, torch_ok)
    import autograd_nn

    env = harness.environment()
    print(f"autograd_nn from {Path(autograd_nn.__file__).parent}")
    print(f"python {env['python']}, numpy {env['numpy']}, {env['cpu_count']} CPUs, threads fixed to {args.threads}")
    print(f"OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']}  OPENBLAS_L2_SIZE={env['OPENBLAS_L2_SIZE']}")
    for pool in pools:
        print(
            f"  {pool['user_api']:<7} {pool['internal_api']:<9} {pool.get('version') or '':<14} "
            f"kernel={pool.get('architecture') or '?':<12} threads={pool['num_threads']}  {Path(pool['filepath']).name}"
        )
    if torch_ok:
        import torch

        print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    print(f"MLP steps written with the {args.api!r} API; {args.rounds} interleaved rounds", flush=True)
    print(
        f"compiled steps: autograd_nn.compile warmed up ({checks.CHECK_STEPS} checked calls, then 3 more) before timing"
        + (
            "; torch.compile (B2, B3) compiles the whole step once per dtype, outside the timed rounds"
            if args.torch_compile and torch_ok
            else ""
        ),
        flush=True,
    )

    results: dict[str, dict[str, Any]] = {}
    for dtype in args.dtypes:
        results[dtype] = {}
        for workload in args.only:
            print(f"running {workload} {dtype} ...", flush=True)
            if workload == "B1":
                results[dtype]["B1"] = run_b1(dtype, args, torch_ok)
            elif workload in ("B2", "B3"):
                results[dtype][workload] = run_mlp(getattr(specs, workload), dtype, args, torch_ok)
            elif workload == "B4":
                results[dtype]["B4"] = run_b4(dtype, args, torch_ok)
            elif workload in cnn.WORKLOADS:
                results[dtype][workload] = cnn.run(workload, dtype, args, torch_ok)
            elif workload in sequence.WORKLOADS:
                results[dtype][workload] = sequence.run(workload, dtype, args, torch_ok)
            else:
                results[dtype]["B5"] = run_b5(dtype, args, torch_ok)
    results_all = {
        "environment": env,
        "threadpools": pools,
        "args": {k: str(v) for k, v in vars(args).items()},
        "results": results,
    }
    report.print_report(results_all)
    args.json.write_text(json.dumps(results_all, indent=1, default=str))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
