"""glibc's malloc, told to keep a training step's memory for the next step.

numpy gets the memory of every array from ``malloc``. glibc's defaults give memory back to
the kernel as soon as more than 128 KiB lies free at the top of the heap (and serve an array
above 128 KiB straight from the kernel, until its own adjustment raises that bar). A training
step allocates its temporaries, frees them all when it ends, and so, depending on where they
landed, gives their pages back at the end of every step and faults them in again, zeroed, in
the next (on B2, a small MLP's step, that doubled its time: ``docs/performance.md``). Which
processes fall into it depends on what was allocated before, so the same step was fast in
one run and slow in the next.

On import, on Linux with glibc, this module sets the two thresholds to the values glibc's
own adjustment moves towards (``M_MMAP_THRESHOLD`` 32 MiB, its ceiling on 64-bit systems,
and ``M_TRIM_THRESHOLD`` twice that), as numpy turns on transparent huge pages for its large
arrays: arrays up to 32 MiB come from the heap, and up to 64 MiB of free memory stays with
the process between steps. Larger arrays are still mapped and unmapped one by one, and a
process that frees much more than 64 MiB at once still gives the excess back.

It is process-wide, so it can be declined: with ``AUTOGRAD_NN_MALLOC=default`` in the
environment, or with any of glibc's own ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_TOP_PAD_`` or ``MALLOC_MMAP_MAX_`` set (the process's own choice), nothing is changed.
``tuned`` says whether it was done. Elsewhere (macOS, Windows, musl) nothing is changed.
"""

from __future__ import annotations

import ctypes
import os
import sys

MMAP_THRESHOLD = 32 * 2**20  # bytes: glibc's ceiling for its own adjustment on 64-bit systems
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # as glibc's adjustment keeps it

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
_GLIBC_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


def _tune() -> bool:
    if os.environ.get("AUTOGRAD_NN_MALLOC", "").strip().lower() == "default":
        return False
    if not sys.platform.startswith("linux") or any(name in os.environ for name in _GLIBC_SETTINGS):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - present in glibc only (musl has a mallopt that ignores these)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # (1 is success; setting the mmap threshold first also stops glibc adjusting either one)
    return mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1


tuned: bool = _tune()
