"""The engine on a real loopback swarm: download, states, commands, persistence."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from mamdl.engine import SeedGoal, TorrentState, read_status, torrents_to_stop
from mamdl.engine.store import Store, db_path
from mamdl.errors import EngineError, TorrentError
from tests.engine.conftest import loopback_config
from tests.engine.swarm import FAKE_ANNOUNCE, Leecher, Payload, make_payload, verify_files
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

SLOW_RATE = 512 * 1024
PASSKEY = FAKE_ANNOUNCE.rsplit("=", 1)[1]


def test_download_and_verify(engine, payload: Payload, seeder, tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="mamdl")
    events: list[str] = []

    def listen() -> None:
        for ev in engine.events(timeout=10):
            events.append(ev.kind)
            if ev.kind == "finished":
                return

    th = threading.Thread(target=listen)
    th.start()
    wait_until(lambda: engine._subscribers, timeout=10, what="the listener to subscribe")  # or "added" is missed
    h = engine.add(payload.torrent, tmp_path / "dl", mam_id=42, title="A Book")
    assert h == payload.info_hash
    engine.connect_peer(h, "127.0.0.1", seeder.port)
    snap = engine.wait_done(h, timeout=30)
    verify_files(tmp_path / "dl", payload)
    assert snap.state == TorrentState.SEEDING and snap.progress == 1.0
    assert snap.mam_id == 42 and snap.title == "A Book" and snap.name == "book"
    assert snap.total_size == payload.total_size
    assert snap.downloaded >= payload.total_size
    assert snap.finished_at is not None and snap.error is None and snap.hash_failures == 0
    assert snap.goal == SeedGoal() and not snap.goal_met
    th.join(timeout=10)
    assert "added" in events and "finished" in events and "progress" in events
    # The (unreachable) tracker's failure is reported, with the passkey masked, and never logged.
    snap = engine.wait(h, lambda s: s.tracker_error is not None, timeout=10)
    assert snap.tracker_error.startswith("http://127.0.0.1:9/***")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "book" in logged
    for text in (logged, snap.model_dump_json()):
        assert PASSKEY not in text


def test_a_waiter_never_sees_a_finished_torrent_without_finished_at(
    engine, payload: Payload, seeder, tmp_path: Path
) -> None:
    """libtorrent posts the state change to "finished" just before torrent_finished_alert, and the
    state change wakes waiters at once; on a loaded machine (two xdist workers) `wait_done` returned
    a seeding snapshot whose `finished_at` was still None. Here the alert thread is held before it
    handles torrent_finished_alert, as a busy machine does. Sabotage caught: stamping `finished_at`
    only on torrent_finished_alert."""
    release = threading.Event()
    on_finished = engine._on_finished

    def late(alert) -> None:
        release.wait(30)
        on_finished(alert)

    engine._on_finished = late  # type: ignore[method-assign]
    try:
        h = engine.add(payload.torrent, tmp_path / "dl")
        engine.connect_peer(h, "127.0.0.1", seeder.port)
        snap = engine.wait_done(h, timeout=30)
    finally:
        release.set()
    assert snap.finished_at is not None
    assert Store(db_path(engine.state_dir)).get(h).finished_at == snap.finished_at


def test_unrestorable_torrents_are_shown_not_lost(make_engine, payload: Payload, tmp_path: Path) -> None:
    eng = make_engine()
    h = eng.add(payload.torrent, tmp_path / "dl", paused=True)
    other = make_payload(tmp_path / "src2", name="other", sizes=(100_000,), seed=4)
    h2 = eng.add(other.torrent, tmp_path / "usb-drive" / "books", paused=True)
    eng.close()
    with sqlite3.connect(db_path(eng.state_dir)) as db:
        db.execute("UPDATE torrent_files SET data = ? WHERE info_hash = ?", (b"garbage", h))
    shutil.rmtree(tmp_path / "usb-drive")  # the drive is not mounted today

    eng = make_engine()
    snaps = {s.info_hash: s for s in eng.snapshots()}
    assert snaps[h].state == TorrentState.ERROR and "not valid bencode" in snaps[h].error
    assert snaps[h2].state == TorrentState.ERROR and "unmounted drive" in snaps[h2].error
    assert not (tmp_path / "usb-drive").exists()  # nothing downloaded onto the wrong disk
    (tmp_path / "usb-drive" / "books").mkdir(parents=True)
    assert eng.resume(h2).error is None  # retried once the folder is back
    assert h2 in {s.info_hash for s in eng.snapshots() if s.state != TorrentState.ERROR}
    with pytest.raises(EngineError, match="cannot be deleted safely"):
        eng.remove(h, delete_data=True)
    eng.remove(h)  # an unrestorable torrent can still be forgotten
    assert h not in {s.info_hash for s in eng.snapshots()}


def test_duplicate_add_is_idempotent(engine, payload: Payload, tmp_path: Path) -> None:
    h1 = engine.add(payload.torrent, tmp_path / "dl", paused=True)
    h2 = engine.add(payload.torrent, tmp_path / "elsewhere", mam_id=9, goal=SeedGoal(ratio=2, seed_seconds=60))
    assert h1 == h2
    assert len(engine.snapshots()) == 1
    snap = engine.snapshot(h1)
    assert snap.save_path == str(tmp_path / "dl")
    assert snap.mam_id == 9 and snap.goal == SeedGoal(ratio=2, seed_seconds=60)
    assert not (tmp_path / "elsewhere").exists()


def test_pause_resume_and_states(engine, payload: Payload, seeders, tmp_path: Path) -> None:
    seeder = seeders(payload, upload_rate=SLOW_RATE)
    h = engine.add(payload.torrent, tmp_path / "dl")
    engine.connect_peer(h, "127.0.0.1", seeder.port)
    snap = engine.wait(h, lambda s: s.state == TorrentState.DOWNLOADING and s.progress > 0, timeout=20)
    assert snap.eta_seconds is None or snap.eta_seconds > 0

    snap = engine.pause(h)
    assert snap.state == TorrentState.PAUSED
    time.sleep(1.0)
    before = engine.snapshot(h)
    assert before.state == TorrentState.PAUSED  # libtorrent's auto-manager must not restart it
    time.sleep(1.0)
    assert engine.snapshot(h).progress == before.progress
    assert Store(db_path(engine.state_dir)).get(h).state == TorrentState.PAUSED

    seeder.handle.set_upload_limit(-1)
    engine.resume(h)
    engine.connect_peer(h, "127.0.0.1", seeder.port)
    engine.wait_done(h, timeout=30)
    verify_files(tmp_path / "dl", payload)

    # The seeding policy: goals met → FINISHED (paused, data kept).
    engine.set_goal(h, SeedGoal(ratio=0, seed_seconds=0))
    assert torrents_to_stop(engine.snapshots()) == [h]  # what `Service.stop_satisfied` asks
    engine.finish(h)
    snap = engine.snapshot(h)
    assert snap.state == TorrentState.FINISHED and snap.goal_met
    verify_files(tmp_path / "dl", payload)
    assert torrents_to_stop(engine.snapshots()) == []
    assert engine.resume(h).state in (TorrentState.QUEUED, TorrentState.CHECKING, TorrentState.SEEDING)
    engine.wait(h, lambda s: s.state == TorrentState.SEEDING, timeout=10)


def test_remove_keeps_or_deletes_data(engine, payload: Payload, seeder, tmp_path: Path) -> None:
    h = engine.add(payload.torrent, tmp_path / "dl")
    engine.connect_peer(h, "127.0.0.1", seeder.port)
    engine.wait_done(h, timeout=30)
    engine.remove(h)
    assert engine.snapshots() == []
    assert engine.snapshot(h).state == TorrentState.REMOVED  # history from the store
    verify_files(tmp_path / "dl", payload)
    with pytest.raises(EngineError, match="no torrent"):
        engine.pause(h)

    # Re-adding a removed torrent works, finds the data on disk, then delete it for real.
    h = engine.add(payload.torrent, tmp_path / "dl")
    engine.wait_done(h, timeout=30)
    engine.remove(h, delete_data=True)
    for rel in payload.files:
        assert not (tmp_path / "dl" / rel).exists()
    assert (tmp_path / "dl").exists()  # the save folder itself stays


def test_restart_resumes_without_redownloading(make_engine, payload: Payload, seeder, tmp_path: Path) -> None:
    eng = make_engine()
    done = eng.add(payload.torrent, tmp_path / "dl", mam_id=1)
    eng.connect_peer(done, "127.0.0.1", seeder.port)
    eng.wait_done(done, timeout=30)
    other = make_payload(tmp_path / "src2", name="other", sizes=(600_000,), seed=2)
    paused = eng.add(other.torrent, tmp_path / "dl2", paused=True, goal=SeedGoal(ratio=3, seed_seconds=7))
    time.sleep(1.2)
    before = eng.snapshot(done)
    eng.close()

    eng = make_engine()
    snaps = {s.info_hash: s for s in eng.snapshots()}
    assert set(snaps) == {done, paused}
    assert snaps[paused].state == TorrentState.PAUSED
    assert snaps[paused].goal == SeedGoal(ratio=3, seed_seconds=7)
    snap = eng.wait(done, lambda s: s.state == TorrentState.SEEDING, timeout=10)
    # Complete without a single peer: the data came from resume data + disk, not from the swarm.
    assert snap.progress == 1.0 and snap.peers == 0
    assert snap.downloaded == before.downloaded  # nothing downloaded again
    assert snap.seeding_seconds >= before.seeding_seconds
    assert snap.mam_id == 1 and snap.finished_at == before.finished_at
    time.sleep(0.3)
    assert eng.snapshot(done).downloaded == before.downloaded


def test_other_process_view(engine, payload: Payload, tmp_path: Path) -> None:
    """`mam status` from another process with no service: read the store the owner writes."""
    h = engine.add(payload.torrent, tmp_path / "dl")
    (snap,) = wait_until(lambda: read_status(engine.state_dir), timeout=20, what="the store write")
    assert snap.info_hash == h and snap.state in (TorrentState.QUEUED, TorrentState.DOWNLOADING)


def test_saved_figures_without_owner(state_dir: Path, make_engine, payload: Payload, tmp_path: Path) -> None:
    eng = make_engine()
    eng.add(payload.torrent, tmp_path / "dl")
    eng.close()
    (snap,) = read_status(state_dir)
    assert snap.download_rate == 0 and snap.peers == 0


def test_save_dir_must_be_writable(engine, payload: Payload, tmp_path: Path, tmpfs) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(EngineError, match="cannot create the save folder"):
        engine.add(payload.torrent, blocker / "sub")
    with pytest.raises(EngineError, match="not a folder"):
        engine.add(payload.torrent, blocker)
    assert engine.snapshots() == []
    ro = tmpfs("1m", name="ro", options="ro")  # root ignores permission bits; a read-only mount does not
    with pytest.raises(EngineError, match="cannot write to the save folder"):
        engine.add(payload.torrent, ro)
    assert engine.snapshots() == []
    assert Store(db_path(engine.state_dir)).records(include_removed=True) == []


def test_bad_torrents_never_reach_libtorrent(engine, tmp_path: Path) -> None:
    with pytest.raises(TorrentError):
        engine.add(b"not a torrent", tmp_path / "dl")
    from tests.engine.test_torrentfile import raw_torrent

    with pytest.raises(TorrentError, match="unsafe"):
        engine.add(raw_torrent([([b"..", b"x"], 100)]), tmp_path / "dl")
    assert engine.snapshots() == []


def test_private_torrent_never_starts_dht(make_engine, payload: Payload, seeder, tmp_path: Path) -> None:
    import libtorrent as lt

    eng = make_engine(loopback_config(alert_mask=int(lt.alert.category_t.all_categories)))
    h = eng.add(payload.torrent, tmp_path / "dl")
    eng.connect_peer(h, "127.0.0.1", seeder.port)
    eng.wait_done(h, timeout=30)
    wait_until(lambda: eng.session_info()["alerts_seen"].get("torrent_finished_alert"), timeout=20)
    info = eng.session_info()
    assert info["settings"]["enable_dht"] is False
    assert info["settings"]["enable_lsd"] is False
    assert info["dht_running"] is False
    seen = info["alerts_seen"]
    assert seen.get("torrent_finished_alert") == 1  # the mask really delivered alerts
    assert not [k for k in seen if k.startswith("dht_")], seen
    assert not [k for k in seen if k.startswith("lsd_")], seen
    flags = eng._torrents[h].handle.flags()  # belt and braces on top of libtorrent's own rule
    for flag in (lt.torrent_flags.disable_dht, lt.torrent_flags.disable_pex, lt.torrent_flags.disable_lsd):
        assert flags & flag


def test_limits(engine, payload: Payload, tmp_path: Path) -> None:
    h = engine.add(payload.torrent, tmp_path / "dl", paused=True)
    engine.set_limits(h, download_bps=1000, upload_bps=2000)
    engine.set_limits(None, download_bps=0, upload_bps=5000)
    assert engine.session_info()["settings"]["upload_rate_limit"] == 5000
    with pytest.raises(EngineError):
        engine.set_limits(h, download_bps=-5)


def test_not_running(make_engine, payload: Payload, tmp_path: Path) -> None:
    eng = make_engine(start=False)
    with pytest.raises(EngineError, match="not running"):
        eng.add(payload.torrent, tmp_path / "dl")


def _trackerless(torrent: bytes) -> bytes:
    import fastbencode

    meta = fastbencode.bdecode(torrent)
    meta.pop(b"announce", None)
    meta.pop(b"announce-list", None)
    return fastbencode.bencode(meta)


def test_seeding_time_counts_only_while_the_tracker_accepts(make_engine, payload: Payload) -> None:
    """A seed whose tracker is dead (the payload's announce URL points at the discard port) earns
    no seeding time: MAM's clock does not run when it cannot see us. The failure is in the state
    (tracker_ok False, failures counted, message redacted) for other processes. Sabotage caught:
    crediting libtorrent's own seeding clock (it runs regardless of the tracker)."""
    eng = make_engine()
    h = eng.add(payload.torrent, payload.root, goal=SeedGoal(ratio=0, seed_seconds=2))
    eng.wait(h, lambda s: s.state == TorrentState.SEEDING and s.tracker_ok is False, timeout=20)
    time.sleep(3)
    snap = eng.snapshot(h)
    assert snap.seeding_seconds == 0 and not snap.seed_time_goal_met and snap.tracker_failures >= 1
    assert "0123456789abcdef" not in (snap.tracker_error or "")
    # The store carries it too (written every second; waited on, as a loaded machine writes later).
    stored = wait_until(lambda: [r for r in read_status(eng.state_dir) if r.tracker_failures >= 1], what="the store")
    assert stored[0].tracker_ok is False and stored[0].tracker_failures >= 1


def test_seeding_accounting_and_policy(make_engine, payload: Payload, tmp_path: Path) -> None:
    """Seed to a leecher: upload and ratio counted; the seed clock of a torrent without a tracker
    runs even when idle, persists, and the policy stops the torrent (FINISHED, kept) once both
    goals are met."""
    eng = make_engine()
    h = eng.add(_trackerless(payload.torrent), payload.root, goal=SeedGoal(ratio=1.0, seed_seconds=3))
    eng.wait(h, lambda s: s.state == TorrentState.SEEDING, timeout=10)  # the data was already there
    leecher = Leecher(payload, tmp_path / "leech", eng.listen_port)
    try:
        leecher.wait_done()
    finally:
        leecher.close()
    verify_files(tmp_path / "leech", payload)
    snap = eng.wait(h, lambda s: s.uploaded >= payload.total_size, timeout=10)
    assert snap.downloaded == 0 and snap.ratio >= 1.0 and snap.ratio_goal_met
    snap = eng.wait(h, lambda s: s.goal_met, timeout=10)  # nobody connected now: an idle seed
    assert snap.seed_time_goal_met and snap.seeding_seconds >= 3
    assert torrents_to_stop(eng.snapshots()) == [h]  # what `Service.stop_satisfied` asks
    eng.finish(h)
    stopped = eng.snapshot(h)
    assert stopped.state == TorrentState.FINISHED
    time.sleep(1.5)
    assert eng.snapshot(h).seeding_seconds <= stopped.seeding_seconds + 1  # the clock stops with it
    eng.close()

    eng = make_engine()
    snap = eng.snapshot(h)
    assert snap.state == TorrentState.FINISHED and snap.goal_met
    assert snap.seeding_seconds >= 3 and snap.uploaded >= payload.total_size
    verify_files(payload.root, payload)
