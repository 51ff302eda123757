"""Instructions per recorded B1 op, counted by callgrind: steady where time is noisy.

    python3 benchmarks/b1_instructions.py [WHAT ...] [--steps 105] [--baseline DIR]

Each WHAT runs B1's own step (``specs.CHAIN_CYCLES`` cycles of y ← tanh(y·c + d), 99
recorded ops, float32) under ``valgrind --tool=callgrind``, once for 5 steps and once for
``--steps``; the difference, over the extra steps' ops, is the count per op without the
interpreter's start-up. ASLR is off (``setarch -R``) and ``PYTHONHASHSEED=0``; counts still
vary by about ±100 from run to run. WHAT (default: all):

- ``floor``, ``floor-forward``: hand-written numpy (``floors.chain_step``), with and
  without its backward;
- ``eager``, ``eager-forward``: autograd_nn (``frameworks.autograd_chain``), and its
  recorded forward alone (``b1_profile.passes``);
- ``bare``, ``bare-forward``: ``b1_profile``'s bare design (a Context, a Node and a Tensor
  per op and nothing else) at B1's length.

``--baseline DIR`` counts the eager rows for the autograd_nn of another checkout too.
Needs valgrind (not a dependency of the library).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import b1_profile  # noqa: E402
import floors  # noqa: E402
import frameworks  # noqa: E402
import specs  # noqa: E402

WHATS = ("floor", "floor-forward", "eager", "eager-forward", "bare", "bare-forward")
FIRST = 5  # steps of the short run, whose count is subtracted


def step_of(what: str, baseline: str | None) -> Any:
    """The function one step of ``what`` runs (autograd_nn from ``baseline`` if given)."""
    import autograd_nn

    ag = frameworks.load_other_checkout(Path(baseline)) if baseline else autograd_nn
    dtype = np.dtype("float32")
    x, c, d, seed = specs.chain_arrays(dtype)
    cycles = specs.CHAIN_CYCLES
    steps = {
        "floor": lambda: floors.chain_step(x, c, d, seed),
        "floor-forward": lambda: floors.chain_step(x, c, d, seed, backward=False),
        "eager": lambda: frameworks.autograd_chain(x, c, d, seed, ag=ag),
        "eager-forward": lambda: b1_profile.passes(ag, dtype, cycles)["recorded forward"],
        "bare": lambda: b1_profile.bare_passes(ag, dtype, cycles)["bare forward + backward"],
        "bare-forward": lambda: b1_profile.bare_passes(ag, dtype, cycles)["bare forward"],
    }
    return steps[what]()


def count(what: str, steps: int, baseline: str | None) -> int:
    """Instructions callgrind collects for the whole process running ``steps`` steps."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__]
    command += ["--worker", what, "--steps", str(steps)] + (["--baseline", baseline] if baseline else [])
    if shutil.which("setarch"):
        command = ["setarch", "-R", *command]
    env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind reported no count for {what}:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("whats", nargs="*", metavar="WHAT", help=f"any of {', '.join(WHATS)} (default: all)")
    parser.add_argument("--steps", type=int, default=105, help=f"steps of the long run (more than {FIRST})")
    parser.add_argument("--baseline", help="another checkout whose autograd_nn is counted too (eager rows)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:  # inside valgrind: just run the steps
        step = step_of(args.worker, args.baseline)
        for _ in range(args.steps):
            step()
        return 0
    whats = args.whats or list(WHATS)
    unknown = [what for what in whats if what not in WHATS]
    if unknown:
        parser.error(f"unknown WHAT {', '.join(unknown)}: expected any of {', '.join(WHATS)}")
    if args.steps <= FIRST:
        parser.error(f"--steps must be more than {FIRST}")
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (it counts the instructions)")
    ops = (args.steps - FIRST) * 3 * specs.CHAIN_CYCLES
    runs = [(what, None) for what in whats]
    runs += [(what, args.baseline) for what in whats if args.baseline and what.startswith("eager")]
    floor = None
    for what, baseline in runs:
        per_op = (count(what, args.steps, baseline) - count(what, FIRST, baseline)) / ops
        floor = per_op if what == "floor" else floor
        ratio = f"  {per_op / floor:.2f}× floor" if floor and what != "floor" and not what.endswith("forward") else ""
        label = f"{what}@base" if baseline else what
        print(f"{label:20s} {per_op / 1000:7.2f} K instructions per op{ratio}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
