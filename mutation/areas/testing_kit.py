"""Deliberate bugs in the testing kit (``autograd_nn/testing/``) and in what ops declare to
it: (id, file, old text, new text, tests, why)."""

from __future__ import annotations

STRAT = "autograd_nn/testing/strategies.py"
CONTRACT = "autograd_nn/testing/contract.py"
KIT = ("tests/testing/test_testing_kit.py",)
NORM_DRAWS = "tests/core/test_op_properties.py::test_norm_inputs_are_drawn_distinct_in_absolute_value"
CUMPROD_EDGE = "tests/core/test_op_properties.py::test_cumprod_at_the_edge_of_its_domain_is_within_reach_of_finite_differences"

MUTATIONS = [
    # ---------------------------------------------- distinct absolute values (norm's ord=inf)
    ("testing-contract-distinct-abs-ignored", CONTRACT,
     "absolute=spec.distinct_abs)", "absolute=False)",
     ("tests/testing/test_contract_api.py", NORM_DRAWS),
     "the contract draws distinct_abs ops' inputs only distinct as values: −2.998 beside 2.998 ties in |x|"),
    ("testing-arrays-distinct-abs-ignored", STRAT,
     "distinct_values([s], domain, avoid=avoid, absolute=distinct_abs)", "distinct_values([s], domain, avoid=avoid)",
     KIT, "ats.arrays(distinct_abs=True) draws values that may tie in |x|"),
    ("testing-distinct-abs-positive-only", STRAT,
     "(1.0 if signs is None else draw(st.sampled_from(signs[k])))", "(1.0 if signs is None else signs[k][0])",
     KIT, "distinct |x| drawn without their signs: every value positive where the domain allows it"),
    ("testing-distinct-abs-sign-outside-domain", STRAT,
     "if any(lo < sign * m < hi for lo, hi in domain)", "if any(lo < m < hi for lo, hi in domain)",
     KIT, "a magnitude takes a sign the domain excludes: −0.5 drawn for a domain (0.1, 2)"),
    ("testing-norm-declares-plain-distinct", "autograd_nn/ops/norm.py",
     "shapes=_norm_composite_shapes, distinct_abs=True,", "shapes=_norm_composite_shapes, distinct=True,",
     (NORM_DRAWS,), "norm's inputs may tie in |x|, the kink of ord=inf and ord=-inf (the contract test's flake)"),
    ("testing-kink-push-rounds-short", STRAT,
     "    while abs(value - kink) < margin:\n", "    while False:\n", KIT,
     "a value pushed off a kink lands 1e-16 short of the margin (−1.25 + 0.001)"),
    ("testing-cumprod-domain-too-wide", "autograd_nn/ops/scan.py",
     'shapes=_scan_shapes, domain=(-1.5, 1.5), functions="cumprod",', 'shapes=_scan_shapes, functions="cumprod",',
     (CUMPROD_EDGE,), "cumprod's contract draws from [−3, 3], where products up to 3²⁷ make gradgradcheck fail "
     "on correct gradients (the contract test's flake under many examples)"),
]  # fmt: skip
