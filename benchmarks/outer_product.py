"""Why a matmul of inner dimension 1 is a broadcast multiply in autograd_nn (``ops.linalg.product``).

B2's δ¹ = δ² W² multiplies a (128, 1) δ by a (1, 200) W: an outer product. Through
``np.matmul`` it is a GEMM of depth 1; as ``a * b`` it is the same 25 600 single products.
This times both for that shape, in float32 and float64, one BLAS thread, medians of 7
interleaved rounds (``harness.interleaved``), and checks they give equal values.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 benchmarks/outer_product.py
"""

from __future__ import annotations

from functools import partial

import numpy as np
from harness import blas_report, interleaved


def main() -> None:
    _limiter, pools = blas_report(1)
    blas = next((p for p in pools if p.get("user_api") == "blas"), {})
    print(f"BLAS: {blas.get('internal_api')} {blas.get('version')} {blas.get('architecture')} (one thread)")
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        delta = rng.standard_normal((128, 1)).astype(dtype)
        W = rng.standard_normal((1, 200)).astype(dtype)
        out = np.empty((128, 200), dtype)
        assert np.array_equal(np.matmul(delta, W), delta * W)
        timings = interleaved(
            {"matmul": partial(np.matmul, delta, W, out=out), "multiply": partial(np.multiply, delta, W, out=out)},
            rounds=7,
            sample_seconds=0.05,
        )
        gemm, broadcast = timings["matmul"].median, timings["multiply"].median
        print(
            f"{np.dtype(dtype).name}: (128, 1) @ (1, 200): matmul {gemm * 1e6:.1f} µs, "
            f"multiply {broadcast * 1e6:.1f} µs ({gemm / broadcast:.1f}×)"
        )


if __name__ == "__main__":
    main()
