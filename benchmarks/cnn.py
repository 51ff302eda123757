"""B6: one training step of a LeNet-sized CNN, beside PyTorch in the same run.

Batch 64 of 1×28×28; Conv2d(1, 6, 5) → ReLU → MaxPool2d(2) → Conv2d(6, 16, 5) → ReLU →
MaxPool2d(2) → Linear(256, 10); softmax cross-entropy on integer labels; ``optim.SGD``.
The step is written once, PyTorch-style, and runs on either library's ``nn``/``optim``
from the same state_dict (PyTorch's default initialisation). Beside it: the forward pass
alone, and the step's bare im2col copies and GEMMs in numpy (a floor). Peak memory of one
step is the kernel's RSS high-water mark in a fresh process for each library (and
tracemalloc's peak for autograd_nn).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/run.py --only B6 --dtypes float32
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import harness
import numpy as np

WORKLOADS = ("B6",)
TITLE = "B6 LeNet CNN b64, step"
BATCH, SIDE, CLASSES, LR = 64, 28, 10, 0.01


def build(lib: Any, dtype: Any) -> Any:
    """The network in library ``lib`` (torch or autograd_nn)."""
    nn = lib.nn

    class LeNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5, dtype=dtype)
            self.conv2 = nn.Conv2d(6, 16, 5, dtype=dtype)
            self.pool = nn.MaxPool2d(2)
            self.relu = nn.ReLU()
            self.fc = nn.Linear(16 * 4 * 4, CLASSES, dtype=dtype)

        def forward(self, x: Any) -> Any:
            x = self.pool(self.relu(self.conv1(x)))
            x = self.pool(self.relu(self.conv2(x)))
            return self.fc(x.reshape(x.shape[0], -1))

    return LeNet()


def batch(dtype: str, size: int = BATCH, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((size, 1, SIDE, SIDE)).astype(dtype), rng.integers(0, CLASSES, size)


def step_function(impl: str, dtype: str, state: dict[str, np.ndarray], size: int = BATCH) -> Callable[[], Any]:
    """One SGD step of ``impl`` ('autograd_nn' or 'torch'; '... fwd': the forward pass and loss alone)."""
    library = impl.split()[0]
    lib = importlib.import_module(library)
    is_torch = library == "torch"
    model = build(lib, getattr(lib, dtype) if is_torch else np.dtype(dtype))
    model.load_state_dict({k: (lib.from_numpy(v.copy()) if is_torch else v.copy()) for k, v in state.items()})
    optimizer = lib.optim.SGD(model.parameters(), lr=LR)
    x, y = batch(dtype, size)
    x = lib.from_numpy(x) if is_torch else lib.tensor(x)
    y = lib.from_numpy(y) if is_torch else y
    loss_fn = (lib.nn.functional if is_torch else lib.functional).cross_entropy
    forward_only = impl.endswith("fwd")

    def step() -> Any:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        if not forward_only:
            loss.backward()
            optimizer.step()
        return loss

    step.parameters = lambda: {k: np.array(v) for k, v in model.state_dict().items()}  # type: ignore[attr-defined]
    return step


def initial_state(dtype: str) -> dict[str, np.ndarray]:
    """PyTorch's default initialisation of the network (ours, without PyTorch), as arrays."""
    try:
        import torch
    except ImportError:
        import autograd_nn as lib

        lib.nn.init.manual_seed(0)
        return {k: v.numpy().copy() for k, v in build(lib, np.dtype(dtype)).state_dict().items()}
    torch.manual_seed(0)
    return {k: v.numpy().copy() for k, v in build(torch, getattr(torch, dtype)).state_dict().items()}


def floor(dtype: str) -> Callable[[], None]:
    """The step's im2col copies and matrix products in numpy, into buffers allocated once:
    what any im2col convolution on numpy pays at least (two convolutions forward, δW of
    both, the δ columns of the second; not its col2im, pooling or activations)."""
    from numpy.lib.stride_tricks import sliding_window_view

    rng = np.random.default_rng(1)

    def m(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(dtype)

    x1, x2 = m(1, 28, 28, BATCH), m(6, 12, 12, BATCH)  # batch-last, as autograd_nn lays them out
    w1, w2, g1, g2 = m(6, 25), m(16, 150), m(6, 24 * 24 * BATCH), m(16, 8 * 8 * BATCH)
    c1, c2, z1, z2 = m(25, 24 * 24 * BATCH), m(150, 8 * 8 * BATCH), m(6, 24 * 24 * BATCH), m(16, 8 * 8 * BATCH)
    dw1, dw2, dc2 = m(6, 25), m(16, 150), m(150, 8 * 8 * BATCH)
    fc, a, d = m(10, 256), m(BATCH, 256), m(BATCH, 10)

    def im2col(x: np.ndarray, cols: np.ndarray) -> None:
        windows = sliding_window_view(x, (5, 5), axis=(1, 2))  # (C, H', W', N, 5, 5)
        np.copyto(cols.reshape(x.shape[0], 5, 5, *windows.shape[1:4]), windows.transpose(0, 4, 5, 1, 2, 3))

    def step() -> None:
        im2col(x1, c1), im2col(x2, c2)
        np.matmul(w1, c1, out=z1), np.matmul(w2, c2, out=z2)  # forward
        np.matmul(g1, c1.T, out=dw1), np.matmul(g2, c2.T, out=dw2)  # δW
        np.matmul(w2.T, g2, out=dc2)  # δ columns of the second convolution
        a @ fc.T, d.T @ a, d @ fc  # the Linear

    return step


def agreement(dtype: str, state: dict[str, np.ndarray]) -> float:
    """Largest relative difference of the parameter updates of one step of each library."""
    ours, theirs = step_function("autograd_nn", dtype, state), step_function("torch", dtype, state)
    ours(), theirs()
    after_ours, after_theirs = ours.parameters(), theirs.parameters()
    return max(
        float(np.max(np.abs((after_ours[k] - state[k]) - (after_theirs[k] - state[k]))))
        / max(float(np.max(np.abs(after_theirs[k] - state[k]))), 1e-30)
        for k in state
    )


def run(workload: str, dtype: str, args: Any, torch_ok: bool) -> dict[str, Any]:
    state = initial_state(dtype)
    impls = ["autograd_nn", "autograd_nn fwd"] + (["torch", "torch fwd"] if torch_ok else [])
    steps = {impl: step_function(impl, dtype, state) for impl in impls}
    steps["numpy im2col+GEMMs"] = floor(dtype)
    timings = harness.interleaved(steps, args.rounds, args.sample_seconds, clock=args.clock)
    rows = {name: {"seconds": t.median, "faults": t.median_faults, "samples": t.seconds} for name, t in timings.items()}
    traced, _ = harness.traced_peak(lambda: step_function("autograd_nn", dtype, state))
    rss = {impl: rss_in_subprocess(impl, dtype, args.threads) for impl in impls if not impl.endswith("fwd")}
    return {
        "max_rel_diff_updates": agreement(dtype, state) if torch_ok else None,
        "rows": rows,
        "traced_peak": traced,
        "rss_peak": rss,
    }


def print_rows(workload: str, dtype: str, result: dict[str, Any], paired_ratio: Callable[..., Any]) -> None:
    rows, title = result["rows"], TITLE
    notes = {"autograd_nn fwd": "forward only", "torch fwd": "forward only", "numpy im2col+GEMMs": "floor"}
    for name, row in rows.items():
        row["x_torch"] = paired_ratio(row, rows.get("torch fwd" if name.endswith("fwd") else "torch"))
        ratio = f"{row['x_torch']:6.2f}×" if row["x_torch"] else "      –"
        print(
            f"{title:<30}{dtype:<9}{name:<19}{row['seconds'] * 1e6:10.2f} µs{'':>9}{ratio:>9}{row['faults']:8.1f}"
            f"  {notes.get(name, '')}"
        )
        title = ""
    rss = result["rss_peak"]
    ours, theirs = rss.get("autograd_nn"), rss.get("torch")
    memory = f"traced {result['traced_peak'] / 2**20:.1f} MiB; RSS " + ", ".join(
        f"{impl} {value / 2**20:.1f} MiB" for impl, value in rss.items() if value
    )
    if ours and theirs:
        memory += f" ({ours / theirs:.2f}× torch)"
    print(f"{'':<30}{dtype:<9}{'peak memory':<19}{memory}")
    if result["max_rel_diff_updates"] is not None:
        print(f"{'':<30}{'':<9}{'(updates agree to':<19}{result['max_rel_diff_updates']:>13.1e})")


def rss_in_subprocess(impl: str, dtype: str, threads: int) -> int | None:
    """RSS peak of one step in a fresh process (a warm heap would hide the growth)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--rss", impl, dtype, str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    if done.returncode != 0:
        print(f"  rss probe B6/{impl}/{dtype} failed:\n{done.stderr}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])["bytes"]


def _rss_probe(impl: str, dtype: str, threads: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's autograd_nn
    limiter, _ = harness.blas_report(threads)  # keep the limiter alive: it holds the BLAS threads at `threads`
    if impl == "torch":
        import torch

        torch.set_num_threads(threads)
    state = initial_state(dtype)
    warmup, step = step_function(impl, dtype, state, size=2), step_function(impl, dtype, state)
    print(json.dumps({"bytes": harness.rss_peak(step, warmup)}))
    del limiter


if __name__ == "__main__" and sys.argv[1:2] == ["--rss"]:
    _rss_probe(sys.argv[2], sys.argv[3], int(sys.argv[4]))
