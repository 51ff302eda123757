"""What the checkpoint readers and writers share: the error type, our metadata keys, the
dtype table, and JSON parsing that is bounded in depth (no recursion on untrusted input)."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np


class CheckpointError(ValueError):
    """Any way a load can fail: a missing or unreadable file, a file that is not a
    checkpoint, a truncated, corrupt or tampered one, or one too large to load safely.
    The underlying error, if any, is chained as ``__cause__``."""


# safetensors dtype names ↔ numpy dtypes (bfloat16 and float8 have no numpy dtype).
DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}  # fmt: skip
DTYPE_NAMES = {dtype.newbyteorder("="): name for name, dtype in DTYPES.items()}

# Our own entries in the metadata map. Files with FORMAT_KEY (format 2, this version) carry
# a SHA-256 of the whole file; older files (format 1: TREE_KEY only) at most a CRC-32 of
# the data, and still load.
PREFIX = "autograd_nn."
TREE_KEY = PREFIX + "tree"
FORMAT_KEY = PREFIX + "format"
FORMAT = "2"
SHA_KEY = PREFIX + "sha256"
LEGACY_CRC_KEY = PREFIX + "crc32"
SHA_PLACEHOLDER = "0" * 64
NPZ_METADATA = "__metadata__"

#: How deep ``save`` may nest dicts, lists and tuples (``load`` refuses deeper files).
MAX_NESTING = 64
# The structure JSON takes three levels per nesting level ({"dict": [[key, child]]}).
MAX_JSON_DEPTH = 3 * MAX_NESTING + 2
MAX_HEADER_BYTES = 100_000_000  # the limit the safetensors reference reader enforces

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_OPEN = np.zeros(256, dtype=np.int8)
_OPEN[[ord("{"), ord("[")]] = 1
_OPEN[[ord("}"), ord("]")]] = -1


def json_depth(text: bytes) -> int:
    """The deepest nesting of ``[``/``{`` in JSON ``text`` (outside strings), found without
    parsing, in chunks, so that its cost is linear and its memory bounded."""
    skeleton = _STRING.sub(b'""', text)
    depth = deepest = 0
    chunk = 1 << 20
    for start in range(0, len(skeleton), chunk):
        steps = _OPEN[np.frombuffer(skeleton, dtype=np.uint8, count=min(chunk, len(skeleton) - start), offset=start)]
        if steps.any():
            running = np.cumsum(steps, dtype=np.int64) + depth
            deepest = max(deepest, int(running.max()))
            depth = int(running[-1])
    return deepest


def parse_json(text: bytes | str, what: str, source: str) -> Any:
    """``json.loads`` after checking that ``text`` nests at most MAX_JSON_DEPTH levels:
    the C parser recurses, so depth is checked first."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    depth = json_depth(raw)
    if depth > MAX_JSON_DEPTH:
        raise CheckpointError(
            f"load: {source} is corrupt: its {what} nests {depth} levels deep, more than the "
            f"{MAX_JSON_DEPTH} a checkpoint may have"
        )
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as err:
        raise CheckpointError(f"load: {source} is corrupt: its {what} is not valid JSON ({err})") from err


def string_map(value: Any, what: str, source: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise CheckpointError(f"load: {source} is corrupt: {what} must map strings to strings")
    return value


def is_ours(metadata: dict[str, str]) -> bool:
    """Format 2 or later: a single damaged key name cannot hide both of these."""
    return FORMAT_KEY in metadata or SHA_KEY in metadata


def check_format(metadata: dict[str, str], source: str) -> None:
    version = metadata.get(FORMAT_KEY)
    if version is None:
        raise CheckpointError(f"load: {source} is corrupt: it has an integrity record but no {FORMAT_KEY!r} entry")
    if version != FORMAT:
        raise CheckpointError(
            f"load: {source} was written in checkpoint format {version!r}; this version of autograd_nn reads "
            f"formats 1 and {FORMAT} (a newer autograd_nn wrote it?)"
        )
