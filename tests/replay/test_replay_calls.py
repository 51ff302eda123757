"""How a replay writes its calls: ufunc outputs passed positionally, Python numbers as 0-d
arrays of the call's dtype, consecutive calls under one errstate in one block. Each must
leave every value (and warning) as the eager call had it.

NEP 50 casts a Python number to the other operands' dtype, so a 0-d array of that dtype is
the same operand; the tests pick the numbers where a careless conversion would show: values
float32 cannot hold exactly (0.1, 2²⁴ + 1), both zeros, a number beyond float16's range, and
an exponent ldexp needs as an integer. The reference is the same function run eagerly."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import autograd_nn as ag


def _bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()  # equal bytes: equal values, signs of zero and nans included


def _replayed(fn, *args):
    fast = ag.compile(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ag.CompileWarning)  # a program the check refuses: eager, with this warning
        results = [fast(*args) for _ in range(4)]
    assert fast.replays >= 2 and fast.eager_because is None
    return fast, results


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # float16's x · 70000 is ±∞ (0 · ∞ is nan), eager and replayed
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_numbers_of_every_kind_replay_to_the_eager_bits(dtype):
    data = np.array([1.5, -0.0, 0.0, -2.25, 3e-3, 7.0], dtype)
    x = ag.tensor(data)

    def f(x):
        a = x * 0.1 + 16777217  # neither is exact in float16/float32
        b = (x + -0.0) * 3 - (x + 0.0)  # −0.0 and 0.0 are different operands (−0 + −0 = −0)
        c = 1 - x * x / 7
        return a, b, c, x * 70000.0  # 70000 overflows float16: numpy's rules, not a 0-d array

    fast, results = _replayed(f, x)
    expected = f(x)
    for got in results:
        for g, e in zip(got, expected):
            assert g.dtype == e.dtype == dtype
            assert _bits(g.data) == _bits(e.data)
    assert np.signbit((x + -0.0).data[1]) and not np.signbit((x + 0.0).data[1])  # the data tells the zeros apart


def test_a_number_beside_two_dtypes_is_cast_as_numpy_casts_it():
    x32 = ag.tensor(np.array([1.0, 2.0, 3.0], np.float32))
    x64 = ag.tensor(np.array([0.5, 0.25, 0.125], np.float64))

    def f(a, b):
        return (a + b) * 0.1 - a * 0.1  # a float64 call, and a float32 one, with the same number

    fast, results = _replayed(f, x32, x64)
    expected = f(x32, x64)
    assert expected.dtype == np.float64
    for got in results:
        assert _bits(got.data) == _bits(expected.data)


def test_a_replay_of_a_chain_passes_outputs_positionally_and_numbers_as_arrays():
    c = ag.tensor(np.full(4, 1.01, np.float32))
    x = ag.tensor(np.linspace(-1, 1, 4, dtype=np.float32), requires_grad=True)

    def step():  # B1's chain (benchmarks/frameworks.py)
        y = x
        for _ in range(3):
            y = (y * c + 0.5).tanh()
        y.sum().backward()
        g, x.grad = x.grad, None
        return g

    fast, results = _replayed(step)
    source = fast.source()
    calls = [line.strip() for line in source.splitlines() if re.match(r"\s+(multiply|add|subtract|tanh)\(", line)]
    assert len(calls) >= 12
    assert not [line for line in calls if "out=" in line]  # multiply(a, b, out)
    assert not [line for line in calls if re.search(r"[(,] ?-?\d", line)]  # no Python number is converted per call
    assert "float32_0_5" in source and "float32_1" in source  # y·c + 0.5, and tanh′ = 1 − a²


class _Scale8(ag.Function):
    """a = z · 2³ through ldexp, whose exponent is an integer operand;  δz = 8 δa"""

    @staticmethod
    def forward(ctx, z):
        return np.ldexp(z, 3)

    @staticmethod
    def backward(ctx, grad):
        return grad * 8


def test_a_number_the_ufunc_takes_as_an_integer_stays_a_python_number():
    x = ag.tensor(np.array([0.5, -1.25, 3.0], np.float32), requires_grad=True)

    def step():
        y = _Scale8.apply(x)
        y.sum().backward()
        g, x.grad = x.grad, None
        return y, g

    fast, results = _replayed(step)
    for y, g in results:
        assert y.data.tolist() == [4.0, -10.0, 24.0] and g.data.tolist() == [8.0, 8.0, 8.0]
    assert "ldexp(" in fast.source()


class _Logs(ag.Function):
    """a = ln z + ln(z + 1) + ln(0 · z) + √(z − 2), with the warnings each handles silenced;  δz = δa (1/z + 1/(z + 1))

    Its calls run under three error states in turn: log under divide="ignore", a plain
    log, log under divide="ignore" again, sqrt under invalid="ignore". (The values are
    only for the forward; the derivative leaves out the terms it does not need here.)"""

    @staticmethod
    def forward(ctx, z):
        with np.errstate(divide="ignore"):
            a = np.log(z)
        b = np.log(z + 1)
        with np.errstate(divide="ignore"):
            c = np.log(z * 0)
        with np.errstate(invalid="ignore"):
            d = np.sqrt(z - 2)
        ctx.save_for_backward(z)
        return a + b + c + d

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad * (1 / z + 1 / (z + 1))


def test_calls_under_an_errstate_keep_theirs_and_only_theirs():
    x = ag.tensor(np.array([0.0, 1.0, 4.0]), requires_grad=False)

    def f(x):
        return _Logs.apply(x)

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # every warning here is one an errstate was meant to silence
        fast, results = _replayed(f, x)
        expected = f(x)
    for got in results:
        assert _bits(got.data) == _bits(expected.data)
    source = fast.source()
    assert source.count("with errstate") == 3  # two alike calls apart (a plain call between them), and a third
