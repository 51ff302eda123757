"""Checkpoints without pickle: ``save(state, path)`` and ``load(path)`` (also ``autograd_nn.save/load``).

``state`` is a dict whose leaves are Tensors or ndarrays (stored as raw tensors) and
numbers, strings, booleans or None (stored as JSON), nested in dicts (str or int keys),
lists and tuples: a model's ``state_dict()``, an optimizer's, a scheduler's, or a dict
of them, e.g. ``{"model": ..., "optimizer": ..., "epoch": 3}``. ``load`` gives back the
same structure, with Tensors for the arrays.

**Formats.** The default is safetensors — an 8-byte little-endian header length, a JSON
header mapping each tensor name to its ``dtype``, ``shape`` and ``data_offsets``, then
raw C-order little-endian bytes — which PyTorch and most of the ecosystem read. Tensor
names are the dotted paths (``0.weight``; ``model.0.weight`` inside a dict), so a model's
state_dict saved alone loads straight into the same ``torch.nn.Sequential``. The nesting
and the non-tensor values travel as JSON in the header's ``__metadata__`` string map,
with a CRC-32 of the data section. A path ending in ``.npz`` (or ``format="npz"``) writes
a numpy archive instead, read back with ``allow_pickle=False``. ``load`` recognises the
format from the file's first bytes; a safetensors file from elsewhere loads as a flat
``{name: Tensor}`` dict.

Writes are atomic: the file is written to a temporary name in the same folder, flushed
to disk (fsync) and moved into place with ``os.replace``; if anything fails, the
temporary file is removed and an existing checkpoint is left as it was.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ._atomic import atomic_write
from .tensor import Tensor

__all__ = ["CheckpointError", "load", "load_metadata", "save"]

# safetensors dtype names ↔ numpy dtypes (bfloat16 and float8 have no numpy dtype).
_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}  # fmt: skip
_DTYPE_NAMES = {dtype.newbyteorder("="): name for name, dtype in _DTYPES.items()}
_TREE_KEY = "autograd_nn.tree"
_CRC_KEY = "autograd_nn.crc32"
_NPZ_METADATA = "__metadata__"
_MAX_HEADER = 100_000_000  # the limit the safetensors reference reader enforces
_ZIP_MAGIC = b"PK\x03\x04"


class CheckpointError(ValueError):
    """A file that is not a checkpoint, or a truncated or corrupt one."""


# ------------------------------------------------------------------ structure
def _is_array(value: Any) -> bool:
    return isinstance(value, (np.ndarray, Tensor)) or (
        hasattr(value, "__array__") and not isinstance(value, (np.generic, str, bytes))
    )


def _array(value: Any, where: str) -> np.ndarray:
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.dtype.newbyteorder("=") not in _DTYPE_NAMES:
        raise TypeError(
            f"save: {where!r} has dtype {array.dtype}, which a checkpoint cannot hold "
            f"(supported: {', '.join(str(d) for d in _DTYPE_NAMES)})"
        )
    return array


def _encode(state: Mapping[str, Any]) -> tuple[Any, dict[str, np.ndarray]]:
    """Split ``state`` into a JSON-able tree and named arrays; the tree refers to each
    array by name as ``{"tensor": name}``."""
    tensors: dict[str, np.ndarray] = {}
    holder: list[Any] = [None]
    stack: list[tuple[Any, tuple[Any, ...], list[Any], int]] = [(state, (), holder, 0)]
    while stack:
        value, path, parent, slot = stack.pop()
        where = ".".join(str(p) for p in path)
        node: Any
        if _is_array(value):
            if where in tensors:
                raise ValueError(f"save: two entries would both be stored under the name {where!r}; rename one")
            tensors[where] = _array(value, where)
            node = {"tensor": where}
        elif isinstance(value, Mapping):
            for key in value:
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise TypeError(f"save: dict keys must be str or int, got {key!r} in {where or 'the state'}")
            node = {"dict": [[key, None] for key in value]}
            children = [(v, path + (k,), node["dict"][i], 1) for i, (k, v) in enumerate(value.items())]
            stack.extend(reversed(children))
        elif isinstance(value, (list, tuple)):
            kind = "tuple" if isinstance(value, tuple) else "list"
            node = {kind: [None] * len(value)}
            stack.extend(reversed([(v, path + (i,), node[kind], i) for i, v in enumerate(value)]))
        elif value is None or isinstance(value, (bool, int, float, str, np.generic)):
            value = value.item() if isinstance(value, np.generic) else value
            if isinstance(value, float) and not math.isfinite(value):
                node = {"float": repr(value)}  # JSON has no inf/nan
            else:
                node = {"value": value}
        else:
            raise TypeError(
                f"save: cannot store a {type(value).__name__} at {where or 'the top level'!r}; a checkpoint holds "
                "Tensors, ndarrays, numbers, strings, None and dicts/lists/tuples of them (never pickled objects)"
            )
        parent[slot] = node
    return holder[0], tensors


def _decode(tree: Any, tensors: dict[str, np.ndarray], source: str) -> Any:
    """Rebuild the structure ``_encode`` described, with Tensors for the arrays."""
    used: set[str] = set()
    holder: list[Any] = [None]
    tuples: list[tuple[Any, Any, list[Any]]] = []
    stack: list[tuple[Any, Any, Any]] = [(tree, holder, 0)]
    while stack:
        node, parent, slot = stack.pop()
        if not isinstance(node, dict) or len(node) != 1:
            raise CheckpointError(f"load: {source}: corrupt structure entry {node!r}")
        ((kind, body),) = node.items()
        out: Any
        if kind == "tensor" and isinstance(body, str) and body in tensors:
            used.add(body)
            out = Tensor(tensors[body])
        elif kind == "dict" and isinstance(body, list) and all(isinstance(p, list) and len(p) == 2 for p in body):
            out = {key: None for key, _ in body}
            stack.extend((child, out, key) for key, child in body)
        elif kind in ("list", "tuple") and isinstance(body, list):
            out = [None] * len(body)
            stack.extend((child, out, i) for i, child in enumerate(body))
            if kind == "tuple":
                tuples.append((parent, slot, out))
        elif kind == "value":
            out = body
        elif kind == "float" and body in ("inf", "-inf", "nan"):
            out = float(body)
        else:
            raise CheckpointError(f"load: {source}: corrupt structure entry {node!r} (a tensor it names is missing?)")
        parent[slot] = out
    for parent, slot, items in reversed(tuples):  # innermost first
        parent[slot] = tuple(items)
    if used != set(tensors):
        extra = sorted(set(tensors) - used)[0]
        raise CheckpointError(f"load: {source}: tensor {extra!r} is not part of the saved structure (corrupt file?)")
    return holder[0]


# --------------------------------------------------------------------- saving
def save(
    state: Mapping[str, Any],
    path: str | os.PathLike[str],
    *,
    metadata: Mapping[str, str] | None = None,
    format: str | None = None,
) -> None:
    """Write ``state`` (see the module docs) to ``path``, atomically, without pickle.

    ``format`` is ``"safetensors"`` (the default) or ``"npz"`` (the default for a path
    ending in ``.npz``). ``metadata`` is an optional str → str map stored in the header
    (read it back with ``load_metadata``).

    >>> import autograd_nn as ag, tempfile, os
    >>> from autograd_nn import nn
    >>> model = nn.Sequential(nn.Linear(3, 2))
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> ag.save(model.state_dict(), path)
    >>> model.load_state_dict(ag.load(path))
    IncompatibleKeys(missing_keys=[], unexpected_keys=[])
    """
    if not isinstance(state, Mapping):
        raise TypeError(
            f"save: state must be a dict such as model.state_dict() or {{'model': ..., 'optimizer': ...}}, "
            f"got {type(state).__name__}"
        )
    path = Path(path)
    if format is None:
        format = "npz" if path.suffix.lower() == ".npz" else "safetensors"
    if format not in ("safetensors", "npz"):
        raise ValueError(f"save: format must be 'safetensors' or 'npz', got {format!r}")
    user_metadata = dict(metadata or {})
    for key, value in user_metadata.items():
        if not isinstance(key, str) or not isinstance(value, str) or key.startswith("autograd_nn."):
            raise ValueError(f"save: metadata must map str to str (keys not starting 'autograd_nn.'), got {key!r}")
    tree, tensors = _encode(state)
    if format == "npz" and _NPZ_METADATA in tensors:
        raise ValueError(f"save: the name {_NPZ_METADATA!r} is reserved in .npz checkpoints")
    user_metadata[_TREE_KEY] = json.dumps(tree, separators=(",", ":"))
    writer = _write_safetensors if format == "safetensors" else _write_npz
    if path.is_dir():
        raise IsADirectoryError(f"save: {path} is a directory; give a file path such as {path / 'model.safetensors'}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"save: the folder {path.parent} does not exist")
    atomic_write(path, lambda f: writer(f, tensors, user_metadata))


def _c_order(array: np.ndarray) -> np.ndarray:
    # NOTE: not np.ascontiguousarray, which turns a 0-d array into shape (1,).
    return array if array.flags.c_contiguous else array.copy(order="C")


def _little_endian(array: np.ndarray) -> np.ndarray:
    array = _c_order(array)
    if array.dtype.byteorder == ">" or (array.dtype.byteorder == "=" and not np.little_endian):
        array = array.astype(array.dtype.newbyteorder("<"))
    return array


def _raw_bytes(array: np.ndarray) -> np.ndarray:
    return array.reshape(-1).view(np.uint8)


def _write_safetensors(f: BinaryIO, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    # Lay the data out widest dtype first, so every tensor starts at a multiple of its
    # item size (the header is padded to 8 bytes): readers can map it without copying.
    arrays = {name: _little_endian(array) for name, array in tensors.items()}
    order = sorted(arrays, key=lambda name: -arrays[name].dtype.itemsize)
    offsets, position, crc = {}, 0, 0
    for name in order:
        offsets[name] = [position, position + arrays[name].nbytes]
        position += arrays[name].nbytes
        crc = zlib.crc32(_raw_bytes(arrays[name]), crc)
    metadata = {**metadata, _CRC_KEY: str(crc)}
    header: dict[str, Any] = {"__metadata__": metadata}
    for name, array in arrays.items():
        header[name] = {
            "dtype": _DTYPE_NAMES[array.dtype.newbyteorder("=")],
            "shape": list(array.shape),
            "data_offsets": offsets[name],
        }
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    f.write(struct.pack("<Q", len(encoded)))
    f.write(encoded)
    for name in order:
        f.write(_raw_bytes(arrays[name]))


def _write_npz(f: BinaryIO, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in tensors.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, _little_endian(array), allow_pickle=False)
        with archive.open(_NPZ_METADATA + ".npy", "w") as member:
            np.lib.format.write_array(member, np.array(json.dumps(metadata)), allow_pickle=False)


# -------------------------------------------------------------------- loading
def load(path: str | os.PathLike[str]) -> Any:
    """Read a checkpoint written by ``save`` (safetensors or .npz), or any safetensors file.

    Raises ``CheckpointError`` naming the file and the problem for a file that is not a
    checkpoint, is truncated, or is corrupt (the data's CRC-32 is checked).
    """
    tensors, metadata, source = _read(Path(path), header_only=False)
    tree = metadata.get(_TREE_KEY)
    if tree is None:  # written by another program: a flat name → tensor map
        return {name: Tensor(array) for name, array in tensors.items()}
    try:
        decoded_tree = json.loads(tree)
    except ValueError:
        raise CheckpointError(f"load: {source}: the structure in the metadata is not valid JSON") from None
    return _decode(decoded_tree, tensors, source)


def load_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The str → str metadata given to ``save(..., metadata=...)`` (without our own entries)."""
    _, metadata, _ = _read(Path(path), header_only=True)
    return {k: v for k, v in metadata.items() if not k.startswith("autograd_nn.")}


def _read(path: Path, header_only: bool) -> tuple[dict[str, np.ndarray], dict[str, str], str]:
    source = str(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        start = f.read(8)
        if size == 0:
            raise CheckpointError(f"load: {source} is empty (0 bytes), not a checkpoint")
        if start[:4] == _ZIP_MAGIC:
            f.seek(0)
            return _read_npz(f, source, header_only)
        first = f.read(1)
        if len(start) < 8 or not first:
            raise CheckpointError(f"load: {source} is truncated: {size} bytes, too short for a safetensors header")
        if first != b"{":
            raise CheckpointError(
                f"load: {source} is not a checkpoint: it is neither safetensors (8-byte header length, then "
                f"JSON) nor .npz (a zip archive); it starts with {start[:8]!r}"
            )
        return _read_safetensors(f, size, struct.unpack("<Q", start)[0], source, header_only)


def _read_safetensors(
    f: BinaryIO, size: int, header_size: int, source: str, header_only: bool
) -> tuple[dict[str, np.ndarray], dict[str, str], str]:
    if header_size > min(size - 8, _MAX_HEADER):
        raise CheckpointError(
            f"load: {source} is truncated or corrupt: its header length says {header_size} bytes, "
            f"but the file has only {size - 8} bytes after it"
        )
    f.seek(8)
    try:
        header = json.loads(f.read(header_size).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise CheckpointError(f"load: {source} is corrupt: its header is not valid JSON ({err})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"load: {source} is corrupt: its header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError(f"load: {source} is corrupt: __metadata__ must map strings to strings")
    data_size = size - 8 - header_size
    specs = {name: _tensor_spec(name, entry, data_size, source) for name, entry in header.items()}
    if header_only:
        return {}, metadata, source
    spans = sorted((begin, end, name) for name, (_, _, begin, end) in specs.items())
    position = 0
    for begin, end, name in spans:
        if begin != position:
            raise CheckpointError(
                f"load: {source} is corrupt: tensor {name!r} starts at byte {begin} of the data, expected {position} "
                "(tensors must be packed without gaps or overlaps)"
            )
        position = end
    if position != data_size:
        raise CheckpointError(f"load: {source} is corrupt: {data_size - position} bytes follow the last tensor's data")
    data = bytearray(data_size)
    if f.readinto(data) != data_size:  # pragma: no cover - the size was checked above
        raise CheckpointError(f"load: {source} is truncated")
    expected_crc = metadata.get(_CRC_KEY)
    if expected_crc is not None and str(zlib.crc32(data)) != expected_crc:
        raise CheckpointError(f"load: {source} is corrupt: the tensor data fails its CRC-32 check")
    tensors = {}
    for name, (dtype, shape, begin, _) in specs.items():
        array = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=begin).reshape(shape)
        if not array.flags.aligned or not array.dtype.isnative:
            array = array.astype(dtype.newbyteorder("="))  # copies into an aligned, native array
        tensors[name] = array
    return tensors, metadata, source


def _tensor_spec(name: str, entry: Any, data_size: int, source: str) -> tuple[np.dtype, tuple[int, ...], int, int]:
    if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
        raise CheckpointError(f"load: {source} is corrupt: header entry {name!r} lacks dtype, shape or data_offsets")
    dtype = _DTYPES.get(entry["dtype"])
    if dtype is None:
        raise CheckpointError(
            f"load: {source}: tensor {name!r} has dtype {entry['dtype']!r}, which numpy cannot represent "
            f"(supported: {', '.join(_DTYPES)})"
        )
    shape, offsets = entry["shape"], entry["data_offsets"]
    if not (isinstance(shape, list) and all(isinstance(n, int) and n >= 0 for n in shape)):
        raise CheckpointError(f"load: {source} is corrupt: tensor {name!r} has shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(n, int) for n in offsets)):
        raise CheckpointError(f"load: {source} is corrupt: tensor {name!r} has data_offsets {offsets!r}")
    begin, end = offsets
    if end - begin != math.prod(shape) * dtype.itemsize or begin < 0:
        raise CheckpointError(
            f"load: {source} is corrupt: tensor {name!r} of shape {tuple(shape)} and dtype {entry['dtype']} "
            f"needs {math.prod(shape) * dtype.itemsize} bytes, its data_offsets {offsets} give {end - begin}"
        )
    if end > data_size:
        raise CheckpointError(
            f"load: {source} is truncated: tensor {name!r} needs bytes {begin}..{end} of the data, "
            f"but the file holds only {data_size}"
        )
    return dtype, tuple(shape), begin, end


def _native(array: np.ndarray) -> np.ndarray:
    return array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))


def _read_npz(f: BinaryIO, source: str, header_only: bool) -> tuple[dict[str, np.ndarray], dict[str, str], str]:
    try:
        with np.load(f, allow_pickle=False) as archive:
            names = [name for name in archive.files if name != _NPZ_METADATA]
            metadata = json.loads(str(archive[_NPZ_METADATA])) if _NPZ_METADATA in archive.files else {}
            tensors = {} if header_only else {name: _native(archive[name]) for name in names}
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise CheckpointError(f"load: {source} is a truncated or corrupt .npz archive ({err})") from None
    except ValueError as err:
        if "allow_pickle" in str(err) or "Object arrays" in str(err):
            raise CheckpointError(f"load: {source} holds pickled objects, which autograd_nn never loads") from None
        raise CheckpointError(f"load: {source} is a corrupt .npz archive ({err})") from None
    if not isinstance(metadata, dict):
        raise CheckpointError(f"load: {source} is corrupt: its {_NPZ_METADATA} entry is not a JSON object")
    return tensors, metadata, source
