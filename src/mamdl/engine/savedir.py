"""Checks on a save folder before a torrent is added: it must exist (or be creatable) and be
writable, proven by writing, since os.access() says yes to root on a read-only mount."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from mamdl.engine.pieces import PieceFiles, piece_matches
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


def check_targets(save_dir: Path, ti) -> None:
    """Refuse to add a torrent whose files would land on something of the user's.

    libtorrent opens each file path under the save folder and writes into it: through a symlink
    (planted, or the user's own) it would write outside the folder; over an existing file it
    would keep the old tail (a longer file is never truncated) and replace only the pieces that
    fail their hash. So, before the first add: no component of any file path may be a symlink,
    and a file that already exists must be this torrent's own data — the right size and every
    piece touching it passing its hash check (a book downloaded before, kept after `remove`).
    (A file no piece of which can be checked, because its pieces span into files not on disk, is
    treated as foreign.) Anything else is refused with the path and the fix; nothing on disk is changed.

    `ti` is the libtorrent `torrent_info` being added."""
    fs = ti.layout()  # the file layout (files() is deprecated in libtorrent 2.1)

    def pad(i: int) -> bool:
        return bool(int(fs.file_flags(i)) & int(fs.flag_pad_file))

    existing: dict[int, Path] = {}
    for i in range(fs.num_files()):
        if pad(i):
            continue
        rel = Path(fs.file_path(i))
        p = save_dir
        for part in rel.parts:
            p = p / part
            if p.is_symlink():
                raise EngineError(
                    f"{p} is a symbolic link; mamdl never writes through one (it would write to "
                    f"{os.path.realpath(p)}). Remove the link or choose another --to folder."
                )
        if p.exists() and not p.is_file():
            raise EngineError(f"{p} exists and is not a file. Move it away or choose another --to folder.")
        if p.is_file():
            if p.stat().st_size != fs.file_size(i):
                raise EngineError(_occupied(p))
            existing[i] = p
    if not existing:
        return
    # Every piece that touches an existing file must verify, reading the bytes from the files on disk.
    proven: set[int] = set()
    with PieceFiles(fs, save_dir) as files:
        for piece in range(ti.num_pieces()):
            slices = ti.map_block(piece, 0, ti.piece_size(piece))
            if not any(sl.file_index in existing for sl in slices):
                continue
            ok = piece_matches(ti, files, piece)
            if ok is None:  # the piece spans into a file that is not there yet: cannot judge it
                continue
            if not ok:
                bad = next(existing[sl.file_index] for sl in slices if sl.file_index in existing)
                raise EngineError(_occupied(bad))
            proven.update(sl.file_index for sl in slices)
    for i, path in existing.items():
        if i not in proven:  # no piece of it could be checked: it cannot be shown to be ours
            raise EngineError(_occupied(path))


def _occupied(p: Path) -> str:
    return (
        f"{p} already exists and is not this book's data; mamdl will not write over it. "
        "Move or rename it, or choose another --to folder."
    )
