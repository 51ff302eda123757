"""Deliberate bugs in ops far outside their contract domains, where the true value is
representable but a formula rounds it away (``tests/core/test_op_tails.py``):
(id, file, old text, new text, tests, why)."""

from __future__ import annotations

TAILS = ("tests/core/test_op_tails.py",)
EXP = "autograd_nn/ops/exp_log.py"
HYP = "autograd_nn/ops/hyperbolic.py"
TRIG = "autograd_nn/ops/trigonometric.py"
CLASSIFY = "autograd_nn/ops/loss_classification.py"

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
    ("tails-bce-logits-unfolded", CLASSIFY,
     "        loss = folded.softplus(threshold=math.inf) - input * (target - above)",
     "        loss = input.softplus(threshold=math.inf) - input * target", TAILS,
     "binary_cross_entropy_with_logits as softplus(z) − z·y: loss 0 at z = 40, y = 1, not 4.2e-18"),
    ("tails-bce-logits-pos-weight-unfolded", CLASSIFY,
     "        loss = folded.softplus(threshold=math.inf) * ((q - 1) * target + 1) + input * (\n"
     "            above - target * (above + (1 - above) * q))",
     "        loss = input - input * target + (-input).softplus(threshold=math.inf) * ((q - 1) * target + 1)", TAILS,
     "binary_cross_entropy_with_logits with pos_weight as z + softplus(−z) at y = 0: loss 0 at z = −40"),
    ("tails-bce-logits-fold-by-sign", CLASSIFY,
     "    folded = input * (1 - 2 * above)  # −|z|", "    folded = input * -input.sign()  # −|z|", TAILS,
     "binary_cross_entropy_with_logits folding z by −sign(z): the fold is 0 at z = 0, and δz = −y there, not ½ − y"),
    ("tails-bce-logits-mask-of-data", CLASSIFY,
     "    above = input.sign().relu()  # m = [z > 0]",
     "    above = (_array(input) > 0).astype(input.dtype)  # m = [z > 0]", ("tests/interop/test_onnx_models.py",),
     "binary_cross_entropy_with_logits's m = [z > 0] from .data: a constant of the example, export refuses the model"),
]  # fmt: skip
