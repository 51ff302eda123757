"""What a checkpoint file may be, to the letter: the data packed as the safetensors
reference reader requires, headers in standard JSON, names that cannot collide, metadata
that cannot overwrite ours, and the ``.npz`` side's own rules. Files are written by hand
here (struct, json, zipfile, hashlib) so that nothing depends on the code under test."""

from __future__ import annotations

import hashlib
import json
import struct
import warnings
import zipfile

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.checkpoint import CheckpointError, load_metadata

TWO = np.array([1.5, -2.5], dtype="<f8").tobytes()  # 16 bytes: one F64 tensor of shape (2,)


def safetensors_bytes(header: dict, data: bytes) -> bytes:
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + data


def f64(begin: int, end: int, shape=(2,)) -> dict:
    return {"dtype": "F64", "shape": list(shape), "data_offsets": [begin, end]}


BAD_LAYOUTS = {
    "gap": ({"a": f64(0, 16), "b": f64(24, 40)}, TWO + bytes(8) + TWO, "starts at byte 24 of the data, expected 16"),
    "overlap": ({"a": f64(0, 16), "b": f64(8, 24)}, TWO + bytes(8), "starts at byte 8 of the data, expected 16"),
    "trailing bytes": ({"a": f64(0, 16)}, TWO + bytes(8), "8 bytes follow the last tensor's data"),
    "offsets too short": ({"a": f64(0, 8)}, TWO[:8], "needs 16 bytes, its data_offsets [0, 8] give 8"),
}


@pytest.mark.parametrize("case", list(BAD_LAYOUTS))
def test_the_data_must_be_packed_without_gaps_overlaps_or_leftovers(tmp_path, case):
    header, data, message = BAD_LAYOUTS[case]
    path = tmp_path / "bad.safetensors"
    path.write_bytes(safetensors_bytes(header, data))
    with pytest.raises(CheckpointError, match=message.replace("[", r"\[").replace("]", r"\]")):
        ag.load(path)
    good = tmp_path / "good.safetensors"
    good.write_bytes(safetensors_bytes({"a": f64(0, 16), "b": f64(16, 32)}, TWO + TWO))
    np.testing.assert_array_equal(ag.load(good)["b"].numpy(), [1.5, -2.5])


@pytest.mark.parametrize("case", list(BAD_LAYOUTS))
def test_the_safetensors_reference_reader_refuses_the_same_files(case):
    """The layout rules are the format's, not ours: the Rust reader refuses these files too."""
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    header, data, _ = BAD_LAYOUTS[case]
    with pytest.raises(Exception, match="offset|not fully covered|invalid"):
        safetensors_numpy.load(safetensors_bytes(header, data))


def test_a_header_length_beyond_the_file_is_reported_as_truncation(tmp_path):
    blob = safetensors_bytes({"a": f64(0, 16)}, TWO)
    path = tmp_path / "cut.safetensors"
    path.write_bytes(struct.pack("<Q", 4096) + blob[8:])
    with pytest.raises(CheckpointError, match="header length says 4096 bytes, but the file has only"):
        ag.load(path)


def strict_json(text):
    """json.loads that refuses NaN, Infinity and -Infinity, which RFC 8259 JSON does not have."""

    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_numbers_are_stored_in_standard_json(tmp_path):
    state = {"w": np.ones(2), "best": float("inf"), "worst": float("-inf"), "last": float("nan"), "lr": 0.1}
    path = tmp_path / "m.safetensors"
    ag.save(state, path)
    blob = path.read_bytes()
    (n,) = struct.unpack("<Q", blob[:8])
    header = strict_json(blob[8 : 8 + n])
    for value in header["__metadata__"].values():
        if value.startswith(("{", "[")):
            strict_json(value)  # the structure, stored as a string, is standard JSON as well
    back = ag.load(path)
    assert back["best"] == float("inf") and back["worst"] == float("-inf") and np.isnan(back["last"])
    assert back["lr"] == 0.1


def test_numpy_scalars_are_saved_as_python_numbers(tmp_path):
    ag.save({"loss": np.float32(0.25), "step": np.int64(7), "done": np.bool_(True)}, tmp_path / "s.safetensors")
    back = ag.load(tmp_path / "s.safetensors")
    assert back == {"loss": 0.25, "step": 7, "done": True}
    assert type(back["loss"]) is float and type(back["step"]) is int and type(back["done"]) is bool


def test_two_entries_that_would_share_a_name_are_refused(tmp_path):
    with pytest.raises(ValueError, match="both be stored under the name 'a.b'"):
        ag.save({"a.b": np.ones(1), "a": {"b": np.zeros(1)}}, tmp_path / "clash.safetensors")
    assert not (tmp_path / "clash.safetensors").exists()


def test_boolean_keys_are_refused_at_save(tmp_path):
    with pytest.raises(TypeError, match="dict keys must be str or int, got True"):
        ag.save({"m": {True: 1}}, tmp_path / "b.safetensors")


def test_user_metadata_cannot_take_our_keys_and_is_returned_alone(tmp_path):
    with pytest.raises(ValueError, match="keys not starting 'autograd_nn.'"):
        ag.save({"w": np.ones(1)}, tmp_path / "m.safetensors", metadata={"autograd_nn.tree": "{}"})
    for suffix in (".safetensors", ".npz"):
        path = tmp_path / f"ok{suffix}"
        ag.save({"w": np.ones(1)}, path, metadata={"run": "7", "note": "first"})
        assert load_metadata(path) == {"run": "7", "note": "first"}


def test_a_path_ending_in_npz_gets_a_zip_archive(tmp_path):
    ag.save({"w": np.arange(3.0)}, tmp_path / "m.npz")
    assert zipfile.is_zipfile(tmp_path / "m.npz")
    assert (tmp_path / "m.npz").read_bytes()[:4] == b"PK\x03\x04"


def test_mixed_dtypes_are_laid_out_aligned(tmp_path):
    """Each tensor starts at a multiple of its item size, whatever order the state lists them in."""
    state = {"byte": np.ones(3, dtype=np.uint8), "half": np.ones(3, dtype=np.float16), "double": np.ones(3)}
    path = tmp_path / "mixed.safetensors"
    ag.save(state, path)
    blob = path.read_bytes()
    (n,) = struct.unpack("<Q", blob[:8])
    assert (8 + n) % 8 == 0
    header = json.loads(blob[8 : 8 + n])
    sizes = {"U8": 1, "F16": 2, "F64": 8}
    for name in state:
        begin = header[name]["data_offsets"][0]
        assert begin % sizes[header[name]["dtype"]] == 0, (name, begin)


def our_safetensors_file(path, metadata: dict, tree: str):
    """A file as our writer lays it out, digest included, computed here with hashlib."""
    meta = {"autograd_nn.sha256": "0" * 64, **metadata, "autograd_nn.tree": tree}
    header = {"__metadata__": meta, "w": f64(0, 16)}
    blob = bytearray(safetensors_bytes(header, TWO))
    field = b'"autograd_nn.sha256":"'
    at = blob.index(field) + len(field)
    blob[at : at + 64] = hashlib.sha256(bytes(blob)).hexdigest().encode()
    path.write_bytes(bytes(blob))
    return path


def test_a_newer_format_is_refused_and_this_one_loads(tmp_path):
    tree = '{"dict":[["w",{"tensor":"w"}]]}'
    ok = our_safetensors_file(tmp_path / "ok.safetensors", {"autograd_nn.format": "2"}, tree)
    np.testing.assert_array_equal(ag.load(ok)["w"].numpy(), [1.5, -2.5])
    newer = our_safetensors_file(tmp_path / "new.safetensors", {"autograd_nn.format": "3"}, tree)
    with pytest.raises(CheckpointError, match="written in checkpoint format '3'"):
        ag.load(newer)


def test_a_structure_must_use_every_tensor_once(tmp_path):
    unused = our_safetensors_file(tmp_path / "u.safetensors", {"autograd_nn.format": "2"}, '{"dict":[]}')
    with pytest.raises(CheckpointError, match="tensor 'w' is not part of the saved structure"):
        ag.load(unused)
    twice = '{"dict":[["a",{"tensor":"w"}],["b",{"tensor":"w"}]]}'
    path = our_safetensors_file(tmp_path / "t.safetensors", {"autograd_nn.format": "2"}, twice)
    with pytest.raises(CheckpointError, match="names a tensor that is missing or already used"):
        ag.load(path)


def test_an_npz_of_another_program_keeps_fortran_order(tmp_path):
    array = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.savez(tmp_path / "f.npz", a=array)
    np.testing.assert_array_equal(ag.load(tmp_path / "f.npz")["a"].numpy(), np.arange(6.0).reshape(2, 3))


def test_an_npz_listing_a_member_twice_is_refused(tmp_path):
    path = tmp_path / "twice.npz"
    with zipfile.ZipFile(path, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile's "Duplicate name": the point of this file
        for _ in range(2):
            with archive.open("a.npy", "w") as member:
                np.lib.format.write_array(member, np.ones(2))
    with pytest.raises(CheckpointError, match="lists a member twice"):
        ag.load(path)


def test_our_npz_without_its_integrity_record_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    ag.save({"w": np.ones(2)}, path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.comment = b""  # strip the digest, as a truncating copy could
    with pytest.raises(CheckpointError, match="integrity record .* is missing"):
        ag.load(path)
