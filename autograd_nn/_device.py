"""The one device: autograd_nn computes with numpy on the CPU.

What counts as naming the CPU, and the error for any other device, written once for the
layers' ``device=`` argument, ``Module.to`` and ``Tensor.to``; and how the two ``to`` tell a
device's name from a dtype's.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def is_cpu(device: Any) -> bool:
    """``device`` is PyTorch's name of the CPU: 'cpu' or 'cpu:N', as a string or as an object
    that prints as one (a ``torch.device``)."""
    text = str(device)
    return text == "cpu" or (text.startswith("cpu:") and text[4:].isdigit())


def check_device(device: Any, owner: str) -> None:
    """A ValueError naming ``owner`` unless ``device`` is None or the CPU."""
    if device is not None and not is_cpu(device):
        raise ValueError(f"{owner}: autograd_nn computes on the CPU with numpy; device must be None or 'cpu', got {device!r}")


def names_a_dtype(text: str) -> bool:
    """``text`` is a numpy dtype's name ('float32'), not a device's ('cpu', 'cuda')."""
    try:
        np.dtype(text)
    except TypeError:
        return False
    return True
