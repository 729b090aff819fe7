"""Checks on a save folder before a torrent is added: it must exist (or be creatable) and be
writable, proven by writing, since os.access() says yes to root on a read-only mount."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from mamdl.errors import EngineError


def check_save_dir(save_path: str | Path) -> Path:
    """Create the save folder if needed and prove we can write in it; else a clear EngineError.

    os.access() is not enough (root passes it on a read-only mount), so a file is actually created."""
    p = Path(save_path).expanduser()
    if not p.is_absolute():
        p = Path.cwd() / p
    try:
        p.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise EngineError(f"the save folder {p} exists but is not a folder") from None
    except OSError as exc:
        raise EngineError(f"cannot create the save folder {p}: {exc.strerror or exc}") from None
    if not p.is_dir():
        raise EngineError(f"the save folder {p} exists but is not a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=p, prefix=".mamdl-write-test-"):
            pass
    except OSError as exc:
        raise EngineError(f"cannot write to the save folder {p}: {exc.strerror or exc}") from None
    return p


def free_bytes(path: Path) -> int | None:
    """Bytes available to us on the file system holding `path` (None if it cannot be asked)."""
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize
