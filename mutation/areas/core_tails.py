"""Deliberate bugs in ops far outside their contract domains, where the true value is
representable but a formula rounds it away (``tests/core/test_op_tails.py``):
(id, file, old text, new text, tests, why)."""

from __future__ import annotations

TAILS = ("tests/core/test_op_tails.py",)
EXP = "autograd_nn/ops/exp_log.py"
HYP = "autograd_nn/ops/hyperbolic.py"
TRIG = "autograd_nn/ops/trigonometric.py"


MUTATIONS = [
    ("tails-expm1-slope-through-output", EXP,
     "        return grad * ctx.xp.exp(z)", "        return grad * (np.expm1(z) + 1)", TAILS,
     "expm1's slope a + 1 is 0 for z < −37 (−17 in float32), not eᶻ"),
    ("tails-arctanh-one-minus-square", HYP,
     "        return grad / ((1 - z) * (1 + z))", "        return grad / (1 - z * z)", TAILS,
     "arctanh's slope through 1 − z²: 1e6 ulps off at z = 1 − 1e-8"),
    ("tails-arccosh-square-minus-one", HYP,
     "        return grad / ctx.xp.sqrt((z - 1) * (z + 1))", "        return grad / ctx.xp.sqrt(z * z - 1)", TAILS,
     "arccosh's slope through z² − 1: 1e7 ulps off at z = 1 + 1e-8"),
    ("tails-arcsin-one-minus-square", TRIG,
     "        return grad / ctx.xp.sqrt((1 - z) * (1 + z))", "        return grad / ctx.xp.sqrt(1 - z * z)", TAILS,
     "arcsin's slope through 1 − z²: 1e6 ulps off at z = 1 − 1e-8"),
    ("tails-arccos-one-minus-square", TRIG,
     "        return -grad / ctx.xp.sqrt((1 - z) * (1 + z))", "        return -grad / ctx.xp.sqrt(1 - z * z)", TAILS,
     "arccos's slope through 1 − z²: 1e6 ulps off at z = 1 − 1e-8"),
]  # fmt: skip
