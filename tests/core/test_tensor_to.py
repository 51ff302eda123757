"""Tensor.to against PyTorch's: each call written once, run on a torch tensor and on ours.
A form PyTorch accepts gives the same dtype and values here; a form it refuses is refused
here, with an error naming ``to``. Where the two differ on purpose (numpy dtype names, the
only memory format, the only device), the tests below say so."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import autograd_nn as ag

torch = pytest.importorskip("torch")

DATA = np.array([1.5, -2.25, 3.0])
TORCH = SimpleNamespace(
    float32=torch.float32, float16=torch.float16, other=torch.zeros(1, dtype=torch.int8), preserve=torch.preserve_format
)
OURS = SimpleNamespace(
    float32=np.float32, float16=np.float16, other=ag.tensor(np.zeros(1, dtype=np.int8)), preserve=torch.preserve_format
)

# (x, L) -> x.to(...), with L the library's dtypes and tensors. torch.device("cpu") is the
# same object for both: PyTorch's device objects are what users pass.
ACCEPTED = {
    "to()": lambda x, L: x.to(),
    "to(None)": lambda x, L: x.to(None),
    "to(dtype)": lambda x, L: x.to(L.float32),
    "to(dtype=)": lambda x, L: x.to(dtype=L.float32),
    "to(dtype=None)": lambda x, L: x.to(dtype=None),
    "to('cpu')": lambda x, L: x.to("cpu"),
    "to('cpu:0')": lambda x, L: x.to("cpu:0"),
    "to(device=)": lambda x, L: x.to(device="cpu"),
    "to(device=None)": lambda x, L: x.to(device=None),
    "to(torch.device)": lambda x, L: x.to(torch.device("cpu")),
    "to(device=torch.device)": lambda x, L: x.to(device=torch.device("cpu")),
    "to(device, dtype)": lambda x, L: x.to("cpu", L.float16),
    "to(device, dtype=)": lambda x, L: x.to("cpu", dtype=L.float16),
    "to(device=, dtype=)": lambda x, L: x.to(device="cpu", dtype=L.float16),
    "to(None, dtype)": lambda x, L: x.to(None, L.float16),
    "to(tensor)": lambda x, L: x.to(L.other),
    "to(tensor=)": lambda x, L: x.to(tensor=L.other),
    "to(dtype, non_blocking, copy)": lambda x, L: x.to(L.float32, True, True),
    "to(device, dtype, non_blocking, copy)": lambda x, L: x.to("cpu", L.float32, False, True),
    "to(tensor, non_blocking, copy)": lambda x, L: x.to(L.other, False, False),
    "to(dtype, non_blocking=)": lambda x, L: x.to(L.float32, non_blocking=True),
    "to(dtype, copy=)": lambda x, L: x.to(L.float32, copy=False),
    "to(non_blocking=)": lambda x, L: x.to(non_blocking=True),
    "to(copy=)": lambda x, L: x.to(copy=True),
    "to(dtype, memory_format=preserve)": lambda x, L: x.to(L.float32, memory_format=L.preserve),
    "to(tensor, memory_format=preserve)": lambda x, L: x.to(L.other, memory_format=L.preserve),
    "to(memory_format=None)": lambda x, L: x.to(memory_format=None),
}

REFUSED = {
    "to(dtype, device=)": lambda x, L: x.to(L.float32, device="cpu"),
    "to(dtype, dtype=)": lambda x, L: x.to(L.float32, dtype=L.float16),
    "to(dtype, dtype)": lambda x, L: x.to(L.float32, L.float16),
    "to(dtype, 'cpu')": lambda x, L: x.to(L.float32, "cpu"),
    "to(device, device)": lambda x, L: x.to("cpu", "cpu"),
    "to(device, device=)": lambda x, L: x.to("cpu", device="cpu"),
    "to(tensor, device=)": lambda x, L: x.to(L.other, device="cpu"),
    "to(tensor, dtype=)": lambda x, L: x.to(L.other, dtype=L.float32),
    "to(other=)": lambda x, L: x.to(other=L.other),
    "to(dtype, unknown=)": lambda x, L: x.to(L.float32, blocking=True),
    "to(unknown=)": lambda x, L: x.to(devices="cpu"),
    "to(dtype, non_blocking=1)": lambda x, L: x.to(L.float32, non_blocking=1),
    "to(copy='yes')": lambda x, L: x.to(copy="yes"),
    "to(dtype, non_blocking, copy, memory_format)": lambda x, L: x.to(L.float32, False, False, L.preserve),
    "to(device, dtype, non_blocking, copy, extra)": lambda x, L: x.to("cpu", L.float32, False, False, True),
}


def _numpy_dtype(dtype):
    return torch.empty(0, dtype=dtype).numpy().dtype


@pytest.mark.parametrize("form", ACCEPTED)
def test_a_form_pytorch_accepts_gives_pytorchs_dtype_and_values(form):
    expected = ACCEPTED[form](torch.tensor(DATA), TORCH)
    got = ACCEPTED[form](ag.tensor(DATA), OURS)
    assert got.dtype == _numpy_dtype(expected.dtype), form
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize("form", REFUSED)
def test_a_form_pytorch_refuses_is_refused_naming_to(form):
    with pytest.raises(TypeError):  # PyTorch: "to() received an invalid combination of arguments"
        REFUSED[form](torch.tensor(DATA), TORCH)
    with pytest.raises((TypeError, ValueError), match=r"^to: "):
        REFUSED[form](ag.tensor(DATA), OURS)


def test_an_unknown_keyword_is_named_with_the_forms_to_use():
    with pytest.raises(TypeError, match=r"^to: got an unexpected keyword argument 'devices'; PyTorch's forms are to\("):
        ag.tensor(DATA).to(devices="cuda")
    with pytest.raises(TypeError, match=r"^to: got an unexpected keyword argument 'device'"):
        ag.tensor(DATA).to(np.float32, device="cuda")  # device= beside a dtype is not ignored either


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "meta", torch.device("meta")])
def test_a_device_keyword_is_checked_like_the_positional_device(device):
    expected = f"to: autograd_nn computes on the CPU with numpy; device must be None or 'cpu', got {device!r}"
    for call in (lambda x: x.to(device), lambda x: x.to(device=device), lambda x: x.to(device=device, dtype=np.float32)):
        with pytest.raises(ValueError) as refused:
            call(ag.tensor(DATA))
        assert str(refused.value) == expected


def test_numpy_dtype_names_are_dtypes_as_in_module_to():
    # PyTorch reads a string as a device ("Invalid device string: 'float32'"); here, as in
    # nn.Module.to and ndarray.astype, a numpy dtype's name is that dtype.
    with pytest.raises(RuntimeError, match="Invalid device string"):
        torch.tensor(DATA).to("float32")
    assert ag.tensor(DATA).to("float32").dtype == np.float32
    assert ag.tensor(DATA).to("cpu", "float16").dtype == np.float16
    assert ag.tensor(DATA).to(dtype="int64").tolist() == [1, -2, 3]
    assert ag.nn.Linear(1, 1).to("float32").weight.dtype == np.float32


def test_memory_formats_other_than_preserve_are_refused_not_ignored():
    # numpy keeps the layout (preserve_format, PyTorch's default); a layout it would not
    # produce is refused rather than pretended.
    x = ag.tensor(np.zeros((1, 2, 2, 2)))
    for memory_format in (torch.contiguous_format, torch.channels_last):
        torch.zeros(1, 2, 2, 2).to(memory_format=memory_format)  # PyTorch accepts both
        with pytest.raises(ValueError, match=r"^to: memory_format=torch\.\w+ is not supported"):
            x.to(memory_format=memory_format)


def test_to_always_returns_a_new_tensor_that_carries_the_gradient():
    x = ag.tensor(DATA, requires_grad=True)
    for y in (x.to(), x.to("cpu"), x.to(x.dtype, copy=False), x.to(device="cpu", non_blocking=True)):
        assert y is not x and not np.shares_memory(y.data, x.data) and y.requires_grad
    y = x.to(dtype=np.float32)
    (y * ag.tensor(np.array([1.0, 2.0, 3.0], dtype=np.float32))).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [1.0, 2.0, 3.0]


def test_the_docstring_documents_the_forms_and_the_accepted_no_ops():
    doc = ag.Tensor.to.__doc__
    assert doc.startswith("z = x.astype(dtype)")  # the op's formula first, as every entry
    for word in ("device=", "non_blocking", "copy", "memory_format", "torch.preserve_format"):
        assert word in doc, word
