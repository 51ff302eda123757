"""Writing files so that a failure never leaves a half-written one.

Everything autograd_nn writes (checkpoints, CSVs, plots, graph pictures) goes through
``atomic_write``: a temporary file in the same folder, flushed and fsynced, then moved over
the target with ``os.replace`` (atomic on POSIX and Windows), then the folder fsynced so the
rename itself survives a crash.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(f)`` on a temporary binary file, then move it to ``path``.

    ``f`` is opened for reading too, so a writer can read back what it wrote (the
    ``.npz`` checkpoint writer hashes the finished archive). The folder must exist. If ``write`` raises, ``path`` is untouched and the temporary
    file is removed.
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the folder {folder} does not exist")
    while True:
        temporary = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            # 0o666 & ~umask, like any new file (mkstemp would make it private).
            descriptor = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(descriptor, "w+b") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(folder)
    return path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see ``atomic_write``)."""
    return atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically, line ends exactly as given."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def _fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - folders cannot be opened on Windows
        return
    try:
        os.fsync(descriptor)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(descriptor)
