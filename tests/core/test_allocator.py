"""``autograd_nn.allocator``: on import, glibc keeps a step's freed memory for the next step
instead of giving it back and faulting it in again; the environment can decline it.

Each case runs in a fresh process (malloc's settings are process-wide) and counts minor
page faults with ``getrusage``: a page given back and touched again costs one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc: Linux only")

# Four 100 KiB arrays freed together (400 KiB free at the top of the heap, over glibc's default
# trim threshold of 128 KiB), an eager training step of the post's network, and a 24 MiB array.
PROGRAM = """
import json, resource, sys
import numpy as np
import autograd_nn as ag

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

def per_round(work, rounds=50):
    for _ in range(3):
        work()
    before = faults()
    for _ in range(rounds):
        work()
    return (faults() - before) / rounds

def temporaries():
    arrays = [np.ones(12800) for _ in range(4)]
    del arrays

# the post's network, 56 -> 200 sigmoid -> 1, one eager SGD step per round
rng = np.random.default_rng(0)
model = ag.nn.Sequential(ag.nn.Linear(56, 200), ag.nn.Sigmoid(), ag.nn.Linear(200, 1))
optimizer = ag.optim.SGD(model.parameters(), lr=0.01)
x, y = ag.tensor(rng.standard_normal((128, 56))), ag.tensor(rng.standard_normal((128, 1)))

def step():
    optimizer.zero_grad()
    ag.functional.mse_loss(model(x), y).backward()
    optimizer.step()

# where malloc serves a 24 MiB array from: mapped for it alone (glibc's default threshold is at
# most 32 MiB only after such a block was freed), or the heap (the library's 32 MiB)
import ctypes

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
before = libc.mallinfo2().hblkhd
big = np.empty(24 << 20, np.uint8)
mapped = libc.mallinfo2().hblkhd - before
del big

print(json.dumps({"tuned": ag.allocator.tuned, "temporaries": per_round(temporaries), "step": per_round(step),
                  "mapped": mapped}))
"""


def _run(**settings: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "AUTOGRAD_NN_MALLOC"}
    run = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120, env={**env, **settings}
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_freed_temporaries_are_reused_without_page_faults():
    tuned = _run()
    assert tuned["tuned"] is True
    assert tuned["mapped"] == 0  # a 24 MiB array comes from the heap
    assert tuned["temporaries"] < 2  # the pages stay with the process
    assert tuned["step"] < 2  # a training step, once warm, faults nothing in


# (Whether a step faults with glibc's defaults depends on what lies above its memory in the
# heap, so it cannot be asserted; where malloc serves a large array from can.)
def test_with_glibcs_defaults_malloc_keeps_its_own_thresholds():
    default = _run(AUTOGRAD_NN_MALLOC="default")
    assert default["tuned"] is False
    assert default["mapped"] >= 24 << 20  # mapped for itself, and unmapped again when freed


def test_a_process_that_set_glibcs_own_thresholds_keeps_them():
    kept = _run(MALLOC_TRIM_THRESHOLD_=str(128 * 1024))
    assert kept["tuned"] is False
    assert kept["mapped"] >= 24 << 20
