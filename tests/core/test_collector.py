"""The collector's pacing (``autograd_nn.collector``): full collections wait while a large
graph is alive and growing, and only then; CPython's schedule comes back exactly as it was.

The facts are read from CPython itself: ``gc.get_stats()`` counts the collections of each
generation, ``gc.get_threshold()`` says what the schedule is, a weak reference says whether
a cycle was collected.
"""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
import time
import types
import weakref

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import _interrupts, collector, versions

C = np.full(4, 0.5)
D = np.full(4, 0.1)


@pytest.fixture(autouse=True)
def fresh_pacing():
    """Each test starts with the pacing on and nothing deferred, and leaves the schedule as it found it."""
    collector.disable()  # first: a wait left by an earlier test is undone, not read as the schedule to restore
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    collector.enable()
    gc.enable()
    yield
    collector.disable()
    gc.set_threshold(*thresholds)
    collector.enable()
    if not enabled:
        gc.disable()


def chain(ops: int, y=None):
    """A graph of about ``ops`` recorded ops (the B4 chain: tanh(y · c + d)), each node alive."""
    y = ag.tensor(np.ones(4), requires_grad=True) if y is None else y
    for _ in range(ops // 3):
        y = ag.tanh(y * C + D)
    return y


def full_collections() -> int:
    return gc.get_stats()[2]["collections"]


def young_collections() -> int:
    return gc.get_stats()[0]["collections"]


def young_threshold() -> int:
    """The net container allocations between two young collections: CPython's first threshold, 700 by
    default up to 3.12 and 2000 from 3.13. Work meant to span so many young collections is sized by it."""
    return gc.get_threshold()[0]


def churn(containers: int = 100_000) -> None:
    """Allocate and drop containers without recording an op: young collections run, the clock stands.

    (CPython counts allocations less deallocations, so each batch is alive at once.)"""
    for _ in range(max(1, containers // 10_000)):
        [[] for _ in range(10_000)]


def test_full_collections_wait_while_a_large_graph_grows_and_come_back_when_it_is_dropped():
    before = gc.get_threshold()
    early = chain(collector.LARGE // 2)  # its first stretch is kept when the rest is dropped
    y = chain(2 * collector.LARGE, early)
    assert collector.is_deferring()
    assert gc.get_threshold() == (before[0], before[1], collector._OUT_OF_REACH)
    full, young = full_collections(), young_collections()
    y = chain(20 * collector.LARGE, y)  # ~80,000 more ops: CPython would have run several full collections
    assert full_collections() == full
    assert young_collections() > young + 100  # the young generations are collected as usual
    del y
    churn(2 * young_threshold())
    assert not collector.is_deferring()  # what is left of the graph, `early`, is not large
    assert gc.get_threshold() == before
    assert early.grad_fn is not None


def test_small_graphs_recorded_and_dropped_never_defer():
    """A training loop: every step's graph dies before the next; the schedule is never touched,
    though the first step's graph is kept (a loss logged as a tensor, say) and the probes start in it."""
    before = gc.get_threshold()
    kept = chain(3000).sum()
    for _ in range(1000):  # 1000 steps of 100 ops: 100,000 ops, many times LARGE, none alive long
        loss = chain(100).sum()
        loss.backward()
        assert gc.get_threshold() == before
    assert not collector.is_deferring()
    assert kept.grad_fn is not None


def test_recording_that_stops_gives_the_schedule_back_though_the_graph_lives():
    before = gc.get_threshold()
    y = chain(2 * collector.LARGE)
    assert collector.is_deferring()
    churn(collector.IDLE * young_threshold() * 2)  # allocations, no op recorded: recording has stopped
    assert not collector.is_deferring()
    assert gc.get_threshold() == before
    assert y.grad_fn is not None  # the graph itself is untouched


def test_a_full_collection_is_let_through_each_time_the_graph_has_grown_growth_fold(monkeypatch):
    """With GROWTH = 2, CPython's schedule comes back at each doubling, until a full collection has run."""
    monkeypatch.setattr(collector, "GROWTH", 2)
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []  # the schedule at each young collection, after the pacing acted

    def watch(phase, info):
        if phase == "start" and info["generation"] < 2:
            seen.append(gc.get_threshold())

    y = chain(2 * collector.LARGE)
    assert collector.is_deferring()
    gc.callbacks.append(watch)
    try:
        y = chain(6 * collector.LARGE, y)  # 2 → 8 × LARGE: at least one doubling since the wait began
    finally:
        gc.callbacks.remove(watch)
    assert before in seen  # CPython's own schedule was back for a while ...
    gc.collect()  # ... until a full collection (any one) has run
    y = chain(collector.LARGE, y)
    assert collector.is_deferring()  # then the wait resumes
    del y


def test_thresholds_someone_else_set_meanwhile_are_left_alone():
    y = chain(2 * collector.LARGE)
    assert collector.is_deferring()
    gc.set_threshold(5000, 20, 30)  # the user's own schedule, set while the pacing deferred
    del y
    churn(20 * 5000)
    assert not collector.is_deferring()
    assert gc.get_threshold() == (5000, 20, 30)


def test_cycles_made_while_deferring_are_still_collected():
    class Cyclic:
        pass

    y = chain(2 * collector.LARGE)
    assert collector.is_deferring()
    young = Cyclic()
    young.me = young
    dies_young = weakref.ref(young)
    del young
    churn(3 * 10 * young_threshold())  # enough allocations for the young generations to be collected
    assert dies_young() is None  # a young collection found it
    old = Cyclic()
    old.me = old
    survives_young = weakref.ref(old)
    churn(3 * 10 * young_threshold())  # it survives into the oldest generation ...
    del old
    y = chain(collector.LARGE, y)
    assert collector.is_deferring() and survives_young() is not None  # ... where it waits
    gc.collect()  # an explicit collection collects everything
    assert survives_young() is None
    del y


def test_disable_puts_the_schedule_back_and_enable_adds_one_callback():
    before = gc.get_threshold()
    y = chain(2 * collector.LARGE)
    assert collector.is_deferring()
    collector.disable()
    assert not collector.is_enabled() and not collector.is_deferring()
    assert gc.get_threshold() == before
    y = chain(4 * collector.LARGE, y)
    assert gc.get_threshold() == before  # off: a large graph changes nothing
    collector.enable()
    collector.enable()
    assert gc.callbacks.count(collector._PACER) == 1
    del y


def test_with_the_collector_disabled_nothing_is_touched():
    before = gc.get_threshold()
    gc.disable()
    y = chain(4 * collector.LARGE)
    assert gc.get_threshold() == before and not collector.is_deferring()
    gc.enable()
    del y


def test_the_clock_is_read_without_taking_a_stamp():
    now = versions.now()
    assert versions.now() == now
    assert versions.tick() == now
    assert versions.now() == now + 1


def test_a_node_still_being_filled_in_is_no_probe():
    """A collection can start between a node's allocation and its ``seq``: the probe skips it."""
    half_made = object.__new__(ag.Node)  # what the recorder has just allocated, nothing set yet
    collector._PACER._probe()
    assert all(ref() is not half_made for _, ref in collector._PACER.probes)
    del half_made


def small_steps(steps: int) -> None:
    """A training loop: each step records a small graph and drops the last one; a log keeps a few
    containers per step, so young collections run (while a step's nodes are young) as in a real loop.

    The log grows with the first threshold (20 containers a step at 700), so that a step count means
    the same number of young collections on every CPython, for the same number of recorded ops."""
    log = []
    for _ in range(steps):
        loss = chain(90).sum()
        loss.backward()
        log.append([[float(loss.data)] for _ in range(young_threshold() // 35)])


def test_a_dropped_graph_gives_the_schedule_back_while_small_graphs_are_recorded():
    """After one large graph, a loop of small ones: no large graph is alive, so no full collection waits."""
    before = gc.get_threshold()
    y = chain(2 * collector.LARGE)
    assert collector.is_deferring()
    del y
    young = young_collections()
    small_steps(700)  # ~63,000 ops, 91 alive at a time
    assert young_collections() > young + 10  # the pacing was asked again and again
    assert not collector.is_deferring()
    assert gc.get_threshold() == before


class KeepsItsOutput(ag.Function):
    """a = z;  δz = δa. Its ctx keeps the output tensor (through the box it is given): the graph is a cycle."""

    @staticmethod
    def forward(ctx, z, box):
        ctx.box = box
        return z.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


@pytest.fixture
def small_heap():
    """What the test process holds already moved where no collection looks (``gc.freeze``), so that
    CPython's own schedule runs a full collection as soon as the long-lived objects have grown by a quarter."""
    gc.freeze()
    gc.collect()
    yield
    gc.unfreeze()


def test_a_large_graph_dropped_in_a_cycle_is_collected_while_small_graphs_are_recorded(small_heap):
    """Only a full collection frees a cycle that has grown old; the dropped graph's probes stay alive
    (it is not freed) until one runs: the small graphs' probes must still give CPython its schedule back."""
    before = gc.get_threshold()
    box = []
    y = KeepsItsOutput.apply(chain(2 * collector.LARGE), box=box)
    box.append(y)  # y → its node → ctx → box → y
    del box
    churn(30 * young_threshold())  # it lives through young collections, into the oldest generation
    assert collector.is_deferring()
    dropped = weakref.ref(y)
    full = full_collections()
    del y
    small_steps(1500)  # ~136,000 ops: fewer than the let-through (GROWTH × LARGE) would wait for
    assert not collector.is_deferring() and gc.get_threshold() == before  # CPython's schedule is back ...
    for _ in range(30):  # ... and its next full collection frees the cycle (at 2000, CPython 3.13's first
        if full_collections() > full:  # threshold, it comes later than at 700)
            break
        small_steps(100)
    assert dropped() is None


def test_a_first_threshold_the_user_sets_meanwhile_is_kept_and_the_oldest_comes_back():
    """``gc.set_threshold(5000)`` sets the first threshold only: the raised third must not stay."""
    before = gc.get_threshold()
    y = chain(2 * collector.LARGE)
    assert collector.is_deferring()
    gc.set_threshold(5000)  # the user's own young schedule, set while the pacing deferred
    del y
    churn(20 * 5000)
    assert not collector.is_deferring()
    assert gc.get_threshold() == (5000, before[1], before[2])


def test_compiled_steps_record_no_graph_and_give_the_schedule_back_though_a_large_one_lives():
    """A replay records no node, but its optimizer update takes a write stamp from the clock: that must not
    count as a graph growing."""
    w = ag.tensor(np.ones(4), requires_grad=True)
    opt = ag.optim.SGD([w], lr=0.01)

    def step(x):
        opt.zero_grad()
        loss = ((ag.tanh(w * x) - 1.0) ** 2).sum()
        loss.backward()
        opt.step()
        return loss

    compiled = ag.compile(step)
    x = np.full(4, 0.3)
    for _ in range(3):  # recorded eagerly, then replayed
        compiled(x)
    before = gc.get_threshold()
    kept = chain(2 * collector.LARGE)  # a large graph kept (a loss logged as a tensor, say)
    assert collector.is_deferring()
    clock = versions.now()
    for _ in range(200):
        for _ in range(20):
            compiled(x)
        churn(10_000)  # the loop's own allocations: young collections run
    assert versions.now() >= clock + 4000  # the replays moved the clock ...
    assert not collector.is_deferring()  # ... and recorded nothing: recording has stopped
    assert gc.get_threshold() == before
    assert kept.grad_fn is not None


def test_probes_that_start_over_after_a_stretch_no_collection_saw_measure_growth_afresh(monkeypatch):
    """The let-through compares the graph with the one the probes covered at the last full collection; when
    the probes start over, that one is no longer what they measure (here it is dropped unseen)."""
    before = gc.get_threshold()
    first = chain(4 * collector.LARGE)
    assert collector.is_deferring()
    gc.collect()  # a full collection while the probes span ~4 × LARGE
    monkeypatch.setattr(collector, "GROWTH", 2)
    gc.disable()  # a stretch no collection sees: the next probe is far from the last one
    y = chain(3 * collector.STRIDE)
    gc.enable()
    y = chain(collector.STRIDE, y)
    assert not collector.is_deferring()  # the probes started over in y
    del first  # gone, and no probe is in it
    seen = []  # the schedule at each young collection once the wait has resumed

    def watch(phase, info):
        if phase == "start" and info["generation"] < 2 and (seen or collector.is_deferring()):
            seen.append(gc.get_threshold())

    gc.callbacks.append(watch)
    try:
        y = chain(5 * collector.LARGE, y)  # y alone grows past 2 × LARGE: twice what it was when the wait began
    finally:
        gc.callbacks.remove(watch)
    assert seen and seen[0] != before  # the wait resumed ...
    assert before in seen  # ... and a full collection was let through
    del y


def cyclic_chain(ops: int):
    """A chain of ``ops`` ops whose last op's ctx keeps its output: y → its node → ctx → box → y."""
    box = []
    y = KeepsItsOutput.apply(chain(ops), box=box)
    box.append(y)
    return y


def test_cyclic_graphs_dropped_one_after_another_wait_at_most_for_the_let_through(monkeypatch, small_heap):
    """A dropped graph in a cycle looks alive to a weak reference until a full collection frees it, so
    graphs dropped in cycles, one after another, look like one growing graph: the let-through bounds them."""
    monkeypatch.setattr(collector, "GROWTH", 2)
    dropped = []
    for _ in range(12):  # 12 graphs of 2 × LARGE ops, each dropped as the next one is recorded
        dropped.append(weakref.ref(cyclic_chain(2 * collector.LARGE)))
    alive = [ref() is not None for ref in dropped]
    assert not any(alive[:6])  # the first half was freed by full collections let through on the way


@pytest.mark.parametrize("disabled", ["before the read", "after the read"])
def test_a_disable_that_runs_while_the_pacing_puts_the_schedule_back_raises_nothing(monkeypatch, disabled):
    """Another thread's ``collector.disable()`` can run between two steps of the callback (a thread switch
    at a call): here it runs as the release reads the schedule, just before or just after."""
    before = gc.get_threshold()
    y = chain(2 * collector.LARGE)
    assert collector.is_deferring()
    read = gc.get_threshold

    def read_while_another_thread_disables():
        monkeypatch.setattr(gc, "get_threshold", read)
        if disabled == "after the read":
            schedule = read()
            collector.disable()
            return schedule
        collector.disable()
        return read()

    monkeypatch.setattr(gc, "get_threshold", read_while_another_thread_disables)
    collector._PACER.release()
    assert gc.get_threshold() == before and not collector.is_deferring()
    del y


def test_a_training_step_through_the_library_leaves_no_cycles():
    """What the pacing relies on (a dropped graph is freed by reference counting, not by a full
    collection) holds for the library's own layers, optimizers, retain_grad and hooks."""
    from autograd_nn import nn, optim

    F = ag.functional
    mlp = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    lstm, encoder = nn.LSTM(4, 8), nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0)
    conv, norm = nn.Conv2d(1, 2, 3), nn.BatchNorm1d(16)
    everything = [*mlp.parameters(), *lstm.parameters(), *encoder.parameters(), *conv.parameters(), *norm.parameters()]
    optimizer = optim.Adam(everything)

    def step() -> None:
        optimizer.zero_grad()
        hidden = mlp[0](ag.randn(32, 8))
        hidden.retain_grad()
        hidden.register_hook(lambda g: g * 1)
        loss = F.mse_loss(mlp[2](mlp[1](norm(hidden))), ag.randn(32, 1))
        out, _ = lstm(ag.randn(5, 2, 4))
        loss = loss + out.sum() + encoder(ag.randn(4, 3, 16)).sum()
        loss = loss + F.max_pool2d(conv(ag.randn(2, 1, 8, 8)), 2).sum()
        loss.backward()
        optimizer.step()

    step()
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            step()
        assert gc.collect() == 0  # nothing was left for the cyclic collector to find
    finally:
        gc.enable()


def test_a_ctrl_c_that_lands_in_the_pacing_reaches_the_program(monkeypatch):
    """CPython prints and drops what a gc callback raises, so a Ctrl-C whose handler runs inside the
    pacing (at its first bytecode, during a collection) was lost; it is given back as SIGINT."""
    real_now = versions.now
    raised = []

    def interrupted_now():  # the pacing's first call, raising as the default SIGINT handler would there
        if not raised:
            raised.append(True)
            raise KeyboardInterrupt
        return real_now()

    monkeypatch.setattr(collector.versions, "now", interrupted_now)
    monkeypatch.setattr(sys, "unraisablehook", _interrupts.give_back_interrupts)  # pytest holds the hook in a test
    delivered = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: delivered.append(signum))
    try:
        gc.collect(0)  # a young collection: the pacing runs, and raises
        waited = 0
        while not delivered and waited < 2000:  # the handler runs in this frame once SIGINT is back
            time.sleep(0.001)
            waited += 1
    finally:
        signal.signal(signal.SIGINT, previous)
    assert raised and delivered == [signal.SIGINT]


def test_an_interrupt_dropped_in_someone_elses_callback_is_left_to_the_hook_before(monkeypatch):
    seen = []
    monkeypatch.setattr(_interrupts, "_previous", seen.append)

    def users_callback(phase, info):
        pass

    unraisable = types.SimpleNamespace(exc_value=KeyboardInterrupt(), object=users_callback)
    _interrupts.give_back_interrupts(unraisable)
    assert seen == [unraisable]


CTRL_C_DURING_THE_PACING = """
import os, signal, sys, threading, time
import autograd_nn.collector as collector
pace = collector._Pacer.__call__
def slow(self, phase, info):  # most of the time goes here, so Ctrl-C's handler runs inside the callback
    for _ in range(3000):
        pass
    return pace(self, phase, info)
collector._Pacer.__call__ = slow
threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
start = time.monotonic()
try:
    while time.monotonic() - start < 5:
        junk = [[i] for i in range(1000)]  # containers: young collections run the pacing all the time
    print("not interrupted")
except KeyboardInterrupt:
    print("interrupted")
"""


def test_ctrl_c_reaches_a_program_that_spends_its_time_in_the_pacing():
    """A real SIGINT, in a fresh process: without the give-back it was dropped nearly every time."""
    run = subprocess.run(
        [sys.executable, "-c", CTRL_C_DURING_THE_PACING], capture_output=True, text=True, timeout=60,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # not an ignored SIGINT inherited from the runner
    )  # fmt: skip
    assert run.stdout.strip() == "interrupted", run.stderr
    assert "Exception ignored" not in run.stderr
