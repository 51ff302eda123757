"""Checkpoint integrity: every changed bit is caught, every failure is a CheckpointError,
older files and other programs' files still load."""

from __future__ import annotations

import json
import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.checkpoint import CheckpointError, load_metadata

DATA = Path(__file__).parent / "data"


def small_state():
    return {"model": {"0.weight": np.array([[1.5, -2.0]], dtype=np.float32)}, "epoch": 3, "name": "run"}


def assert_every_flip_is_caught(path, bits):
    """Flip each bit (a byte index, a bit index) of the file in place and load it: every
    load must raise CheckpointError. The file is restored after each flip."""
    silent = []
    with open(path, "r+b") as f:
        for byte, bit in bits:
            f.seek(byte)
            original = f.read(1)[0]
            f.seek(byte)
            f.write(bytes([original ^ (1 << bit)]))
            f.flush()
            try:
                ag.load(path)
            except CheckpointError:
                pass
            else:
                silent.append((byte, bit))
            f.seek(byte)
            f.write(bytes([original]))
            f.flush()
    assert not silent, f"{len(silent)} bit flips loaded without error, e.g. (byte, bit) = {silent[:5]}"


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_every_single_bit_flip_of_a_small_checkpoint_is_detected(tmp_path, suffix):
    path = tmp_path / f"small{suffix}"
    ag.save({"w": np.array([1.5, -2.0], dtype=np.float32), "epoch": 3}, path, metadata={"note": "x"})
    size = path.stat().st_size
    assert size < 1200  # exhaustive: every bit of the file
    assert_every_flip_is_caught(path, [(byte, bit) for byte in range(size) for bit in range(8)])
    assert ag.load(path)["epoch"] == 3  # the restored file loads again


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_bit_flips_in_a_large_checkpoint_are_detected(tmp_path, suffix):
    rng = np.random.default_rng(0)
    state = {"w": rng.normal(size=(256, 512)), "b": rng.normal(size=512).astype(np.float32), "epoch": 1}
    path = tmp_path / f"large{suffix}"
    ag.save(state, path)
    size = path.stat().st_size
    assert size > 1_000_000
    # a seeded sample: 100 bits in the first and last 600 bytes (the headers and the zip
    # directory), 50 anywhere
    edges = np.concatenate([np.arange(600), np.arange(size - 600, size)])
    bytes_ = np.concatenate([rng.choice(edges, 100, replace=False), rng.choice(size, 50, replace=False)])
    assert_every_flip_is_caught(path, [(int(b), int(rng.integers(8))) for b in bytes_])
    np.testing.assert_array_equal(ag.load(path)["w"].numpy(), state["w"])


def test_the_digest_covers_the_whole_file(tmp_path):
    """Independent check of the documented rule: SHA-256 of the file with the digest's 64
    characters written as zeros."""
    import hashlib

    path = tmp_path / "m.safetensors"
    ag.save(small_state(), path)
    blob = path.read_bytes()
    (n,) = struct.unpack("<Q", blob[:8])
    recorded = json.loads(blob[8 : 8 + n])["__metadata__"]["autograd_nn.sha256"]
    assert hashlib.sha256(blob.replace(recorded.encode(), b"0" * 64)).hexdigest() == recorded
    npz = tmp_path / "m.npz"
    ag.save(small_state(), npz)
    blob = npz.read_bytes()
    assert blob[-83:-64] == b"autograd_nn.sha256="
    assert hashlib.sha256(blob[:-64] + b"0" * 64).hexdigest() == blob[-64:].decode()
    assert zipfile.ZipFile(npz).comment == blob[-83:]  # a real zip comment


@pytest.mark.parametrize("name", ["format1.safetensors", "format1.npz"])
def test_files_of_the_previous_format_still_load(name):
    """Written by autograd_nn 0.1.0's writer (commit 5d65840), kept as test data."""
    loaded = ag.load(DATA / name)
    np.testing.assert_array_equal(loaded["model"]["0.weight"].numpy(), np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(loaded["model"]["0.bias"].numpy(), [0.5, -1.5])
    assert loaded["epoch"] == 7 and loaded["notes"] == {"name": "format 1", "best": float("inf"), "flags": (True, None)}
    assert load_metadata(DATA / name) == {"author": "autograd_nn 0.1.0"}


def test_the_previous_formats_data_crc_is_still_checked(tmp_path):
    blob = bytearray((DATA / "format1.safetensors").read_bytes())
    blob[-1] ^= 1
    (tmp_path / "old.safetensors").write_bytes(blob)
    with pytest.raises(CheckpointError, match="CRC-32"):
        ag.load(tmp_path / "old.safetensors")


def test_files_of_other_programs_load_as_flat_dicts(tmp_path):
    weights = {"a": np.arange(6.0).reshape(2, 3), "b": np.array([1, 2], dtype=np.int32)}
    np.savez(tmp_path / "plain.npz", **weights)
    np.savez_compressed(tmp_path / "deflated.npz", **weights)
    np.savez(tmp_path / "fortran.npz", a=np.asfortranarray(weights["a"]), b=weights["b"])
    for name in ("plain.npz", "deflated.npz", "fortran.npz"):
        loaded = ag.load(tmp_path / name)
        assert sorted(loaded) == ["a", "b"]
        for key, value in weights.items():
            np.testing.assert_array_equal(loaded[key].numpy(), value)
            assert loaded[key].dtype == value.dtype


def test_pytorch_safetensors_files_load(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    net = torch.nn.Sequential(torch.nn.Linear(3, 2))
    safetensors_torch.save_file(net.state_dict(), str(tmp_path / "net.safetensors"))
    loaded = ag.load(tmp_path / "net.safetensors")
    np.testing.assert_array_equal(loaded["0.weight"].numpy(), net[0].weight.detach().numpy())


# ---------------------------------------------------------------- refusals
def test_a_torch_save_file_is_named_and_the_conversion_explained(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save(torch.nn.Linear(2, 2).state_dict(), tmp_path / "model.pt")
    with pytest.raises(
        CheckpointError, match=r"PyTorch checkpoint written by torch.save.*safetensors.torch import save_file"
    ):
        ag.load(tmp_path / "model.pt")


def test_a_pickle_is_refused_with_a_conversion_hint(tmp_path):
    (tmp_path / "old.pt").write_bytes(pickle.dumps({"w": [1.0, 2.0]}, protocol=2))
    with pytest.raises(CheckpointError, match="Python pickle.*never loads.*save_file"):
        ag.load(tmp_path / "old.pt")


def test_an_npz_with_a_member_that_is_not_an_array_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "odd.npz", "w") as archive:
        archive.writestr("w.npy", b"")
        archive.writestr("notes.txt", b"hello")
    with pytest.raises(CheckpointError, match="'notes.txt' is not a .npy array"):
        ag.load(tmp_path / "odd.npz")


def _safetensors_file(path, header: bytes, data: bytes = b""):
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    return path


def test_deeply_nested_json_is_refused_without_recursion(tmp_path):
    deep = b'{"__metadata__":{},"x":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    with pytest.raises(CheckpointError, match="nests 200001 levels deep"):
        ag.load(_safetensors_file(tmp_path / "deep.safetensors", deep))
    tree = "[" * 200_000 + "]" * 200_000
    header = json.dumps({"__metadata__": {"autograd_nn.tree": tree}}).encode()
    with pytest.raises(CheckpointError, match="structure nests 200000 levels"):
        ag.load(_safetensors_file(tmp_path / "deep_tree.safetensors", header))
    with pytest.raises(ValueError, match="nests more than 64 levels"):
        nested: dict = {}
        top = nested
        for _ in range(70):
            nested["x"] = {}
            nested = nested["x"]
        ag.save(top, tmp_path / "never.safetensors")
    looped: dict = {"w": np.ones(1)}
    looped["self"] = looped
    with pytest.raises(ValueError, match="or contains itself"):
        ag.save(looped, tmp_path / "never.safetensors")
    assert not (tmp_path / "never.safetensors").exists()


def test_declared_shapes_must_agree_with_the_file_size(tmp_path):
    huge = json.dumps({"w": {"dtype": "F64", "shape": [2**40], "data_offsets": [0, 8 * 2**40]}}).encode()
    with pytest.raises(CheckpointError, match="truncated: tensor 'w' needs bytes"):
        ag.load(_safetensors_file(tmp_path / "huge.safetensors", huge, b"\x00" * 64))
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as archive:
        with archive.open("w.npy", "w") as member:
            np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": (2**40,)})
            member.write(b"\x00" * 64)
    with pytest.raises(CheckpointError, match=r"declares shape \(1099511627776,\) of float64"):
        ag.load(tmp_path / "huge.npz")


def deflate_bomb(path, nbytes, level=1):
    """An honest .npz whose one member inflates to ``nbytes`` zeros."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        with archive.open("x.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(
                member, {"descr": "<f8", "fortran_order": False, "shape": (nbytes // 8,)}
            )
            block = bytes(1 << 20)
            for _ in range(nbytes >> 20):
                member.write(block)
    return path


def test_the_npz_inflation_limit_is_configurable(tmp_path):
    bomb = deflate_bomb(tmp_path / "bomb.npz", 8 << 20, level=9)
    assert bomb.stat().st_size < 40_000
    with pytest.raises(CheckpointError, match="more than 2 times the file's size.*max_inflation"):
        ag.load(bomb, max_inflation=2)
    assert ag.load(bomb)["x"].shape == (1 << 20,)  # within the default: 100 × 1 MiB
    with pytest.raises(ValueError, match="max_inflation must be a number >= 1"):
        ag.load(bomb, max_inflation=0)


def test_every_failure_is_a_checkpoint_error_with_its_cause(tmp_path):
    with pytest.raises(CheckpointError, match="cannot read") as info:
        ag.load(tmp_path)  # a folder
    assert isinstance(info.value.__cause__, IsADirectoryError)
    if os.path.exists("/dev/zero"):
        with pytest.raises(CheckpointError, match="/dev/zero is not a regular file"):
            ag.load("/dev/zero")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe")
        with pytest.raises(CheckpointError, match="pipe is not a regular file"):
            ag.load(tmp_path / "pipe")  # refused without opening it (which would block)
    bad_utf8 = _safetensors_file(tmp_path / "utf8.safetensors", b'{"\xff": 1}')
    with pytest.raises(CheckpointError, match="not valid JSON") as info:
        ag.load(bad_utf8)
    assert isinstance(info.value.__cause__, UnicodeDecodeError)
    wrong_kind = json.dumps({"__metadata__": {"autograd_nn.tree": '{"tensor": ["x"]}'}}).encode()
    with pytest.raises(CheckpointError, match="names a tensor that is missing"):
        ag.load(_safetensors_file(tmp_path / "kind.safetensors", wrong_kind))
    bad_keys = json.dumps({"__metadata__": {"autograd_nn.tree": '{"dict": [[[1], {"value": 1}]]}'}}).encode()
    with pytest.raises(CheckpointError, match="dict keys must be distinct strings or integers"):
        ag.load(_safetensors_file(tmp_path / "keys.safetensors", bad_keys))
    bool_shape = json.dumps({"w": {"dtype": "F64", "shape": [True], "data_offsets": [0, 8]}}).encode()
    with pytest.raises(CheckpointError, match="has shape"):
        ag.load(_safetensors_file(tmp_path / "bool.safetensors", bool_shape, b"\x00" * 8))


@pytest.mark.parametrize("name", ["model.pt", "model.pth", "model.pkl", "model.pickle", "model.ckpt", "M.PT"])
def test_save_refuses_pickle_names(tmp_path, name):
    with pytest.raises(ValueError, match=r"never writes pickle.*\.safetensors"):
        ag.save({"w": np.ones(2)}, tmp_path / name)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_save_refuses_the_reserved_name(tmp_path, suffix):
    with pytest.raises(ValueError, match="'__metadata__' is reserved in checkpoints"):
        ag.save({"__metadata__": np.ones(2)}, tmp_path / f"m{suffix}")
    assert not list(tmp_path.iterdir())


def test_save_refuses_a_format_its_path_contradicts(tmp_path):
    with pytest.raises(ValueError, match="says npz, but format='safetensors'"):
        ag.save({"w": np.ones(2)}, tmp_path / "m.npz", format="safetensors")
    with pytest.raises(ValueError, match="says safetensors, but format='npz'"):
        ag.save({"w": np.ones(2)}, tmp_path / "m.safetensors", format="npz")
    with pytest.raises(ValueError, match=r"m\.npy' ends in \.npy, the name of a numpy array file"):
        ag.save({"w": np.ones(2)}, tmp_path / "m.npy", format="npz")
    assert not list(tmp_path.iterdir())
    ag.save({"w": np.ones(2)}, tmp_path / "m.weights", format="npz")  # a name of no format: as asked
    assert (tmp_path / "m.weights").read_bytes()[:2] == b"PK"
    ag.save({"w": np.ones(2)}, tmp_path / "run_lr0.01")  # a dot in a name is no format either
    assert (tmp_path / "run_lr0.01").read_bytes()[8:9] == b"{"  # safetensors: 8-byte length, then JSON


OTHER_FORMATS = [".npy", ".bin", ".h5", ".hdf5", ".json", ".onnx", ".zip", ".csv", ".txt", ".msgpack", ".gguf", ".NPY"]


@pytest.mark.parametrize("suffix", OTHER_FORMATS)
@pytest.mark.parametrize("format", [None, "safetensors", "npz"])
def test_save_refuses_a_suffix_that_names_another_format(tmp_path, suffix, format):
    """``m.npy`` used to hold safetensors, which np.load cannot read: the name would lie."""
    path = tmp_path / f"m{suffix}"
    path.write_bytes(b"an earlier file")
    with pytest.raises(ValueError) as refusal:
        ag.save({"w": np.ones(2)}, path, format=format)
    message = str(refusal.value)
    assert message.startswith("save: ") and str(path) in message and f"ends in {suffix}" in message
    assert "m.safetensors" in message and "m.npz" in message  # the names it would take
    assert path.read_bytes() == b"an earlier file" and [p.name for p in tmp_path.iterdir()] == [path.name]
