"""A per-thread scratch buffer for the large temporaries of convolution (im2col columns).

A training step of a small CNN copies tens of megabytes of columns, used once and
dropped. Fresh each time, glibc hands that memory back to the kernel at the end of a
step and faults it in again, page by page, in the next: measured on the LeNet benchmark
(B6), a third of the step went to page faults. Columns that never leave the op that makes
them are written here instead: one buffer per thread, grown to the largest request, so
the same pages are reused. Requests above ``LIMIT`` bytes are not kept (an exceptional
convolution should not pin its memory for the life of the process).

A scratch array is valid until the next ``scratch`` call on the same thread: take one,
use it, and let it go before any other op runs.

Under ``autograd_nn.compile``'s recording the buffer is never used. A recording sees an
array only through numpy calls on the arrays it watches (an ndarray subclass); writes into
this buffer, which it did not see being made, would reach a replay as a constant read by
reference, holding whatever the thread's last convolution left there. So while ``like`` (an
array of the op's) is watched, ``scratch`` returns None and the op computes the plain way
(``windows.copy()``, ``np.matmul`` without ``out=``): calls the recording writes down and a
replay turns into buffers of its own, allocated once.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

LIMIT = 64 * 2**20  # bytes

_local = threading.local()


def scratch(shape: tuple[int, ...], dtype: Any, like: np.ndarray) -> np.ndarray | None:
    """An uninitialised C-contiguous array of ``shape`` and ``dtype`` in this thread's scratch
    buffer; None when ``like`` is watched by a recording (see the module docstring)."""
    dtype = np.dtype(dtype)
    if type(like) is not np.ndarray:  # watched: autograd_nn.compile is recording this call
        return None
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > LIMIT:
        return np.empty(shape, dtype=dtype)
    buffer = getattr(_local, "buffer", None)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = _local.buffer = np.empty(max(nbytes, 1), dtype=np.uint8)
    return buffer[:nbytes].view(dtype).reshape(shape)


def release() -> None:
    """Drop this thread's scratch buffer (its memory goes back to the allocator)."""
    _local.buffer = None
