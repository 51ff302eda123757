"""Version counters at their edges: the numbers the error states, thousands of writes,
and memory reached through strided views (the windows convolution is built on)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag


def _bump(t, times: int) -> None:
    with ag.no_grad():
        for _ in range(times):
            t.add_(1.0)


def test_the_error_states_the_version_saved_and_the_version_now():
    """PyTorch's wording: "... is at version 5; expected version 2 instead"."""
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    _bump(h, 2)
    y = (h * h).sum()  # saves h at version 2
    _bump(h, 3)
    with pytest.raises(RuntimeError, match=r"it is at version 5; expected version 2\b"):
        y.backward()


def test_thousands_of_writes_are_all_counted():
    """The log keeps the latest stamps only; the count and the check stay exact."""
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    _bump(h, 3000)
    y = (h * h).sum()
    _bump(h, 3000)
    assert h._version == 6000
    with pytest.raises(RuntimeError, match=r"it is at version 6000; expected version 3000\b"):
        y.backward()


def test_a_view_of_a_strided_window_view_is_traced_to_the_memory_it_reads():
    """sliding_window_view's result is based on a numpy wrapper, and a transpose of it on
    that result: a write into the original array is still seen through both."""
    x = ag.tensor(np.arange(6.0))
    windows = ag.Tensor(np.lib.stride_tricks.sliding_window_view(x.data, 3))
    w = ag.tensor(np.ones((3, 4)), requires_grad=True)
    y = (windows.T * w).sum()  # Mul saves windows.T, a view of a view of x's memory
    x.add_(1.0)
    with pytest.raises(RuntimeError, match=r"it is at version 1; expected version 0"):
        y.backward()
    assert w.grad is None


def test_a_tensor_over_a_numpy_view_refuses_a_recorded_write():
    """``as_tensor`` of a slice shares memory with the tensor over the whole array: a recorded
    in-place write through the slice would change the whole one behind its gradient's back."""
    memory = np.zeros(3)
    whole, part = ag.as_tensor(memory), ag.as_tensor(memory[:2])
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add_: this tensor \(shape \(2,\)\) shares its memory"):
        part.add_(w)
    np.testing.assert_array_equal(memory, [0.0, 0.0, 0.0])  # refused before writing
    part.add_(1.0)  # nothing recorded: allowed, and counted against the one memory
    np.testing.assert_array_equal(whole.data, [1.0, 1.0, 0.0])
    assert whole._version == part._version == 1
