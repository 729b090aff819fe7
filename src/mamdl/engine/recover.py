"""After a crash: find the pieces written after the last resume-data save, by hashing just them.

Resume data is saved every `resume_save_interval`; whatever was written after the last save is on
disk but unknown to libtorrent, which would download it again. When the previous engine ended
without closing (kill -9, power loss), `pieces_on_disk` checks the pieces the resume data does not
have against the torrent's piece hashes, so only partial pieces are fetched again. It is cheap: a
piece whose first block is missing or all zeros (never written: libtorrent's files are sparse) is
skipped after one small read, so only data really written after the save is hashed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PROBE = 16 * 1024
"""Bytes read at a piece's start to tell a written piece from a hole (one BitTorrent block)."""


class _Files:
    """Read-only handles on the torrent's files, opened on demand and closed together."""

    def __init__(self, fs: Any, save_path: Path, renamed: dict[int, str]) -> None:
        self.fs, self.save_path, self.renamed = fs, save_path, renamed
        self._fds: dict[int, int | None] = {}

    def read(self, index: int, offset: int, size: int) -> bytes | None:
        """`size` bytes of file `index` at `offset`; zeros for a pad file; None when the file is
        missing or too short (then the piece cannot be complete)."""
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


def pieces_on_disk(ti: Any, save_path: Path, have: Sequence[bool], renamed: dict[int, str] | None = None) -> list[int]:
    """Indices of the pieces not in `have` whose bytes under `save_path` match the torrent's
    SHA-1 piece hash (v1; a v2-only torrent has none and gets nothing back)."""
    found: list[int] = []
    files = _Files(ti.layout(), Path(save_path), renamed or {})  # layout(): files() is deprecated in 2.1
    try:
        for piece in range(ti.num_pieces()):
            if piece < len(have) and have[piece]:
                continue
            want = bytes(ti.hash_for_piece(piece))
            if not any(want):
                return found  # no v1 hashes to check against
            slices = ti.map_block(piece, 0, ti.piece_size(piece))
            first = slices[0]
            probe = files.read(first.file_index, first.offset, min(PROBE, first.size))
            if probe is None or not any(probe):
                continue
            h = hashlib.sha1()  # BitTorrent v1 piece hashes are SHA-1 (not a security choice here)
            for s in slices:
                data = files.read(s.file_index, s.offset, s.size)
                if data is None:
                    break
                h.update(data)
            else:
                if h.digest() == want:
                    found.append(piece)
    finally:
        files.close()
    return found
