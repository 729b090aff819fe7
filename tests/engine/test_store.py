"""The state database: torrents, blobs, snapshots. (Other processes talk to the service over HTTP, not through this database.)"""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

from mamdl.engine.models import SeedGoal, TorrentState
from mamdl.engine.store import Store, TorrentRecord, db_path


def record(h: str = "a" * 40, **kw) -> TorrentRecord:
    base = dict(
        info_hash=h,
        name="book",
        save_path="/tmp/x",
        state=TorrentState.DOWNLOADING,
        ratio_goal=1.0,
        seed_seconds_goal=259200,
        added_at=time.time(),
        total_size=1000,
    )
    base.update(kw)
    return TorrentRecord(**base)


@pytest.fixture
def store(tmp_path: Path):
    with Store(db_path(tmp_path)) as s:
        yield s


def test_database_is_private_and_wal(tmp_path: Path, store: Store) -> None:
    store.add_torrent(record(), b"torrent-bytes")
    mode = stat.S_IMODE(db_path(tmp_path).stat().st_mode)
    assert mode == 0o600, oct(mode)  # the .torrent bytes inside carry the passkey
    assert store._query("PRAGMA journal_mode")[0][0] == "wal"


def test_torrent_round_trip(store: Store) -> None:
    store.add_torrent(record(mam_id=7, title="T"), b"T" * 10)
    rec = store.get("a" * 40)
    assert rec is not None and rec.mam_id == 7 and rec.title == "T" and rec.state == TorrentState.DOWNLOADING
    assert store.torrent_bytes("a" * 40) == b"T" * 10
    assert store.resume_data("a" * 40) is None
    store.save_resume("a" * 40, b"R1", uploaded=5)
    store.save_resume("a" * 40, b"R2")
    assert store.resume_data("a" * 40) == b"R2"
    assert store.get("a" * 40).uploaded == 5
    store.update("a" * 40, state=TorrentState.PAUSED, error="x")
    assert store.get("a" * 40).state == TorrentState.PAUSED
    with pytest.raises(ValueError):
        store.update("a" * 40, bogus=1)


def test_removed_keeps_history_drops_blobs(store: Store) -> None:
    store.add_torrent(record(), b"T")
    store.save_resume("a" * 40, b"R")
    store.mark_removed("a" * 40)
    assert store.records() == []
    (rec,) = store.records(include_removed=True)
    assert rec.state == TorrentState.REMOVED and rec.removed_at
    assert store.torrent_bytes("a" * 40) is None and store.resume_data("a" * 40) is None
    store.save_resume("a" * 40, b"late")  # a late resume alert must not resurrect it
    assert store.resume_data("a" * 40) is None


def test_snapshots_and_live_fields(store: Store) -> None:
    store.add_torrent(
        record(
            download_rate=500,
            peers=3,
            eta_seconds=9,
            uploaded=2000,
            seeding_seconds=10,
            seed_seconds_goal=5,
            ratio_goal=1.5,
        ),
        b"T",
    )
    snap = store.snapshot("a" * 40)
    assert snap.download_rate == 500 and snap.peers == 3
    assert snap.ratio == 2.0 and snap.goal == SeedGoal(ratio=1.5, seed_seconds=5)
    assert snap.goal_met and snap.ratio_goal_met and snap.seed_time_goal_met
    dead = store.snapshot("a" * 40, live=False)
    assert (dead.download_rate, dead.peers, dead.eta_seconds) == (0, 0, None)
    store.write_snapshots(
        [snap.model_copy(update={"progress": 0.5, "state": TorrentState.SEEDING, "hash_failures": 2})]
    )
    again = store.snapshot("a" * 40)
    assert again.progress == 0.5 and again.state == TorrentState.SEEDING and again.hash_failures == 2


def test_schema_columns_are_the_record_fields(store: Store) -> None:
    """The CREATE TABLE (plus migrations) and TorrentRecord name the same columns. Sabotage
    caught: a field added to TorrentRecord without its column (inserts would fail at run time)."""
    from dataclasses import fields

    cols = {r[1] for r in store._query("PRAGMA table_info(torrents)")}
    assert cols == {f.name for f in fields(TorrentRecord)}


def test_write_snapshots_stores_every_live_column(store: Store) -> None:
    """write_snapshots' column list is built from one tuple; each column lands. Sabotage caught:
    storing the tracker message instead of the error for a failed announce, or dropping a
    column from the tuple (its value would stay the stale one)."""
    store.add_torrent(record(), b"T")
    snap = store.snapshot("a" * 40)
    update = dict(
        state=TorrentState.SEEDING,
        error="disk",
        progress=0.75,
        download_rate=11,
        upload_rate=12,
        peers=13,
        seeds=14,
        eta_seconds=15,
        seeding_seconds=16,
        uploaded=17,
        downloaded=18,
        hash_failures=19,
        total_size=2000,
        finished_at=21.0,
        updated_at=22.0,
        tracker_ok=False,
        tracker_message="ignored",
        tracker_error="announce failed",
        tracker_at=23.0,
        tracker_failures=24,
    )
    store.write_snapshots([snap.model_copy(update=update)])
    rec = store.get("a" * 40)
    assert rec is not None
    expected = {**update, "tracker_message": "announce failed"}
    expected.pop("tracker_error")
    for name, value in expected.items():
        assert getattr(rec, name) == value, name
