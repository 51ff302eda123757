"""The testing kit tested on itself: gradcheck and gradgradcheck catch wrong derivatives
and say where; the strategies draw what they promise; op_test enrols a user's op; the
docs' examples run; hypothesis stays optional."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_nn as ag
from autograd_nn.registry import OP_REGISTRY
from autograd_nn.testing import GradcheckError, GradcheckWarning, gradcheck, gradgradcheck
from autograd_nn.testing import strategies as ats
from autograd_nn.testing.contract import OpContractError, check_op, op_test

ROOT = Path(__file__).resolve().parents[2]


def _cube_with_backward(backward):
    class Cube(ag.Function):
        """a = z³"""

        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z**3

    Cube.backward = staticmethod(backward)
    return Cube


def _right(ctx, grad):
    (z,) = ctx.saved
    return grad * 3 * z * z


def _x(shape=(3, 4), seed=0):
    return ag.tensor(np.random.default_rng(seed).uniform(-2, 2, shape), requires_grad=True)


# ---------------------------------------------------------------------------- gradcheck
def test_gradcheck_passes_correct_derivatives_of_any_output_shape():
    x, w = _x(), _x((4, 2), seed=1)
    assert gradcheck(_cube_with_backward(_right).apply, [x])
    assert gradcheck(lambda x, w: (x @ w).tanh(), [x, w])  # a matrix output
    assert gradcheck(lambda x: (x.sigmoid().sum(), x.exp()), [x])  # two outputs
    assert gradcheck(lambda x, c: x * c, [x, np.full((3, 4), 2.5)])  # a constant input
    assert gradcheck(lambda x: x.max(axis=1), x)  # a single tensor for inputs


def test_gradcheck_reports_a_wrong_factor_with_analytic_and_numeric_values():
    wrong = _cube_with_backward(lambda ctx, grad: grad * 2 * ctx.saved[0] ** 2)  # should be 3z²
    x = _x()
    with pytest.raises(GradcheckError) as caught:
        gradcheck(wrong.apply, [x])
    message = str(caught.value)
    assert "gradcheck: the gradient for input 0 (shape (3, 4))" in message
    assert "at 12 of 12 element(s)" in message
    assert re.search(r"max abs error [\d.e+-]+, max rel error 0\.333", message)
    pairs = re.findall(r"element \((\d), (\d)\): analytic (\S+), numeric (\S+) ", message)
    assert len(pairs) == 5  # the five worst, then a count of the rest
    assert "... and 7 more" in message
    for _, _, analytic, numeric in pairs:
        assert float(analytic) / float(numeric) == pytest.approx(2 / 3, rel=1e-6)


def test_gradcheck_names_the_one_wrong_element_and_the_input():
    def backward(ctx, grad):
        (z,) = ctx.saved
        bump = np.zeros(z.shape)
        bump[1, 2] = 1.0
        return grad * 3 * z * z + bump  # wrong at element (1, 2) only

    wrong = _cube_with_backward(backward)
    x, y = _x(seed=2), _x(seed=3)
    y.name = "weights"
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x, y: x * 2 + wrong.apply(y), [x, y])
    message = str(caught.value)
    assert "input 1 ('weights', shape (3, 4))" in message
    assert "at 1 of 12 element(s)" in message
    (line,) = [line for line in message.splitlines() if "element (" in line]
    analytic, numeric = map(float, re.search(r"analytic (\S+), numeric (\S+) ", line).groups())
    assert line.startswith("  element (1, 2):")
    assert abs(analytic - numeric) == pytest.approx(1.0, rel=1e-6)  # the bump, not a rounding
    assert not gradcheck(lambda x, y: x * 2 + wrong.apply(y), [x, y], raise_exception=False)


def _weighted_sum_with_backward_off_by(relative: float, absolute: float = 0.0):
    """L = Σ c·x, whose backward is wrong by a known factor and offset: (1 + relative)·c + absolute.

    L is linear, so central differences are exact up to rounding (~1e-10): the error that
    gradcheck sees is the one put here, whatever the random cotangent.
    """

    class WeightedSum(ag.Function):
        @staticmethod
        def forward(ctx, x, c):
            ctx.c = c
            return np.sum(c * x)

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.c * (1 + relative) + absolute, None

    return WeightedSum


WEIGHTS = np.array([[0.5, -1.0, 2.0], [3.0, -0.75, 1.25]])


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck], ids=["gradcheck", "gradgradcheck"])
def test_the_defaults_accept_exact_derivatives_of_every_size(check):
    # exact derivatives from 1e-6 to 1e4, inputs of either sign: no false alarm at the defaults
    x = ag.tensor(np.array([-9.0, -2.0, -0.5, 1e-3, 0.7, 2.5, 9.2]), requires_grad=True)
    assert check(lambda x: x.exp(), [x])
    assert check(lambda x: (x * x * x) * 1e-6, [x])
    assert check(lambda x: x.tanh() * x.sigmoid(), [x])


def test_gradcheck_defaults_reject_a_one_percent_error():
    x = ag.tensor(np.ones((2, 3)), requires_grad=True)
    assert gradcheck(_weighted_sum_with_backward_off_by(0.0).apply, [x, WEIGHTS])
    with pytest.raises(GradcheckError, match=r"at 6 of 6 element\(s\).*max rel error 0\.01\b"):
        gradcheck(_weighted_sum_with_backward_off_by(0.01).apply, [x, WEIGHTS])
    with pytest.raises(GradcheckError):
        gradcheck(_weighted_sum_with_backward_off_by(-0.01).apply, [x, WEIGHTS])


def test_gradcheck_default_tolerances_are_atol_1e_5_and_rtol_1e_3():
    # |analytic − numeric| ≤ 1e-5 + 1e-3·|numeric|, pinned from both sides
    x = ag.tensor(np.ones((2, 3)), requires_grad=True)
    off = _weighted_sum_with_backward_off_by
    assert gradcheck(off(5e-4).apply, [x, WEIGHTS * 100])  # 0.05 %: within rtol
    assert not gradcheck(off(2e-3).apply, [x, WEIGHTS * 100], raise_exception=False)  # 0.2 %: beyond it
    zero = np.zeros((2, 3))  # a true gradient of 0: only atol is left
    assert gradcheck(off(0.0, absolute=5e-6).apply, [x, zero])
    assert not gradcheck(off(0.0, absolute=2e-5).apply, [x, zero], raise_exception=False)


def test_gradgradcheck_defaults_reject_a_one_percent_error_in_the_second_derivative():
    class SquareSecondOrderOff(ag.Function):
        """a = z²; its own derivative is 1 % too large: wrong only where it is differentiated again."""

        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z * z

        @staticmethod
        def backward(ctx, grad):
            (z,) = ctx.saved
            return grad * 2.02 * z

    class Cube(ag.Function):
        """a = z³; δz = δa·3z², where z² comes from SquareSecondOrderOff under create_graph."""

        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z**3

        @staticmethod
        def backward(ctx, grad):
            (z,) = ctx.saved
            square = SquareSecondOrderOff.apply(z) if isinstance(z, ag.Tensor) else z * z
            return grad * 3 * square

    x = _x((2, 3))
    assert gradcheck(Cube.apply, [x])  # the first derivative is right
    second_order = r"gradgradcheck: the gradient of vᵀ·∂fn/∂x .* for input 0 .*max rel error 0\.01\b"
    with pytest.raises(GradcheckError, match=second_order):
        gradgradcheck(Cube.apply, [x])


def test_gradcheck_reports_a_gradient_of_the_wrong_shape_or_dtype(monkeypatch):
    # The engine always hands back input-shaped gradients; gradcheck checks it anyway, so a
    # broken engine is reported, not compared element by element by accident.
    kit = importlib.import_module("autograd_nn.testing.gradcheck")  # the module, not the function

    real = kit.grad
    x = _x((2, 3))
    monkeypatch.setattr(kit, "grad", lambda *a, **k: tuple(g.reshape(3, 2) for g in real(*a, **k)))
    with pytest.raises(GradcheckError, match=r"has shape \(3, 2\) and dtype float64; expected shape \(2, 3\)"):
        gradcheck(lambda x: x * 2, [x])
    monkeypatch.setattr(kit, "grad", lambda *a, **k: tuple(g.astype(np.float32) for g in real(*a, **k)))
    assert gradcheck(lambda x: x * 2, [x], raise_exception=False) is False


def test_gradcheck_treats_a_nan_gradient_as_wrong():
    nan_grad = _cube_with_backward(lambda ctx, grad: grad * np.nan)
    with pytest.raises(GradcheckError, match="analytic nan"):
        gradcheck(nan_grad.apply, [_x((2,))])


def test_gradcheck_catches_a_missing_gradient():
    class ForgetsY(ag.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved
            return grad * y, None  # forgets δy = δz · x

    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(2,\)\).*\n  element \(\d,\): analytic 0,"):
        gradcheck(ForgetsY.apply, [_x((2,)), _x((2,), seed=1)])


def test_gradcheck_warns_for_float32_and_passes_with_float64():
    x32 = ag.tensor(np.array([0.5, 1.0], dtype=np.float32), requires_grad=True)
    with pytest.warns(GradcheckWarning, match=r"input 0 \(shape \(2,\)\) is float32.*float64"):
        gradcheck(lambda x: x * 3, [x32], raise_exception=False)
    with np.testing.assert_no_warnings():
        gradcheck(lambda x: x * 3, [ag.tensor([0.5, 1.0], requires_grad=True)])


def test_gradcheck_refuses_a_random_function():
    rng = np.random.default_rng(0)
    with pytest.raises(GradcheckError, match="not deterministic"):
        gradcheck(lambda x: x * rng.random(), [_x((2,))])


def test_gradcheck_refuses_inputs_without_grad_and_unknown_schemes():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda x: x * 2, [ag.tensor([1.0])])
    with pytest.raises(ValueError, match="unknown scheme 'complex'"):
        gradcheck(lambda x: x * 2, [_x((2,))], scheme="complex")


def test_gradcheck_handles_views_and_read_only_data_and_restores_inputs():
    base = np.random.default_rng(0).standard_normal((3, 2))
    transposed = ag.Tensor(base.T, requires_grad=True)  # a non-contiguous view
    read_only = ag.Tensor(np.broadcast_to(np.array([0.5, -1.0, 2.0]), (2, 3)), requires_grad=True)
    kept = [transposed.data, read_only.data]
    values = [a.copy() for a in kept]
    assert gradcheck(lambda a, b: a[:2] * b.exp(), [transposed, read_only])
    assert transposed.data is kept[0] and read_only.data is kept[1]
    np.testing.assert_array_equal(transposed.data, values[0])
    np.testing.assert_array_equal(read_only.data, values[1])
    assert transposed.grad is None and read_only.grad is None


def test_five_point_scheme_is_more_accurate_at_the_same_step():
    x = ag.tensor(np.linspace(-2, 2, 7), requires_grad=True)
    # at ε = 1e-3 the central error is ε²/6·e^x ≈ 1e-7 relative; five-point ≈ ε⁴/30
    assert gradcheck(lambda x: x.exp(), [x], eps=1e-3, atol=0, rtol=1e-9, scheme="five_point")
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: x.exp(), [x], eps=1e-3, atol=0, rtol=1e-9, scheme="central")
    assert gradcheck(lambda x: x.exp(), [x], eps=1e-3, atol=0, rtol=1e-6, scheme="central")


# ------------------------------------------------------------------------ gradgradcheck
def test_gradgradcheck_passes_correct_second_derivatives():
    x, w = _x(), _x((4, 2), seed=1)
    assert gradgradcheck(_cube_with_backward(_right).apply, [x])
    assert gradgradcheck(lambda x, w: (x @ w).softmax(axis=0), [x, w])
    assert gradgradcheck(lambda x: (x.log_softmax(), x.sigmoid()), [x])


def test_gradgradcheck_catches_a_backward_that_freezes_its_saved_input():
    # np.asarray turns the saved Tensor into a constant under create_graph: the first
    # derivative is right, the second (d/dz of 3z²) is lost.
    frozen = _cube_with_backward(lambda ctx, grad: grad * 3 * np.asarray(ctx.saved[0]) ** 2)
    x = _x((2, 2))
    assert gradcheck(frozen.apply, [x])
    with pytest.raises(GradcheckError, match=r"gradgradcheck: the gradient of vᵀ·∂fn/∂x .* for input 0"):
        gradgradcheck(frozen.apply, [x])


def test_gradgradcheck_catches_a_backward_that_freezes_the_incoming_gradient():
    frozen = _cube_with_backward(lambda ctx, grad: np.asarray(grad) * 3 * ctx.saved[0] ** 2)
    x = _x((2, 2))
    assert gradcheck(frozen.apply, [x])
    with pytest.raises(GradcheckError, match=r"for grad_outputs\[0\] \(shape \(2, 2\)\)"):
        gradgradcheck(frozen.apply, [x])


def test_gradgradcheck_with_given_grad_outputs():
    x = _x((3,))
    assert gradgradcheck(lambda x: x**3, [x], grad_outputs=[np.array([1.0, -2.0, 0.5])])
    with pytest.raises(ValueError, match="got 2 grad_outputs for 1 output"):
        gradgradcheck(lambda x: x**3, [x], grad_outputs=[np.ones(3), np.ones(3)])


# --------------------------------------------------------------------------- strategies
@given(st.data())
def test_strategies_draw_valid_shapes_axes_and_indices(data):
    min_side = data.draw(st.sampled_from([0, 1]))
    shape = data.draw(ats.shapes(max_dims=3, min_side=min_side, max_side=4))
    assert len(shape) <= 3 and all(min_side <= n <= 4 for n in shape)
    a = np.zeros(shape)
    np.sum(a, axis=data.draw(ats.valid_axes(a.ndim)))
    a[data.draw(ats.basic_indices(shape))]
    if shape:
        a[data.draw(ats.indices(shape))]
        np.transpose(a, data.draw(ats.permutations(a.ndim)))
    np.reshape(a, data.draw(ats.reshape_targets(shape)))
    np.broadcast_to(a, data.draw(ats.broadcast_targets(shape)))
    np.broadcast_shapes(*data.draw(ats.broadcastable_shapes(3)))
    x_shape, y_shape = data.draw(ats.matmul_shapes())
    np.matmul(np.zeros(x_shape), np.zeros(y_shape))


@given(ats.tensors(shape=(5, 5), elements=ats.elements(-1, 1, avoid=[0.0, 0.5]), requires_grad=True))
def test_tensors_keep_away_from_kinks(x):
    assert x.requires_grad and x.dtype == np.float64 and x.shape == (5, 5)
    assert np.all((x.data >= -1) & (x.data <= 1))
    assert np.min(np.abs(x.data)) >= ats.KINK_MARGIN and np.min(np.abs(x.data - 0.5)) >= ats.KINK_MARGIN


@given(ats.tensors(shape=ats.shapes(min_dims=1), elements=(-1.0, 1.0), distinct=True))
def test_distinct_tensors_have_no_near_ties(x):
    values = np.sort(x.data.ravel())
    assert values.size < 2 or np.diff(values).min() >= ats.KINK_MARGIN


def _gaps(values):
    values = np.sort(np.ravel(values))
    return np.diff(values) if values.size > 1 else np.array([np.inf])


@settings(max_examples=400)
@given(ats.tensors(shape=ats.shapes(min_dims=1), elements=(-3.0, 3.0), distinct_abs=True))
def test_distinct_abs_tensors_have_no_near_ties_in_absolute_value(x):
    # The tie that broke norm(ord=inf): −2.998 beside 2.998, apart as values, equal as |x|.
    assert np.all((x.data > -3.0) & (x.data < 3.0))
    assert _gaps(np.abs(x.data)).min() >= ats.KINK_MARGIN and np.abs(x.data).min() >= ats.KINK_MARGIN


DOMAINS = [((-3.0, -0.5), (0.5, 3.0)), ((0.1, 2.0),), ((-2.0, 1.0),)]  # a union, one-signed, lopsided


@settings(max_examples=400)
@given(st.data())
def test_distinct_values_by_abs_hold_across_arrays_domains_and_kinks(data):
    shapes = [data.draw(ats.shapes(max_dims=2)) for _ in DOMAINS]
    arrays = data.draw(ats.distinct_values(shapes, DOMAINS, avoid=[0.75, -1.25], absolute=True))
    for a, shape, domain in zip(arrays, shapes, DOMAINS):
        assert a.shape == shape and a.dtype == np.float64
        assert all(any(lo < v < hi for lo, hi in domain) for v in a.ravel()), (a, domain)
    flat = np.concatenate([a.ravel() for a in arrays])
    assert _gaps(np.abs(flat)).min() >= ats.KINK_MARGIN  # across arrays too
    assert _gaps(flat).min() >= ats.KINK_MARGIN  # so the values are apart as well
    if flat.size:
        assert np.abs(flat).min() >= ats.KINK_MARGIN
        assert np.abs(flat - 0.75).min() >= ats.KINK_MARGIN and np.abs(flat + 1.25).min() >= ats.KINK_MARGIN


def test_distinct_values_by_abs_still_draw_both_signs():
    # Distinct |x| with all signs positive would be a weaker test of the ops that use it.
    from hypothesis import find

    mixed = find(ats.arrays((4,), elements=(-3.0, 3.0), distinct_abs=True), lambda a: (a < 0).any() and (a > 0).any())
    assert (mixed < 0).any() and (mixed > 0).any() and _gaps(np.abs(mixed)).min() >= ats.KINK_MARGIN


def test_a_value_pushed_off_a_kink_keeps_the_whole_margin():
    # The grid of (−1.2515, −1.2465) is the one point −1.2495, 0.0005 from the kink −1.25, so
    # it is pushed to −1.25 + 0.001: 0.00099999999999989 away in floats unless an ulp further.
    from hypothesis import find

    (x,) = find(ats.distinct_values([()], [(-1.2515, -1.2465)], avoid=[-1.25]), lambda xs: True)
    assert abs(float(x) + 1.25) >= ats.KINK_MARGIN and abs(float(x) + 1.249) < 1e-12


@given(ats.tensors(elements=ats.positive()), ats.tensors(elements=ats.probabilities(), dtype=np.float32))
def test_restricted_domains(p, q):
    assert np.all(p.data >= 0.1) and not p.requires_grad
    assert q.dtype == np.float32 and np.all((q.data >= 0.01) & (q.data <= 0.99))


# ------------------------------------------------------------------ enrolling your own op
def test_op_test_enrols_a_registered_user_op_and_runs_it():
    @ag.register_op(reference=lambda z: z / (1 + np.exp(-z)), domain=(-6, 6))
    class Swish(ag.Function):
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z * ag.functional.sigmoid(z).data

        @staticmethod
        def backward(ctx, grad):
            (z,) = ctx.saved
            s = ctx.xp.sigmoid(z)
            return grad * (s + z * s * (1 - s))

    try:
        test = op_test(Swish)
        assert test.__name__ == "test_Swish_contract"
        test()
    finally:
        del OP_REGISTRY[f"{Swish.__module__}.{Swish.__qualname__}"]


def test_op_test_fails_a_user_op_with_a_wrong_derivative_naming_the_example():
    wrong = _cube_with_backward(lambda ctx, grad: grad * ctx.saved[0] ** 2)
    test = op_test(wrong, reference=lambda z: z**3, max_examples=5)
    with pytest.raises(OpContractError, match=r"Cube with input shapes \[.*\], params \{\}.*\ngradcheck: "):
        test()


def test_check_op_catches_a_forward_that_disagrees_with_its_reference():
    off = _cube_with_backward(_right)

    @given(st.data())
    @settings(max_examples=5, database=None)
    def run(data):
        check_op(off, data.draw, reference=lambda z: z**3 + 1e-6)

    with pytest.raises(OpContractError, match="forward vs reference"):
        run()


def test_check_op_catches_an_op_that_writes_into_its_input():
    class Doubles(ag.Function):
        @staticmethod
        def forward(ctx, z):
            z *= 2  # overwrites the caller's array
            return z.copy()

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    @given(st.data())
    @settings(max_examples=5, database=None)
    def run(data):
        check_op(Doubles, data.draw, reference=lambda z: 2 * z)

    with pytest.raises(OpContractError, match="Doubles with input shapes"):
        run()


def test_op_test_refuses_an_incomplete_spec():
    class Scaled(ag.Function):
        @staticmethod
        def forward(ctx, z, *, factor):
            return z * factor

    with pytest.raises(ValueError, match="parameter 'factor' of Scaled is never drawn"):
        op_test(Scaled, reference=lambda z, factor: z * factor)
    with pytest.raises(LookupError, match="Scaled is not registered"):
        op_test(Scaled)


# ------------------------------------------------------------------------ packaging, docs
def test_hypothesis_is_optional_for_autograd_nn_and_gradcheck():
    script = textwrap.dedent(
        """
        import sys
        sys.modules["hypothesis"] = None  # as if it were not installed
        import autograd_nn as ag
        import autograd_nn.testing
        from autograd_nn.testing import gradcheck, gradgradcheck
        x = ag.tensor([0.5, -1.0], requires_grad=True)
        assert gradcheck(lambda x: x.tanh(), [x]) and gradgradcheck(lambda x: x.tanh(), [x])
        try:
            autograd_nn.testing.strategies
        except ModuleNotFoundError as error:
            print(error)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "needs hypothesis: pip install 'autograd-nn[testing]'" in result.stdout


def test_pyproject_declares_hypothesis_as_the_testing_extra():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: tomli, the reader tomllib came from (pytest needs it there)
        import tomli as tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("hypothesis") for d in project["dependencies"])
    extras = project["optional-dependencies"]
    assert any(d.startswith("hypothesis") for d in extras["testing"])
    assert any(d.startswith("hypothesis") for d in extras["dev"])


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), flags=re.S | re.M)


def test_every_python_example_in_docs_testing_md_runs():
    blocks = _python_blocks(ROOT / "docs" / "testing.md")
    assert len(blocks) >= 5
    namespace = {"__name__": "docs_testing"}
    try:
        for number, block in enumerate(blocks, 1):
            try:
                exec(compile(block, f"docs/testing.md block {number}", "exec"), namespace)
            except Exception as error:
                raise AssertionError(f"docs/testing.md python block {number} failed: {error!r}\n{block}") from error
    finally:
        for key in [k for k in OP_REGISTRY if k.startswith("docs_testing.")]:
            del OP_REGISTRY[key]


def test_gradcheck_of_a_function_that_returns_its_input():
    # Regression: outputs aliasing the perturbed input made every difference zero.
    x = _x((2, 3))
    assert gradcheck(lambda x: x, [x])
    assert gradgradcheck(lambda x, y: x + y, [ag.tensor(np.ones((2, 3))), x])
