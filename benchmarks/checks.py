"""Before anything is timed: every implementation against the floor, and every compiled
step against its eager one, from the same parameters; and torch.compile's compile.

A compiled step is called CHECK_STEPS times here: ``autograd_nn.compile`` records its
calls until two recordings agree (two calls with the core API, three with ``--api nn``)
and replays the rest, so the comparison covers replays, not just the eager recordings.
The steps are then timed from where they stand.
"""

from __future__ import annotations

import time
from typing import Any

import floors
import numpy as np
import specs

CHECK_STEPS = 4  # a compiled step records two (or three), then replays

# Each compiled implementation and the eager one it must reproduce.
EAGER_OF = {"autograd_nn compiled": "autograd_nn", "autograd_nn@base compiled": "autograd_nn@base", "torch compiled": "torch"}


def compile_torch(steps: dict[str, Any]) -> dict[str, Any]:
    """Call the torch.compile'd step twice, outside the timed rounds: the first call compiles
    (minutes on a busy machine), the second shows that it does not compile again. If that
    fails, the implementation is dropped and the reason reported, not raised."""
    start = time.perf_counter()
    try:
        steps["torch compiled"]()
        first = time.perf_counter() - start
        steps["torch compiled"]()
    except Exception as error:  # noqa: BLE001 - any failure of torch.compile is a result to report
        del steps["torch compiled"]
        why = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
        return {"ok": False, "why": why}
    return {"ok": True, "first_call_seconds": first, "two_calls_seconds": time.perf_counter() - start}


def update_error(start: list[np.ndarray], got: list[np.ndarray], want: list[np.ndarray]) -> float:
    """Largest relative difference between two sets of parameter updates from ``start``:
    max |Δgot − Δwant| / max |Δwant|, per array, worst array."""
    worst = 0.0
    for initial, after, expected in zip(start, got, want):
        expected_update = expected - initial
        error = np.max(np.abs((after - initial) - expected_update)) / np.max(np.abs(expected_update))
        worst = max(worst, float(error))
    return worst


def check_mlp(spec: specs.MLP, dtype: str, steps: dict[str, Any]) -> dict[str, Any]:
    """Run every implementation CHECK_STEPS steps from the same parameters, and compare:
    each one's total update with the numpy floor's (``vs_floor``: largest relative
    difference of the updates −η∂C/∂θ), and each compiled step with its eager one after
    every step (``compiled_vs_eager``, the same measure; 0.0 means bit for bit equal;
    ``compiled_vs_eager_abs``: the largest absolute difference of the parameters).
    The steps are then timed from where they stand."""
    params, x, y = specs.mlp_arrays(spec, np.dtype(dtype))
    start = [a for layer in params for a in layer]
    reference = [(W.copy(), b.copy()) for W, b in params]
    floor = floors.mlp_step(spec, reference, x, y)
    for _ in range(CHECK_STEPS):
        floor()
    paths: dict[str, list[list[np.ndarray]]] = {}
    for name, step in steps.items():
        if name.startswith("numpy"):
            continue
        for live, initial in zip([a for layer in step.parameters() for a in layer], start):
            np.copyto(live, initial)  # in place: torch compiled has stepped already (compiling)
        paths[name] = []
        for _ in range(CHECK_STEPS):
            step()
            paths[name].append([a.copy() for layer in step.parameters() for a in layer])
    want = [a for layer in reference for a in layer]
    check: dict[str, Any] = {
        "steps": CHECK_STEPS,
        "vs_floor": {name: update_error(start, path[-1], want) for name, path in paths.items()},
        "compiled_vs_eager": {},
        "compiled_vs_eager_abs": {},
    }
    for compiled, eager in EAGER_OF.items():
        if compiled in paths and eager in paths:
            pairs = list(zip(paths[compiled], paths[eager]))
            check["compiled_vs_eager"][compiled] = max(update_error(start, c, e) for c, e in pairs)
            check["compiled_vs_eager_abs"][compiled] = max(
                float(np.max(np.abs(a - b))) for c, e in pairs for a, b in zip(c, e)
            )
    check.update(replay_state(steps.get("autograd_nn compiled")))
    return check


def until_replayed(step: Any, limit: int = 8) -> int:
    """Call an ``autograd_nn.compile`` step until a call replays (its recordings done);
    the number of calls. Raises if it never replays (it gave up, or keeps recording)."""
    for calls in range(1, limit + 1):
        step()
        if step.replays:
            return calls
    raise RuntimeError(f"compiled step never replayed in {limit} calls: {step.eager_because or step.history}")


def replay_state(step: Any) -> dict[str, Any]:
    """How many calls of an ``autograd_nn.compile`` step replayed, and why it gave up if it did."""
    if step is None:
        return {}
    return {"recordings": step.recordings, "replays": step.replays, "eager_because": step.eager_because}


def check_chain(steps: dict[str, Any]) -> dict[str, Any]:
    """B1: δx of every implementation after CHECK_STEPS calls against the floor's (largest
    absolute difference), and the compiled δx against eager's on every call."""
    want = steps["numpy"]()
    dx = {n: [np.array(steps[n]()) for _ in range(CHECK_STEPS)] for n in steps if n not in ("numpy", "numpy fwd")}
    pairs = zip(dx["autograd_nn compiled"], dx["autograd_nn"])
    return {
        "steps": CHECK_STEPS,
        "vs_floor": {n: float(np.max(np.abs(calls[-1] - want))) for n, calls in dx.items()},
        "compiled_vs_eager": {"autograd_nn compiled": max(float(np.max(np.abs(c - e))) for c, e in pairs)},
        **replay_state(steps["autograd_nn compiled"]),
    }
