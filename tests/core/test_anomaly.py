"""Anomaly mode: a nan or inf from a derivative names the op and the line that made it."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.engine import run_backward


def _line_of(marker: str) -> int:
    """The number of the line in this file that holds ``marker`` (twice: here and there)."""
    source, _ = inspect.getsourcelines(inspect.getmodule(_line_of))
    return next(i + 1 for i, line in enumerate(source) if marker in line and "_line_of" not in line)


def test_a_nan_in_backward_names_the_op_and_the_line_of_this_test():
    x = ag.tensor([-1.0, 4.0], requires_grad=True)
    with ag.detect_anomaly(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = x.sqrt() * 2.0  # ANOMALY-MARKER: the square root of a negative number
        with pytest.raises(ag.AnomalyError) as caught:
            y.sum().backward()
    message = str(caught.value)
    assert "the derivative of Sqrt returned nan for input 0 (shape (2,))" in message
    assert f'File "{__file__}", line {_line_of("ANOMALY-MARKER")}, in ' in message
    assert "y = x.sqrt() * 2.0  # ANOMALY-MARKER" in message
    assert x.grad is None


def test_an_inf_is_caught_too_and_the_decorator_form_works():
    @ag.detect_anomaly()
    def run():
        z = ag.tensor([0.0, 1.0], requires_grad=True)
        with np.errstate(divide="ignore"):
            z.sqrt().sum().backward()  # INF-MARKER

    with pytest.raises(ag.AnomalyError, match=r"the derivative of Sqrt returned inf") as caught:
        run()
    assert f"line {_line_of('z.sqrt().sum().backward()  # INF-MARKER')}" in str(caught.value)
    assert not ag.is_anomaly_enabled()


def test_nodes_recorded_without_anomaly_mode_say_how_to_find_their_line():
    x = ag.tensor([0.0], requires_grad=True)
    y = x.sqrt()
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError, match="turn on detect_anomaly before the forward"):
        with np.errstate(divide="ignore"):
            y.backward()


def test_off_it_records_no_trace_and_checks_nothing():
    x = ag.tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = x.sqrt() * 2.0
        assert y.grad_fn.trace is None and y.grad_fn.parents[0].trace is None
        y.backward()  # a nan gradient, silently, as numpy would
    assert np.isnan(x.grad.data).all()
    with ag.detect_anomaly():
        z = x * 2.0
    assert z.grad_fn.trace.lineno > 0


def test_set_detect_anomaly_switches_it_for_this_thread():
    ag.set_detect_anomaly(True)
    try:
        assert ag.is_anomaly_enabled()
    finally:
        ag.set_detect_anomaly(False)
    assert not ag.is_anomaly_enabled()
    with ag.set_detect_anomaly(True):
        assert ag.is_anomaly_enabled()
    assert not ag.is_anomaly_enabled()


def test_anomaly_checks_grad_and_create_graph_sweeps_as_well():
    x = ag.tensor([0.0], requires_grad=True)
    with ag.detect_anomaly(), np.errstate(divide="ignore", invalid="ignore"):
        y = (x * x).sqrt()  # √(x²): the derivative x/√(x²) is nan at 0
        with pytest.raises(ag.AnomalyError, match="derivative of Sqrt returned inf"):
            ag.grad(y.sum(), x, create_graph=True)


def test_finite_gradients_pass_and_the_engine_sees_no_observer_when_off():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with ag.detect_anomaly():
        (x.exp() * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp(x.data) * (1 + x.data))
    # a plain sweep takes no observer at all: anomaly mode adds its checks only when on
    leaf = ag.tensor([1.0], requires_grad=True)
    out = leaf * 3.0
    grads = run_backward([out.grad_fn], [np.ones(1)], retain_graph=False, create_graph=False)
    assert grads[id(leaf)][1].tolist() == [3.0]


def test_check_nan_false_lets_a_nan_through_as_pytorch_does():
    x = ag.tensor([-1.0, 4.0], requires_grad=True)
    with ag.detect_anomaly(check_nan=False), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x.sqrt().sum().backward()
    assert np.isnan(x.grad.data[0]) and x.grad.data[1] == 0.25  # ½ / √4
