"""Why a replay writes ``multiply(a, b, out)`` and ``subtract(float32_1, a, out)`` (``replay/_codegen.py``).

On B1's shape-(4,) arrays a numpy call is almost all argument handling, so how its operands
are passed shows: an output passed as ``out=`` is parsed more slowly than one passed
positionally, and a Python number is converted to an operand on every call (NEP 50: cast to
the array's dtype), which a 0-d array of that dtype already is. This times each spelling,
float32 and float64, medians of 7 interleaved rounds of ``timeit`` (the statement compiled
into timeit's loop, so the loop adds nothing per call), and checks they give equal bits.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 benchmarks/ufunc_call.py
"""

from __future__ import annotations

import statistics
import timeit

import numpy as np

SPELLINGS = {
    "multiply(a, b, out=c)": "multiply(a, b, out=c)",
    "multiply(a, b, c)": "multiply(a, b, c)",
    "subtract(1, a, out=c)": "subtract(1, a, out=c)",
    "subtract(one, a, c), one a 0-d array": "subtract(one, a, c)",
}


def main(rounds: int = 7, number: int = 100_000) -> None:
    for dtype in (np.float32, np.float64):
        a = np.linspace(-1, 1, 4, dtype=dtype)
        space = {"multiply": np.multiply, "subtract": np.subtract, "a": a, "b": a[::-1].copy(),
                 "c": np.empty(4, dtype), "one": np.array(1, dtype)}  # fmt: skip
        results = {}
        for name, stmt in SPELLINGS.items():
            exec(stmt, space)  # noqa: S102 - our own statement
            results[name] = space["c"].tobytes()
        assert results["multiply(a, b, out=c)"] == results["multiply(a, b, c)"]
        assert results["subtract(1, a, out=c)"] == results["subtract(one, a, c), one a 0-d array"]
        timers = {name: timeit.Timer(stmt, globals=space) for name, stmt in SPELLINGS.items()}
        samples: dict[str, list[float]] = {name: [] for name in SPELLINGS}
        for _ in range(rounds):
            for name, timer in timers.items():
                samples[name].append(timer.timeit(number) / number)
        print(f"{np.dtype(dtype).name}, shape (4,):")
        for name, times in samples.items():
            print(f"  {name:40s} {statistics.median(times) * 1e9:6.0f} ns")


if __name__ == "__main__":
    main()
