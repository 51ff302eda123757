"""The ``.npz`` layout: a zip archive of ``.npy`` arrays, our metadata as JSON in a
``__metadata__.npy`` member, read without ``np.load`` so that every size is checked
before anything is allocated.

Our files (format 2) end with the zip comment ``autograd_nn.sha256=<64 hex digits>``:
the SHA-256 of the whole file computed with those 64 characters written as zeros.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import zipfile
import zlib
from typing import BinaryIO

import numpy as np

from ._common import (
    DTYPE_NAMES,
    NPZ_METADATA,
    SHA_PLACEHOLDER,
    CheckpointError,
    check_format,
    is_ours,
    parse_json,
    string_map,
)
from ._safetensors import little_endian

_COMMENT = b"autograd_nn.sha256="
_TAIL = len(_COMMENT) + 64
_HEX = re.compile(rb"[0-9a-f]{64}")
_CHUNK = 1 << 22
_METADATA_MEMBER = NPZ_METADATA + ".npy"
#: ``load`` lets the arrays of an ``.npz`` take at most this many times the file's size
#: (counting a file under 1 MiB as 1 MiB): a deflated member cannot inflate without bound.
DEFAULT_MAX_INFLATION = 100.0
_MIN_BUDGET_FILE = 1 << 20


def write(f: BinaryIO, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Write the archive, then its digest into the last 64 bytes (``f`` is readable)."""
    start = f.tell()
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in tensors.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, little_endian(array), allow_pickle=False)
        with archive.open(_METADATA_MEMBER, "w") as member:
            np.lib.format.write_array(member, np.array(json.dumps(metadata)), allow_pickle=False)
        archive.comment = _COMMENT + SHA_PLACEHOLDER.encode()
    end = f.tell()
    f.flush()
    f.seek(start)
    digest = hashlib.sha256()
    for block in iter(lambda: f.read(min(_CHUNK, end - f.tell())), b""):
        digest.update(block)
    f.seek(end - 64)
    f.write(digest.hexdigest().encode())
    f.seek(end)


def read(
    f: BinaryIO, size: int, source: str, header_only: bool, max_inflation: float
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    marked = _verify(f, size, source)
    try:
        with zipfile.ZipFile(f) as archive:
            infos = _members(archive, source)
            budget = max_inflation * max(size, _MIN_BUDGET_FILE)
            declared = sum(info.file_size for info in infos)
            if declared > budget:
                raise CheckpointError(
                    f"load: {source}: its arrays would take {declared} bytes, more than {max_inflation:g} times the "
                    f"file's size ({size} bytes); refusing to inflate it (pass max_inflation= to load to allow more)"
                )
            metadata: dict[str, str] = {}
            tensors: dict[str, np.ndarray] = {}
            for info in infos:
                if info.filename == _METADATA_MEMBER:
                    text = _read_member(archive, info, source, text=True)
                    metadata = string_map(parse_json(str(text[()]), "metadata", source), "its metadata", source)
                elif not header_only:
                    tensors[info.filename[: -len(".npy")]] = _read_member(archive, info, source, text=False)
    except (zipfile.BadZipFile, zlib.error, EOFError) as err:
        raise CheckpointError(f"load: {source} is a truncated or corrupt .npz archive ({err})") from err
    if is_ours(metadata) and not marked:
        raise CheckpointError(
            f"load: {source} is truncated or corrupt: its integrity record (the zip comment at its end) is missing"
        )
    if marked:
        check_format(metadata, source)
    return tensors, metadata


def _verify(f: BinaryIO, size: int, source: str) -> bool:
    """Check the digest if the file ends with one; say whether it did."""
    if size < _TAIL:
        return False
    f.seek(size - _TAIL)
    tail = f.read(_TAIL)
    if not tail.startswith(_COMMENT):
        return False
    recorded = tail[len(_COMMENT) :]
    if not _HEX.fullmatch(recorded):
        raise CheckpointError(f"load: {source} is corrupt: its integrity record is damaged")
    digest = hashlib.sha256()
    f.seek(0)
    remaining = size - 64
    while remaining:
        block = f.read(min(_CHUNK, remaining))
        if not block:
            raise CheckpointError(f"load: {source} is truncated (it changed while being read?)")
        digest.update(block)
        remaining -= len(block)
    digest.update(SHA_PLACEHOLDER.encode())
    if digest.hexdigest().encode() != recorded:
        raise CheckpointError(
            f"load: {source} is corrupt: it fails its SHA-256 integrity check (the file was changed "
            "or damaged after it was written)"
        )
    f.seek(0)
    return True


def _members(archive: zipfile.ZipFile, source: str) -> list[zipfile.ZipInfo]:
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if any(name.endswith(".pkl") for name in names):
        raise CheckpointError(
            f"load: {source} is a PyTorch checkpoint written by torch.save (a zip holding a pickle), which "
            "autograd_nn never unpickles. Convert it in PyTorch: "
            "`from safetensors.torch import save_file; save_file(torch.load(path, weights_only=True), "
            "'model.safetensors')`, then load the .safetensors file"
        )
    for name in names:
        if not name.endswith(".npy"):
            raise CheckpointError(f"load: {source}: the archive member {name[:100]!r} is not a .npy array")
    if len(set(names)) != len(names):
        raise CheckpointError(f"load: {source} is corrupt: the archive lists a member twice")
    return infos


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: str, *, text: bool) -> np.ndarray:
    """One ``.npy`` member, its declared shape checked against the member's size first."""
    where = f"load: {source}: member {info.filename[:100]!r}"
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise CheckpointError(f"{where} has .npy format version {version}, which is not supported")
        if dtype.hasobject:
            raise CheckpointError(f"{where} holds pickled objects, which autograd_nn never loads")
        allowed = dtype.newbyteorder("=") in DTYPE_NAMES or (text and dtype.kind == "U" and shape == ())
        if not allowed:
            raise CheckpointError(f"{where} has dtype {dtype}, which a checkpoint cannot hold")
        if len(shape) > 64:
            raise CheckpointError(f"{where} has {len(shape)} dimensions (numpy allows 64)")
        nbytes = math.prod(shape) * dtype.itemsize
        if member.tell() + nbytes != info.file_size:
            raise CheckpointError(
                f"{where} declares shape {shape[:8]} of {dtype} ({nbytes} bytes), but the member holds "
                f"{info.file_size - member.tell()} bytes of data"
            )
        flat = np.empty(math.prod(shape), dtype=dtype)
        view = memoryview(flat.view(np.uint8)) if nbytes else memoryview(b"")
        position = 0
        while position < nbytes:
            got = member.readinto(view[position : position + _CHUNK])
            if not got:
                raise CheckpointError(f"{where} is truncated")
            position += got
        if member.read(1):  # also makes zipfile check the member's CRC-32
            raise CheckpointError(f"{where} has data after its array")
    array = flat.reshape(shape, order="F" if fortran_order else "C")
    return array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))
