"""The one device: autograd_nn computes with numpy on the CPU.

The CPU as ``Tensor.device`` gives it (``Device``); what counts as naming the CPU, and the error for any other device, written once for the
layers' ``device=`` argument, ``Module.to`` and ``Tensor.to``; and how the two ``to`` tell a
device's name from a dtype's.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Device(str):
    """``Tensor.device``: the CPU, a ``str`` equal to ``'cpu'`` (what ``device=`` arguments take)
    with ``torch.device``'s ``type`` and ``index``, so ``x.to(y.device)``,
    ``nn.Linear(2, 3, device=x.device)`` and ``x.device.type == "cpu"`` all work."""

    __slots__ = ()

    @property
    def type(self) -> str:
        """The kind of device: always ``'cpu'``."""
        return "cpu"

    @property
    def index(self) -> None:
        """The device's number: None, as for ``torch.device('cpu')``."""
        return None

    def __repr__(self) -> str:
        return "device(type='cpu')"


CPU = Device("cpu")


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
