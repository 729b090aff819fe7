"""Hostile and unlucky conditions: a peer sending corrupt data, a full disk."""

from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path

import pytest

from mamdl.engine import TorrentState
from tests.engine.swarm import Payload, corrupt_copy, make_payload, verify_files

pytestmark = pytest.mark.slow


def test_corrupt_peer_is_survived(engine, payload: Payload, seeders, tmp_path: Path) -> None:
    # libtorrent's seed_mode hashes every piece before its first upload, so a seed_mode seeder
    # never sends bad data; this one claims its (corrupted) pieces through have_pieces instead.
    liar = seeders(payload, save_path=corrupt_copy(payload, tmp_path / "bad", pieces=3), trust_data=True)
    h = engine.add(payload.torrent, tmp_path / "dl")
    engine.connect_peer(h, "127.0.0.1", liar.port)
    snap = engine.wait(h, lambda s: s.hash_failures >= 1, timeout=20)
    assert snap.state != TorrentState.ERROR  # a bad piece is the peer's fault, not the torrent's
    good = seeders(payload)
    engine.connect_peer(h, "127.0.0.1", good.port)
    snap = engine.wait_done(h, timeout=30)
    verify_files(tmp_path / "dl", payload)
    assert snap.hash_failures >= 1
    assert snap.error is None


def test_disk_full_pauses_with_clear_message(make_engine, seeders, tmp_path: Path, tmpfs, caplog) -> None:
    engine = make_engine()
    small = tmpfs("2m", name="small")
    big = make_payload(tmp_path / "src-big", name="big", sizes=(3 * 2**20, 2**20), seed=7)
    fine = make_payload(tmp_path / "src-fine", name="fine", sizes=(500_000,), seed=8)
    seed_big, seed_fine = seeders(big), seeders(fine)

    h_fine = engine.add(fine.torrent, tmp_path / "dl")
    engine.connect_peer(h_fine, "127.0.0.1", seed_fine.port)
    engine.wait_done(h_fine, timeout=30)

    caplog.set_level(logging.INFO, logger="mamdl")
    h = engine.add(big.torrent, small)
    engine.connect_peer(h, "127.0.0.1", seed_big.port)
    snap = engine.wait(h, lambda s: s.state == TorrentState.ERROR, timeout=30, fail_on_error=False)
    assert snap.error and snap.error.startswith("disk full")
    assert str(small) in snap.error and "free some space" in snap.error
    assert 0 < snap.progress < 1

    # Paused, and stays paused: libtorrent's auto-manager must not restart it.
    time.sleep(1.0)
    snap = engine.snapshot(h)
    assert snap.state == TorrentState.ERROR and snap.download_rate == 0
    # Nothing deleted: what was written is still there.
    written = sum(p.stat().st_blocks * 512 for p in small.rglob("*") if p.is_file())
    assert written > 2**20
    # The other torrent is untouched, the engine still works, and no traceback was logged.
    assert engine.snapshot(h_fine).state == TorrentState.SEEDING
    verify_files(tmp_path / "dl", fine)
    assert not [r for r in caplog.records if r.exc_info or r.exc_text]
    assert [r for r in caplog.records if "disk full" in r.getMessage()]

    # The error survives a restart (it was stored; the torrent stays stopped, the cause intact).
    engine.close()
    engine = make_engine()
    snaps = {s.info_hash: s for s in engine.snapshots()}
    assert snaps[h].state == TorrentState.ERROR and snaps[h].error.startswith("disk full")
    engine.wait(h_fine, lambda s: s.state == TorrentState.SEEDING, timeout=10)

    # Still full: resume() retries and stops again with the same clear message.
    assert engine.resume(h).error is None
    engine.wait(h, lambda s: s.state == TorrentState.DOWNLOADING, timeout=10)  # re-checked first
    engine.connect_peer(h, "127.0.0.1", seed_big.port)
    again = engine.wait(h, lambda s: s.state == TorrentState.ERROR, timeout=30, fail_on_error=False)
    assert again.error.startswith("disk full")

    # Space freed (the tmpfs grows): resume() re-checks what is on disk and completes correctly.
    subprocess.run(["mount", "-o", "remount,size=8m", str(small)], check=True)
    engine.resume(h)
    engine.wait(h, lambda s: s.state == TorrentState.DOWNLOADING, timeout=10)
    engine.connect_peer(h, "127.0.0.1", seed_big.port)
    engine.wait_done(h, timeout=30)
    verify_files(small, big)
