"""Deliberate bugs in derivatives at extreme magnitudes, where a textbook formula overflows,
underflows or rounds away what it needs (``tests/core/test_extreme_magnitudes.py``):
(id, file, old text, new text, tests, why)."""

from __future__ import annotations

EXTREMES = ("tests/core/test_extreme_magnitudes.py",)
ARI = "autograd_nn/ops/arithmetic.py"

MUTATIONS = [
    ("core-pow-zero-exponent-masked-at-zero-only", ARI,
     "            base = where(np.asanyarray(y == 0) & (np.abs(array_of(x)) < tiny), 1, x)",
     "            base = where(np.asanyarray(y == 0) & np.asanyarray(x == 0), 1, x)", EXTREMES,
     "∂(x⁰)/∂x at x = 1e-310 is 0 · ∞ = nan, not 0"),
    ("core-div-divisor-squared", ARI,
     "        grad_y = -grad * ((x / y) / y) if need_y else None",
     "        grad_y = -grad * x / (y * y) if need_y else None", EXTREMES,
     "∂(x/y)/∂y through y², which overflows (x = y = 1e200: 0, not −1e-200) or underflows (x = y = 1e-170: −∞)"),
]  # fmt: skip
