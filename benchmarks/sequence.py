"""Sequence-model workloads: B7, an LSTM training step; B8, a transformer-encoder step.

Each step is written once, PyTorch-style (``nn.LSTM`` / ``nn.TransformerEncoderLayer``, a
Linear head, MSE, ``optim.SGD``), and run against either library's ``nn``/``optim``; both
start from the same state_dict. Beside them: the step's forward pass alone, and the bare
GEMMs of the step in numpy (a floor: what BLAS alone costs), so the table shows where the
time goes. ``run.py --only B7 B8`` runs them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import harness
import numpy as np

WORKLOADS = ("B7", "B8")


@dataclass(frozen=True)
class Sequence:
    name: str
    title: str
    batch: int
    steps: int  # sequence length
    width: int  # input features (B7) or d_model (B8)
    hidden: int  # LSTM hidden size (B7) or feed-forward width (B8)
    heads: int = 0
    lr: float = 0.01


B7 = Sequence("B7", "B7 LSTM 64→128, T=32, step", batch=32, steps=32, width=64, hidden=128)
B8 = Sequence("B8", "B8 encoder d=128 h=4, step", batch=32, steps=64, width=128, hidden=512, heads=4)
SPECS = {"B7": B7, "B8": B8}


def arrays(spec: Sequence, dtype: np.dtype, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((spec.batch, spec.steps, spec.width)).astype(dtype)
    return x, rng.standard_normal((spec.batch, spec.steps, spec.width)).astype(dtype)


def build(spec: Sequence, lib: Any, dtype: Any) -> Any:
    """The model in library ``lib`` (torch or autograd_nn): the sequence layer and a head."""
    nn = lib.nn
    if spec.name == "B7":

        class Model(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.rnn = nn.LSTM(spec.width, spec.hidden, batch_first=True, dtype=dtype)
                self.head = nn.Linear(spec.hidden, spec.width, dtype=dtype)

            def forward(self, x: Any) -> Any:
                return self.head(self.rnn(x)[0])

        return Model()
    # dropout 0 so that both libraries compute the same numbers (the check before timing)
    return nn.TransformerEncoderLayer(
        spec.width, spec.heads, spec.hidden, dropout=0.0, batch_first=True, dtype=dtype
    )


def step_function(spec: Sequence, impl: str, dtype: str, state: dict[str, np.ndarray]) -> Callable[[], Any]:
    """One SGD step of ``impl`` ('autograd_nn' or 'torch'), its forward pass alone
    ('... fwd'), or autograd_nn's step through ``autograd_nn.compile`` ('autograd_nn
    compiled'), from the parameters in ``state``."""
    library = impl.split()[0]
    lib = importlib.import_module(library)
    as_tensor = lib.from_numpy if library == "torch" else lib.tensor
    model = build(spec, lib, getattr(lib, dtype) if library == "torch" else np.dtype(dtype))
    model.load_state_dict({k: as_tensor(v.copy()) for k, v in state.items()})
    model.train()
    optimizer = lib.optim.SGD(model.parameters(), lr=spec.lr)
    x, y = (as_tensor(a) for a in arrays(spec, np.dtype(dtype)))
    loss_fn = (lib.nn.functional if library == "torch" else lib.functional).mse_loss
    forward_only = impl.endswith("fwd")

    def step() -> Any:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        if forward_only:
            return loss
        loss.backward()
        optimizer.step()
        return loss

    run = lib.compile(step, fullgraph=True) if impl.endswith("compiled") else step
    run.parameters = lambda: {k: np.array(v) for k, v in model.state_dict().items()}  # type: ignore[attr-defined]
    return run


def initial_state(spec: Sequence, dtype: str) -> dict[str, np.ndarray]:
    """PyTorch's default initialisation of the model (or ours, without PyTorch), as arrays."""
    try:
        import torch
    except ImportError:
        import autograd_nn as lib

        lib.nn.init.manual_seed(0)
        return {k: v.numpy().copy() for k, v in build(spec, lib, np.dtype(dtype)).state_dict().items()}
    torch.manual_seed(0)
    return {k: v.numpy().copy() for k, v in build(spec, torch, getattr(torch, dtype)).state_dict().items()}


def gemm_floor(spec: Sequence, dtype: str) -> Callable[[], Any]:
    """The matrix products of one step (forward and backward), in numpy, nothing else."""
    rng = np.random.default_rng(1)
    B, T, D, H = spec.batch, spec.steps, spec.width, spec.hidden

    def m(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(dtype)

    if spec.name == "B7":
        x, w_ih, w_hh, h, g = m(T * B, D), m(4 * H, D), m(H, 4 * H), m(B, H), m(B, 4 * H)
        gates, out, d_out, head = m(T * B, 4 * H), m(T * B, H), m(T * B, D), m(D, H)

        def step() -> None:
            np.matmul(x, w_ih.T)  # the input projection of all steps
            for _ in range(T):
                np.matmul(h, w_hh)  # hₜ₋₁ W_hhᵀ
                np.matmul(g, w_hh.T)  # δhₜ₋₁
            np.matmul(gates.T, out), np.matmul(gates.T, x), np.matmul(gates, w_ih)  # ∂W_hh, ∂W_ih, δx
            np.matmul(out, head.T), np.matmul(d_out.T, out), np.matmul(d_out, head)  # the head

        return step
    rows = B * T
    linears = [(m(rows, w.shape[1]), w, m(rows, w.shape[0])) for w in (m(3 * D, D), m(D, D), m(H, D), m(D, H))]
    heads, d = spec.heads, D // spec.heads
    q, k, scores = m(B * heads, T, d), m(B * heads, T, d), m(B * heads, T, T)

    def step() -> None:
        for a, w, delta in linears:  # each Linear: forward, ∂W, δx
            np.matmul(a, w.T), np.matmul(delta.T, a), np.matmul(delta, w)
        for _ in range(3):  # q kᵀ and weights·v, and the two products of each one's backward
            np.matmul(q, k.swapaxes(-1, -2)), np.matmul(scores, k)

    return step


def run(workload: str, dtype: str, args: Any, torch_ok: bool) -> dict[str, Any]:
    spec = SPECS[workload]
    state = initial_state(spec, dtype)
    impls = ["autograd_nn", "autograd_nn compiled", "autograd_nn fwd"] + (["torch", "torch fwd"] if torch_ok else [])
    eager, compiled = step_function(spec, "autograd_nn", dtype, state), step_function(spec, "autograd_nn compiled", dtype, state)
    for _ in range(5):  # recorded (three times: the first step makes the gradients), then replayed: equal to eager, bit for bit
        if eager().item() != compiled().item():
            raise AssertionError(f"{workload}: the compiled step's loss differs from the eager step's")
    after_eager, after_compiled = eager.parameters(), compiled.parameters()
    if compiled.replays < 2 or any(not np.array_equal(after_eager[k], after_compiled[k]) for k in state):
        raise AssertionError(f"{workload}: the compiled steps did not replay to eager's parameters, bit for bit")
    agree = None
    if torch_ok:  # one step of each from the same state: the parameter updates must agree
        ours, theirs = step_function(spec, "autograd_nn", dtype, state), step_function(spec, "torch", dtype, state)
        ours(), theirs()
        after_ours, after_theirs = ours.parameters(), theirs.parameters()
        agree = max(
            float(np.max(np.abs((after_ours[k] - state[k]) - (after_theirs[k] - state[k]))))
            / max(float(np.max(np.abs(after_theirs[k] - state[k]))), 1e-30)
            for k in state
        )
    steps = {impl: step_function(spec, impl, dtype, state) for impl in impls}
    for _ in range(3):  # the compiled step records (twice) before it replays: time the replays
        steps["autograd_nn compiled"]()
    steps["numpy GEMMs only"] = gemm_floor(spec, dtype)
    timings = harness.interleaved(steps, args.rounds, args.sample_seconds, clock=args.clock)
    rows = {name: {"seconds": t.median, "faults": t.median_faults, "samples": t.seconds} for name, t in timings.items()}
    return {"max_rel_diff_updates": agree, "rows": rows}


def print_rows(workload: str, dtype: str, result: dict[str, Any], paired_ratio: Callable[..., Any]) -> None:
    title = SPECS[workload].title
    rows = result["rows"]
    for name, row in rows.items():
        row["x_torch"] = paired_ratio(row, rows.get("torch" if not name.endswith("fwd") else "torch fwd"))
        ratio = f"{row['x_torch']:6.2f}×" if row["x_torch"] else "      –"
        note = {"autograd_nn fwd": "forward only", "torch fwd": "forward only", "numpy GEMMs only": "floor: BLAS"}
        print(
            f"{title:<30}{dtype:<9}{name:<22}{row['seconds'] * 1e6:10.2f} µs{'':>9}{ratio:>9}{row['faults']:8.1f}"
            f"  {note.get(name, '')}"
        )
        title = ""
    if result["max_rel_diff_updates"] is not None:
        print(f"{'':<30}{'':<9}{'(updates agree to':<22}{result['max_rel_diff_updates']:>13.1e})")
