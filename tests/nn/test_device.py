"""The CPU is the only device, and every place that takes one (a layer's ``device=``,
``Module.to``, ``Tensor.to``) reads it the same way: PyTorch's names of the CPU pass,
anything else is refused with one message naming the caller and the device."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn

# PyTorch's grammar: "cpu" or "cpu:<index>" name the CPU; "cpu:x" is not a device at all.
CPU = ["cpu", "cpu:0", "cpu:1"]
NOT_CPU = ["cuda", "cuda:0", "mps", "meta", "cpu:x", "cpu:", "CPU"]

# id -> (the caller the message names, the call); device= by keyword is read as the positional device, never dropped
PLACES = {
    "Conv2d": ("Conv2d", lambda device: nn.Conv2d(1, 1, 1, device=device)),
    "LayerNorm": ("LayerNorm", lambda device: nn.LayerNorm(2, device=device)),
    "Embedding": ("Embedding", lambda device: nn.Embedding(3, 2, device=device)),
    "nn.Module.to": ("nn.Module.to", lambda device: nn.Linear(1, 1).to(device)),
    "nn.Module.to(device=)": ("nn.Module.to", lambda device: nn.Linear(1, 1).to(device=device)),
    "to": ("to", lambda device: ag.tensor(np.zeros(2)).to(device)),
    "to(device=)": ("to", lambda device: ag.tensor(np.zeros(2)).to(device=device)),
}


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("device", CPU)
def test_every_name_of_the_cpu_is_accepted(place, device):
    PLACES[place][1](device)


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("device", NOT_CPU)
def test_any_other_device_is_refused_with_one_message(place, device):
    caller, call = PLACES[place]
    expected = f"{caller}: autograd_nn computes on the CPU with numpy; device must be None or 'cpu', got {device!r}"
    with pytest.raises(ValueError) as refused:
        call(device)
    assert str(refused.value) == expected


def test_torch_devices_are_read_as_pytorch_reads_them():
    torch = pytest.importorskip("torch")
    for text in CPU:
        assert torch.device(text).type == "cpu"  # the table above is PyTorch's own reading
        nn.Conv2d(1, 1, 1, device=torch.device(text))
        nn.LayerNorm(2, device=torch.device(text))
        nn.Linear(1, 1).to(device=torch.device(text))
        ag.tensor(np.zeros(2)).to(torch.device(text))
        ag.tensor(np.zeros(2)).to(device=torch.device(text))
    with pytest.raises(ValueError, match=r"Conv2d: .* got device\(type='meta'\)"):
        nn.Conv2d(1, 1, 1, device=torch.device("meta"))
    for call in (lambda x: x.to(torch.device("meta")), lambda x: x.to(device=torch.device("meta"))):
        with pytest.raises(ValueError, match=r"^to: .* got device\(type='meta'\)"):
            call(ag.tensor(np.zeros(2)))
    with pytest.raises(RuntimeError):
        torch.device("cpu:x")  # PyTorch refuses it too
