"""The engine's durable state: one SQLite database (WAL) in the state directory.

It holds every torrent mamdl ever added (metadata, goals, totals, the latest snapshot), the
.torrent bytes and libtorrent's resume data, so a restart re-adds everything without re-downloading
verified data. The engine writes snapshots here about once a second, so other processes (`mam
status` with no service running) can read the last figures without touching libtorrent. Other
processes ask the owner to act through the service's HTTP API, not through this database.

The .torrent bytes hold the tracker passkey: the database file is created owner-only (0600), and
SQLite gives its -wal/-shm files the same mode.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from mamdl.config import ENGINE_DB_NAME
from mamdl.engine.models import SeedGoal, TorrentSnapshot, TorrentState
from mamdl.errors import EngineError

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS torrents (
    info_hash         TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    title             TEXT,
    mam_id            INTEGER,
    save_path         TEXT NOT NULL,
    state             TEXT NOT NULL,
    error             TEXT,
    ratio_goal        REAL NOT NULL,
    seed_seconds_goal INTEGER NOT NULL,
    added_at          REAL NOT NULL,
    finished_at       REAL,
    removed_at        REAL,
    seeding_seconds   INTEGER NOT NULL DEFAULT 0,
    uploaded          INTEGER NOT NULL DEFAULT 0,
    downloaded        INTEGER NOT NULL DEFAULT 0,
    hash_failures     INTEGER NOT NULL DEFAULT 0,
    total_size        INTEGER NOT NULL DEFAULT 0,
    progress          REAL NOT NULL DEFAULT 0,
    download_rate     INTEGER NOT NULL DEFAULT 0,
    upload_rate       INTEGER NOT NULL DEFAULT 0,
    peers             INTEGER NOT NULL DEFAULT 0,
    seeds             INTEGER NOT NULL DEFAULT 0,
    eta_seconds       INTEGER,
    updated_at        REAL NOT NULL,
    tracker_ok        INTEGER,
    tracker_message   TEXT,
    tracker_at        REAL,
    tracker_failures  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS torrent_files (
    info_hash TEXT PRIMARY KEY REFERENCES torrents(info_hash) ON DELETE CASCADE,
    data      BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS resume_data (
    info_hash TEXT PRIMARY KEY REFERENCES torrents(info_hash) ON DELETE CASCADE,
    data      BLOB NOT NULL,
    saved_at  REAL NOT NULL
);
"""

_ADDED_COLUMNS = {
    # schema 2: tracker health (the last announce result per torrent)
    "tracker_ok": "INTEGER",
    "tracker_message": "TEXT",
    "tracker_at": "REAL",
    "tracker_failures": "INTEGER NOT NULL DEFAULT 0",
}


@dataclass
class TorrentRecord:
    """One row of `torrents`: what the engine remembers about a torrent across restarts."""

    info_hash: str
    name: str
    save_path: str
    state: TorrentState
    ratio_goal: float
    seed_seconds_goal: int
    added_at: float
    title: str | None = None
    mam_id: int | None = None
    error: str | None = None
    finished_at: float | None = None
    removed_at: float | None = None
    seeding_seconds: int = 0
    uploaded: int = 0
    downloaded: int = 0
    hash_failures: int = 0
    total_size: int = 0
    progress: float = 0.0
    download_rate: int = 0
    upload_rate: int = 0
    peers: int = 0
    seeds: int = 0
    eta_seconds: int | None = None
    updated_at: float = field(default_factory=time.time)
    tracker_ok: bool | None = None
    """The last announce: True accepted, False failed, None none answered yet."""
    tracker_message: str | None = None
    tracker_at: float | None = None
    tracker_failures: int = 0
    """Announces failed in a row."""

    @property
    def goal(self) -> SeedGoal:
        return SeedGoal(ratio=self.ratio_goal, seed_seconds=self.seed_seconds_goal)

    def to_snapshot(self, *, live: bool = True) -> TorrentSnapshot:
        """The stored view as a snapshot; with `live=False` the rate/peer fields are zeroed
        (nobody is running the torrent)."""
        return TorrentSnapshot.build(
            goal=self.goal,
            total_size=self.total_size,
            downloaded=self.downloaded,
            uploaded=self.uploaded,
            seeding_seconds=self.seeding_seconds,
            progress=self.progress,
            info_hash=self.info_hash,
            name=self.name,
            title=self.title,
            mam_id=self.mam_id,
            state=self.state,
            download_rate=self.download_rate if live else 0,
            upload_rate=self.upload_rate if live else 0,
            peers=self.peers if live else 0,
            seeds=self.seeds if live else 0,
            eta_seconds=self.eta_seconds if live else None,
            save_path=self.save_path,
            error=self.error,
            hash_failures=self.hash_failures,
            added_at=self.added_at,
            finished_at=self.finished_at,
            updated_at=self.updated_at,
            tracker_ok=self.tracker_ok,
            tracker_message=self.tracker_message,
            # The row keeps only the last announce's message; a failed one is the tracker error.
            tracker_error=self.tracker_message if self.tracker_ok is False else None,
            tracker_at=self.tracker_at,
            tracker_failures=self.tracker_failures,
        )


_RECORD_COLUMNS = [f.name for f in fields(TorrentRecord)]


def db_path(state_dir: Path) -> Path:
    return Path(state_dir) / ENGINE_DB_NAME


class Store:
    """Thread-safe access to the state database (one connection, one lock)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(str(self.path), timeout=15.0, isolation_level=None, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=15000")
            with self._tx() as db:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise EngineError(
                        f"the state database {self.path} was written by a newer mamdl (schema {version}); upgrade mamdl"
                    )
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        db.execute(stmt)
                have = {r[1] for r in db.execute("PRAGMA table_info(torrents)").fetchall()}
                for col, decl in _ADDED_COLUMNS.items():
                    if col not in have:
                        db.execute(f"ALTER TABLE torrents ADD COLUMN {col} {decl}")
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise EngineError(f"cannot open the state database {self.path}: {exc}") from None

    # ------------------------------------------------------------------ plumbing

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error:
                pass

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it lands, or none of it."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    # ------------------------------------------------------------------ torrents

    def add_torrent(self, rec: TorrentRecord, torrent_bytes: bytes) -> None:
        """Insert (or revive a removed) torrent together with its .torrent bytes, atomically."""
        values = _record_values(rec)
        cols = ", ".join(_RECORD_COLUMNS)
        marks = ", ".join("?" for _ in _RECORD_COLUMNS)
        with self._tx() as db:
            db.execute(f"INSERT OR REPLACE INTO torrents ({cols}) VALUES ({marks})", values)
            db.execute(
                "INSERT OR REPLACE INTO torrent_files (info_hash, data) VALUES (?, ?)",
                (rec.info_hash, sqlite3.Binary(torrent_bytes)),
            )

    def get(self, info_hash: str) -> TorrentRecord | None:
        rows = self._query("SELECT * FROM torrents WHERE info_hash = ?", (info_hash,))
        return _row_to_record(rows[0]) if rows else None

    def records(self, *, include_removed: bool = False) -> list[TorrentRecord]:
        sql = "SELECT * FROM torrents"
        if not include_removed:
            sql += " WHERE state != 'removed'"
        return [_row_to_record(r) for r in self._query(sql + " ORDER BY added_at, info_hash")]

    def update(self, info_hash: str, **changes: Any) -> None:
        """Change some columns of one torrent (e.g. state/error after pause or a disk error)."""
        bad = set(changes) - set(_RECORD_COLUMNS)
        if bad:
            raise ValueError(f"unknown torrent columns: {sorted(bad)}")
        if not changes:
            return
        sets = ", ".join(f"{k} = ?" for k in changes)
        values = [_to_sql(v) for v in changes.values()]
        with self._tx() as db:
            db.execute(f"UPDATE torrents SET {sets} WHERE info_hash = ?", (*values, info_hash))

    def torrent_bytes(self, info_hash: str) -> bytes | None:
        rows = self._query("SELECT data FROM torrent_files WHERE info_hash = ?", (info_hash,))
        return bytes(rows[0]["data"]) if rows else None

    def resume_data(self, info_hash: str) -> bytes | None:
        rows = self._query("SELECT data FROM resume_data WHERE info_hash = ?", (info_hash,))
        return bytes(rows[0]["data"]) if rows else None

    def resume_saved_at(self, info_hash: str) -> float | None:
        rows = self._query("SELECT saved_at FROM resume_data WHERE info_hash = ?", (info_hash,))
        return float(rows[0]["saved_at"]) if rows else None

    def save_resume(self, info_hash: str, data: bytes, **changes: Any) -> None:
        """Replace the resume data (and optionally some torrent columns) in one transaction."""
        sets = ", ".join(f"{k} = ?" for k in changes)
        with self._tx() as db:
            exists = db.execute("SELECT state FROM torrents WHERE info_hash = ?", (info_hash,)).fetchone()
            if exists is None or exists["state"] == TorrentState.REMOVED.value:
                return  # removed meanwhile: do not resurrect its resume data
            db.execute(
                "INSERT OR REPLACE INTO resume_data (info_hash, data, saved_at) VALUES (?, ?, ?)",
                (info_hash, sqlite3.Binary(data), time.time()),
            )
            if changes:
                db.execute(
                    f"UPDATE torrents SET {sets} WHERE info_hash = ?",
                    (*[_to_sql(v) for v in changes.values()], info_hash),
                )

    def goal_of(self, info_hash: str) -> SeedGoal | None:
        """The goal last recorded for a torrent, removed ones included (goals survive a re-add)."""
        rows = self._query("SELECT ratio_goal, seed_seconds_goal FROM torrents WHERE info_hash = ?", (info_hash,))
        if not rows:
            return None
        return SeedGoal(ratio=float(rows[0]["ratio_goal"]), seed_seconds=int(rows[0]["seed_seconds_goal"]))

    def mark_removed(self, info_hash: str) -> None:
        """Keep the row as history, drop the blobs (the resume data is meaningless now)."""
        now = time.time()
        with self._tx() as db:
            db.execute(
                "UPDATE torrents SET state = ?, removed_at = ?, updated_at = ?, download_rate = 0, upload_rate = 0,"
                " peers = 0, seeds = 0, eta_seconds = NULL WHERE info_hash = ?",
                (TorrentState.REMOVED.value, now, now, info_hash),
            )
            db.execute("DELETE FROM resume_data WHERE info_hash = ?", (info_hash,))
            db.execute("DELETE FROM torrent_files WHERE info_hash = ?", (info_hash,))

    def write_snapshots(self, snaps: Iterable[TorrentSnapshot]) -> None:
        """Store the latest live view of every running torrent, in one transaction."""
        rows = [
            [_snapshot_value(s, c) for c in _SNAPSHOT_COLUMNS] + [s.info_hash]
            for s in snaps
            if s.state != TorrentState.REMOVED
        ]
        if not rows:
            return
        with self._tx() as db:
            db.executemany(_WRITE_SNAPSHOT_SQL, rows)

    def snapshots(self, *, live: bool = True, include_removed: bool = False) -> list[TorrentSnapshot]:
        """Every stored torrent as a snapshot (see `read_status` for the cross-process view)."""
        return [r.to_snapshot(live=live) for r in self.records(include_removed=include_removed)]

    def snapshot(self, info_hash: str, *, live: bool = True) -> TorrentSnapshot | None:
        rec = self.get(info_hash)
        return rec.to_snapshot(live=live) if rec else None


# ---------------------------------------------------------------------- row conversion


def _to_sql(v: Any) -> Any:
    if isinstance(v, TorrentState):
        return v.value
    return v


_SNAPSHOT_COLUMNS = (
    "state",
    "error",
    "progress",
    "download_rate",
    "upload_rate",
    "peers",
    "seeds",
    "eta_seconds",
    "seeding_seconds",
    "uploaded",
    "downloaded",
    "hash_failures",
    "total_size",
    "finished_at",
    "updated_at",
    "tracker_ok",
    "tracker_message",
    "tracker_at",
    "tracker_failures",
)
"""The row columns a live snapshot refreshes (each named like the snapshot field it comes from);
the rest (goals, names, added/removed times) change only through their own commands."""

_WRITE_SNAPSHOT_SQL = (
    f"UPDATE torrents SET {', '.join(f'{c} = ?' for c in _SNAPSHOT_COLUMNS)} WHERE info_hash = ? AND state != 'removed'"
)


def _snapshot_value(s: TorrentSnapshot, column: str) -> Any:
    if column == "tracker_ok":
        return None if s.tracker_ok is None else int(s.tracker_ok)
    if column == "tracker_message":
        # The row keeps one message for the last announce: the error when it failed.
        return s.tracker_error if s.tracker_ok is False else s.tracker_message
    return _to_sql(getattr(s, column))


def _record_values(rec: TorrentRecord) -> list[Any]:
    d = asdict(rec)
    return [_to_sql(d[c]) if c != "state" else rec.state.value for c in _RECORD_COLUMNS]


def _row_to_record(row: sqlite3.Row) -> TorrentRecord:
    d = {k: row[k] for k in row.keys() if k in _RECORD_COLUMNS}
    d["state"] = TorrentState(d["state"])
    if d.get("tracker_ok") is not None:
        d["tracker_ok"] = bool(d["tracker_ok"])
    return TorrentRecord(**d)
