"""The rotating `mam_id`: which value to send next, shared by every process on one state dir.

MAM may answer any request with `Set-Cookie: mam_id=<new>`, and (reports differ) the old value may
stop working at once. So the newest value is persisted atomically the moment it arrives, and every
request reads it back first. The store remembers a fingerprint of the cookie the user configured:
when the user configures a new cookie, the stale rotated one is ignored.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from mamdl.fsutil import atomic_write
from mamdl.redact import register_secret


def _fingerprint(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()[:16]


@dataclass
class SessionState:
    cookie: str
    rotations: int = 0
    rotated_at: float | None = None


class SessionStore:
    def __init__(self, path: Path, configured_cookie: str) -> None:
        self.path = path
        self.configured = configured_cookie
        register_secret(configured_cookie)

    def _read(self) -> dict | None:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError, OSError):
            return None
        if not isinstance(data, dict) or data.get("configured") != _fingerprint(self.configured):
            return None
        return data

    def current(self) -> SessionState:
        data = self._read()
        if data and isinstance(data.get("cookie"), str) and data["cookie"]:
            register_secret(data["cookie"])
            return SessionState(data["cookie"], int(data.get("rotations", 0)), data.get("rotated_at"))
        return SessionState(self.configured)

    def rotate(self, new_cookie: str) -> None:
        """Persist a cookie MAM just handed us; called with the request gate held."""
        register_secret(new_cookie)
        old = self.current()
        if new_cookie == old.cookie:
            return
        payload = {
            "configured": _fingerprint(self.configured),
            "cookie": new_cookie,
            "rotations": old.rotations + 1,
            "rotated_at": time.time(),
        }
        atomic_write(self.path, json.dumps(payload).encode(), mode=0o600)
