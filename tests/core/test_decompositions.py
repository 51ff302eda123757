"""A fused op's declared decomposition (what the renderer and explain_backward read) computes
what the op computes: the same values and the same gradients, on inputs drawn from its spec."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_nn as ag
from autograd_nn.testing.contract import builtin_specs, draw_case

FUSED = [s for s in builtin_specs("primitive") if s.decomposition is not None]


def test_the_fused_ops_declare_decompositions():
    names = {s.name for s in FUSED}
    assert {"Linear", "MseLoss", "Standardize", "LstmStates", "GruStates", "RnnStates", "Embedding"} <= names


@pytest.mark.parametrize("spec", FUSED, ids=lambda s: s.name)
@given(data=st.data())
def test_a_decomposition_matches_its_fused_op(spec, data):
    case = draw_case(data.draw, spec)
    fused_inputs = [ag.tensor(a.copy(), requires_grad=True) for a in case.inputs]
    plain_inputs = [ag.tensor(a.copy(), requires_grad=True) for a in case.inputs]
    fused = spec.apply(*fused_inputs, **case.params)
    plain = spec.decomposition(*plain_inputs, **case.params)
    np.testing.assert_allclose(plain.data, fused.data, rtol=1e-10, atol=1e-12)
    cotangent = np.random.default_rng(case.seed).standard_normal(fused.shape)
    for a, b in zip(ag.grad(fused, fused_inputs, cotangent, allow_unused=True),
                    ag.grad(plain, plain_inputs, cotangent, allow_unused=True)):  # fmt: skip
        np.testing.assert_allclose(
            np.zeros(()) if b is None else b.data, np.zeros(()) if a is None else a.data, rtol=1e-9, atol=1e-11
        )
