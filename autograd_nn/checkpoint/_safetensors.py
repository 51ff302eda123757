"""The safetensors layout: an 8-byte little-endian header length, a JSON header mapping
each tensor's name to ``dtype``, ``shape`` and ``data_offsets``, then the raw bytes.

Our files (format 2) also carry, in the header's ``__metadata__``, the SHA-256 of the
whole file computed with the digest's own 64 characters written as zeros: a change to any
bit — length, header, metadata or data — fails the check.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import zlib
from typing import Any, BinaryIO

import numpy as np

from ._common import (
    DTYPE_NAMES,
    DTYPES,
    LEGACY_CRC_KEY,
    MAX_HEADER_BYTES,
    SHA_KEY,
    SHA_PLACEHOLDER,
    CheckpointError,
    check_format,
    is_ours,
    parse_json,
    string_map,
)

_SHA_FIELD = f'"{SHA_KEY}":"'.encode()
_CHUNK = 1 << 22


def _c_order(array: np.ndarray) -> np.ndarray:
    # NOTE: not np.ascontiguousarray, which turns a 0-d array into shape (1,).
    return array if array.flags.c_contiguous else array.copy(order="C")


def little_endian(array: np.ndarray) -> np.ndarray:
    array = _c_order(array)
    if array.dtype.byteorder == ">" or (array.dtype.byteorder == "=" and not np.little_endian):
        array = array.astype(array.dtype.newbyteorder("<"))
    return array


def _raw_bytes(array: np.ndarray) -> np.ndarray:
    return array.reshape(-1).view(np.uint8)


def write(f: BinaryIO, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    # Lay the data out widest dtype first, so every tensor starts at a multiple of its
    # item size (the header is padded to 8 bytes): readers can map it without copying.
    arrays = {name: little_endian(array) for name, array in tensors.items()}
    order = sorted(arrays, key=lambda name: -arrays[name].dtype.itemsize)
    offsets, position = {}, 0
    for name in order:
        offsets[name] = [position, position + arrays[name].nbytes]
        position += arrays[name].nbytes
    # The digest first, so that a reader finding the field early can verify.
    header: dict[str, Any] = {"__metadata__": {SHA_KEY: SHA_PLACEHOLDER, **metadata}}
    for name, array in arrays.items():
        header[name] = {
            "dtype": DTYPE_NAMES[array.dtype.newbyteorder("=")],
            "shape": list(array.shape),
            "data_offsets": offsets[name],
        }
    encoded = json.dumps(header, separators=(",", ":")).encode("ascii")
    encoded += b" " * (-len(encoded) % 8)
    prefix = struct.pack("<Q", len(encoded))
    digest = hashlib.sha256(prefix + encoded)
    for name in order:
        digest.update(_raw_bytes(arrays[name]))
    field = _SHA_FIELD + SHA_PLACEHOLDER.encode()
    at = encoded.index(field) + len(_SHA_FIELD)
    encoded = encoded[:at] + digest.hexdigest().encode() + encoded[at + 64 :]
    f.write(prefix)
    f.write(encoded)
    for name in order:
        f.write(_raw_bytes(arrays[name]))


def read(f: BinaryIO, size: int, source: str, header_only: bool) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The tensors (none if ``header_only``) and the metadata of the safetensors file ``f``,
    after every check; the file's integrity is verified in both modes."""
    f.seek(0)
    prefix = f.read(8)
    (header_size,) = struct.unpack("<Q", prefix)
    if header_size > min(size - 8, MAX_HEADER_BYTES):
        raise CheckpointError(
            f"load: {source} is truncated or corrupt: its header length says {header_size} bytes, "
            f"but the file has only {size - 8} bytes after it"
        )
    raw_header = f.read(header_size)
    header = parse_json(raw_header, "header", source)
    if not isinstance(header, dict):
        raise CheckpointError(f"load: {source} is corrupt: its header is not a JSON object")
    metadata = string_map(header.pop("__metadata__", {}), "__metadata__", source)
    data_size = size - 8 - header_size
    specs = {name: _tensor_spec(name, entry, data_size, source) for name, entry in header.items()}
    _check_packed(specs, data_size, source)
    ours = is_ours(metadata)
    digest = _blank_digest(prefix, raw_header, metadata, source) if ours else None
    data: bytearray | None = None
    if header_only:
        if digest is not None:
            for block in iter(lambda: f.read(_CHUNK), b""):
                digest.update(block)
    else:
        data = bytearray(data_size)  # at most the file's size: the shapes were checked against it
        if f.readinto(data) != data_size:
            raise CheckpointError(f"load: {source} is truncated (it changed while being read?)")
        if digest is not None:
            digest.update(data)
    if digest is not None:
        if digest.hexdigest() != metadata[SHA_KEY]:
            raise CheckpointError(
                f"load: {source} is corrupt: it fails its SHA-256 integrity check (the file was changed "
                "or damaged after it was written)"
            )
        check_format(metadata, source)
    elif LEGACY_CRC_KEY in metadata and data is not None and str(zlib.crc32(data)) != metadata[LEGACY_CRC_KEY]:
        raise CheckpointError(f"load: {source} is corrupt: the tensor data fails its CRC-32 check")
    if data is None:
        return {}, metadata
    tensors = {}
    for name, (dtype, shape, begin, _) in specs.items():
        array = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=begin).reshape(shape)
        if not array.flags.aligned or not array.dtype.isnative:
            array = array.astype(dtype.newbyteorder("="))  # copies into an aligned, native array
        tensors[name] = array
    return tensors, metadata


def _blank_digest(prefix: bytes, raw_header: bytes, metadata: dict[str, str], source: str) -> Any:
    """A SHA-256 fed with the length and the header, the recorded digest written as zeros."""
    recorded = metadata.get(SHA_KEY)
    if recorded is None:
        raise CheckpointError(f"load: {source} is corrupt: its integrity record ({SHA_KEY!r}) is missing")
    at = raw_header.find(_SHA_FIELD)
    if at < 0 or raw_header.find(_SHA_FIELD, at + 1) >= 0:
        raise CheckpointError(f"load: {source} is corrupt: its integrity record is missing or appears twice")
    at += len(_SHA_FIELD)
    if raw_header[at : at + 64].decode("ascii", "replace") != recorded or len(recorded) != 64:
        raise CheckpointError(f"load: {source} is corrupt: its integrity record is damaged")
    return hashlib.sha256(prefix + raw_header[:at] + SHA_PLACEHOLDER.encode() + raw_header[at + 64 :])


def _check_packed(specs: dict[str, tuple[Any, ...]], data_size: int, source: str) -> None:
    position = 0
    for begin, end, name in sorted((begin, end, name) for name, (_, _, begin, end) in specs.items()):
        if begin != position:
            raise CheckpointError(
                f"load: {source} is corrupt: tensor {name!r} starts at byte {begin} of the data, expected {position} "
                "(tensors must be packed without gaps or overlaps)"
            )
        position = end
    if position != data_size:
        raise CheckpointError(f"load: {source} is corrupt: {data_size - position} bytes follow the last tensor's data")


def _is_count(n: Any) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and n >= 0


def _tensor_spec(name: str, entry: Any, data_size: int, source: str) -> tuple[np.dtype, tuple[int, ...], int, int]:
    if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
        raise CheckpointError(f"load: {source} is corrupt: header entry {name!r} lacks dtype, shape or data_offsets")
    dtype = DTYPES.get(entry["dtype"]) if isinstance(entry["dtype"], str) else None
    if dtype is None:
        raise CheckpointError(
            f"load: {source}: tensor {name!r} has dtype {entry['dtype']!r}, which numpy cannot represent "
            f"(supported: {', '.join(DTYPES)})"
        )
    shape, offsets = entry["shape"], entry["data_offsets"]
    if not (isinstance(shape, list) and len(shape) <= 64 and all(_is_count(n) for n in shape)):
        raise CheckpointError(f"load: {source} is corrupt: tensor {name!r} has shape {str(shape)[:100]}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(n) for n in offsets)):
        raise CheckpointError(f"load: {source} is corrupt: tensor {name!r} has data_offsets {str(offsets)[:100]}")
    begin, end = offsets
    needed = math.prod(shape) * dtype.itemsize
    if end - begin != needed:
        raise CheckpointError(
            f"load: {source} is corrupt: tensor {name!r} of shape {tuple(shape)} and dtype {entry['dtype']} "
            f"needs {needed} bytes, its data_offsets {offsets} give {end - begin}"
        )
    if end > data_size:
        raise CheckpointError(
            f"load: {source} is truncated: tensor {name!r} needs bytes {begin}..{end} of the data, "
            f"but the file holds only {data_size}"
        )
    return dtype, tuple(shape), begin, end
