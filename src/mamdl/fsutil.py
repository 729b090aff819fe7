"""File-system helpers that protect the user's data: atomic writes and safe file names."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from pathlib import Path


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write `data` to `path` so that a crash leaves either the old file or the new one, never half.

    The temporary file is created with `mode` from the start (never world-readable for a moment),
    fsynced, renamed over the target, and the folder is fsynced so the rename itself survives.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_filename(name: str, *, max_len: int = 120, fallback: str = "untitled") -> str:
    """A file-name component that cannot escape its folder or upset a file system.

    Removes separators, control characters and characters Windows refuses, collapses dots so that
    `..` and hidden names cannot appear, and bounds the length (in UTF-8 bytes) to stay well
    under the 255-byte limit with room for a prefix.
    """
    name = unicodedata.normalize("NFC", name)
    name = _UNSAFE.sub(" ", name)
    name = re.sub(r"\.{2,}", ".", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    encoded = name.encode("utf-8")[:max_len]
    name = encoded.decode("utf-8", errors="ignore").strip(" .")
    return name or fallback
