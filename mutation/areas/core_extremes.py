"""Deliberate bugs in derivatives at extreme magnitudes, where a textbook formula overflows,
underflows or rounds away what it needs (``tests/core/test_extreme_magnitudes.py``):
(id, file, old text, new text, tests, why)."""

from __future__ import annotations

EXTREMES = ("tests/core/test_extreme_magnitudes.py",)
ARI = "autograd_nn/ops/arithmetic.py"
MATH = "autograd_nn/ops/elementwise_math.py"
TRIG = "autograd_nn/ops/trigonometric.py"
EXP = "autograd_nn/ops/exp_log.py"
NORM = "autograd_nn/ops/norm.py"
COMP = "autograd_nn/ops/composite.py"
RED = "autograd_nn/ops/reduction.py"
CLASSIFY = "autograd_nn/ops/loss_classification.py"

MUTATIONS = [
    ("core-pow-zero-exponent-masked-at-zero-only", ARI,
     "            base = where(np.asanyarray(y == 0) & (np.abs(array_of(x)) < tiny), 1, x)",
     "            base = where(np.asanyarray(y == 0) & np.asanyarray(x == 0), 1, x)", EXTREMES,
     "∂(x⁰)/∂x at x = 1e-310 is 0 · ∞ = nan, not 0"),
    ("core-div-divisor-squared", ARI,
     "        grad_y = -grad * ((x / y) / y) if need_y else None",
     "        grad_y = -grad * x / (y * y) if need_y else None", EXTREMES,
     "∂(x/y)/∂y through y², which overflows (x = y = 1e200: 0, not −1e-200) or underflows (x = y = 1e-170: −∞)"),
    ("core-hypot-cotangent-over-hypotenuse", MATH,
     "        return (grad * (x / z) if need_x else None), (grad * (y / z) if need_y else None)",
     "        return (grad / z * x if need_x else None), (grad / z * y if need_y else None)", EXTREMES,
     "hypot's δz / z overflows for z < 5.6e-309: hypot(0, 1e-310) has δx = nan and δy = ∞, not 0 and 1"),
    ("core-arctan2-squared-radius", TRIG,
     "        r = ctx.xp.hypot(x, y)", "        r = ctx.xp.sqrt(x * x + y * y)", EXTREMES,
     "arctan2's slopes through x² + y², which is 0 for arctan2(0, 1e-200) (δy = ∞, not 1e200)"),
    ("core-logaddexp-slope-through-output", EXP,
     "        return (grad / (1 + exp(y - x)) if need_x else None), (grad / (1 + exp(x - y)) if need_y else None)",
     "        z = np.logaddexp(x, y)\n"
     "        return (grad * exp(x - z) if need_x else None), (grad * exp(y - z) if need_y else None)", EXTREMES,
     "logaddexp's slopes e^(x − z): z = x + ln 2 rounds to x at x = y = 1e20, and the slopes sum to 2"),
    ("core-logaddexp2-slope-through-output", EXP,
     "        return (grad / (1 + exp2(y - x)) if need_x else None), (grad / (1 + exp2(x - y)) if need_y else None)",
     "        z = np.logaddexp2(x, y)\n"
     "        return (grad * exp2(x - z) if need_x else None), (grad * exp2(y - z) if need_y else None)", EXTREMES,
     "logaddexp2's slopes 2^(x − z): at x = y = 1e20 they sum to 2"),
    ("core-norm-vanished-slope-kept", NORM,
     "        grad = xp.where(vanished, 0, grad.reshape(ctx.kept_shape))", "        grad = grad.reshape(ctx.kept_shape)",
     EXTREMES, "norm(ord=-1) of [0, 1] (z = 0) has δx₁ = 1, not 0; norm of [1e-200, 1e-200] (underflow) has δx = x"),
    ("core-norm-zero-element-powered", NORM,
     "        magnitude = xp.where(np.asanyarray(x == 0), 1, xp.abs(x))", "        magnitude = xp.abs(x)", EXTREMES,
     "norm(ord=0.5) of [0, 1, −4]: δx₀ = sign(0) · 0^(−½) = nan, not PyTorch's 0"),
    ("core-std-through-sqrt-of-var", COMP,
     "    return VectorNorm.apply(deviation, ord=2, axis=axis, keepdims=keepdims) * scale",
     "    return ((deviation * deviation).sum(axis=axis, keepdims=keepdims) * (scale * scale)).sqrt()", EXTREMES,
     "std of a constant slice has δx = ∞ · 0 = nan (√ at var = 0), not PyTorch's 0"),
    ("core-logsumexp-slope-through-output", RED,
     "        return _spread(ctx, grad) * (e / e.sum(axis=ctx.axes, keepdims=True))",
     "        z = np.log(np.exp(x - ctx.top).sum(axis=ctx.axes, keepdims=True)) + ctx.top\n"
     "        return _spread(ctx, grad) * ctx.xp.exp(x - z)", EXTREMES,
     "logsumexp's slopes e^(x − z): z = max + ln 2 rounds to the max at x = [1e20, 1e20], and the slopes sum to 2"),
    # softplus(−|z|) never reaches the cut-off: the bug is re-targeted as softplus(z) − z·y with it
    ("core-bce-logits-softplus-cut-off", CLASSIFY,
     "        loss = folded.softplus(threshold=math.inf) - input * (target - above)",
     "        loss = input.softplus() - input * target", EXTREMES,
     "binary_cross_entropy_with_logits at z = 20.5, y = 1: loss and δz 0, not 1.25e-9 and −1.25e-9"),
    ("core-bce-logits-pos-weight-softplus-cut-off", CLASSIFY,
     "        loss = folded.softplus(threshold=math.inf) * ((q - 1) * target + 1) + input * (\n"
     "            above - target * (above + (1 - above) * q))",
     "        loss = input - input * target + (-input).softplus() * ((q - 1) * target + 1)", EXTREMES,
     "binary_cross_entropy_with_logits with pos_weight at z = −20.5, y = 0: loss and δz 0, not 1.25e-9"),
    ("core-sigmoid-tanh-form", "autograd_nn/ops/activation.py",
     "        np.exp(e, out=e)  # in place: one array for the whole formula\n        e += 1\n        return np.divide(1, e, out=e)",
     "        np.tanh(z * 0.5, out=e)\n        e += 1\n        e *= 0.5\n        return e", ("tests/core/test_stability.py",),
     "σ(z) as ½(1 + tanh(z/2)): exactly 0 from z ≈ −17 in float32, so BCE on σ(z) costs 100 instead of 17.5"),
]  # fmt: skip
