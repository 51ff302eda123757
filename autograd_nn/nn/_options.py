"""Constructor checks the layers share: ``device`` (the CPU only) and positive sizes."""

from __future__ import annotations

from typing import Any

import numpy as np


def check_device(device: Any, owner: str) -> None:
    """autograd_nn computes with numpy on the CPU: ``device`` may be None or 'cpu'."""
    if device is not None and str(device) != "cpu":
        raise ValueError(f"{owner}: autograd_nn computes on the CPU with numpy; device must be None or 'cpu', got {device!r}")


def positive_int(value: Any, name: str, owner: str) -> int:
    """``value`` as an int ≥ 1, or a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)
