"""Loading takes memory bounded by the file's size: peak RSS measured in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import autograd_nn as ag

MiB = 1 << 20

if not sys.platform.startswith("linux"):
    pytest.skip("peak RSS is read from Linux's /proc/self/status", allow_module_level=True)

# Loads one file and prints the outcome and how far the peak RSS rose above the RSS before
# the load. (Not getrusage's ru_maxrss: Linux carries it over from the parent through exec.)
CHILD = r"""
import json, sys
import autograd_nn as ag
from autograd_nn.checkpoint import CheckpointError

def status(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field + ":"))

with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current RSS
base = status("VmRSS")
try:
    ag.load(sys.argv[1])
    outcome = "loaded"
except CheckpointError as err:
    outcome = "refused: " + str(err)
print(json.dumps([outcome, status("VmHWM") - base]))
"""


def load_in_a_fresh_process(path):
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(result.stdout)


def _deflate_bomb(path, nbytes):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("x.npy", "w", force_zip64=True) as member:
            header = {"descr": "<f8", "fortran_order": False, "shape": (nbytes // 8,)}
            np.lib.format.write_array_header_1_0(member, header)
            block = bytes(MiB)
            for _ in range(nbytes // MiB):
                member.write(block)


def test_peak_memory_of_refused_and_accepted_loads(tmp_path):
    bomb = tmp_path / "bomb.npz"
    _deflate_bomb(bomb, 256 * MiB)  # about 1.1 MB on disk
    claims = tmp_path / "claims.npz"
    with zipfile.ZipFile(claims, "w") as archive:
        with archive.open("w.npy", "w") as member:
            np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": (2**40,)})
            member.write(bytes(1024))
    weights = {"w": np.random.default_rng(0).normal(size=64 * MiB // 8)}  # 64 MiB of float64
    big = tmp_path / "big.safetensors"
    ag.save(weights, big)
    big_npz = tmp_path / "big.npz"
    ag.save(weights, big_npz)

    bomb_outcome, bomb_peak = load_in_a_fresh_process(bomb)
    claims_outcome, claims_peak = load_in_a_fresh_process(claims)
    assert bomb_outcome.startswith("refused") and "inflate" in bomb_outcome
    assert claims_outcome.startswith("refused") and "declares shape" in claims_outcome
    assert bomb_peak < 16 * MiB and claims_peak < 16 * MiB  # nothing was allocated for them
    for path in (big, big_npz):
        outcome, growth = load_in_a_fresh_process(path)
        assert outcome == "loaded"
        # the data once, plus a little: no second copy of 64 MiB
        assert 60 * MiB < growth < 64 * MiB + 24 * MiB, growth
