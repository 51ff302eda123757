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
and the non-tensor values travel as JSON in the header's ``__metadata__`` string map. A
path ending in ``.npz`` (or ``format="npz"``) writes a numpy archive instead; a suffix
that names another format (``.npy``, ``.bin``, ``.h5``, ``.pt``, ...) is refused. ``load``
recognises the format from the file's first bytes; a safetensors or ``.npz`` file from
another program loads as a flat ``{name: Tensor}`` dict.

**Integrity.** Every file ``save`` writes records the SHA-256 of the whole file (in the
header's metadata, or the zip comment of an ``.npz``), so any changed bit — in the
length, the header, the metadata or the data — makes ``load`` fail. Files written
before this check existed (checkpoint format 1) still load, checked by the CRC-32 of
their data.

**What load refuses**, always with ``CheckpointError`` (the underlying error chained):
a missing or unreadable file; a file that is neither safetensors nor ``.npz``; a
pickle (PyTorch's ``torch.save`` files get a message saying how to convert them); a
truncated, corrupt or changed file; declared shapes that disagree with the file's
size; an ``.npz`` that would inflate beyond ``max_inflation`` times its size; JSON
nested deeper than a checkpoint can be. Memory stays within about the file's size.

Writes are atomic: the file is written to a temporary name in the same folder, flushed
to disk (fsync) and moved into place with ``os.replace``; if anything fails, the
temporary file is removed and an existing checkpoint is left as it was.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write
from . import _npz, _safetensors
from ._common import FORMAT, FORMAT_KEY, NPZ_METADATA, PREFIX, TREE_KEY, CheckpointError, parse_json
from ._npz import DEFAULT_MAX_INFLATION
from ._tree import decode, encode

__all__ = ["DEFAULT_MAX_INFLATION", "CheckpointError", "load", "load_metadata", "save"]

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP = b"PK\x05\x06"
# Suffixes that promise a pickle (torch.save, pickle.dump): refused, since torch.load
# would then fail on a file that is really safetensors.
_PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".ckpt")
# Suffixes that name another format: refused too, since the file would not be what its
# name says (np.load cannot read an "m.npy" that holds safetensors). Any other suffix
# names no format ("model.weights", "run_lr0.01") and is written as asked.
_OTHER_FORMATS = {
    ".npy": "a numpy array file (np.save)",
    ".bin": "a PyTorch/Hugging Face pickle (pytorch_model.bin) or raw bytes",
    ".h5": "an HDF5 file", ".hdf5": "an HDF5 file", ".keras": "a Keras model",
    ".onnx": "an ONNX model (write one with ag.onnx.export)", ".pb": "a protocol buffer", ".tflite": "a TFLite model",
    ".gguf": "a GGUF model", ".msgpack": "a msgpack file", ".joblib": "a joblib pickle", ".mat": "a MATLAB file",
    ".zip": "a zip archive", ".tar": "a tar archive", ".gz": "a gzip file",
    ".json": "a JSON text file", ".yaml": "a YAML text file", ".yml": "a YAML text file",
    ".csv": "a CSV text file", ".txt": "a text file",
}  # fmt: skip


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
    (read it back with ``load_metadata``). A path ending in ``.pt``, ``.pth``, ``.pkl``,
    ``.pickle`` or ``.ckpt`` is refused (those names promise a pickle), as is one whose
    suffix names another format (``.npy``, ``.bin``, ``.h5``, ``.onnx``, ``.json``, ...)
    and a ``.npz`` path with ``format="safetensors"`` or a ``.safetensors`` one with
    ``"npz"``; a suffix that names no format (``model.weights``) is written as asked.

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
    format = _format_for(path, format)
    user_metadata = dict(metadata or {})
    for key, value in user_metadata.items():
        if not isinstance(key, str) or not isinstance(value, str) or key.startswith(PREFIX):
            raise ValueError(f"save: metadata must map str to str (keys not starting {PREFIX!r}), got {key!r}")
    tree, tensors = encode(state)
    if NPZ_METADATA in tensors:  # the formats' own entry: a tensor may not take its name
        raise ValueError(f"save: the name {NPZ_METADATA!r} is reserved in checkpoints; rename that entry")
    user_metadata[FORMAT_KEY] = FORMAT
    user_metadata[TREE_KEY] = json.dumps(tree, separators=(",", ":"))
    writer = _safetensors.write if format == "safetensors" else _npz.write
    if path.is_dir():
        raise IsADirectoryError(f"save: {path} is a directory; give a file path such as {path / 'model.safetensors'}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"save: the folder {path.parent} does not exist")
    atomic_write(path, lambda f: writer(f, tensors, user_metadata))


def _format_for(path: Path, format: str | None) -> str:
    suffix = path.suffix.lower()
    if suffix in _PICKLE_SUFFIXES:
        raise ValueError(
            f"save: {path.name!r} ends in {suffix}, the name of a pickle (torch.save) file, but autograd_nn never "
            f"writes pickle and torch.load could not read it; name it {path.stem}.safetensors (PyTorch reads it with "
            f"safetensors.torch.load_file) or {path.stem}.npz"
        )
    if suffix in _OTHER_FORMATS:
        raise ValueError(
            f"save: the path {str(path)!r} ends in {path.suffix}, the name of {_OTHER_FORMATS[suffix]}, which save does not "
            f"write; save writes safetensors or npz: name it {path.stem}.safetensors, {path.stem}.npz or {path.stem} "
            "(no suffix: safetensors)"
        )
    if format is None:
        return "npz" if suffix == ".npz" else "safetensors"
    if format not in ("safetensors", "npz"):
        raise ValueError(f"save: format must be 'safetensors' or 'npz', got {format!r}")
    if (suffix, format) in ((".npz", "safetensors"), (".safetensors", "npz")):
        raise ValueError(f"save: the path {path.name!r} says {suffix[1:]}, but format={format!r}; make them agree")
    return format


# -------------------------------------------------------------------- loading
def load(path: str | os.PathLike[str], *, max_inflation: float = DEFAULT_MAX_INFLATION) -> Any:
    """Read a checkpoint written by ``save`` (safetensors or .npz), or any safetensors or
    numpy ``.npz`` file (which loads as a flat ``{name: Tensor}`` dict).

    Raises ``CheckpointError`` naming the file and the problem for every way the load can
    fail (see the module docs). ``max_inflation`` bounds how much memory the arrays of an
    ``.npz`` may take, as a multiple of the file's size (a file under 1 MiB counts as 1 MiB).
    """
    state, _ = _load(path, max_inflation)
    return state


def load_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The str → str metadata given to ``save(..., metadata=...)`` (without our own entries).

    The whole file's integrity is checked, as by ``load``; no arrays are kept.
    """
    _, metadata, _ = _read(path, header_only=True, max_inflation=DEFAULT_MAX_INFLATION)
    return metadata


def _load(path: str | os.PathLike[str], max_inflation: float) -> tuple[Any, dict[str, str]]:
    """``(state, user metadata)`` of one read of the file."""
    tensors, metadata, tree = _read(path, header_only=False, max_inflation=max_inflation)
    if tree is None:  # written by another program: a flat name → tensor map
        return {name: _tensor(array) for name, array in tensors.items()}, metadata
    return _guarded(str(path), lambda: decode(parse_json(tree, "structure", str(path)), tensors, str(path))), metadata


def _tensor(array: np.ndarray) -> Any:
    from ..tensor import Tensor

    return Tensor(array)


def _read(
    path: str | os.PathLike[str], header_only: bool, max_inflation: float
) -> tuple[dict[str, np.ndarray], dict[str, str], str | None]:
    """Tensors, user metadata and the structure JSON (None for files of other programs)."""
    if not (isinstance(max_inflation, (int, float)) and max_inflation >= 1):
        raise ValueError(f"load: max_inflation must be a number >= 1, got {max_inflation!r}")
    source = str(path)
    tensors, metadata = _guarded(source, lambda: _read_file(Path(path), source, header_only, max_inflation))
    tree = metadata.get(TREE_KEY)
    return tensors, {k: v for k, v in metadata.items() if not k.startswith(PREFIX)}, tree


def _guarded(source: str, read: Any) -> Any:
    """Run ``read``; whatever it raises comes out as a CheckpointError with the cause chained."""
    try:
        return read()
    except CheckpointError:
        raise
    except OSError as err:
        raise CheckpointError(f"load: cannot read {source}: {err.strerror or err}") from err
    except MemoryError as err:
        raise CheckpointError(f"load: {source}: not enough memory to load it") from err
    except Exception as err:
        raise CheckpointError(f"load: {source} is corrupt or not a checkpoint ({type(err).__name__}: {err})") from err


def _read_file(
    path: Path, source: str, header_only: bool, max_inflation: float
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    # A device or a pipe could block or be read without end: checked before and after opening.
    if os.path.exists(path) and not (path.is_dir() or path.is_file()):
        raise CheckpointError(f"load: {source} is not a regular file")
    with open(path, "rb") as f:
        status = os.fstat(f.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise CheckpointError(f"load: {source} is not a regular file")
        size = status.st_size
        start = f.read(9)
        if size == 0:
            raise CheckpointError(f"load: {source} is empty (0 bytes), not a checkpoint")
        if start[:4] in (_ZIP_MAGIC, _EMPTY_ZIP):
            return _npz.read(f, size, source, header_only, max_inflation)
        if start[:1] == b"\x80" and start[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
            raise CheckpointError(
                f"load: {source} is a Python pickle (perhaps a torch.save file of PyTorch < 1.6), which autograd_nn "
                "never loads. Convert it in PyTorch: `from safetensors.torch import save_file; "
                "save_file(torch.load(path, weights_only=True), 'model.safetensors')`"
            )
        if len(start) < 9:
            raise CheckpointError(f"load: {source} is truncated: {size} bytes, too short for a safetensors header")
        if start[8:9] != b"{":
            raise CheckpointError(
                f"load: {source} is not a checkpoint: it is neither safetensors (8-byte header length, then "
                f"JSON) nor .npz (a zip archive); it starts with {start[:8]!r}"
            )
        return _safetensors.read(f, size, source, header_only)
