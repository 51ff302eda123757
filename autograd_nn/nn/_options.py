"""Constructor checks the layers share: positive sizes (``device``: ``autograd_nn._device``)."""

from __future__ import annotations

from typing import Any

import numpy as np


def positive_int(value: Any, name: str, owner: str) -> int:
    """``value`` as an int ≥ 1, or a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)
