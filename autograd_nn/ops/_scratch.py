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
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

LIMIT = 64 * 2**20  # bytes

_local = threading.local()


def scratch(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised array of ``shape`` and ``dtype`` in this thread's scratch buffer."""
    dtype = np.dtype(dtype)
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
