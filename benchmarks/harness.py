"""Measuring: interleaved timing rounds, minor page faults, peak memory, BLAS set-up.

Times are medians over rounds; in each round every implementation runs the same number
of steps back to back, in a rotating order, so slow drifts of a shared machine hit all
of them alike and their ratios stay meaningful.
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Step = Callable[[], Any]


@dataclass
class Timing:
    """Per-step medians over rounds for one implementation of one workload."""

    seconds: list[float] = field(default_factory=list)  # one per round, per step
    faults: list[float] = field(default_factory=list)  # minor page faults per step, per round

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_faults(self) -> float:
        return statistics.median(self.faults)

    @property
    def spread(self) -> float:
        """(max − min) / median over rounds: how noisy the machine was."""
        return (max(self.seconds) - min(self.seconds)) / self.median


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def calibrate(step: Step, target_seconds: float) -> int:
    """How many steps make one timed sample of about ``target_seconds``."""
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            step()
        elapsed = time.perf_counter() - start
        if elapsed >= target_seconds / 4 or n >= 1 << 20:
            return max(1, round(n * target_seconds / max(elapsed, 1e-9)))
        n *= 4


CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def interleaved(
    steps: dict[str, Step], rounds: int, sample_seconds: float, warmup: int = 3, clock: str = "cpu"
) -> dict[str, Timing]:
    """Time each step function in interleaved rounds; returns per-step timings.

    ``clock="cpu"`` counts the CPU time of this process, which on a shared machine
    leaves out the time other processes held the core (all work here runs on one
    thread, so with a quiet machine it equals wall time); ``"wall"`` counts elapsed time.
    """
    now = CLOCKS[clock]
    for step in steps.values():
        for _ in range(warmup):
            step()
    counts = {name: calibrate(step, sample_seconds) for name, step in steps.items()}
    timings = {name: Timing() for name in steps}
    names = list(steps)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            step, n = steps[name], counts[name]
            faults = _minor_faults()
            start = now()
            for _ in range(n):
                step()
            elapsed = now() - start
            timings[name].seconds.append(elapsed / n)
            timings[name].faults.append((_minor_faults() - faults) / n)
    return timings


def traced_peak(setup: Callable[[], Step]) -> tuple[int, int]:
    """Peak bytes traced during one step, above what was live when it began; and the
    live bytes at its start (parameters, data).

    numpy reports its data buffers to tracemalloc, so this counts the arrays a step
    allocates (activations, saved values, gradients, temporaries) as well as Python
    objects (graph nodes). One step runs first, untraced by the result, so lazily
    created state does not count.
    """
    gc.collect()
    tracemalloc.start()
    try:
        step = setup()
        step()
        gc.collect()
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base, base


def _status_kib(field_name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field_name}")


def rss_peak(step: Step, warmup: Step | None = None) -> int | None:
    """Peak resident memory (bytes) during one ``step`` above the resident memory at its
    start, from the kernel's high-water mark (reset through /proc/self/clear_refs).

    Sees every allocator (numpy's, PyTorch's own). Run it in a fresh process: once a
    step has run, glibc keeps its freed blocks resident and a second step reuses them
    without growing the RSS. ``warmup`` (e.g. the same step on a tiny batch) can run
    first to absorb one-time initialisation without warming the heap.
    """
    try:
        if warmup is not None:
            warmup()
        gc.collect()
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # reset VmHWM to the current RSS
        before = _status_kib("VmRSS")
        step()
        peak = _status_kib("VmHWM")
    except OSError:
        return None
    return (peak - before) * 1024


def blas_report(threads: int) -> tuple[Any, list[dict[str, Any]]]:
    """Limit every BLAS / OpenMP pool to ``threads`` and describe what is loaded.

    Returns the threadpoolctl limiter (keep it alive) and threadpool_info().
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    limiter = threadpool_limits(limits=threads)
    return limiter, threadpool_info()


def environment() -> dict[str, Any]:
    import platform

    import numpy

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
    }
