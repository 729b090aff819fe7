"""The local wedge ledger: every freeleech wedge mamdl asked MAM to spend, written *before* asking.

A download URL with a bare `&fl` spends one wedge each time it reaches MAM, whether or not its
answer reaches us. So the spend is recorded durably first (SQLite, synchronous=FULL, its own file
so that clearing the cache can never forget a spend), and the client refuses to send `&fl` for a
torrent that already has an entry. A spend whose request provably never left this machine (the
connection could not even be opened) is taken back; anything else stays: one lost freeleech is
cheaper than a second wedge.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WedgeRecord:
    torrent_id: int
    at: float
    state: str
    """"sending" (recorded, answer not seen yet or lost) or "spent" (MAM sent the .torrent)."""


class WedgeLedger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS wedges (site TEXT NOT NULL, tid INTEGER NOT NULL, at REAL NOT NULL, "
            "state TEXT NOT NULL, PRIMARY KEY (site, tid))"
        )
        try:
            path.chmod(0o600)
        except OSError:
            pass

    def get(self, site: str, torrent_id: int) -> WedgeRecord | None:
        row = self._db.execute("SELECT at, state FROM wedges WHERE site = ? AND tid = ?", (site, torrent_id)).fetchone()
        return None if row is None else WedgeRecord(torrent_id, row[0], row[1])

    def reserve(self, site: str, torrent_id: int) -> bool:
        """Record a spend about to be sent; False when one is already recorded (send nothing)."""
        cur = self._db.execute(
            "INSERT OR IGNORE INTO wedges (site, tid, at, state) VALUES (?, ?, ?, 'sending')",
            (site, torrent_id, time.time()),
        )
        return cur.rowcount == 1

    def confirm(self, site: str, torrent_id: int) -> None:
        self._db.execute("UPDATE wedges SET state = 'spent' WHERE site = ? AND tid = ?", (site, torrent_id))

    def release(self, site: str, torrent_id: int) -> None:
        """Forget a reservation whose request never reached MAM."""
        self._db.execute("DELETE FROM wedges WHERE site = ? AND tid = ? AND state = 'sending'", (site, torrent_id))

    def close(self) -> None:
        self._db.close()
