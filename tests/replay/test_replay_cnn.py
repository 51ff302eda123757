"""autograd_nn.compile on convolutional networks: a replayed step equals the eager one bit for bit.

Convolution and pooling compute through strided window views and, eagerly, in a
per-thread scratch buffer; a recording sees an array only through numpy calls on the
arrays it watches, so every view, copy and write must be one of those, or a replay would
read what the first call (or the thread's last convolution) left behind. Each test runs
the same CNN twice from the same start, once compiled and once eagerly (the ordinary
engine is the reference), and compares losses, parameters and gradients exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim
from autograd_nn.ops import _scratch

F = ag.functional

NETWORKS = {  # (layers, input shape of one sample, features into the head)
    "max": (lambda: [
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, groups=2), nn.ReLU(), nn.MaxPool2d(2, stride=1, padding=1, dilation=2),
        nn.AdaptiveMaxPool2d(2),
    ], (1, 8, 8), 6 * 4),
    "avg": (lambda: [
        nn.Conv2d(1, 4, 3, padding="same", bias=False), nn.Tanh(), nn.AvgPool2d(2, padding=1, count_include_pad=False),
        nn.ConvTranspose2d(4, 2, 2, stride=2), nn.Dropout2d(0.25), nn.AdaptiveAvgPool2d((2, 3)),
    ], (1, 8, 8), 2 * 6),
    "resample": (lambda: [
        nn.Conv2d(2, 4, 3, stride=2, dilation=2, padding=2), nn.ReLU(), nn.Upsample(scale_factor=2, mode="bilinear"),
        nn.PixelShuffle(2), nn.PixelUnshuffle(2), nn.Upsample(size=(3, 3)), nn.MaxPool2d(2, ceil_mode=True),
    ], (2, 7, 7), 4 * 4),
    "1d": (lambda: [
        nn.Conv1d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2), nn.ConvTranspose1d(4, 4, 3, stride=2, groups=2),
        nn.AvgPool1d(3, stride=2, padding=1), nn.AdaptiveAvgPool1d(3),
    ], (3, 12), 4 * 3),
}  # fmt: skip


def _training(kind: str, dtype: type):
    layers, sample, features = NETWORKS[kind]
    nn.init.manual_seed(0)
    model = nn.Sequential(*layers(), nn.Flatten(), nn.Linear(features, 3)).to(dtype)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, step, sample


def _batches(n: int, sample: tuple[int, ...], dtype: type, batch: int = 5, seed: int = 1):
    rng = np.random.default_rng(seed)
    # class probabilities (one-hot rows) as targets (integer labels replay too:
    # tests/replay/test_replay_array_arguments.py)
    return [
        (
            ag.tensor(rng.standard_normal((batch, *sample)).astype(dtype)),
            ag.tensor(np.eye(3, dtype=dtype)[rng.integers(0, 3, size=batch)]),
        )
        for _ in range(n)
    ]


def _poison_scratch() -> None:
    """Fill this thread's scratch buffer with nan bytes: a replay reading it would show."""
    _scratch.scratch((1 << 16,), np.uint8, np.empty(0))[...] = 0xFF


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", sorted(NETWORKS))
def test_a_compiled_cnn_step_equals_the_eager_one_bit_for_bit(kind, dtype):
    model, step, sample = _training(kind, dtype)
    twin, twin_step, _ = _training(kind, dtype)
    fast = ag.compile(step, fullgraph=True)
    nn.init.manual_seed(3)  # Dropout2d's masks: the same stream for both runs
    losses = []
    for x, y in _batches(6, sample, dtype):
        losses.append(fast(x, y).item())
        _poison_scratch()  # between calls: an eager convolution elsewhere rewrote the buffer
    nn.init.manual_seed(3)
    expected = [twin_step(x, y).item() for x, y in _batches(6, sample, dtype)]
    assert losses == expected
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
        np.testing.assert_array_equal(p.grad.data, q.grad.data)
    assert fast.replays >= 3, fast.history


def test_a_recording_and_its_replays_never_use_the_threads_scratch_buffer():
    model, step, sample = _training("max", np.float64)
    fast = ag.compile(step, fullgraph=True)
    batches = _batches(5, sample, np.float64)
    _scratch.release()
    for x, y in batches:
        fast(x, y)
    assert fast.replays >= 2
    assert getattr(_scratch._local, "buffer", None) is None  # columns went into buffers the replay owns
    step(*batches[0])  # eagerly, the columns are in the scratch buffer again
    assert _scratch._local.buffer is not None
