"""What the library remembers: MAM's row for each download, and where each book was placed.

The row is saved when a download is added (`mam get`), so a book can be placed later — by
`mam import` in another process, after a restart, days after MAM renamed the torrent — from the
same metadata the person chose it by. Its own small SQLite file (`library.db`) beside the engine's,
so the engine stays about torrents only. No secrets are stored here (the row's `dl` hash is dropped).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

from mamdl.library.models import Placement
from mamdl.mam.models import SearchResult

_SCHEMA = """
CREATE TABLE IF NOT EXISTS books (
    info_hash TEXT PRIMARY KEY,
    mam_id    INTEGER,
    row       TEXT NOT NULL,
    cover     BLOB,
    saved_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS placements (
    info_hash TEXT PRIMARY KEY,
    data      TEXT NOT NULL,
    placed_at REAL NOT NULL
);
"""


class LibraryStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), timeout=15.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=15000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def remember(self, info_hash: str, row: SearchResult, *, cover: bytes | None = None) -> None:
        data = row.model_dump(mode="json", exclude={"dl"})  # the dl hash is a per-user credential
        with self._lock:
            self._db.execute(
                "INSERT INTO books(info_hash, mam_id, row, cover, saved_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT(info_hash) DO UPDATE SET mam_id=excluded.mam_id, row=excluded.row, "
                "cover=COALESCE(excluded.cover, books.cover), saved_at=excluded.saved_at",
                (info_hash, row.id, json.dumps(data, ensure_ascii=False), cover, time.time()),
            )

    def row(self, info_hash: str) -> SearchResult | None:
        with self._lock:
            r = self._db.execute("SELECT row FROM books WHERE info_hash=?", (info_hash,)).fetchone()
        return SearchResult.model_validate(json.loads(r[0])) if r else None

    def cover(self, info_hash: str) -> bytes | None:
        with self._lock:
            r = self._db.execute("SELECT cover FROM books WHERE info_hash=?", (info_hash,)).fetchone()
        return r[0] if r and r[0] else None

    def save_cover(self, info_hash: str, data: bytes) -> None:
        with self._lock:
            self._db.execute("UPDATE books SET cover=? WHERE info_hash=?", (data, info_hash))

    def save_placement(self, p: Placement) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO placements(info_hash, data, placed_at) VALUES (?,?,?)",
                (p.info_hash, p.model_dump_json(), time.time()),
            )

    def placement(self, info_hash: str) -> Placement | None:
        with self._lock:
            r = self._db.execute("SELECT data FROM placements WHERE info_hash=?", (info_hash,)).fetchone()
        return Placement.model_validate_json(r[0]) if r else None

    def placements(self) -> dict[str, Placement]:
        with self._lock:
            rows = self._db.execute("SELECT info_hash, data FROM placements").fetchall()
        return {h: Placement.model_validate_json(d) for h, d in rows}
