"""After a crash, pieces written after the last resume-data save are found on disk by their hashes
(mamdl.engine.recover) instead of being downloaded again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import libtorrent as lt

from mamdl.engine import TorrentState
from mamdl.engine.lock import LOCK_NAME, EngineLock
from mamdl.engine.recover import pieces_on_disk
from tests.engine.swarm import PIECE, Payload


def _died_holding_the_lock(state_dir: Path) -> None:
    """What kill -9 leaves behind: the lock file still names its (now dead) holder."""
    (state_dir / LOCK_NAME).write_text(json.dumps({"pid": 2**22 + 7, "hostname": "x", "command": "mam serve"}) + "\n")


def test_pieces_on_disk_are_exactly_the_intact_complete_ones(tmp_path: Path, payload: Payload) -> None:
    """Sabotage caught: dropping the hash comparison (a corrupt piece is taken as good), or taking a
    piece that spans into a file not on disk."""
    ti = lt.torrent_info(payload.torrent)
    fs = ti.layout()
    dl = tmp_path / "dl"
    first = fs.file_path(0)
    (dl / first).parent.mkdir(parents=True)
    data = bytearray((payload.root / first).read_bytes())
    data[3 * PIECE + 100] ^= 0xFF  # piece 3 is corrupt
    (dl / first).write_bytes(bytes(data))  # the other files were never written
    inside_first = [
        p for p in range(ti.num_pieces()) if all(s.file_index == 0 for s in ti.map_block(p, 0, ti.piece_size(p)))
    ]
    assert 3 in inside_first and len(inside_first) < ti.num_pieces()

    found = pieces_on_disk(ti, dl, [False] * ti.num_pieces())

    assert found == [p for p in inside_first if p != 3]
    # Pieces the resume data already has are not read again.
    assert pieces_on_disk(ti, dl, [p in (0, 1) for p in range(ti.num_pieces())]) == found[2:]


def test_lock_tells_a_crash_from_a_clean_close(state_dir: Path) -> None:
    """Sabotage caught: `unclean` set on every start (every start would hash what it lacks), or
    never (a crash would download again what is on disk)."""
    lock = EngineLock(state_dir)
    lock.acquire()
    assert not lock.unclean  # no lock file before
    lock.release()
    again = EngineLock(state_dir)
    again.acquire()
    assert not again.unclean  # released cleanly
    again.release()
    _died_holding_the_lock(state_dir)
    after_crash = EngineLock(state_dir)
    after_crash.acquire()
    assert after_crash.unclean
    after_crash.release()


def test_a_restart_after_a_crash_takes_the_pieces_written_after_the_last_save(
    tmp_path: Path, payload: Payload, make_engine, state_dir: Path
) -> None:
    """The resume data says nothing is on disk, yet the whole book is (written after the last save,
    then kill -9): the restart finds every piece by its hash and seeds with no peer at all.
    Sabotage caught: not calling `_recover_pieces` on restore (the torrent waits for peers)."""
    dl = tmp_path / "dl"
    eng = make_engine()
    h = eng.add(payload.torrent, dl)
    eng.close()  # resume data saved: no piece yet
    shutil.copytree(payload.root / payload.name, dl / payload.name, dirs_exist_ok=True)
    _died_holding_the_lock(state_dir)

    again = make_engine()
    snap = again.wait_done(h, timeout=30)
    assert snap.progress == 1.0 and snap.state in (TorrentState.SEEDING, TorrentState.FINISHED)
    assert again.snapshot(h).downloaded == 0  # nothing fetched: there is no peer to fetch from
    assert "fastresume_rejected_alert" not in again.session_info()["alerts_seen"]
