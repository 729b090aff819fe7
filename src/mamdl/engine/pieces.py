"""Reading a torrent's pieces back from the files on disk and checking them against its v1 hashes.

Two places need it: adding a torrent over files already there (`savedir.check_targets`: they must
be this torrent's own data) and the restart after a crash (`recover.pieces_on_disk`: pieces
written after the last resume save). One reader keeps pad files, missing files and short files
meaning the same thing in both.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any


class PieceFiles:
    """Read-only handles on a torrent's files under `save_path`, opened on demand (never through a
    symlink) and closed together."""

    def __init__(self, fs: Any, save_path: Path, renamed: dict[int, str] | None = None) -> None:
        self.fs, self.save_path, self.renamed = fs, Path(save_path), renamed or {}
        self._fds: dict[int, int | None] = {}

    def read(self, index: int, offset: int, size: int) -> bytes | None:
        """`size` bytes of file `index` at `offset`; zeros for a pad file; None when the file is
        missing or too short (then no piece touching those bytes can be judged complete)."""
        if int(self.fs.file_flags(index)) & int(self.fs.flag_pad_file):
            return bytes(size)
        if index not in self._fds:
            rel = self.renamed.get(index) or self.fs.file_path(index)
            try:
                self._fds[index] = os.open(self.save_path / rel, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:
                self._fds[index] = None
        fd = self._fds[index]
        if fd is None:
            return None
        try:
            data = os.pread(fd, size, offset)
        except OSError:
            return None
        return data if len(data) == size else None

    def close(self) -> None:
        for fd in self._fds.values():
            if fd is not None:
                os.close(fd)
        self._fds.clear()

    def __enter__(self) -> PieceFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def piece_matches(ti: Any, files: PieceFiles, piece: int) -> bool | None:
    """True when piece `piece` on disk hashes to the torrent's v1 piece hash, False when it does
    not, None when some of its bytes are not on disk (a file missing or too short)."""
    h = hashlib.sha1()  # BitTorrent v1 piece hashes are SHA-1 (not a security choice here)
    for s in ti.map_block(piece, 0, ti.piece_size(piece)):
        data = files.read(s.file_index, s.offset, s.size)
        if data is None:
            return None
        h.update(data)
    return h.digest() == bytes(ti.hash_for_piece(piece))
