"""Deliberate bugs in prod's and cumprod's derivatives where the quick z / x formula loses
bits to underflow (``ops/reduction.py``, ``ops/scan.py``): (id, file, old text, new text,
tests, why)."""

from __future__ import annotations

PRODUCTS = ("tests/core/test_products.py",)
RED = "autograd_nn/ops/reduction.py"
SCAN = "autograd_nn/ops/scan.py"

MUTATIONS = [
    ("core-prod-subnormal-product-divided", RED,
     "    return bool(np.all(np.abs(z) >= np.finfo(z.dtype).tiny))", "    return bool(np.all(z != 0))", PRODUCTS,
     "prod divides a subnormal product by x (1e-200 · 1e-123: δx₀ 1.2 % off)"),
    ("core-cumprod-subnormal-terms-divided", SCAN,
     "    return (np.abs(weighted) < np.finfo(weighted.dtype).tiny) & (grad != 0)",
     "    return (weighted == 0) & (grad != 0)", PRODUCTS,
     "cumprod divides δz · z by x when that term went subnormal (1e-200, 1e-123: δx₁ 1.2 % off)"),
    ("core-cumprod-underflow-unchecked", SCAN,
     "            if lost.any():\n                return _without_each",
     "            if False:\n                return _without_each", PRODUCTS,
     "cumprod of [5e-324] has gradient 0, not δz"),
    ("core-cumprod-underflow-before-a-zero-unchecked", SCAN,
     "        if (lost & before).any():", "        if False:", PRODUCTS,
     "cumprod of [5e-324, 0] gives x₀ gradient 0, not δz₀"),
]  # fmt: skip
