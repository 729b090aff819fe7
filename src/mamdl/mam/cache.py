"""A small SQLite cache for answers that change slowly (user details, snatch summary).

MAM is polite-rate-limited, so asking it for the same user details before every download would
waste the budget; 24 hours is the default freshness, `--refresh` bypasses it. SQLite (WAL) lets the
CLI and the MCP server share the cache safely.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any


class Cache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, stored_at REAL NOT NULL)"
        )

    def get(self, key: str, ttl: float) -> tuple[Any, float] | None:
        """(value, age in seconds) if fresh enough, else None."""
        row = self._db.execute("SELECT value, stored_at FROM cache WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        age = time.time() - row[1]
        if age > ttl or age < -60:  # a clock that went backwards makes the entry suspect
            return None
        return json.loads(row[0]), age

    def put(self, key: str, value: Any) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO cache (key, value, stored_at) VALUES (?, ?, ?)",
            (key, json.dumps(value), time.time()),
        )

    def delete(self, key: str) -> None:
        """Forget one entry (the service's notifier re-arms an event this way)."""
        self._db.execute("DELETE FROM cache WHERE key = ?", (key,))

    def close(self) -> None:
        self._db.close()
