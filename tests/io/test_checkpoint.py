"""Checkpoints: safetensors/npz round trips, the file layout read by an independent parser,
atomic writes, clear errors, and the hand-off to and from PyTorch."""

from __future__ import annotations

import json
import math
import os
import struct

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim
from autograd_nn.checkpoint import CheckpointError, load_metadata


def trained_model_and_optimizer(steps=3):
    nn.init.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Sigmoid(), nn.Linear(8, 1))
    opt = optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    scheduler = optim.StepLR(opt, step_size=2, gamma=0.5)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 5)), rng.normal(size=(32, 1))
    for _ in range(steps):
        opt.zero_grad()
        nn.MSELoss()(model(x), y).backward()
        opt.step()
        scheduler.step()
    return model, opt, scheduler, (x, y)


def read_safetensors_independently(path):
    """The format as documented: u64 LE header size, JSON header, packed raw bytes."""
    blob = open(path, "rb").read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    data = blob[8 + n :]
    kinds = {"F64": "<f8", "F32": "<f4", "I64": "<i8", "I32": "<i4", "U8": "u1", "BOOL": "?", "F16": "<f2"}
    arrays = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        arrays[name] = np.frombuffer(data[begin:end], dtype=kinds[entry["dtype"]]).reshape(entry["shape"])
    return n, header, arrays, len(data)


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_full_training_checkpoint_round_trips(tmp_path, suffix):
    model, opt, scheduler, (x, y) = trained_model_and_optimizer()
    state = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": scheduler.state_dict(),
        "epoch": 3,
        "notes": {"hidden": 8, "name": "bike", "best": float("inf"), "flags": (True, None, [1, 2.5])},
    }
    path = tmp_path / f"run{suffix}"
    ag.save(state, path)
    loaded = ag.load(path)
    assert loaded["epoch"] == 3 and loaded["notes"] == state["notes"]
    assert isinstance(loaded["notes"]["flags"], tuple) and math.isinf(loaded["notes"]["best"])
    assert list(loaded["model"]) == list(state["model"])

    nn.init.manual_seed(99)
    model2 = nn.Sequential(nn.Linear(5, 8), nn.Sigmoid(), nn.Linear(8, 1))
    opt2 = optim.Adam(model2.parameters(), lr=0.5)
    scheduler2 = optim.StepLR(opt2, step_size=2, gamma=0.5)
    model2.load_state_dict(loaded["model"])
    opt2.load_state_dict(loaded["optimizer"])
    scheduler2.load_state_dict(loaded["scheduler"])
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert opt2.param_groups[0]["betas"] == (0.9, 0.999)
    # resuming continues exactly as the original run does
    for a_model, a_opt, a_sched in ((model, opt, scheduler), (model2, opt2, scheduler2)):
        for _ in range(3):
            a_opt.zero_grad()
            nn.MSELoss()(a_model(x), y).backward()
            a_opt.step()
            a_sched.step()
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(model2.state_dict()[key].numpy(), value.numpy())


def test_safetensors_layout_is_the_documented_one(tmp_path):
    model, opt, _, _ = trained_model_and_optimizer()
    path = tmp_path / "model.safetensors"
    ag.save(model.state_dict(), path)
    n, header, arrays, data_size = read_safetensors_independently(path)
    assert n % 8 == 0
    assert set(header) == {"__metadata__", "0.weight", "0.bias", "2.weight", "2.bias"}
    assert header["0.weight"]["dtype"] == "F64" and header["0.weight"]["shape"] == [8, 5]
    spans = sorted(tuple(e["data_offsets"]) for k, e in header.items() if k != "__metadata__")
    assert spans[0][0] == 0 and spans[-1][1] == data_size
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # packed, no gaps
    assert all(isinstance(v, str) for v in header["__metadata__"].values())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(arrays[key], value.numpy())

    # the optimizer's state is flattened into named tensors plus JSON
    ag.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, path)
    _, header, arrays, _ = read_safetensors_independently(path)
    assert "model.0.weight" in header and "optimizer.state.0.exp_avg" in header
    np.testing.assert_array_equal(
        arrays["optimizer.state.3.max_exp_avg_sq"], opt.state_dict()["state"][3]["max_exp_avg_sq"]
    )


def test_dtypes_shapes_and_foreign_files(tmp_path):
    state = {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3),
        "f16": np.array([1.5, -2.0], dtype=np.float16),
        "i32": np.array([[1, -2]], dtype=np.int32),
        "u8": np.array([0, 255], dtype=np.uint8),
        "mask": np.array([True, False, True]),
        "scalar": np.array(2.5),
        "empty": np.zeros((0, 4)),
        "view": np.arange(12.0).reshape(3, 4)[:, ::2],  # non-contiguous input
        "big_endian": np.arange(3, dtype=">f8"),
    }
    for suffix in (".safetensors", ".npz"):
        path = tmp_path / f"d{suffix}"
        ag.save(state, path, metadata={"author": "test"})
        loaded = ag.load(path)
        assert load_metadata(path) == {"author": "test"}
        for key, value in state.items():
            assert loaded[key].shape == value.shape
            assert loaded[key].dtype == value.dtype.newbyteorder("=")
            np.testing.assert_array_equal(loaded[key].numpy(), value)
            assert loaded[key].numpy().flags.writeable

    # A safetensors file from another program (no structure metadata) loads as a flat dict.
    weight = np.arange(4.0, dtype=np.float32).reshape(2, 2)
    header = json.dumps({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}).encode()
    (tmp_path / "foreign.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + weight.tobytes())
    loaded = ag.load(tmp_path / "foreign.safetensors")
    assert list(loaded) == ["w"]
    np.testing.assert_array_equal(loaded["w"].numpy(), weight)


def test_save_refuses_what_it_cannot_store_and_changes_nothing(tmp_path):
    path = tmp_path / "keep.safetensors"
    ag.save({"w": np.ones(2)}, path)
    original = path.read_bytes()
    with pytest.raises(TypeError, match="'bad' has dtype complex128"):
        ag.save({"bad": np.ones(2, dtype=complex)}, path)
    with pytest.raises(TypeError, match="'a.b' has dtype object"):
        ag.save({"a": {"b": np.array([object()])}}, path)
    with pytest.raises(TypeError, match="cannot store a set at 'x'"):
        ag.save({"x": {1, 2}}, path)
    with pytest.raises(TypeError, match="keys must be str or int"):
        ag.save({(1, 2): np.ones(1)}, path)
    with pytest.raises(ValueError, match="both be stored under the name 'a.b'"):
        ag.save({"a.b": np.ones(1), "a": {"b": np.ones(1)}}, path)
    with pytest.raises(TypeError, match="state must be a dict"):
        ag.save(np.ones(3), path)
    with pytest.raises(ValueError, match="format must be"):
        ag.save({"w": np.ones(2)}, path, format="pickle")
    with pytest.raises(IsADirectoryError):
        ag.save({"w": np.ones(2)}, tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ag.save({"w": np.ones(2)}, tmp_path / "missing" / "x.safetensors")
    assert path.read_bytes() == original
    assert sorted(os.listdir(tmp_path)) == ["keep.safetensors"]


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, suffix):
    path = tmp_path / f"model{suffix}"
    ag.save({"w": np.ones(3)}, path)
    original = path.read_bytes()

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        ag.save({"w": np.zeros(3), "more": np.zeros(100)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == [path.name]


def test_wrong_truncated_and_corrupt_files_give_clear_errors(tmp_path):
    model, *_ = trained_model_and_optimizer(steps=1)
    good = tmp_path / "good.safetensors"
    ag.save(model.state_dict(), good)
    blob = good.read_bytes()

    def write(name, data):
        (tmp_path / name).write_bytes(data)
        return tmp_path / name

    cases = [
        (write("empty.safetensors", b""), "is empty"),
        (write("short.safetensors", b"\x10\x00"), "truncated"),
        (write("image.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), "not a checkpoint"),
        (write("text.safetensors", b"hello world, this is text"), "not a checkpoint"),
        (write("cut_header.safetensors", blob[:40]), "truncated or corrupt: its header length says"),
        (write("cut_data.safetensors", blob[:-16]), "truncated: tensor"),
        (write("extra.safetensors", blob + b"\x00" * 8), "8 bytes follow the last tensor"),
    ]
    flipped = bytearray(blob)
    flipped[-3] ^= 0xFF
    cases.append((write("flipped.safetensors", bytes(flipped)), "fails its SHA-256 integrity check"))
    (n,) = struct.unpack("<Q", blob[:8])
    bad_json = blob[:8] + b"{" + b"x" * (n - 1) + blob[8 + n :]
    cases.append((write("bad_json.safetensors", bad_json), "header is not valid JSON"))
    for path, message in cases:
        with pytest.raises(CheckpointError, match=message) as info:
            ag.load(path)
        assert str(path) in str(info.value)

    npz = tmp_path / "good.npz"
    ag.save(model.state_dict(), npz)
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        ag.load(write("cut.npz", npz.read_bytes()[:-30]))
    np.savez(tmp_path / "pickled.npz", obj=np.array([{"a": 1}], dtype=object))
    with pytest.raises(CheckpointError, match="pickled objects"):
        ag.load(tmp_path / "pickled.npz")
    with pytest.raises(CheckpointError, match="cannot read .*nowhere.safetensors: No such file") as info:
        ag.load(tmp_path / "nowhere.safetensors")
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_checkpoint_of_another_architecture_names_key_and_shapes(tmp_path):
    path = tmp_path / "small.safetensors"
    ag.save(nn.Sequential(nn.Linear(56, 8), nn.Sigmoid(), nn.Linear(8, 1)).state_dict(), path)
    bigger = nn.Sequential(nn.Linear(56, 16), nn.Sigmoid(), nn.Linear(16, 1))
    before = bigger[0].weight.numpy().copy()
    with pytest.raises(RuntimeError, match=r"size mismatch for '0.weight': the checkpoint has shape \(8, 56\), this model has shape \(16, 56\)"):  # fmt: skip
        bigger.load_state_dict(ag.load(path))
    np.testing.assert_array_equal(bigger[0].weight.numpy(), before)
    deeper = nn.Sequential(nn.Linear(56, 8), nn.Sigmoid(), nn.Linear(8, 8), nn.Sigmoid(), nn.Linear(8, 1))
    with pytest.raises(RuntimeError, match=r"missing key '4.weight'"):
        deeper.load_state_dict(ag.load(path))


# -------------------------------------------------------------- PyTorch
def torch_read_safetensors(torch, path):
    """Parse safetensors with torch alone (the `safetensors` package is not required)."""
    kinds = {"F64": torch.float64, "F32": torch.float32, "I64": torch.int64}
    blob = bytearray(open(path, "rb").read())
    (n,) = struct.unpack("<Q", bytes(blob[:8]))
    header = json.loads(bytes(blob[8 : 8 + n]))
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = (8 + n + offset for offset in entry["data_offsets"])
        flat = torch.frombuffer(blob, dtype=kinds[entry["dtype"]], count=math.prod(entry["shape"]), offset=begin)
        tensors[name] = flat.reshape(entry["shape"]).clone()
    return tensors


def torch_write_safetensors(torch, tensors, path):
    header, chunks, position = {}, [], 0
    for name, tensor in tensors.items():
        raw = tensor.detach().contiguous().reshape(-1).view(torch.uint8)
        header[name] = {"dtype": "F64", "shape": list(tensor.shape), "data_offsets": [position, position + raw.numel()]}
        chunks.append(bytes(raw.tolist()))
        position += raw.numel()
    encoded = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks))


def test_pytorch_round_trip(tmp_path):
    torch = pytest.importorskip("torch")
    model, _, _, (x, y) = trained_model_and_optimizer(steps=5)
    path = tmp_path / "model.safetensors"
    ag.save(model.state_dict(), path)

    reference = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Sigmoid(), torch.nn.Linear(8, 1)).double()
    reference.load_state_dict(torch_read_safetensors(torch, path))  # strict: same keys and shapes
    xt = torch.from_numpy(x)
    with torch.no_grad():
        np.testing.assert_allclose(reference(xt).numpy(), model(x).numpy(), rtol=1e-12)

    # ... and back: train a step in torch, write it with torch-side code, load it here.
    torch_opt = torch.optim.SGD(reference.parameters(), lr=0.1)
    torch.nn.functional.mse_loss(reference(xt), torch.from_numpy(y)).backward()
    torch_opt.step()
    back = tmp_path / "from_torch.safetensors"
    torch_write_safetensors(torch, reference.state_dict(), back)
    model.load_state_dict(ag.load(back))
    with torch.no_grad():
        np.testing.assert_allclose(model(x).numpy(), reference(xt).numpy(), rtol=1e-12)


def test_the_safetensors_package_reads_our_files(tmp_path):
    """Optional: the reference reader (Rust, strict) accepts our files; skipped without it."""
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    model, opt, _, _ = trained_model_and_optimizer()
    path = tmp_path / "all.safetensors"
    ag.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
    arrays = safetensors_numpy.load_file(str(path))
    np.testing.assert_array_equal(arrays["model.0.weight"], model[0].weight.numpy())
    np.testing.assert_array_equal(arrays["optimizer.state.0.exp_avg"], opt.state[model[0].weight]["exp_avg"])
    written = tmp_path / "theirs.safetensors"
    safetensors_numpy.save_file({"0.weight": np.ones((2, 3), dtype=np.float32)}, str(written))
    assert ag.load(written)["0.weight"].shape == (2, 3)
