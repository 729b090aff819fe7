"""The engine's fixed cost around the bytes (issue 16) and its recovery path after a disk error."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mamdl.engine import TorrentState
from tests.engine.conftest import loopback_config
from tests.engine.swarm import Payload, make_payload, verify_files

pytestmark = pytest.mark.slow


def test_finish_is_seen_without_waiting_for_a_status_update(make_engine, payload: Payload, seeder, tmp_path) -> None:
    """A waiter sees "finished" when libtorrent changes state, not at the next periodic status
    update. Sabotage caught: dropping the state_changed_alert refresh in AlertHandlers (the
    status update here comes only every 10 minutes, so wait_done times out)."""
    engine = make_engine(loopback_config(status_interval=600.0))
    h = engine.add(payload.torrent, tmp_path / "dl")
    engine.connect_peer(h, "127.0.0.1", seeder.port)
    snap = engine.wait_done(h, timeout=30)
    assert snap.progress >= 1.0
    verify_files(tmp_path / "dl", payload)


def test_resume_after_disk_error_keeps_torrent_limits(make_engine, seeders, tmp_path: Path, tmpfs) -> None:
    """resume() of a torrent stopped by a full disk re-adds it to the session (Engine._reload, so
    the pread backend drops its per-torrent state); its own rate limits survive that.
    Sabotage caught: not carrying the limits over in Engine._reload (no periodic resume-data save
    happens here, so the stored resume data predates the limit)."""
    engine = make_engine(loopback_config(resume_save_interval=600.0))
    small = tmpfs("2m", name="small")
    big = make_payload(tmp_path / "src-big", name="big", sizes=(3 * 2**20, 2**20), seed=7)
    seed = seeders(big)
    h = engine.add(big.torrent, small)
    engine.set_limits(h, upload_bps=123_456)
    engine.connect_peer(h, "127.0.0.1", seed.port)
    engine.wait(h, lambda s: s.state == TorrentState.ERROR, timeout=30, fail_on_error=False)
    subprocess.run(["mount", "-o", "remount,size=8m", str(small)], check=True)
    engine.resume(h)
    engine.wait(h, lambda s: s.state == TorrentState.DOWNLOADING, timeout=10)
    assert engine._get(h).handle.upload_limit() == 123_456
    engine.connect_peer(h, "127.0.0.1", seed.port)
    engine.wait_done(h, timeout=30)
    verify_files(small, big)


def test_pread_completes_after_disk_full(make_engine, seeders, tmp_path: Path, tmpfs) -> None:
    """With the pread disk backend, a torrent stopped twice by a full disk (once before a restart,
    once after) completes once space returns and it is resumed, with its only seeder.
    Sabotage caught: resume() without Engine._reload (only clear_error + force_recheck): the
    re-downloaded piece fails its hash check, libtorrent bans the seeder, the download stalls
    (caught in 5 of 6 sabotaged runs: it depends on which piece is mid-write when the disk fills)."""
    config = loopback_config(disk_io="pread", hashing_threads=2)
    engine = make_engine(config)
    small = tmpfs("2m", name="small")
    big = make_payload(tmp_path / "src-big", name="big", sizes=(3 * 2**20, 2**20), seed=7)
    seed = seeders(big)
    h = engine.add(big.torrent, small)
    engine.connect_peer(h, "127.0.0.1", seed.port)
    engine.wait(h, lambda s: s.state == TorrentState.ERROR, timeout=30, fail_on_error=False)
    engine.close()
    engine = make_engine(config)
    for _ in range(2):  # still full: each resume stops again (and leaves pread's state behind)
        engine.resume(h)
        engine.wait(h, lambda s: s.state == TorrentState.DOWNLOADING, timeout=10)
        engine.connect_peer(h, "127.0.0.1", seed.port)
        again = engine.wait(h, lambda s: s.state == TorrentState.ERROR, timeout=30, fail_on_error=False)
        assert again.error.startswith("disk full")
    subprocess.run(["mount", "-o", "remount,size=8m", str(small)], check=True)
    engine.resume(h)
    engine.wait(h, lambda s: s.state == TorrentState.DOWNLOADING, timeout=10)
    engine.connect_peer(h, "127.0.0.1", seed.port)
    engine.wait_done(h, timeout=30)
    verify_files(small, big)
