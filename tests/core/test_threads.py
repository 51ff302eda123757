"""Grad mode and anomaly mode are per thread: one thread's no_grad, or its backward,
never changes what another records. Gradients are checked against closed forms."""

from __future__ import annotations

import threading

import numpy as np

import autograd_nn as ag

ROUNDS = 300


def _train_quadratic(seed: int, results: dict, errors: list, barrier: threading.Barrier) -> None:
    """Gradient steps on C(w) = Σ (w − t)² / 2 from w₀; ∂C/∂w = w − t, so every step's
    gradient is known in closed form and the iterate is w_k = t + (w₀ − t)(1 − η)^k."""
    try:
        rng = np.random.default_rng(seed)
        target = rng.standard_normal(5)
        w0 = rng.standard_normal(5)
        w = ag.tensor(w0.copy(), requires_grad=True)
        lr = 0.1
        barrier.wait()
        for k in range(ROUNDS):
            loss = ((w - target) ** 2).sum() * 0.5
            assert loss.requires_grad, "this thread's graph was not recorded"
            loss.backward()
            expected = target + (w0 - target) * (1 - lr) ** k
            np.testing.assert_allclose(w.grad.data, expected - target, rtol=1e-9, atol=1e-12)
            with ag.no_grad():
                w.sub_(w.grad * lr)
            w.grad = None
        results[seed] = w.data.copy()
        np.testing.assert_allclose(w.data, target + (w0 - target) * (1 - lr) ** ROUNDS, rtol=1e-9, atol=1e-12)
    except BaseException as error:  # reported by the main thread
        errors.append(error)


def _stay_in_no_grad(stop: threading.Event, seen: list, errors: list, barrier: threading.Barrier) -> None:
    try:
        x = ag.tensor([1.0, 2.0], requires_grad=True)
        with ag.no_grad():
            barrier.wait()
            while not stop.is_set():
                y = x * 3
                seen.append((y.requires_grad, ag.is_grad_enabled()))
    except BaseException as error:
        errors.append(error)


def test_threads_train_separate_graphs_while_another_is_in_no_grad():
    seeds = [1, 2, 3]
    results: dict = {}
    errors: list = []
    seen: list = []
    stop = threading.Event()
    barrier = threading.Barrier(len(seeds) + 1)
    quiet = threading.Thread(target=_stay_in_no_grad, args=(stop, seen, errors, barrier))
    workers = [threading.Thread(target=_train_quadratic, args=(s, results, errors, barrier)) for s in seeds]
    quiet.start()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    stop.set()
    quiet.join()
    assert not errors, errors[0]
    assert sorted(results) == seeds
    assert seen and all(not recorded and not enabled for recorded, enabled in seen)
    assert ag.is_grad_enabled()  # the main thread was never switched off


def test_a_new_thread_starts_with_grad_on_whatever_the_caller_has():
    seen = []
    with ag.no_grad():
        thread = threading.Thread(target=lambda: seen.append(ag.is_grad_enabled()))
        thread.start()
        thread.join()
        assert not ag.is_grad_enabled()
    assert seen == [True]


def test_backward_in_one_thread_does_not_switch_recording_off_in_another():
    """The engine turns grad mode off during a plain backward: in its own thread only."""
    started, release = threading.Event(), threading.Event()
    recorded = []

    class Slow(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            started.set()
            release.wait(5)  # hold the sweep open while the other thread records
            return grad * 2

    def record_meanwhile():
        started.wait(5)
        x = ag.tensor([1.0], requires_grad=True)
        recorded.append((x * 2).requires_grad)
        release.set()

    x = ag.tensor([1.0, 2.0], requires_grad=True)
    other = threading.Thread(target=record_meanwhile)
    other.start()
    Slow.apply(x).sum().backward()
    other.join()
    assert recorded == [True]
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_anomaly_mode_is_per_thread():
    seen = []
    with ag.detect_anomaly():
        thread = threading.Thread(target=lambda: seen.append(ag.is_anomaly_enabled()))
        thread.start()
        thread.join()
        assert ag.is_anomaly_enabled()
    assert seen == [False] and not ag.is_anomaly_enabled()


def test_set_grad_enabled_acts_at_once_and_as_a_context_manager():
    ag.set_grad_enabled(False)
    try:
        assert not ag.is_grad_enabled()
    finally:
        ag.set_grad_enabled(True)
    assert ag.is_grad_enabled()
    with ag.set_grad_enabled(False):
        assert not (ag.tensor([1.0], requires_grad=True) * 2).requires_grad
    assert ag.is_grad_enabled()

    @ag.set_grad_enabled(False)
    def off():
        return ag.is_grad_enabled()

    assert off() is False and ag.is_grad_enabled()


def test_no_grad_works_bare_and_called_as_a_decorator_and_nests():
    @ag.no_grad()
    def f():
        with ag.enable_grad():
            inner = ag.is_grad_enabled()
        return ag.is_grad_enabled(), inner

    @ag.no_grad
    def bare():
        return ag.is_grad_enabled()

    assert f() == (False, True) and bare() is False
    assert ag.is_grad_enabled()
