"""Keep-inputs mode (``grad_mode.KEEP_INPUTS``): each recorded node also keeps the values its forward
received, constants included (``Node.inputs``) — what an exporter needs and the graph
otherwise drops, since a constant has no edge. Off (the default), nothing is kept."""

from __future__ import annotations

import threading

import numpy as np

import autograd_nn as ag
from autograd_nn import grad_mode


def traced(fn):
    token = grad_mode.switch(grad_mode.current() | grad_mode.KEEP_INPUTS)
    try:
        return fn()
    finally:
        grad_mode.restore(token)


def test_nodes_keep_every_input_constants_too_in_trace_mode():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    frozen = np.array([3.0, 4.0])
    y = traced(lambda: (x * 0.5 + frozen).sum(axis=0))
    add = y.grad_fn.parents[0]
    mul = add.parents[0]
    assert add.parents[1] is None and add.inputs[1] is frozen  # the constant: no edge, but its value
    assert mul.inputs[0] is x.data and mul.inputs[1] == 0.5  # a Python scalar stays a scalar
    assert y.grad_fn.inputs[0].shape == (2,) and y.grad_fn.params["axis"] == 0
    y.backward()  # a traced graph is an ordinary graph
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 0.5])


def test_outside_trace_mode_nodes_keep_nothing_extra():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 0.5 + np.array([3.0, 4.0])
    assert y.grad_fn.inputs is None and y.grad_fn.parents[0].inputs is None


def test_trace_mode_and_anomaly_mode_work_together():
    x = ag.tensor([1.0, 4.0], requires_grad=True)
    with ag.detect_anomaly():
        y = traced(lambda: x.sqrt() * 2)
    assert y.grad_fn.inputs[1] == 2 and y.grad_fn.trace is not None
    assert "x.sqrt() * 2" in y.grad_fn.trace.line


def test_trace_mode_is_per_thread():
    x = ag.tensor([1.0], requires_grad=True)
    seen = {}

    def other_thread():
        seen["other"] = (x * 2).grad_fn.inputs

    def body():
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        return (x * 2).grad_fn.inputs

    assert traced(body)[1] == 2 and seen["other"] is None
