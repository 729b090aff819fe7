"""After a crash: find the pieces written after the last resume-data save, by hashing just them.

Resume data is saved every `resume_save_interval`; whatever was written after the last save is on
disk but unknown to libtorrent, which would download it again. When the previous engine ended
without closing (kill -9, power loss), `pieces_on_disk` checks the pieces the resume data does not
have against the torrent's piece hashes, so only partial pieces are fetched again. It is cheap: a
piece whose first block is missing or all zeros (never written: libtorrent's files are sparse) is
skipped after one small read, so only data really written after the save is hashed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mamdl.engine.pieces import PieceFiles, piece_matches

PROBE = 16 * 1024
"""Bytes read at a piece's start to tell a written piece from a hole (one BitTorrent block)."""


def pieces_on_disk(ti: Any, save_path: Path, have: Sequence[bool], renamed: dict[int, str] | None = None) -> list[int]:
    """Indices of the pieces not in `have` whose bytes under `save_path` match the torrent's
    SHA-1 piece hash (v1; a v2-only torrent has none and gets nothing back)."""
    found: list[int] = []
    with PieceFiles(ti.layout(), Path(save_path), renamed) as files:  # layout(): files() is deprecated in 2.1
        for piece in range(ti.num_pieces()):
            if piece < len(have) and have[piece]:
                continue
            if not any(bytes(ti.hash_for_piece(piece))):
                return found  # no v1 hashes to check against
            first = ti.map_block(piece, 0, ti.piece_size(piece))[0]
            probe = files.read(first.file_index, first.offset, min(PROBE, first.size))
            if probe is None or not any(probe):
                continue
            if piece_matches(ti, files, piece):
                found.append(piece)
    return found
